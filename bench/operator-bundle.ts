// `npm run bench:operator-bundle -- [--node PATH] [--runs N] [--other DIR]`: the operator bundle as the image runs it
// (images/bundle.ts, one file, node 24) — its size, start time (spawn → /healthz 200) and RSS once started, against
// lab/kube and lab/vault. With --other DIR (a copy of the repository with another @kubernetes/client-node installed),
// bundles the operator there too and runs both, interleaved, printing each figure and the ratio other/this.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { startKube } from '../lab/kube/server.js';
import { freePort } from '../lab/runtime/ports.js';
import { startVault } from '../lab/vault/server.js';
import { KUBECTL, REPO_ROOT } from '../scripts/paths.js';

const pexec = promisify(execFile);
const { values } = parseArgs({
  options: {
    node: { type: 'string', default: join(REPO_ROOT, '.tools/node24/bin/node') },
    runs: { type: 'string', default: '5' },
    other: { type: 'string' },
  },
});
const runs = Number(values.runs);
const node = values.node!;

interface Sample {
  startMs: number;
  rssMiB: number;
}

async function version(repo: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(repo, 'node_modules/@kubernetes/client-node/package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function bundleIn(repo: string, out: string): Promise<string> {
  await pexec(join(repo, 'node_modules/.bin/tsx'), ['images/bundle.ts', 'operator/src/main.ts', out], { cwd: repo });
  return out;
}

const dir = await mkdtemp(join(tmpdir(), 'torchain-bench-operator-'));
const kube = await startKube({});
const vault = await startVault();
await pexec(KUBECTL, [
  '--kubeconfig',
  kube.kubeconfigPath,
  'apply',
  '-f',
  join(REPO_ROOT, 'helm/torchain/crds/torchain.dev_torchains.yaml'),
]);
await pexec(KUBECTL, ['--kubeconfig', kube.kubeconfigPath, 'create', 'namespace', 'torchain-system']);
await writeFile(join(dir, 'webhook-token'), 'bench-webhook-token-0123456789\n');
await writeFile(join(dir, 'vault-token'), vault.rootToken);

async function runOnce(bundle: string): Promise<Sample> {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn(node, [bundle], {
    env: {
      KUBECONFIG: kube.kubeconfigPath,
      POD_NAME: 'bench',
      POD_NAMESPACE: 'torchain-system',
      TORCHAIN_HTTP_HOST: '127.0.0.1',
      TORCHAIN_HTTP_PORT: String(port),
      TORCHAIN_WEBHOOK_TOKEN_FILE: join(dir, 'webhook-token'),
      TORCHAIN_VAULT_ADDR: vault.url,
      TORCHAIN_VAULT_AUTH: 'token',
      TORCHAIN_VAULT_TOKEN_FILE: join(dir, 'vault-token'),
      NODE_ENV: 'production',
    },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`operator bundle ${bundle} exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const startMs = Number(process.hrtime.bigint() - started) / 1e6;
    // RSS once the informers have listed and the HTTP server has answered: the steady footprint of an idle operator.
    await new Promise((r) => setTimeout(r, 3000));
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const rssMiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)![1]) / 1024;
    return { startMs, rssMiB };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const variants = [{ label: `client-node ${await version(REPO_ROOT)}`, repo: REPO_ROOT }];
  if (values.other) variants.push({ label: `client-node ${await version(values.other)}`, repo: values.other });
  const bundles = await Promise.all(variants.map((v, i) => bundleIn(v.repo, join(dir, `operator-${i}.mjs`))));
  const samples: Sample[][] = variants.map(() => []);
  await runOnce(bundles[0]!); // warm the page cache and lab/kube once
  for (let r = 0; r < runs; r++) for (let i = 0; i < variants.length; i++) samples[i]!.push(await runOnce(bundles[i]!));
  const { stdout: nodeVersion } = await pexec(node, ['--version']);
  console.log(`operator bundle on node ${nodeVersion.trim()}, ${runs} runs each (interleaved), medians:`);
  const rows = await Promise.all(
    variants.map(async (v, i) => {
      const bytes = (await stat(bundles[i]!)).size;
      const gz = gzipSync(await readFile(bundles[i]!)).length;
      return {
        variant: v.label,
        bundleKiB: Math.round(bytes / 1024),
        gzipKiB: Math.round(gz / 1024),
        startMs: Math.round(median(samples[i]!.map((s) => s.startMs))),
        rssMiB: Number(median(samples[i]!.map((s) => s.rssMiB)).toFixed(1)),
      };
    }),
  );
  console.table(rows);
  if (rows.length === 2) {
    const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
    console.log(
      `ratio ${b.variant} / ${a.variant}: bundle ${(b.bundleKiB / a.bundleKiB).toFixed(2)}, ` +
        `start ${(b.startMs / a.startMs).toFixed(2)}, rss ${(b.rssMiB / a.rssMiB).toFixed(2)}`,
    );
  }
} finally {
  await vault.close();
  await kube.close();
  await rm(dir, { recursive: true, force: true });
}
