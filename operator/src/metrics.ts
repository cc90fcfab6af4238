// The operator's metrics (contracts.md: operator metrics; alerting, the dashboard and the chart rely on the names).
// The `namespace` label is the TorChain's namespace, hence honorLabels on the ServiceMonitor.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ForbiddenError } from './adapters/kube/errors.js';

export const FAILOVER_BUCKETS = [5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600];

export interface OperatorMetrics {
  registry: Registry;
  switches: Counter<'namespace' | 'torchain' | 'hop'>;
  failoverDuration: Histogram<'namespace' | 'torchain' | 'hop'>;
  webhookRequests: Counter<'code'>;
  malformedAlerts: Counter<string>;
  reconciles: Counter<'result'>;
  reconcileDuration: Histogram<string>;
  vaultRequests: Counter<'operation' | 'result'>;
  poolServers: Gauge<'namespace' | 'torchain' | 'hop' | 'state'>;
  poolExhausted: Gauge<'namespace' | 'torchain' | 'hop'>;
  leader: Gauge<string>;
  alertmanagerRequests: Counter<'result'>;
  kubeForbidden: Counter<'verb' | 'resource' | 'namespace'>;
  suppressedAlerts: Counter<'reason'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): OperatorMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'torchain_operator_process_' });
  const hopLabels = ['namespace', 'torchain', 'hop'] as const;
  const m: OperatorMetrics = {
    registry,
    switches: new Counter({
      name: 'torchain_operator_switches_total',
      help: 'Switches of a hop to the next server of its pool made by the operator.',
      labelNames: hopLabels,
      registers: [registry],
    }),
    failoverDuration: new Histogram({
      name: 'torchain_operator_failover_duration_seconds',
      help: 'Time from the triggering alert startsAt to the switched hop being Ready again.',
      labelNames: hopLabels,
      buckets: FAILOVER_BUCKETS,
      registers: [registry],
    }),
    webhookRequests: new Counter({
      name: 'torchain_operator_webhook_requests_total',
      help: 'Alertmanager webhook requests by HTTP status code.',
      labelNames: ['code'],
      registers: [registry],
    }),
    malformedAlerts: new Counter({
      name: 'torchain_operator_webhook_malformed_alerts_total',
      help: 'Switch alerts skipped because they could not be read (the rest of their notification was acted on).',
      registers: [registry],
    }),
    reconciles: new Counter({
      name: 'torchain_operator_reconcile_total',
      help: 'Reconciles of TorChain objects by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'torchain_operator_reconcile_duration_seconds',
      help: 'Duration of one TorChain reconcile.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    vaultRequests: new Counter({
      name: 'torchain_operator_vault_requests_total',
      help: 'Vault requests by operation (read, list, login, renew) and result (success, error).',
      labelNames: ['operation', 'result'],
      registers: [registry],
    }),
    poolServers: new Gauge({
      name: 'torchain_operator_pool_servers',
      help: 'Servers in a hop pool by state (available, quarantined).',
      labelNames: [...hopLabels, 'state'],
      registers: [registry],
    }),
    poolExhausted: new Gauge({
      name: 'torchain_operator_pool_exhausted',
      help: '1 while every server of the hop pool is quarantined or the pool is empty.',
      labelNames: hopLabels,
      registers: [registry],
    }),
    alertmanagerRequests: new Counter({
      name: 'torchain_operator_alertmanager_requests_total',
      help: 'Safety-net queries of Alertmanager (alerts and silences) by result (success, error).',
      labelNames: ['result'],
      registers: [registry],
    }),
    suppressedAlerts: new Counter({
      name: 'torchain_operator_safety_net_suppressed_alerts_total',
      help: 'Firing switch alerts the safety net left alone because Alertmanager holds them silenced or inhibited.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    kubeForbidden: new Counter({
      name: 'torchain_operator_kube_forbidden_total',
      help: 'Kubernetes API calls refused with 403 (RBAC lacks a rule the operator needs); namespace "" is cluster scope.',
      labelNames: ['verb', 'resource', 'namespace'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'torchain_operator_leader',
      help: '1 while this replica holds the leader Lease and acts.',
      registers: [registry],
    }),
  };
  // Initialised so rate() and increase() see the first event after a start (prom-client creates series lazily).
  for (const result of ['success', 'error']) m.reconciles.inc({ result }, 0);
  for (const operation of ['read', 'list', 'login', 'renew'])
    for (const result of ['success', 'error']) m.vaultRequests.inc({ operation, result }, 0);
  for (const code of ['200', '400', '401', '413', '503']) m.webhookRequests.inc({ code }, 0);
  for (const result of ['success', 'error']) m.alertmanagerRequests.inc({ result }, 0);
  for (const reason of ['silenced', 'inhibited']) m.suppressedAlerts.inc({ reason }, 0);
  m.leader.set(0);
  return m;
}

/** Removes the per-hop series of a deleted TorChain, so dashboards do not show ghosts. */
export function forgetHop(m: OperatorMetrics, labels: { namespace: string; torchain: string; hop: string }): void {
  for (const state of ['available', 'quarantined']) m.poolServers.remove({ ...labels, state });
  m.poolExhausted.remove(labels);
}

/** Counts a call the API server refused with 403; returns its labels (for the log line), or undefined for any other error. */
export function countForbidden(
  m: OperatorMetrics,
  err: unknown,
): { verb: string; resource: string; namespace: string } | undefined {
  if (!(err instanceof ForbiddenError)) return undefined;
  const resource = err.call.subresource ? `${err.call.resource}/${err.call.subresource}` : err.call.resource;
  const labels = { verb: err.call.verb, resource, namespace: err.namespace ?? '' };
  m.kubeForbidden.inc(labels);
  return labels;
}
