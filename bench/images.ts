// `npm run bench:images -- [--runs N]`: size and start time of every image of images/out (build them first with
// npm run images). Start time = `podman run` until the image's program answers: the Node images until /healthz is
// 200 (the operator against lab/kube and lab/vault), the hop images until the entrypoint has checked its input and
// exited (64: no config given). Medians of N runs; podman's own start-up is part of every figure.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { loadDeclaration } from '../images/build/declaration.js';
import { startKube } from '../lab/kube/server.js';
import { loadImage, removeContainers, runContainer, type ContainerSpec } from '../lab/runtime/containers.js';
import { freePort } from '../lab/runtime/ports.js';
import { startVault } from '../lab/vault/server.js';
import { KUBECTL, REPO_ROOT } from '../scripts/paths.js';

const pexec = promisify(execFile);
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const decl = loadDeclaration(join(REPO_ROOT, 'images/images.json'));
const out = join(REPO_ROOT, 'images/out');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = await mkdtemp(join(tmpdir(), 'torchain-bench-images-'));
await chmod(dir, 0o755); // the operator runs as 65534: its mounted Secret folder must be readable
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
await writeFile(join(dir, 'kubeconfig'), await readFile(kube.kubeconfigPath), { mode: 0o644 });
await writeFile(join(dir, 'webhook-token'), 'bench-webhook-token-0123456789\n', { mode: 0o644 });
await writeFile(join(dir, 'vault-token'), vault.rootToken, { mode: 0o644 });

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 60_000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function startOnce(name: string, ref: string): Promise<number> {
  const base: ContainerSpec = { name: `tkf-bench-${name}`, image: ref, network: 'host', readOnlyRootFilesystem: true };
  const t0 = performance.now();
  if (!decl.images[name]!.bundle) {
    const c = runContainer({ ...base, network: 'none', capabilities: ['NET_ADMIN'] });
    const exit = await c.exited;
    if (exit.code !== 64) throw new Error(`${name}: expected exit 64 without a config, got ${exit.code}`);
    return performance.now() - t0;
  }
  const port = await freePort();
  const spec: ContainerSpec =
    name === 'operator'
      ? {
          ...base,
          env: {
            KUBECONFIG: '/etc/torchain/kubeconfig',
            POD_NAME: 'bench',
            POD_NAMESPACE: 'torchain-system',
            TORCHAIN_HTTP_HOST: '127.0.0.1',
            TORCHAIN_HTTP_PORT: String(port),
            TORCHAIN_WEBHOOK_TOKEN_FILE: '/etc/torchain/webhook-token',
            TORCHAIN_VAULT_ADDR: vault.url,
            TORCHAIN_VAULT_AUTH: 'token',
            TORCHAIN_VAULT_TOKEN_FILE: '/etc/torchain/vault-token',
          },
          mounts: [{ hostPath: dir, mountPath: '/etc/torchain', readOnly: true }],
        }
      : {
          ...base,
          args: ['--type', 'openvpn', '--source', 'file', '--file', '/tmp/vpn.log', '--listen', `127.0.0.1:${port}`],
        };
  const c = runContainer(spec);
  try {
    await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, `${name} /healthz`);
    return performance.now() - t0;
  } finally {
    await c.stop(5000);
  }
}

try {
  await removeContainers('tkf-bench-');
  const rows = [];
  for (const name of Object.keys(decl.images)) {
    const archive = join(out, `${name}.oci.tar`);
    const { ref } = await loadImage(archive);
    const { stdout } = await pexec('podman', ['image', 'inspect', '--format', '{{.Size}}', ref]);
    await startOnce(name, ref); // first run: page cache
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await startOnce(name, ref));
    rows.push({
      image: name,
      'archive MiB': Number(((await stat(archive)).size / 1048576).toFixed(1)),
      'unpacked MiB': Number((Number(stdout.trim()) / 1048576).toFixed(1)),
      'start ms (median)': Math.round(median(times)),
      'start ms (min..max)': `${Math.round(Math.min(...times))}..${Math.round(Math.max(...times))}`,
    });
  }
  console.log(`${runs} runs per image; hop: podman run → entrypoint exit 64; Node images: podman run → /healthz 200`);
  console.table(rows);
} finally {
  await removeContainers('tkf-bench-');
  await vault.close();
  await kube.close();
  await rm(dir, { recursive: true, force: true });
}
