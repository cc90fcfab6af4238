// Start-up step: the kube-prometheus-stack stand-in. Prometheus and Alertmanager are the real binaries, each in a
// pod sandbox of its own on the pod network (mirror pods in `monitoring` with kps' labels, behind kps' Services, so
// the chart's NetworkPolicies and the operator's default URLs see what they see on a cluster). Their configuration
// is what prometheus-operator would generate from the monitoring objects in lab/kube (lab/monitoring/
// prometheus-operator) with kps' defaults; a reconcile loop regenerates it whenever those objects change and reloads
// both, as the operator and its config-reloader sidecars do. Prometheus discovers targets through lab/kube as kps'
// ServiceAccount, under kps' ClusterRole.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { ALERTMANAGER_028, PROMETHEUS_K8S } from '../monitoring/binaries.js';
import { labMonitoringTranslation } from '../monitoring/lab-translation.js';
import { kpsFullname, type Translation } from '../monitoring/prometheus-operator/index.js';
import { rulesDirOf } from '../monitoring/prometheus.js';
import { run } from '../netns/exec.js';
import type { Managed } from '../runtime/supervisor.js';
import { waitForHttp } from '../runtime/wait.js';
import type { LabCluster } from './cluster.js';
import type { LabContext } from './context.js';
import { ignoreExists } from '../runtime/already-exists.js';

export const KPS_RELEASE = 'kube-prometheus-stack';
export const KPS_NAMESPACE = 'monitoring';

export interface MonitoringStep {
  prometheusUrl: string;
  alertmanagerUrl: string;
  /** Regenerates both configurations from the objects in lab/kube now, reloading what changed. */
  reconcile(): Promise<void>;
  /** The latest translation (objects selected and rejected, as prometheus-operator would report them). */
  translation(): Translation | undefined;
  stopAlertmanager(): Promise<void>;
  startAlertmanager(): Promise<void>;
}

export interface MonitoringOptions {
  /** Prometheus spec beyond kps' defaults (lab timings: scrape and evaluation every second). */
  prometheusSpec?: Record<string, unknown>;
  /** How often the reconcile loop looks at the objects (prometheus-operator reacts to watch events). */
  resyncMs?: number;
}

const READ = ['get', 'list', 'watch'];

