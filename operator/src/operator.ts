// Wires the operator: informers (TorChains, hop Deployments) → per-key queue → reconciler; webhook and Prometheus
// safety net → failover executor; a Lease decides which replica acts. Only the leader reconciles and switches.
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { TorChain } from './api/torchain.js';
import { EventRecorder } from './adapters/kube/events.js';
import { KubeClient, loadKubeConfig } from './adapters/kube/client.js';
import { vaultClientFromEnv, type VaultClient } from './adapters/vault/index.js';
import type { OperatorConfig } from './config.js';
import { Informer, type ChangeKind, type KubeObject } from './controller/informer.js';
import { ALL_NAMESPACES, NamespacedStores } from './controller/namespaced-store.js';
import { Reconciler, RetryError } from './controller/reconciler.js';
import {
  slimDeployment,
  slimSecret,
  slimTorChain,
  type CachedDeployment,
  type CachedSecret,
} from './controller/cache-shapes.js';
import { WorkQueue } from './controller/work-queue.js';
import { tunnelMtus } from './core/mtu.js';
import { objectKey } from './core/naming.js';
import { errorMessage } from './errors.js';
import { FailoverExecutor } from './failover/executor.js';
import { tokenFileSource } from './http/auth.js';
import { buildHttpServer } from './http/server.js';
import { LeaderElector } from './leader/elector.js';
import { createLogger, type Logger } from '../../common/log.js';
import { countForbidden, createMetrics, forgetHop, type OperatorMetrics } from './metrics.js';
import { alertmanagerState } from './safety-net/alertmanager-client.js';
import { PrometheusPoller } from './safety-net/poller.js';

export interface RunningOperator {
  url: string;
  http: FastifyInstance;
  metrics: OperatorMetrics;
  isLeader: () => boolean;
  close(): Promise<void>;
}

/** What makes a TorChain worth reconciling: spec (generation), metadata annotations, deletion. Not status. */
export function torchainChanged(kind: ChangeKind, obj: TorChain, old: TorChain | undefined): boolean {
  if (kind !== 'update' || !old) return true;
  if (obj.metadata.generation !== old.metadata.generation) return true;
  if (JSON.stringify(obj.metadata.annotations ?? {}) !== JSON.stringify(old.metadata.annotations ?? {})) return true;
  if (JSON.stringify(obj.metadata.labels ?? {}) !== JSON.stringify(old.metadata.labels ?? {})) return true;
  return !!obj.metadata.deletionTimestamp !== !!old.metadata.deletionTimestamp;
}

/** The TorChain that owns a hop Deployment or Secret. */
function ownerKey(obj: V1Deployment | V1Secret): string | undefined {
  const owner = obj.metadata?.ownerReferences?.find((o) => o.kind === 'TorChain' && o.controller);
  return owner ? `${obj.metadata?.namespace ?? ''}/${owner.name}` : undefined;
}

