// startLab(): the whole self-healing loop on one machine, for real. Network namespaces for the LAN client, each hop,
// each VPN server and an internet host (lab/netns); real OpenVPN and wireguard-go servers (3 per hop); lab/kube and
// lab/vault (the only stand-ins); the lab kubelet running hop pods as processes in their namespaces; real Prometheus
// and Alertmanager with the project's own rules and route at lab timings; and the real operator.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { GROUP, PLURAL, VERSION, type TorChain } from '../operator/src/api/torchain.js';
import { CRD_PATH } from '../operator/src/api/crd-file.js';
import {
  LAB_ALERTING,
  alertmanagerYaml,
  defaultCooldownSeconds,
  renderAlertmanagerConfig,
  renderRulesYaml,
  type AlertingParams,
} from '../prometheus-rules/src/render.js';
import { KUBECTL, REPO_ROOT } from '../scripts/paths.js';
import { createClusterNet, type ClusterNet } from './cluster-net.js';
import { LabKubelet } from './kubelet/kubelet.js';
import { startKube, type Kube } from './kube/server.js';
import { startAlertmanager, type LabAlertmanager } from './monitoring/alertmanager.js';
import { startPrometheus, type LabPrometheus } from './monitoring/prometheus.js';
import { buildTopology, ENTRYPOINT, type Topology } from './netns/index.js';
import { freePort } from './runtime/ports.js';
import { Supervisor, type Managed } from './runtime/supervisor.js';
import { waitFor, waitForHttp } from './runtime/wait.js';
import { TrafficMonitor } from './traffic.js';
import { startVault, type LabVault } from './vault/server.js';
import { grantOperatorAccess, writePool } from './vault/seed.js';

export type HopType = import('../common/contracts/protocols.js').Protocol;

export interface LabOptions {
  /** Hop types from hop 1 (outermost) to hop N (LAN side). Default openvpn, wireguard, openvpn. */
  hops?: HopType[];
  serversPerHop?: number;
  /** Name prefix of every namespace and interface (at most 5 characters of [a-z0-9]). */
  prefix?: string;
  stateDir?: string;
  alerting?: AlertingParams;
  /** Start-up progress, one human sentence per step. */
  progress?: (step: string) => void;
  log?: (entry: Record<string, unknown>) => void;
  /** Return before traffic flows end to end (default: wait up to 3 minutes for it). */
  noWait?: boolean;
}

/** The headless line's contract (issue: the lab). */
export interface LabEndpoints {
  kubeconfig: string;
  webhookUrl: string;
  webhookTokenFile: string;
  prometheusUrl: string;
  alertmanagerUrl: string;
  vaultUrl: string;
  vaultRootToken: string;
  namespace: string;
  chain: { name: string; hops: number };
  stateDir: string;
}

