// startLab(): the whole self-healing loop on one machine, installed and run the way a cluster runs it. One function
// per start-up step (lab/start/): the cluster (pod network, lab/kube with RBAC and an audit log, kube-proxy, network
// policies, DNS, scheduler), one node per chain with its world (LAN client, internet host, VPN server pools), Vault,
// the kube-prometheus-stack stand-in, and the product itself installed with `helm install` of its own chart. Then
// traffic flows from each chain's LAN client through every hop. The only stand-ins are lab/kube and lab/vault.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { PROTOCOLS, type Protocol } from '../common/contracts/protocols.js';
import { GROUP, PLURAL, VERSION, type TorChain } from '../operator/src/api/torchain.js';
import { LAB_ALERTING } from '../prometheus-rules/src/render.js';
import { ProcessRuntime } from './kubelet/runtime/process.js';
import type { ContainerRuntime } from './kubelet/runtime/types.js';
import type { VpnServer } from './netns/servers/index.js';
import { REPO_ROOT } from '../scripts/paths.js';
import { startCluster, type LabCluster } from './start/cluster.js';
import { LabContext } from './start/context.js';
import { installChart, RELEASE, RELEASE_NAMESPACE, type Timings } from './start/install.js';
import { startMonitoring, type MonitoringStep } from './start/monitoring.js';
import { startNodes, vaultKey, type ChainPlan, type LabNode } from './start/nodes.js';
import { startVaultStep } from './start/vault.js';
import { waitFor } from './runtime/wait.js';
import { TrafficMonitor } from './traffic.js';
import type { LabVault } from './vault/server.js';
import type { Supervisor } from './runtime/supervisor.js';

export type HopType = Protocol;
export type { Timings } from './start/install.js';

export const DEFAULT_STATE_DIR = '/run/torchain-lab';
export const DEFAULT_PREFIX = 'tcl';
export const DEFAULT_CHAIN: Protocol[] = ['openvpn', 'wireguard', 'openvpn'];
/** The second chain: another namespace, another node, the third protocol. */
export const SECOND_CHAIN: Protocol[] = ['openconnect', 'wireguard'];
const OPERATOR_SERVICE_ACCOUNT = `${RELEASE}-operator`;

/**
 * Servers per hop for a run that fails servers back to back (the soak, bench:failover). Each failover quarantines the
 * server it left (10 min with the chart's defaults, 30 s with the lab's), so the pool must outlast the failures of one
 * quarantine period, or the run measures an exhausted pool instead of a failover.
 */
export function serversForRepeatedFailover(timings: Timings): number {
  return timings === 'production' ? 9 : 3;
}

export interface LabOptions {
  /** Hop types of the first chain, hop 1 first. Default openvpn, wireguard, openvpn. */
  hops?: Protocol[];
  /** Hop types of the second chain (another namespace and node); [] for none. */
  secondChain?: Protocol[];
  /** Servers per hop of every chain (default: 3 for the first chain, 2 for the second). */
  serversPerHop?: number;
  timings?: Timings;
  /** The container runtime of every pod (default processes). */
  runtime?: (supervisor: Supervisor) => ContainerRuntime | Promise<ContainerRuntime>;
  prefix?: string;
  stateDir?: string;
  progress?: (step: string) => void;
  log?: (entry: Record<string, unknown>) => void;
  /** Return before traffic flows end to end (default: wait for it). */
  noWait?: boolean;
}

/** The headless line's contract. */
export interface LabEndpoints {
  kubeconfig: string;
  webhookUrl: string;
  webhookTokenFile: string;
  prometheusUrl: string;
  alertmanagerUrl: string;
  vaultUrl: string;
  vaultRootToken: string;
  /** The first chain. */
  namespace: string;
  chain: { name: string; hops: number };
  chains: Array<{ namespace: string; name: string; hops: number; types: Protocol[] }>;
  auditLog: string;
  timings: Timings;
  stateDir: string;
}

/** One chain of the lab: its TorChains, its servers, its LAN client's traffic. */
export interface LabChain {
  name: string;
  namespace: string;
  types: Protocol[];
  node: LabNode;
  traffic: TrafficMonitor;
  torchains(): Promise<Map<number, TorChain>>;
  /** The Vault key of the server a hop uses now (status.currentServer). */
  activeServer(hop: number): Promise<string | undefined>;
  server(hop: number, name: string): VpnServer;
  /** Kills (SIGKILL: its host answers ICMP) or blackholes (silent death) a hop's active server; returns its name. */
  failActiveServer(hop: number, how?: 'kill' | 'blackhole'): Promise<string>;
  /** Servers of a hop that are dead or blackholed. */
  deadServers(hop: number): string[];
  /** Every server of the hop's pool (Vault key names). */
  serverNames(hop: number): string[];
  /** Brings every dead or blackholed server of the chain back. */
  restoreServers(): Promise<void>;
  /** The hop's running pod (undefined between pods). */
  hopPod(hop: number): V1Pod | undefined;
}

