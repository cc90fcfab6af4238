// `npm run bench:lab-kube`: the operator benchmark's load against lab/kube — C chains × H hops, each hop a TorChain,
// a Secret and a Deployment (whose controllers add a ReplicaSet and a Pod) — created through client-node against
// lab/kube running as its own process (`lab/kube/main.ts`), first with no watchers (the peer run), then with W
// watchers streaming every TorChain, Secret, Deployment and Pod change (what the operator, the lab kubelet and kubectl
// add), in the order peer, watched, watched, peer. Prints per-run wall time, the server's CPU seconds and resident memory, the watcher/peer ratios, and list
// latencies (the whole list vs one label-selected chain).
// `--variant audit` compares instead a server writing an audit log (--audit-log, level Metadata) with one that does
// not, both without watchers, and prints the log's size.
// Flags: --chains 1000 --hops 3 --watchers 10 --concurrency 16 --variant watchers|audit
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { CHART_DIR, REPO_ROOT } from '../scripts/paths.js';

const { values } = parseArgs({
  options: {
    chains: { type: 'string', default: '1000' },
    hops: { type: 'string', default: '3' },
    watchers: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    variant: { type: 'string', default: 'watchers' },
  },
});
const CHAINS = Number(values.chains);
const HOPS = Number(values.hops);
const WATCHERS = Number(values.watchers);
const CONCURRENCY = Number(values.concurrency);
const NS = 'bench';
const AUDIT = values.variant === 'audit';

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

interface Server {
  proc: ChildProcess;
  kc: KubeConfig;
  dir: string;
}

async function setup(audit = false): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-lab-kube-'));
  const proc = spawn(
    join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
    [
      join(REPO_ROOT, 'lab', 'kube', 'main.ts'),
      '--dir',
      dir,
      ...(audit ? ['--audit-log', join(dir, 'audit.log')] : []),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface(proc.stdout!).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`lab/kube exited with ${code}`)));
  });
  const { kubeconfig } = JSON.parse(line) as { kubeconfig: string };
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const crd = parse(readFileSync(`${CHART_DIR}/crds/torchain.dev_torchains.yaml`, 'utf8')) as Record<string, unknown>;
  // raw request: client-node's typed CRD serializer would drop `enum` from the schema
  await postRaw(kc, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
  return { proc, kc, dir };
}

