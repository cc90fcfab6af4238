// npm run bench:operator — the operator process against lab/kube and lab/vault:
//   1. 1,000 chains of 3 hops: time until every TorChain is reconciled (Secret, Deployment, status written), with the
//      peer figure "the same objects created through the API by the bench itself"; peak RSS of the operator (VmHWM).
//   2. One webhook call carrying 1,000 firing alerts (hop 1 of every chain: 1,000 switches), against the peer "the
//      same call repeated" (every chain now in its cooldown: decision only, no writes). The hops are past any start-up
//      grace and not Ready (no pod runs: lab/kube's workload controllers are off), so each alert really is a switch;
//      the bench fails (exit 1) when the call did not switch every chain, or the repeat switched any.
//   3. Once those switches are reconciled: webhook latency p50/p99 at a steady 100 requests/s (Alertmanager repeats
//      for the 1,000 chains), against the peer GET /healthz at the same rate on the same server.
//   4. Memory peer: the same operator bundled by esbuild and run by plain node, as an image would run it.
// Targets (issue): all reconciled within 60 s, RSS <= 200 MB, the 1,000-alert call within 1 s, p99 <= 50 ms.
// lab/kube's Deployment controllers are off: this measures the operator, not the stand-in's pods.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startKube } from '../lab/kube/server.js';
import { startVault } from '../lab/vault/server.js';
import { REPO_ROOT } from '../scripts/paths.js';