export interface Lab {
  endpoints: LabEndpoints;
  topology: Topology;
  kube: Kube;
  vault: LabVault;
  prometheus: LabPrometheus;
  alertmanager: LabAlertmanager;
  kubelet: LabKubelet;
  traffic: TrafficMonitor;
  supervisor: Supervisor;
  /** The TorChains of the chain, by hop number. */
  torchains(): Promise<Map<number, TorChain>>;
  /** The server a hop uses now (status.currentServer, else its pod's label). */
  activeServer(hop: number): Promise<string | undefined>;
  /** SIGKILLs the active server of `hop`; returns its name. */
  killActiveServer(hop: number): Promise<string>;
  killServer(hop: number, name: string): Promise<void>;
  startServer(hop: number, name: string): Promise<void>;
  /** Names of the servers of `hop` that are not running. */
  deadServers(hop: number): string[];
  operator: { process(): Managed | undefined; start(): Promise<void>; stop(): Promise<void> };
  stopAlertmanager(): Promise<void>;
  startAlertmanager(): Promise<void>;
  /** Waits until traffic flows LAN → internet through every hop. */
  waitForTraffic(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const LAB_NAMESPACE = 'torchain-lab';
export const LAB_CHAIN = 'lab';
const OPERATOR_NAMESPACE = 'torchain-system';
const OPERATOR_SA = 'torchain-operator';
const HOP_SA = 'torchain-hop';
export const DEFAULT_STATE_DIR = '/run/torchain-lab';
export const DEFAULT_PREFIX = 'tcl';
const execFileAsync = promisify(execFile);
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const progress = opts.progress ?? (() => undefined);
  const log = opts.log ?? (() => undefined);
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  const alerting = opts.alerting ?? LAB_ALERTING;
  const hopTypes = opts.hops ?? ['openvpn', 'wireguard', 'openvpn'];
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const supervisor = new Supervisor(stateDir);
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const c of closers.reverse())
      await c().catch((err: unknown) => log({ level: 'warn', msg: 'lab teardown step failed', error: String(err) }));
    closers.length = 0;
    await supervisor.stopAll(3000);
  };

  try {
    progress(`building network namespaces and starting ${hopTypes.length * (opts.serversPerHop ?? 3)} VPN servers`);
    const topology = await buildTopology({
      hops: hopTypes.map((type) => ({ type })),
      prefix,
      id: 'lab',
      serversPerHop: opts.serversPerHop ?? 3,
    });
    closers.push(() => topology.teardown());

    progress('wiring the pod network (cluster network stand-in)');
    const clusterNet: ClusterNet = await createClusterNet(`${prefix}lab`);
    closers.push(() => clusterNet.remove());
    for (const h of topology.hops) await clusterNet.attach(h.netns);

    progress('starting lab/kube (Kubernetes API stand-in) and applying the TorChain CRD');
    mkdirSync(join(stateDir, 'kube'), { recursive: true });
    const kube = await startKube({ host: clusterNet.hostAddress, dir: join(stateDir, 'kube'), log });
    closers.push(() => kube.close());
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    // Applied with the real kubectl, as an admin would (client-node's typed CRD model would drop `enum` and friends).
    // (async: lab/kube answers from this very process)
    await execFileAsync(KUBECTL, ['apply', '-f', join(REPO_ROOT, CRD_PATH)], {
      env: { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: stateDir },
    });
    for (const ns of [LAB_NAMESPACE, OPERATOR_NAMESPACE])
      await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedServiceAccount({
      namespace: OPERATOR_NAMESPACE,
      body: { metadata: { name: OPERATOR_SA } },
    });
    await core.createNamespacedServiceAccount({
      namespace: OPERATOR_NAMESPACE,
      body: { metadata: { name: 'vault-auth' } },
    });
    await core.createNamespacedServiceAccount({ namespace: LAB_NAMESPACE, body: { metadata: { name: HOP_SA } } });
    await waitFor('the TorChain CRD to be served', async () => {
      await custom.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: LAB_NAMESPACE,
        plural: PLURAL,
      });
      return true;
    });

    progress('starting lab/vault and loading the server pools');
    const vault = await startVault({
      log: (level, msg, fields) => log({ component: 'lab-vault', level, msg, ...fields }),
    });
    closers.push(() => vault.close());
    const admin = { url: vault.url, token: vault.rootToken };
    await grantOperatorAccess(admin, {
      kubernetesHost: kube.url,
      kubernetesCaCert: kube.caPem,
      tokenReviewerJwt: kube.mintServiceAccountToken(OPERATOR_NAMESPACE, 'vault-auth', { expirationSeconds: 86400 }),
      serviceAccount: OPERATOR_SA,
      namespace: OPERATOR_NAMESPACE,
    });
    for (const hop of topology.hops) {
      // probe: the server's tunnel address on a closed TCP port; its RST proves the tunnel carries traffic.
      const entries: Record<string, { config: string; endpoint: string; probe: string }> = {};
      for (const s of hop.servers)
        entries[s.spec.name] = { config: s.clientConfig, endpoint: s.endpoint, probe: `${s.serverTunnelAddress}:53` };
      await writePool(admin, { namespace: LAB_NAMESPACE, chain: LAB_CHAIN, hop: hop.number }, entries);
    }

    progress('starting Alertmanager and Prometheus with the project rules (lab timings)');
    const operatorPort = await freePort();
    const webhookUrl = `http://127.0.0.1:${operatorPort}/v1/alertmanager`;
    const webhookTokenFile = join(stateDir, 'webhook-token');
    writeFileSync(webhookTokenFile, randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
    const amConfig = alertmanagerYaml(
      renderAlertmanagerConfig(alerting, { url: webhookUrl, credentialsFile: webhookTokenFile }),
    );
    let alertmanager = await startAlertmanager(supervisor, {
      dir: join(stateDir, 'alertmanager'),
      configYaml: amConfig,
    });
    const rulesFile = join(stateDir, 'torchain.rules.yaml');
    writeFileSync(rulesFile, renderRulesYaml(alerting));
    const prometheus = await startPrometheus(supervisor, {
      dir: join(stateDir, 'prometheus'),
      ruleFiles: [rulesFile],
      scrapeIntervalSeconds: 1,
      evaluationIntervalSeconds: 1,
      alertmanagerAddress: alertmanager.address,
      operatorTargets: [`127.0.0.1:${operatorPort}`],
    });

    progress('starting the operator');
    const saTokenFile = join(stateDir, 'operator-sa-token');
    writeFileSync(
      saTokenFile,
      kube.mintServiceAccountToken(OPERATOR_NAMESPACE, OPERATOR_SA, { expirationSeconds: 86400 }),
      {
        mode: 0o600,
      },
    );
    const operatorEnv: Record<string, string> = {
      KUBECONFIG: kube.kubeconfigPath,
      TORCHAIN_HTTP_PORT: String(operatorPort),
      TORCHAIN_HTTP_HOST: '127.0.0.1',
      TORCHAIN_WEBHOOK_TOKEN_FILE: webhookTokenFile,
      POD_NAME: 'torchain-operator-lab',
      POD_NAMESPACE: OPERATOR_NAMESPACE,
      TORCHAIN_LEASE_DURATION_SECONDS: '4',
      TORCHAIN_VAULT_ADDR: vault.url,
      TORCHAIN_VAULT_AUTH: 'kubernetes',
      TORCHAIN_VAULT_ROLE: 'torchain-operator',
      TORCHAIN_VAULT_SA_TOKEN_FILE: saTokenFile,
      TORCHAIN_PROMETHEUS_URL: prometheus.url,
      TORCHAIN_POLL_INTERVAL_SECONDS: '5',
      TORCHAIN_COOLDOWN_SECONDS: String(defaultCooldownSeconds(alerting)),
      TORCHAIN_QUARANTINE_SECONDS: '30',
      TORCHAIN_SETTLE_SECONDS: '5',
      TORCHAIN_HOP_SERVICE_ACCOUNT: HOP_SA,
      TORCHAIN_IMAGE_OPENVPN: 'lab/hop-openvpn',
      TORCHAIN_IMAGE_WIREGUARD: 'lab/hop-wireguard',
      TORCHAIN_IMAGE_LOG_EXPORTER: 'lab/log-exporter',
      TORCHAIN_LINK_MTU: String(topology.linkMtu),
    };
    let operatorProc: Managed | undefined;
    const operator = {
      process: () => operatorProc,
      start: async () => {
        operatorProc = supervisor.start('operator', TSX, {
          args: [join(REPO_ROOT, 'operator/src/main.ts')],
          env: operatorEnv,
          cwd: REPO_ROOT,
        });
        await waitForHttp(`http://127.0.0.1:${operatorPort}/healthz`, 60_000);
      },
      stop: async () => {
        await operatorProc?.stop(5000);
      },
    };
    await operator.start();

    progress('starting the lab kubelet (hop pods run as processes in their namespaces)');
    const hopKubeconfig = join(stateDir, 'hop-kubeconfig');
    const hopToken = kube.mintServiceAccountToken(LAB_NAMESPACE, HOP_SA, { expirationSeconds: 86400 });
    writeFileSync(hopKubeconfig, kubeconfigFor(kube, hopToken), { mode: 0o600 });
    const hopByPod = (pod: V1Pod) => {
      const labels = pod.metadata?.labels ?? {};
      if (labels['torchain.dev/chain'] !== LAB_CHAIN) return undefined;
      return topology.hops[Number(labels['torchain.dev/hop']) - 1];
    };
    const kubelet = new LabKubelet({
      kube,
      kubeconfigPath: kube.kubeconfigPath,
      supervisor,
      stateDir: join(stateDir, 'kubelet'),
      labelSelector: 'app.kubernetes.io/name=torchain-hop',
      placement: (pod) => {
        const hop = hopByPod(pod);
        const podIP = hop && clusterNet.podIPs.get(hop.netns);
        return hop && podIP ? { netns: hop.netns, podIP } : undefined;
      },
      commandFor: (container: V1Container) => commandFor(container, hopKubeconfig),
      onPodsChanged: (pods) =>
        prometheus.setExporterTargets(
          pods.map((p) => ({
            address: `${p.podIP}:9108`,
            labels: {
              namespace: p.namespace,
              torchain: p.labels['torchain.dev/chain'] ?? '',
              hop: p.labels['torchain.dev/hop'] ?? '',
              type: p.labels['torchain.dev/type'] ?? '',
              server: p.labels['torchain.dev/server'] ?? '',
              pod: p.name,
            },
          })),
        ),
      log,
    });
    await kubelet.start();
    closers.push(() => kubelet.stop());

    progress(`creating the chain: ${hopTypes.length} TorChains (${hopTypes.join(', ')})`);
    for (const hop of topology.hops) {
      const body: TorChain = {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'TorChain',
        metadata: { name: `${LAB_CHAIN}-hop-${hop.number}`, namespace: LAB_NAMESPACE },
        spec: {
          numberNode: hop.number,
          typeNode: hop.type,
          nameTorChain: LAB_CHAIN,
          inInterface: hop.inIf,
          outInterface: hop.outIf,
          ...(hop.outGateway ? { outGateway: hop.outGateway } : {}),
          ...(hop.lanGateway ? { ipGateWay: hop.lanGateway } : {}),
          tmpDir: '/tmp',
        },
      };
      await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: LAB_NAMESPACE,
        plural: PLURAL,
        body,
      });
    }

    const traffic = new TrafficMonitor(supervisor, { netns: topology.client.netns, target: topology.internet.address });
    traffic.start();

    const torchains = async () => {
      const list = (await custom.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: LAB_NAMESPACE,
        plural: PLURAL,
      })) as {
        items: TorChain[];
      };
      return new Map(list.items.filter((t) => t.spec.nameTorChain === LAB_CHAIN).map((t) => [t.spec.numberNode, t]));
    };
    const serverOf = (hop: number, name: string) => {
      const s = topology.hops[hop - 1]?.servers.find((x) => x.spec.name === name);
      if (!s) throw new Error(`lab: hop ${hop} has no server named ${name}`);
      return s;
    };
    const activeServer = async (hop: number) => {
      const tc = (await torchains()).get(hop);
      if (tc?.status?.currentServer) return tc.status.currentServer;
      return kubelet.runningPods().find((p) => p.labels['torchain.dev/hop'] === String(hop))?.labels[
        'torchain.dev/server'
      ];
    };

    progress('waiting for the first handshakes and traffic through the whole chain');
    const lab: Lab = {
      endpoints: {
        kubeconfig: kube.kubeconfigPath,
        webhookUrl,
        webhookTokenFile,
        prometheusUrl: prometheus.url,
        alertmanagerUrl: alertmanager.url,
        vaultUrl: vault.url,
        vaultRootToken: vault.rootToken,
        namespace: LAB_NAMESPACE,
        chain: { name: LAB_CHAIN, hops: topology.hops.length },
        stateDir,
      },
      topology,
      kube,
      vault,
      prometheus,
      get alertmanager() {
        return alertmanager;
      },
      kubelet,
      traffic,
      supervisor,
      torchains,
      activeServer,
      async killActiveServer(hop) {
        const name = await activeServer(hop);
        if (!name) throw new Error(`lab: hop ${hop} has no active server yet`);
        await serverOf(hop, name).kill();
        return name;
      },
      killServer: (hop, name) => serverOf(hop, name).kill(),
      startServer: (hop, name) => serverOf(hop, name).start(),
      deadServers: (hop) => (topology.hops[hop - 1]?.servers ?? []).filter((s) => !s.running).map((s) => s.spec.name),
      operator,
      stopAlertmanager: () => alertmanager.process.stop(2000),
      async startAlertmanager() {
        alertmanager = await startAlertmanager(supervisor, {
          dir: join(stateDir, 'alertmanager'),
          configYaml: amConfig,
          port: Number(alertmanager.address.split(':')[1]),
        });
      },
      waitForTraffic: async (timeoutMs = 120_000) => {
        await traffic.waitFlowing(0, timeoutMs);
      },
      close,
    };
    if (opts.noWait) return lab;
    await lab.waitForTraffic(180_000);
    progress('the chain is up: traffic flows from the LAN client to the internet host through every hop');
    return lab;
  } catch (err) {
    await close();
    throw err;
  }
}

/** What runs for each container image of a hop pod (the lab has no image runtime: the same programs, as processes). */
function commandFor(container: V1Container, hopKubeconfig: string) {
  if (container.name === 'vpn') return { command: 'bash', args: [ENTRYPOINT] };
  if (container.name === 'log-exporter')
    return {
      command: TSX,
      args: [join(REPO_ROOT, 'log-exporter/src/main.ts')],
      env: { KUBECONFIG: hopKubeconfig },
    };
  throw new Error(`lab kubelet: no command for container ${container.name} (image ${container.image})`);
}

function kubeconfigFor(kube: Kube, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'lab',
        cluster: { server: kube.url, 'certificate-authority-data': Buffer.from(kube.caPem).toString('base64') },
      },
    ],
    users: [{ name: 'hop', user: { token } }],
    contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'hop', namespace: LAB_NAMESPACE } }],
    'current-context': 'lab',
  });
}