function postRaw(kc: KubeConfig, path: string, body: unknown): Promise<void> {
  const cluster = kc.getCurrentCluster()!;
  const user = kc.getCurrentUser()!;
  const u = new URL(cluster.server + path);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        ca: Buffer.from(cluster.caData!, 'base64'),
        // the admin kubeconfig authenticates with a client certificate
        cert: Buffer.from(user.certData!, 'base64'),
        key: Buffer.from(user.keyData!, 'base64'),
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 201 ? resolve() : reject(new Error(`POST ${path}: HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** CPU seconds and resident MiB of the server process tree (tsx runs node as a child). */
function usage(pid: number): { cpuSeconds: number; rssMiB: number } {
  const tree = [pid];
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    tree.push(...children);
  } catch {
    // no children file: count the parent only
  }
  let cpu = 0;
  let rss = 0;
  for (const p of tree) {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    cpu += (Number(fields[11]) + Number(fields[12])) / 100;
    rss += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  }
  return { cpuSeconds: cpu, rssMiB: rss };
}

async function stop(server: Server): Promise<{ auditLines: number; auditMiB: number }> {
  const exited = new Promise((r) => server.proc.once('exit', r));
  server.proc.kill('SIGTERM');
  await exited;
  const log = join(server.dir, 'audit.log');
  const audit = existsSync(log)
    ? { auditLines: readFileSync(log, 'utf8').split('\n').length - 1, auditMiB: statSync(log).size / 2 ** 20 }
    : { auditLines: 0, auditMiB: 0 };
  rmSync(server.dir, { recursive: true, force: true });
  return audit;
}

interface RunResult {
  seconds: number;
  objectsPerSecond: number;
  events: number;
  serverCpuSeconds: number;
  serverRssMiB: number;
  clientCpuSeconds: number;
}

async function load(server: Server, watchers: number): Promise<RunResult> {
  const { kc } = server;
  const before = usage(server.proc.pid!);
  const clientBefore = process.cpuUsage();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  let events = 0;
  const controllers: AbortController[] = [];
  const paths = [
    '/apis/torchain.dev/v1alpha1/torchains',
    '/api/v1/secrets',
    '/apis/apps/v1/deployments',
    '/api/v1/pods',
  ];
  for (let i = 0; i < watchers; i++)
    controllers.push(
      await new Watch(kc).watch(
        paths[i % paths.length]!,
        { allowWatchBookmarks: true },
        () => events++,
        () => undefined,
      ),
    );
  const hops = Array.from({ length: CHAINS * HOPS }, (_, i) => ({
    chain: `c-${Math.floor(i / HOPS)}`,
    hop: (i % HOPS) + 1,
  }));
  const started = process.hrtime.bigint();
  await pool(hops, CONCURRENCY, async ({ chain, hop }) => {
    const name = `${chain}-hop-${hop}`;
    const labels = {
      'app.kubernetes.io/name': 'torchain-hop',
      'torchain.dev/chain': chain,
      'torchain.dev/hop': String(hop),
    };
    const tc = (await custom.createNamespacedCustomObject({
      group: 'torchain.dev',
      version: 'v1alpha1',
      plural: 'torchains',
      namespace: NS,
      body: {
        apiVersion: 'torchain.dev/v1alpha1',
        kind: 'TorChain',
        metadata: { name, labels },
        spec: { numberNode: hop, typeNode: hop % 2 ? 'openvpn' : 'wireguard', nameTorChain: chain },
      },
    })) as { metadata: { uid: string } };
    const ownerReferences = [
      {
        apiVersion: 'torchain.dev/v1alpha1',
        kind: 'TorChain',
        name,
        uid: tc.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: `${name}-vpn`, labels, ownerReferences },
        stringData: { 'client.ovpn': 'remote 192.0.2.1 1194\n'.repeat(40) },
      },
    });
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name, labels, ownerReferences },
        spec: {
          replicas: 1,
          strategy: { type: 'Recreate' },
          selector: { matchLabels: { 'torchain.dev/chain': chain, 'torchain.dev/hop': String(hop) } },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                { name: 'vpn', image: 'torchain/hop-openvpn:0.1.0' },
                { name: 'log-exporter', image: 'torchain/log-exporter:0.1.0' },
              ],
            },
          },
        },
      },
    });
  });
  // the controllers finish asynchronously: wait until every Deployment has its Pod
  while ((await core.listNamespacedPod({ namespace: NS, limit: 1 })).metadata?.remainingItemCount !== hops.length - 1)
    await new Promise((r) => setTimeout(r, 50));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await new Promise((r) => setTimeout(r, 200));
  for (const c of controllers) c.abort();
  const after = usage(server.proc.pid!);
  const client = process.cpuUsage(clientBefore);
  const objects = hops.length * 5; // TorChain, Secret, Deployment, ReplicaSet, Pod
  return {
    seconds,
    objectsPerSecond: objects / seconds,
    events,
    serverCpuSeconds: after.cpuSeconds - before.cpuSeconds,
    serverRssMiB: after.rssMiB,
    clientCpuSeconds: (client.user + client.system) / 1e6,
  };
}

async function median(n: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

// Runs in the order peer, watched, watched, peer (ABBA), each on a fresh server, so a drift in the shared machine's
// load falls on both sides; each side reports the mean of its two runs.
const mean = (a: RunResult, b: RunResult): RunResult => ({
  seconds: (a.seconds + b.seconds) / 2,
  objectsPerSecond: (a.objectsPerSecond + b.objectsPerSecond) / 2,
  events: (a.events + b.events) / 2,
  serverCpuSeconds: (a.serverCpuSeconds + b.serverCpuSeconds) / 2,
  serverRssMiB: (a.serverRssMiB + b.serverRssMiB) / 2,
  clientCpuSeconds: (a.clientCpuSeconds + b.clientCpuSeconds) / 2,
});
const results: RunResult[] = [];
let listAll = 0;
let listChain = 0;
let audit = { auditLines: 0, auditMiB: 0 };
const WATCHED = AUDIT ? 0 : WATCHERS;
for (const [i, watchers] of [0, WATCHED, WATCHED, 0].entries()) {
  const server = await setup(AUDIT && (i === 1 || i === 2));
  results.push(await load(server, watchers));
  if (i === 1) {
    const custom = server.kc.makeApiClient(CustomObjectsApi);
    const G = { group: 'torchain.dev', version: 'v1alpha1', plural: 'torchains', namespace: NS };
    listAll = await median(5, () => custom.listNamespacedCustomObject(G));
    listChain = await median(5, () =>
      custom.listNamespacedCustomObject({ ...G, labelSelector: `torchain.dev/chain=c-${Math.floor(CHAINS / 2)}` }),
    );
  }
  const a = await stop(server);
  if (i === 1) audit = a;
}
const peer = mean(results[0]!, results[3]!);
const watched = mean(results[1]!, results[2]!);

const rows = [
  ['run', 'objects', 'wall s', 'objects/s', 'server CPU s', 'server RSS MiB', 'client CPU s', 'watch events delivered'],
  ...(
    [
      ['peer: no watchers (mean of 2)', peer],
      [AUDIT ? 'audit log on (mean of 2)' : `${WATCHERS} watchers (mean of 2)`, watched],
    ] as const
  ).map(([name, r]) => [
    name,
    String(CHAINS * HOPS * 5),
    r.seconds.toFixed(1),
    r.objectsPerSecond.toFixed(0),
    r.serverCpuSeconds.toFixed(1),
    r.serverRssMiB.toFixed(0),
    r.clientCpuSeconds.toFixed(1),
    String(r.events),
  ]),
];
console.log(
  JSON.stringify({
    bench: 'lab-kube',
    chains: CHAINS,
    hops: HOPS,
    watchers: WATCHED,
    variant: AUDIT ? 'audit' : 'watchers',
    concurrency: CONCURRENCY,
    ...(AUDIT ? audit : {}),
    peer,
    watched,
    listAllMs: listAll,
    listChainMs: listChain,
  }),
);
console.log(rows.map((r) => `| ${r.join(' | ')} |`).join('\n'));
console.log(
  `${AUDIT ? 'audit' : 'watchers'}/peer: wall ${(watched.seconds / peer.seconds).toFixed(2)}, server CPU ${(watched.serverCpuSeconds / peer.serverCpuSeconds).toFixed(2)}`,
);
if (AUDIT) console.log(`audit log of one run: ${audit.auditLines} events, ${audit.auditMiB.toFixed(1)} MiB`);
console.log(
  `list ${CHAINS * HOPS} TorChains: ${listAll.toFixed(1)} ms (median of 5); one chain by label: ${listChain.toFixed(1)} ms; ratio ${(listAll / listChain).toFixed(1)}`,
);