export async function startOperator(
  config: OperatorConfig,
  log: Logger = createLogger({ level: config.logLevel }),
): Promise<RunningOperator> {
  const metrics = createMetrics();
  const token = tokenFileSource(config.webhookTokenFile);
  const kc = loadKubeConfig(config.env);
  const kube = new KubeClient(kc, { namespace: config.watchNamespace });
  const vault: VaultClient = vaultClientFromEnv(config.env, {
    onRequest: (e) =>
      metrics.vaultRequests.inc({ operation: e.operation, result: e.result === 'success' ? 'success' : 'error' }),
    log: (level, msg, fields) => log[level](msg, { component: 'vault', ...fields }),
  });
  const events = new EventRecorder(kube, config.podName, log);
  let leader = false;
  /** A call RBAC refuses: counted and logged at error level with the rule that is missing. */
  function denied(err: unknown): void {
    const labels = countForbidden(metrics, err);
    if (labels) log.error('Kubernetes RBAC refuses a call the operator needs', { ...labels, error: errorMessage(err) });
  }

  const queue: WorkQueue = new WorkQueue({
    concurrency: config.concurrency,
    backoff: { baseMs: 500, maxMs: 60_000 },
    // A replica that lost the Lease stops acting at once, even on keys already queued.
    process: async (key) => (leader ? reconciler.reconcile(key) : undefined),
    onError: (key, err, retryInMs) => {
      denied(err);
      const fields = { torchain: key, error: errorMessage(err), retryInMs };
      if (err instanceof RetryError) log.info('reconcile postponed', fields);
      else log.warn('reconcile failed; retrying with backoff', fields);
    },
  });
  const enqueue = (key: string) => {
    if (leader) queue.add(key);
  };

  // Every watch relists on the same period, restarts after 10 silent minutes, and backs off the same way; a 403 is
  // reported loudly (error log naming the missing rule, metric) at every retry until RBAC is fixed.
  const watchOptions = {
    relistMs: config.relistSeconds * 1000,
    silentMs: 10 * 60_000,
    backoff: { baseMs: 500, maxMs: 30_000 },
    log: (msg: string, fields?: Record<string, unknown>) => log.info(msg, fields),
    onError: denied,
  };
  const torchains = new Informer<TorChain>({
    name: 'torchains',
    source: kube.torchainListWatch(),
    transform: slimTorChain,
    ...watchOptions,
    onChange: (kind, obj, old) => {
      if (kind === 'delete') {
        if (obj.spec)
          forgetHop(metrics, {
            namespace: obj.metadata.namespace ?? '',
            torchain: obj.spec.nameTorChain,
            hop: String(obj.spec.numberNode),
          });
        reconciler.forget(objectKey(obj));
        return;
      }
      if (torchainChanged(kind, obj, old)) enqueue(objectKey(obj));
    },
  });
  // Hop Deployments and Secrets are watched per workload namespace, as least-privilege RBAC grants them (one
  // cluster-wide informer each when TORCHAIN_WORKLOAD_NAMESPACES is unset or *).
  const scopes: Array<string | undefined> = config.workloadNamespaces ?? [undefined];
  const onOwnedChange = (kind: ChangeKind, obj: V1Deployment | V1Secret) => {
    // A hop object edited or deleted by hand is put back by its owner's reconcile; the TorChain relist covers resyncs.
    if (kind === 'resync') return;
    const owner = ownerKey(obj);
    if (owner) enqueue(owner);
  };
  const deploymentInformers = scopes.map(
    (ns) =>
      new Informer<CachedDeployment>({
        name: `deployments ${ns ? `in ${ns}` : 'in every namespace'}`,
        source: kube.deploymentListWatch(ns),
        transform: slimDeployment,
        ...watchOptions,
        onChange: onOwnedChange,
      }),
  );
  const secretInformers = scopes.map(
    (ns) =>
      new Informer<CachedSecret>({
        name: `secrets ${ns ? `in ${ns}` : 'in every namespace'}`,
        source: kube.secretListWatch(ns),
        transform: slimSecret,
        ...watchOptions,
        onChange: onOwnedChange,
      }),
  );
  const storeOf = <T extends KubeObject>(informers: Array<Informer<T>>) =>
    new NamespacedStores<T>(new Map(informers.map((inf, i) => [scopes[i] ?? ALL_NAMESPACES, inf.store])));
  const deployments = storeOf(deploymentInformers);
  const secrets = storeOf(secretInformers);
  const informers: Array<{
    name: string;
    hasSynced: boolean;
    lastError: string | undefined;
    start(): void;
    stop(): void;
  }> = [torchains, ...deploymentInformers, ...secretInformers];

  const reconciler = new Reconciler({
    kube,
    kv: vault,
    torchains: torchains.store,
    deployments,
    secrets,
    events,
    metrics,
    log,
    tunnelMtus,
    enqueue,
    poolPrefix: config.poolPrefix,
    images: config.images,
    hopServiceAccount: config.hopServiceAccount,
    linkMtu: config.linkMtu,
    cooldownMs: config.cooldownSeconds * 1000,
    poolRecheckMs: 30_000,
    ...(config.workloadNamespaces ? { workloadNamespaces: config.workloadNamespaces } : {}),
  });
  const executor = new FailoverExecutor({
    kube,
    kv: vault,
    torchains: torchains.store,
    secrets,
    events,
    metrics,
    log,
    poolPrefix: config.poolPrefix,
    cooldownMs: config.cooldownSeconds * 1000,
    graceMs: config.graceSeconds * 1000,
    settleMs: config.settleSeconds * 1000,
    quarantineMs: config.quarantineSeconds * 1000,
    enqueue,
    onError: denied,
  });
  // Not ready while any cache has not listed yet; the reasons (a 403 names its missing rule) are /readyz's body.
  const notReady = () =>
    informers.filter((i) => !i.hasSynced).map((i) => `${i.name}: ${i.lastError ?? 'first list not finished yet'}`);
  const ready = () => informers.every((i) => i.hasSynced);

  const elector = new LeaderElector({
    store: kube,
    namespace: config.podNamespace,
    name: config.leaseName,
    identity: config.podName,
    leaseDurationSeconds: config.leaseDurationSeconds,
    renewDeadlineMs: Math.floor(config.leaseDurationSeconds * 1000 * (2 / 3)),
    retryPeriodMs: Math.max(500, Math.floor((config.leaseDurationSeconds * 1000) / 7.5)),
    log,
    onError: denied,
    onChange: (isLeader) => {
      leader = isLeader;
      metrics.leader.set(isLeader ? 1 : 0);
      if (isLeader)
        void torchains.waitForSync().then(() => {
          for (const key of torchains.store.keys()) queue.add(key);
        });
    },
  });

  const http = buildHttpServer({
    token,
    onNotification: (n) => executor.handleNotification(n),
    isLeader: () => leader,
    isReady: ready,
    notReadyReasons: notReady,
    metrics,
    log,
  });
  const poller = config.prometheusUrl
    ? new PrometheusPoller({
        url: config.prometheusUrl,
        intervalMs: config.pollIntervalSeconds * 1000,
        minAgeMs: config.pollIntervalSeconds * 1000,
        isLeader: () => leader,
        isReady: ready,
        act: (alerts) => executor.handle(alerts, 'prometheus'),
        log,
        ...(config.alertmanagerUrl
          ? { alertmanager: { url: config.alertmanagerUrl, state: alertmanagerState(config.alertmanagerUrl) } }
          : {}),
        onAlertmanager: (result) => metrics.alertmanagerRequests.inc({ result }),
        onSuppressed: (reason, n) => metrics.suppressedAlerts.inc({ reason }, n),
      })
    : undefined;

  for (const i of informers) i.start();
  void vault
    .startRenewal()
    .catch((err: unknown) =>
      log.warn('Vault login failed at start; retrying on first use', { error: errorMessage(err) }),
    );
  await http.listen({ host: config.httpHost, port: config.httpPort });
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const url = `http://${config.httpHost === '0.0.0.0' ? '127.0.0.1' : config.httpHost}:${String(port)}`;
  elector.start();
  poller?.start();
  log.info('operator started', {
    url,
    identity: config.podName,
    watchNamespace: config.watchNamespace || '(all)',
    workloadNamespaces: config.workloadNamespaces ?? '(all)',
    cooldownSeconds: config.cooldownSeconds,
    quarantineSeconds: config.quarantineSeconds,
    prometheus: config.prometheusUrl || '(safety net off)',
    alertmanager: config.alertmanagerUrl || '(silences not checked by the safety net)',
  });

  return {
    url,
    http,
    metrics,
    isLeader: () => leader,
    close: async () => {
      poller?.stop();
      await http.close();
      await queue.shutdown();
      await elector.stop();
      for (const i of informers) i.stop();
      vault.stop();
      log.info('operator stopped', {});
    },
  };
}