/** A mirror pod: an API object for a process the lab runs itself, bound to a node, Running and Ready. */
async function mirrorPod(
  core: CoreV1Api,
  o: { namespace: string; name: string; labels: Record<string, string>; node: string; podIP: string; port: number },
): Promise<void> {
  await core
    .deleteNamespacedPod({ name: o.name, namespace: o.namespace, gracePeriodSeconds: 0 })
    .catch(() => undefined);
  const body: V1Pod = {
    metadata: {
      name: o.name,
      namespace: o.namespace,
      labels: o.labels,
      annotations: { 'kubernetes.io/config.mirror': 'lab', 'kubernetes.io/config.source': 'file' },
    },
    spec: {
      nodeName: o.node,
      automountServiceAccountToken: false,
      containers: [{ name: 'main', image: 'lab/host-process', ports: [{ name: 'http-web', containerPort: o.port }] }],
    },
  };
  const pod = await core.createNamespacedPod({ namespace: o.namespace, body });
  const now = new Date();
  await core.replaceNamespacedPodStatus({
    name: o.name,
    namespace: o.namespace,
    body: {
      ...pod,
      status: {
        phase: 'Running',
        podIP: o.podIP,
        podIPs: [{ ip: o.podIP }],
        conditions: [
          { type: 'Ready', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
        ],
      },
    },
  });
}

export async function startMonitoring(
  ctx: LabContext,
  cluster: LabCluster,
  node: string,
  opts: MonitoringOptions = {},
): Promise<MonitoringStep> {
  ctx.progress(
    'starting the kube-prometheus-stack stand-in: Prometheus and Alertmanager as pods, configured as prometheus-operator would',
  );
  const fullname = kpsFullname(KPS_RELEASE);
  const core = cluster.core;
  await core.createNamespace({ body: { metadata: { name: KPS_NAMESPACE } } }).catch(ignoreExists);
  const dir = join(ctx.stateDir, 'monitoring');
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  // kps' Prometheus ServiceAccount and discovery ClusterRole (its templates/prometheus/clusterrole.yaml).
  await cluster.identity(KPS_NAMESPACE, `${fullname}-prometheus`, [
    { apiGroups: [''], resources: ['nodes', 'nodes/metrics', 'services', 'endpoints', 'pods'], verbs: READ },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
    { nonResourceURLs: ['/metrics', '/metrics/cadvisor'], verbs: ['get'] },
  ]);
  const tokenFile = join(dir, 'prometheus-sa-token');
  writeFileSync(
    tokenFile,
    cluster.kube.mintServiceAccountToken(KPS_NAMESPACE, `${fullname}-prometheus`, { expirationSeconds: 7 * 86400 }),
    { mode: 0o600 },
  );
  const caFile = join(dir, 'kube-ca.crt');
  writeFileSync(caFile, cluster.kube.caPem);

  // One sandbox per component, on the pod network, with the cluster's DNS.
  const sandbox = async (name: string) => {
    const netns = `${ctx.prefix}-mon-${name}`;
    await run('ip', ['netns', 'del', netns]).catch(() => undefined);
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const podIP = await cluster.podNetwork.add(netns, `${KPS_NAMESPACE}/${name}`);
    cluster.dns.writePodResolvConf(netns, KPS_NAMESPACE);
    ctx.onClose(`sandbox ${netns}`, async () => {
      await cluster.podNetwork.remove(netns).catch(() => undefined);
      await run('ip', ['netns', 'del', netns]).catch(() => undefined);
    });
    return { netns, podIP };
  };
  const am = await sandbox('alertmanager');
  const prom = await sandbox('prometheus');
  const amName = `alertmanager-${fullname}-alertmanager-0`;
  const promName = `prometheus-${fullname}-prometheus-0`;
  await mirrorPod(core, {
    namespace: KPS_NAMESPACE,
    name: amName,
    labels: { 'app.kubernetes.io/name': 'alertmanager', alertmanager: `${fullname}-alertmanager` },
    node,
    podIP: am.podIP,
    port: 9093,
  });
  await mirrorPod(core, {
    namespace: KPS_NAMESPACE,
    name: promName,
    labels: { 'app.kubernetes.io/name': 'prometheus', prometheus: `${fullname}-prometheus` },
    node,
    podIP: prom.podIP,
    port: 9090,
  });
  for (const [svc, port, selector] of [
    [
      `${fullname}-alertmanager`,
      9093,
      { 'app.kubernetes.io/name': 'alertmanager', alertmanager: `${fullname}-alertmanager` },
    ],
    [`${fullname}-prometheus`, 9090, { 'app.kubernetes.io/name': 'prometheus', prometheus: `${fullname}-prometheus` }],
  ] as const)
    await core
      .createNamespacedService({
        namespace: KPS_NAMESPACE,
        body: {
          metadata: { name: svc, labels: { release: KPS_RELEASE, 'self-monitor': 'true' } },
          spec: { selector: { ...selector }, ports: [{ name: 'http-web', port, targetPort: 'http-web' }] },
        },
      })
      .catch(ignoreExists);
  ctx.onClose('monitoring objects', async () => {
    for (const name of [amName, promName])
      await core.deleteNamespacedPod({ name, namespace: KPS_NAMESPACE, gracePeriodSeconds: 0 }).catch(() => undefined);
  });

  const translate = () =>
    labMonitoringTranslation({
      kubeconfigPath: cluster.adminKubeconfig,
      apiServer: { url: cluster.kube.url, tokenFile, caFile },
      rulesDir: rulesDirOf(join(dir, 'prometheus')),
      release: KPS_RELEASE,
      namespace: KPS_NAMESPACE,
      prometheusSpec: opts.prometheusSpec ?? {},
    });
  let current = await translate();
  const amDir = join(dir, 'alertmanager');
  const amConfig = join(amDir, 'alertmanager.yml');
  mkdirSync(join(amDir, 'data'), { recursive: true });
  const writeAm = (t: Translation) => writeFileSync(amConfig, t.alertmanager.yaml, { mode: 0o600 });
  writeAm(current);
  const alertmanagerUrl = `http://${am.podIP}:9093`;
  let amProc: Managed | undefined;
  const startAm = async () => {
    amProc = ctx.supervisor.start('alertmanager', ALERTMANAGER_028, {
      netns: am.netns,
      args: [
        `--config.file=${amConfig}`,
        `--storage.path=${join(amDir, 'data')}`,
        `--web.listen-address=${am.podIP}:9093`,
        '--cluster.listen-address=',
      ],
    });
    await waitForHttp(`${alertmanagerUrl}/-/ready`, 30_000);
  };
  await startAm();

  const promDir = join(dir, 'prometheus');
  mkdirSync(join(promDir, 'data'), { recursive: true });
  const writeProm = (t: Translation) => {
    const rulesDir = rulesDirOf(promDir);
    rmSync(rulesDir, { recursive: true, force: true });
    for (const [rel, text] of Object.entries(t.prometheus.ruleFiles)) {
      const file = join(rulesDir, rel);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, text);
    }
    writeFileSync(join(promDir, 'prometheus.yml'), t.prometheus.yaml);
  };
  writeProm(current);
  const prometheusUrl = `http://${prom.podIP}:9090`;
  ctx.supervisor.start('prometheus', PROMETHEUS_K8S, {
    netns: prom.netns,
    args: [
      `--config.file=${join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(promDir, 'data')}`,
      `--web.listen-address=${prom.podIP}:9090`,
      '--web.enable-lifecycle',
      '--storage.tsdb.retention.time=1d',
    ],
  });
  await waitForHttp(`${prometheusUrl}/-/ready`, 60_000);

  const reload = async (url: string, what: string) => {
    const res = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`${what} refused its new configuration: ${res.status} ${await res.text()}`);
  };
  let reconciling: Promise<void> = Promise.resolve();
  const reconcile = () =>
    (reconciling = reconciling.then(async () => {
      const next = await translate();
      for (const r of next.rejected)
        ctx.log({ level: 'warn', component: 'prometheus-operator', msg: 'object rejected', ...r });
      if (
        next.prometheus.yaml !== current.prometheus.yaml ||
        JSON.stringify(next.prometheus.ruleFiles) !== JSON.stringify(current.prometheus.ruleFiles)
      ) {
        writeProm(next);
        await reload(prometheusUrl, 'Prometheus');
        ctx.log({ level: 'info', component: 'prometheus-operator', msg: 'Prometheus configuration reloaded' });
      }
      if (next.alertmanager.yaml !== current.alertmanager.yaml) {
        writeAm(next);
        if (amProc?.isRunning()) await reload(alertmanagerUrl, 'Alertmanager');
        ctx.log({ level: 'info', component: 'prometheus-operator', msg: 'Alertmanager configuration reloaded' });
      }
      current = next;
    }));
  const timer = setInterval(
    () =>
      void reconcile().catch((err: unknown) =>
        ctx.log({ level: 'error', component: 'prometheus-operator', msg: 'reconcile failed', error: String(err) }),
      ),
    opts.resyncMs ?? 2000,
  );
  ctx.onClose('prometheus-operator stand-in', async () => clearInterval(timer));
  return {
    prometheusUrl,
    alertmanagerUrl,
    reconcile,
    translation: () => current,
    stopAlertmanager: async () => {
      await amProc?.stop(2000);
    },
    startAlertmanager: startAm,
  };
}