const CHAINS = Number(process.env.BENCH_CHAINS ?? 1000);
const HOPS = 3;
const RATE = 100;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TOKEN = 'bench-webhook-token';
const HEAP_CAP_MB = 96;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>) {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}
const rssMb = (pid: number, field: 'VmHWM' | 'VmRSS') => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** Every process the bench starts is killed when it exits, failure included: no operator is left running. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function main() {
  const kube = await startKube({ workloadControllers: false, log: () => undefined });
  const vault = await startVault();
  const dir = mkdtempSync(join(tmpdir(), 'torchain-bench-op-'));
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const crd = parse(readFileSync(join(REPO_ROOT, 'helm/torchain/crds/torchain.dev_torchains.yaml'), 'utf8'));
  await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: crd });
  for (const name of ['bench', 'torchain-system']) await core.createNamespace({ body: { metadata: { name } } });
  for (;;) {
    try {
      await custom.listNamespacedCustomObject({
        group: 'torchain.dev',
        version: 'v1alpha1',
        namespace: 'bench',
        plural: 'torchains',
      });
      break;
    } catch {
      await sleep(100);
    }
  }
  // Shared pools (spec.poolPath): two servers per hop position.
  for (let hop = 1; hop <= HOPS; hop++)
    for (const s of ['a', 'b'])
      await fetch(`${vault.url}/v1/secret/data/bench/hop-${String(hop)}/${s}`, {
        method: 'POST',
        headers: { 'X-Vault-Token': vault.rootToken },
        body: JSON.stringify({
          data: { config: `client\nremote 198.51.100.${String(hop)}${s === 'a' ? '0' : '1'} 1194\n` },
        }),
      });
  writeFileSync(join(dir, 'token'), TOKEN);
  writeFileSync(join(dir, 'vault-token'), vault.rootToken);

  const objects = [];
  for (let c = 0; c < CHAINS; c++)
    for (let hop = 1; hop <= HOPS; hop++)
      objects.push({
        apiVersion: 'torchain.dev/v1alpha1',
        kind: 'TorChain',
        metadata: { name: `c${String(c)}-${String(hop)}`, namespace: 'bench' },
        spec: {
          numberNode: hop,
          typeNode: 'openvpn',
          nameTorChain: `c${String(c)}`,
          inInterface: 'net1',
          poolPath: `bench/hop-${String(hop)}`,
        },
      });
  let t = performance.now();
  await pool(objects, 16, async (body) => {
    await custom.createNamespacedCustomObject({
      group: 'torchain.dev',
      version: 'v1alpha1',
      namespace: 'bench',
      plural: 'torchains',
      body,
    });
  });
  const createSeconds = (performance.now() - t) / 1000;

  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    KUBECONFIG: kube.kubeconfigPath,
    TORCHAIN_HTTP_HOST: '127.0.0.1',
    TORCHAIN_HTTP_PORT: '0',
    TORCHAIN_WEBHOOK_TOKEN_FILE: join(dir, 'token'),
    POD_NAME: 'bench',
    POD_NAMESPACE: 'torchain-system',
    TORCHAIN_VAULT_ADDR: vault.url,
    TORCHAIN_VAULT_AUTH: 'token',
    TORCHAIN_VAULT_TOKEN_FILE: join(dir, 'vault-token'),
    TORCHAIN_COOLDOWN_SECONDS: '3600',
    // The hops were just created: no start-up grace, or the 1,000-alert call would measure 1,000 "starting" skips.
    TORCHAIN_GRACE_SECONDS: '0',
    TORCHAIN_SETTLE_SECONDS: '0',
    TORCHAIN_LOG_LEVEL: 'warn',
    TORCHAIN_RECONCILE_CONCURRENCY: '8',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'operator/src/main.ts')], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  t = performance.now();
  let url = '';
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-100_000)));
  // The operator logs at warn only: find its port from the socket table it listens on.
  const pid = child.pid!;
  for (;;) {
    try {
      const r = await findListenUrl(pid);
      if (r) {
        url = r;
        break;
      }
    } catch {
      // not yet
    }
    await sleep(100);
  }
  await waitReconciled(custom, objects.length);
  const reconcileSeconds = (performance.now() - t) / 1000;
  const rssAfterReconcile = rssMb(pid, 'VmHWM');

  const alert = (c: number, hop: number) => ({
    status: 'firing',
    labels: {
      alertname: 'TorchainHopTunnelDown',
      torchain_action: 'switch',
      namespace: 'bench',
      torchain: `c${String(c)}`,
      hop: String(hop),
    },
    annotations: {},
    // Begun now: after each hop took its server (an older alert would be stale, and rightly not acted on).
    startsAt: new Date().toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    fingerprint: `f${String(c)}`,
  });
  const payload = (alerts: unknown[]) =>
    JSON.stringify({
      version: '4',
      status: 'firing',
      receiver: 'torchain',
      groupKey: 'bench',
      alerts,
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      externalURL: '',
      truncatedAlerts: 0,
    });
  const post = async (body: string) => {
    const s = performance.now();
    const r = await fetch(`${url}/v1/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body,
    });
    const j = (await r.json()) as { switched?: number; error?: string; chains?: Array<{ reason?: string }> };
    if (r.status !== 200) throw new Error(`webhook ${String(r.status)}: ${j.error ?? ''}`);
    const reasons: Record<string, number> = {};
    for (const c of j.chains ?? []) if (c.reason) reasons[c.reason] = (reasons[c.reason] ?? 0) + 1;
    return { ms: performance.now() - s, switched: j.switched ?? 0, reasons };
  };
  const big = payload(Array.from({ length: CHAINS }, (_, c) => alert(c, 1)));
  const bigCall = await post(big);
  const bigRepeat = await post(big);
  // A figure about switching is only a figure if the call switched: refuse to report anything else.
  if (bigCall.switched !== CHAINS || bigRepeat.switched !== 0)
    fail(
      `the ${String(CHAINS)}-alert call switched ${String(bigCall.switched)} hop(s) and its repeat ${String(bigRepeat.switched)}: ` +
        `expected ${String(CHAINS)} and 0. Reasons given: ${JSON.stringify(bigCall.reasons)}`,
    );
  t = performance.now();
  await waitReconciled(custom, objects.length);
  const switchSettleSeconds = (performance.now() - t) / 1000;
  const moved = await switchedHops(custom);
  if (moved !== CHAINS)
    fail(`after the switches ${String(moved)} TorChain(s) have switchServer 1, expected ${String(CHAINS)}`);

  const steady = async (fn: () => Promise<unknown>) => {
    const lat: number[] = [];
    const start = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < RATE * SECONDS; i++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      inflight.push(
        (async () => {
          const s = performance.now();
          await fn();
          lat.push(performance.now() - s);
        })(),
      );
    }
    await Promise.all(inflight);
    return { p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length };
  };
  let k = 0;
  const webhook = await steady(() => post(payload([alert(k++ % CHAINS, 1)])));
  const healthz = await steady(() => fetch(`${url}/healthz`).then((r) => r.text()));
  const peakRss = rssMb(pid, 'VmHWM');
  const endRss = rssMb(pid, 'VmRSS');
  const heapUsedMb =
    metricValue(await (await fetch(`${url}/metrics`)).text(), 'torchain_operator_process_nodejs_heap_size_used_bytes') /
    1048576;

  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));

  // Peer for memory: the same operator bundled into one file and run by plain node (how an image would run it, without
  // tsx's loader), taking over the reconciled objects and reconciling every one of them once.
  let bundled: { rss: number; seconds: number } | undefined;
  const esbuild = join(REPO_ROOT, 'node_modules/.bin/esbuild');
  if (existsSync(esbuild)) {
    const bundle = join(dir, 'operator.mjs');
    execFileSync(esbuild, [
      join(REPO_ROOT, 'operator/src/main.ts'),
      '--bundle',
      '--platform=node',
      '--target=node20',
      '--format=esm',
      `--outfile=${bundle}`,
      '--log-level=error',
      "--banner:js=import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    ]);
    // The heap cap an image would set (NODE_OPTIONS): V8 otherwise grows its heap far beyond the live data.
    const b = spawn(process.execPath, [`--max-old-space-size=${String(HEAP_CAP_MB)}`, bundle], {
      cwd: dir,
      env: { ...env, POD_NAME: 'bench-bundled' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.add(b);
    const bt = performance.now();
    let burl: string | undefined;
    while (!(burl = await findListenUrl(b.pid!).catch(() => undefined))) await sleep(100);
    for (;;) {
      const m = /torchain_operator_reconcile_total\{result="success"\} (\d+)/.exec(
        await (await fetch(`${burl}/metrics`)).text(),
      );
      if (m && Number(m[1]) >= objects.length) break;
      await sleep(250);
    }
    bundled = { rss: rssMb(b.pid!, 'VmHWM'), seconds: (performance.now() - bt) / 1000 };
    b.kill('SIGTERM');
    await new Promise((r) => b.once('exit', r));
  }
  await vault.close();
  await kube.close();
  rmSync(dir, { recursive: true, force: true });

  const f = (n: number) => n.toFixed(n < 10 ? 2 : 1);
  const lines = [
    `operator benchmark: ${String(CHAINS)} chains x ${String(HOPS)} hops = ${String(objects.length)} TorChains (lab/kube, lab/vault, 2 shared pools of 2 servers)`,
    `reconcile all:            ${f(reconcileSeconds)} s (target <= 60 s); peer: the bench creating the same objects ${f(createSeconds)} s; ratio ${f(reconcileSeconds / createSeconds)}x`,
    `peak RSS (VmHWM):         ${f(peakRss)} MB (target <= 200 MB); peak by the end of the reconcile ${f(rssAfterReconcile)} MB; resident at the end ${f(endRss)} MB, of which V8 heap in use ${f(heapUsedMb)} MB`,
    `  peer for memory:        the same operator bundled (esbuild) under plain node --max-old-space-size=${String(HEAP_CAP_MB)}: ${bundled ? `${f(bundled.rss)} MB peak while taking over and reconciling all ${String(objects.length)} in ${f(bundled.seconds)} s; ratio ${f(peakRss / bundled.rss)}x` : 'esbuild not found, skipped'}`,
    `${String(CHAINS)}-alert call:         ${f(bigCall.ms)} ms, ${String(bigCall.switched)} switches (each a resourceVersion-checked patch; target <= 1000 ms); peer: the same call repeated, ${String(bigRepeat.switched)} switches (${Object.entries(
      bigRepeat.reasons,
    )
      .map(([r, n]) => `${String(n)} ${r}`)
      .join(', ')}: decision only) ${f(bigRepeat.ms)} ms; ratio ${f(bigCall.ms / bigRepeat.ms)}x`,
    `  the ${String(bigCall.switched)} switched hops reconciled (new Secret, rolled Deployment, status) ${f(switchSettleSeconds)} s later`,
    `webhook at ${String(RATE)}/s:        p50 ${f(webhook.p50)} ms, p99 ${f(webhook.p99)} ms over ${String(webhook.n)} calls (target p99 <= 50 ms); peer GET /healthz p50 ${f(healthz.p50)} ms, p99 ${f(healthz.p99)} ms; p99 ratio ${f(webhook.p99 / healthz.p99)}x`,
  ];
  console.log(lines.join('\n'));
  if (out.includes('"level":"error"'))
    console.log(
      'operator logged errors:\n' +
        out
          .split('\n')
          .filter((l) => l.includes('"level":"error"'))
          .slice(0, 5)
          .join('\n'),
    );
}

function fail(message: string): never {
  console.error(`operator benchmark FAILED: ${message}`);
  process.exit(1);
}

/** TorChains whose switchServer moved (every chain's hop 1 once, if the big call did what it names). */
async function switchedHops(custom: CustomObjectsApi): Promise<number> {
  const list = (await custom.listNamespacedCustomObject({
    group: 'torchain.dev',
    version: 'v1alpha1',
    namespace: 'bench',
    plural: 'torchains',
  })) as { items: Array<{ spec: { switchServer?: number } }> };
  return list.items.filter((o) => (o.spec.switchServer ?? 0) === 1).length;
}

function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Until every TorChain's status describes its current generation. */
async function waitReconciled(custom: CustomObjectsApi, count: number): Promise<void> {
  const start = performance.now();
  for (;;) {
    const list = (await custom.listNamespacedCustomObject({
      group: 'torchain.dev',
      version: 'v1alpha1',
      namespace: 'bench',
      plural: 'torchains',
    })) as {
      items: Array<{ metadata: { generation?: number }; status?: { observedGeneration?: number } }>;
    };
    const done = list.items.filter((o) => o.status?.observedGeneration === o.metadata.generation).length;
    if (done === count) return;
    if (performance.now() - start > 600_000)
      throw new Error(`only ${String(done)} of ${String(count)} reconciled after 600 s`);
    await sleep(250);
  }
}

/** The loopback URL the process listens on, from /proc/net/tcp and the process's socket inodes. */
async function findListenUrl(pid: number): Promise<string | undefined> {
  const { readdirSync, readlinkSync } = await import('node:fs');
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${String(pid)}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${String(pid)}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // fd closed meanwhile
    }
  }
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[3] !== '0A' || !inodes.has(cols[9] ?? '')) continue; // 0A = LISTEN
    const port = parseInt(cols[1]!.split(':')[1]!, 16);
    const url = `http://127.0.0.1:${String(port)}`;
    try {
      if ((await fetch(`${url}/healthz`)).ok) return url;
    } catch {
      // another socket
    }
  }
  return undefined;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
