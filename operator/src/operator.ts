// Wires the operator: informers (TorChains, hop Deployments) → per-key queue → reconciler; webhook and Prometheus
// safety net → failover executor; a Lease decides which replica acts. Only the leader reconciles and switches.
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { TorChain } from './api/torchain.js';
import { EventRecorder } from './adapters/kube/events.js';
import { KubeClient, loadKubeConfig } from './adapters/kube/client.js';
import { vaultClientFromEnv, type VaultClient } from './adapters/vault/index.js';
import type { OperatorConfig } from './config.js';
import { Informer, type ChangeKind } from './controller/informer.js';
import { Reconciler, RetryError } from './controller/reconciler.js';
import { slimDeployment, slimSecret, slimTorChain } from './controller/cache-shapes.js';
import { WorkQueue } from './controller/work-queue.js';
import { tunnelMtus } from './core/mtu.js';
import { objectKey } from './core/naming.js';
import { errorMessage } from './errors.js';
import { FailoverExecutor } from './failover/executor.js';
import { tokenFileSource } from './http/auth.js';
import { buildHttpServer } from './http/server.js';
import { LeaderElector } from './leader/elector.js';
import { createLogger, type Logger } from '../../common/log.js';
import { createMetrics, forgetHop, type OperatorMetrics } from './metrics.js';
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

  const queue: WorkQueue = new WorkQueue({
    concurrency: config.concurrency,
    backoff: { baseMs: 500, maxMs: 60_000 },
    // A replica that lost the Lease stops acting at once, even on keys already queued.
    process: async (key) => (leader ? reconciler.reconcile(key) : undefined),
    onError: (key, err, retryInMs) => {
      const fields = { torchain: key, error: errorMessage(err), retryInMs };
      if (err instanceof RetryError) log.info('reconcile postponed', fields);
      else log.warn('reconcile failed; retrying with backoff', fields);
    },
  });
  const enqueue = (key: string) => {
    if (leader) queue.add(key);
  };

  // Every watch relists on the same period, restarts after 10 silent minutes, and backs off the same way.
  const watchOptions = {
    relistMs: config.relistSeconds * 1000,
    silentMs: 10 * 60_000,
    backoff: { baseMs: 500, maxMs: 30_000 },
    log: (msg: string, fields?: Record<string, unknown>) => log.info(msg, fields),
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
  const deployments = new Informer<V1Deployment>({
    name: 'deployments',
    source: kube.deploymentListWatch(),
    transform: slimDeployment,
    ...watchOptions,
    onChange: (kind, obj) => {
      if (kind === 'resync') return; // the TorChain relist covers it
      const owner = ownerKey(obj);
      if (owner) enqueue(owner);
    },
  });

  const secrets = new Informer<V1Secret>({
    name: 'secrets',
    source: kube.secretListWatch(),
    transform: slimSecret,
    ...watchOptions,
    onChange: (kind, obj) => {
      // A hop Secret edited or deleted by hand is put back by its owner's reconcile.
      if (kind === 'resync') return;
      const owner = ownerKey(obj);
      if (owner) enqueue(owner);
    },
  });

  const reconciler = new Reconciler({
    kube,
    kv: vault,
    torchains: torchains.store,
    deployments: deployments.store,
    secrets: secrets.store,
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
  });
  const executor = new FailoverExecutor({
    kube,
    kv: vault,
    torchains: torchains.store,
    secrets: secrets.store,
    events,
    metrics,
    log,
    poolPrefix: config.poolPrefix,
    cooldownMs: config.cooldownSeconds * 1000,
    graceMs: config.graceSeconds * 1000,
    settleMs: config.settleSeconds * 1000,
    quarantineMs: config.quarantineSeconds * 1000,
    enqueue,
  });
  const ready = () => torchains.hasSynced && deployments.hasSynced && secrets.hasSynced;

  const elector = new LeaderElector({
    store: kube,
    namespace: config.podNamespace,
    name: config.leaseName,
    identity: config.podName,
    leaseDurationSeconds: config.leaseDurationSeconds,
    renewDeadlineMs: Math.floor(config.leaseDurationSeconds * 1000 * (2 / 3)),
    retryPeriodMs: Math.max(500, Math.floor((config.leaseDurationSeconds * 1000) / 7.5)),
    log,
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

  torchains.start();
  deployments.start();
  secrets.start();
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
      torchains.stop();
      deployments.stop();
      secrets.stop();
      vault.stop();
      log.info('operator stopped', {});
    },
  };
}