export interface Lab {
  endpoints: LabEndpoints;
  cluster: LabCluster;
  chains: LabChain[];
  vault: LabVault;
  monitoring: MonitoringStep;
  supervisor: Supervisor;
  timings: Timings;
  /** The operator's pods (two replicas behind a Lease). */
  operatorPods(): Promise<V1Pod[]>;
  /** The Lease holder's pod name. */
  leader(): Promise<string | undefined>;
  /** Copies logs and audit log to /var/tmp/torchain-lab/<time>/ (they outlive close()); returns the directory. */
  keepLogs(): string;
  /** SIGKILLs the operator container of a pod (the kubelet restarts it, as after a crash). */
  killOperatorProcess(pod: string): Promise<void>;
  close(): Promise<void>;
}

export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const ctx = new LabContext(
    opts.stateDir ?? DEFAULT_STATE_DIR,
    prefix,
    opts.log ?? (() => undefined),
    opts.progress ?? (() => undefined),
  );
  const timings = opts.timings ?? 'lab';
  const perHop = opts.serversPerHop ?? 3;
  const plans: ChainPlan[] = [
    {
      name: 'lab',
      namespace: 'torchain-lab',
      hops: opts.hops ?? DEFAULT_CHAIN,
      serversPerHop: perHop,
      id: 'a',
      node: 'lab-1',
    },
  ];
  const second = opts.secondChain ?? SECOND_CHAIN;
  if (second.length)
    plans.push({
      name: 'edge',
      namespace: 'torchain-edge',
      hops: second,
      serversPerHop: opts.serversPerHop ?? 2,
      id: 'b',
      node: 'lab-2',
    });
  for (const p of plans)
    for (const t of p.hops)
      if (!PROTOCOLS.includes(t))
        throw new Error(`lab: chain ${p.name}: ${t} is not a protocol (${PROTOCOLS.join(', ')})`);
  try {
    const cluster = await startCluster(ctx, plans[0]!.node);
    const runtime = await (opts.runtime ?? ((s) => new ProcessRuntime(s, REPO_ROOT)))(ctx.supervisor);
    const nodes = await startNodes(ctx, cluster, plans, runtime);
    const vault = await startVaultStep(ctx, cluster, nodes, {
      namespace: RELEASE_NAMESPACE,
      serviceAccount: OPERATOR_SERVICE_ACCOUNT,
    });
    const monitoring = await startMonitoring(ctx, cluster, plans[0]!.node, {
      prometheusSpec:
        timings === 'lab' ? { scrapeInterval: '1s', evaluationInterval: LAB_ALERTING.evaluationInterval } : {},
    });
    await installChart(ctx, cluster, nodes, timings);
    await monitoring.reconcile();

    const kc = new KubeConfig();
    kc.loadFromFile(cluster.adminKubeconfig);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const chains = nodes.map((node) => labChain(ctx, node, custom));
    for (const c of chains) {
      c.traffic.start();
      ctx.onClose(`traffic of ${c.name}`, () => c.traffic.stop());
    }

    // The webhook as Alertmanager reaches it (the operator's Service), and its token from the chart's Secret.
    const svc = await cluster.core.readNamespacedService({ name: `${RELEASE}-operator`, namespace: RELEASE_NAMESPACE });
    const port = svc.spec?.ports?.[0]?.port ?? 8080;
    const webhookUrl = `http://${svc.spec?.clusterIP}:${port}/v1/alertmanager`;
    const secret = await cluster.core.readNamespacedSecret({
      name: `${RELEASE}-webhook-token`,
      namespace: RELEASE_NAMESPACE,
    });
    const webhookTokenFile = join(ctx.stateDir, 'webhook-token');
    writeFileSync(webhookTokenFile, Buffer.from(secret.data?.token ?? '', 'base64'), { mode: 0o600 });

    const lab: Lab = {
      endpoints: {
        kubeconfig: cluster.adminKubeconfig,
        webhookUrl,
        webhookTokenFile,
        prometheusUrl: monitoring.prometheusUrl,
        alertmanagerUrl: monitoring.alertmanagerUrl,
        vaultUrl: vault.url,
        vaultRootToken: vault.vault.rootToken,
        namespace: chains[0]!.namespace,
        chain: { name: chains[0]!.name, hops: chains[0]!.types.length },
        chains: chains.map((c) => ({ namespace: c.namespace, name: c.name, hops: c.types.length, types: c.types })),
        auditLog: cluster.auditLog,
        timings,
        stateDir: ctx.stateDir,
      },
      cluster,
      chains,
      vault: vault.vault,
      monitoring,
      supervisor: ctx.supervisor,
      timings,
      operatorPods: async () =>
        (
          await cluster.core.listNamespacedPod({
            namespace: RELEASE_NAMESPACE,
            labelSelector: 'app.kubernetes.io/component=operator',
          })
        ).items.filter((p) => !p.metadata?.deletionTimestamp),
      leader: async () => {
        const { CoordinationV1Api } = await import('@kubernetes/client-node');
        const lease = await kc
          .makeApiClient(CoordinationV1Api)
          .readNamespacedLease({ name: 'torchain-operator', namespace: RELEASE_NAMESPACE })
          .catch(() => undefined);
        return lease?.spec?.holderIdentity ?? undefined;
      },
      killOperatorProcess: async (pod) => {
        if (!nodes.some((n) => n.kubelet.killContainer(RELEASE_NAMESPACE, pod, 'operator')))
          throw new Error(`lab: no running operator container in pod ${RELEASE_NAMESPACE}/${pod}`);
      },
      keepLogs: () => ctx.keepLogs(),
      close: () => ctx.close(),
    };
    if (opts.noWait) return lab;
    ctx.progress('waiting for the first handshakes and traffic through every hop of every chain');
    for (const c of chains) await c.traffic.waitFlowing(0, 300_000);
    ctx.progress('every chain is up: traffic flows from each LAN client to its internet host through every hop');
    return lab;
  } catch (err) {
    await ctx.close();
    throw err;
  }
}

function labChain(ctx: LabContext, node: LabNode, custom: CustomObjectsApi): LabChain {
  const { chain, world } = node;
  const traffic = new TrafficMonitor(ctx.supervisor, {
    netns: world.client.netns,
    target: world.internet.address,
    name: `traffic-${chain.name}`,
  });
  const torchains = async () => {
    const list = (await custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: chain.namespace,
      plural: PLURAL,
    })) as { items: TorChain[] };
    return new Map(list.items.filter((t) => t.spec.nameTorChain === chain.name).map((t) => [t.spec.numberNode, t]));
  };
  const pool = (hop: number) => {
    const p = world.pools[hop - 1];
    if (!p) throw new Error(`lab: chain ${chain.name} has no hop ${hop}`);
    return p.servers;
  };
  const server = (hop: number, name: string) => {
    const s = pool(hop).find((_, j) => vaultKey(chain, hop, j) === name);
    if (!s) throw new Error(`lab: hop ${hop} of chain ${chain.name} has no server named ${name}`);
    return s;
  };
  const activeServer = async (hop: number) => (await torchains()).get(hop)?.status?.currentServer;
  return {
    name: chain.name,
    namespace: chain.namespace,
    types: chain.hops,
    node,
    traffic,
    torchains,
    activeServer,
    server,
    async failActiveServer(hop, how = 'kill') {
      const name = await waitFor(`hop ${hop} of ${chain.name} to report its server`, () => activeServer(hop), {
        timeoutMs: 60_000,
      });
      const s = server(hop, name);
      if (how === 'kill') await s.kill();
      else await s.blackhole(true);
      return name;
    },
    serverNames: (hop) => pool(hop).map((_, j) => vaultKey(chain, hop, j)),
    deadServers: (hop) =>
      pool(hop)
        .filter((s) => !s.running || s.blackholed)
        .map((s) => s.spec.name),
    async restoreServers() {
      for (const p of world.pools)
        for (const s of p.servers) {
          if (s.blackholed) await s.blackhole(false);
          if (!s.running) await s.start();
        }
    },
    hopPod: (hop) => {
      const running = node.kubelet
        .runningPods()
        .find(
          (p) =>
            p.namespace === chain.namespace &&
            p.labels['torchain.dev/chain'] === chain.name &&
            p.labels['torchain.dev/hop'] === String(hop),
        );
      return running
        ? ({
            metadata: { name: running.name, namespace: running.namespace, uid: running.uid, labels: running.labels },
          } as V1Pod)
        : undefined;
    },
  };
}
