// The operator's configuration from its environment (contracts.md: operator process configuration). Every bad value
// fails the start with a message naming the variable and what it wants.
import { PROTOCOLS, type Protocol } from '../../common/contracts/protocols.js';
import { DEFAULT_ALERTING, defaultCooldownSeconds } from '../../prometheus-rules/src/render.js';
import type { HopImages } from './core/hop-objects.js';
import { parseLevel, type Level } from '../../common/log.js';

/** Detection of two hops that die together differs by about one `for` plus a scrape and an evaluation. */
export const DEFAULT_SETTLE_SECONDS = 5;

export interface OperatorConfig {
  httpPort: number;
  httpHost: string;
  webhookTokenFile: string;
  watchNamespace: string;
  /**
   * Namespaces where the operator manages hop Secrets and Deployments (and watches them, by label): its RBAC grants
   * it exactly these. undefined: every namespace (cluster-wide RBAC).
   */
  workloadNamespaces: string[] | undefined;
  podName: string;
  podNamespace: string;
  leaseName: string;
  leaseDurationSeconds: number;
  poolPrefix: string;
  prometheusUrl: string;
  /** Alertmanager the safety net asks for silences and inhibitions; empty: not asked. */
  alertmanagerUrl: string;
  pollIntervalSeconds: number;
  cooldownSeconds: number;
  /** Grace for a new hop, and for hops below one that just recovered, before they can be switched. */
  graceSeconds: number;
  /** How long a hop below hop 1 must be firing before it is switched: alerts of hops above may still come. */
  settleSeconds: number;
  quarantineSeconds: number;
  images: HopImages;
  /** ServiceAccount of hop pods (the exporter reads its pod's log with it); empty: the namespace default. */
  hopServiceAccount: string;
  linkMtu: number;
  logLevel: Level;
  concurrency: number;
  relistSeconds: number;
  /** Environment handed to the Vault client factory (TORCHAIN_VAULT_*). */
  env: Record<string, string | undefined>;
}

/** The default cooldown: derived from the alert timing of prometheus-rules (docs/operator.md shows the terms). */
export const DEFAULT_COOLDOWN_SECONDS = defaultCooldownSeconds(DEFAULT_ALERTING);
export const DEFAULT_QUARANTINE_SECONDS = 600;
export const DEFAULT_POLL_INTERVAL_SECONDS = 30;

function int(env: Record<string, string | undefined>, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return def;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max)
    throw new Error(`${name}=${raw} is not an integer in ${String(min)}..${String(max)}`);
  return Number(raw);
}

function pullPolicy(raw: string | undefined): HopImages['pullPolicy'] {
  if (!raw) return undefined;
  if (raw === 'Always' || raw === 'IfNotPresent' || raw === 'Never') return raw;
  throw new Error(`TORCHAIN_IMAGE_PULL_POLICY=${raw}: use Always, IfNotPresent or Never`);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * TORCHAIN_WORKLOAD_NAMESPACES: unset or `*` — every namespace; a comma-separated list — those only (empty: none).
 * With TORCHAIN_WATCH_NAMESPACE only that namespace holds TorChains, so it is the one workload namespace.
 */
function workloadNamespaces(raw: string | undefined, watchNamespace: string): string[] | undefined {
  if (watchNamespace) {
    const listed = raw === undefined || raw.trim() === '*' ? undefined : raw.split(',').map((n) => n.trim());
    if (listed && !listed.includes(watchNamespace))
      throw new Error(
        `TORCHAIN_WORKLOAD_NAMESPACES=${raw ?? ''} does not include TORCHAIN_WATCH_NAMESPACE=${watchNamespace}: the operator manages hop workloads where it watches TorChains`,
      );
    return [watchNamespace];
  }
  if (raw === undefined || raw.trim() === '*') return undefined;
  const names = raw
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !DNS_LABEL.test(n));
  if (bad.length)
    throw new Error(
      `TORCHAIN_WORKLOAD_NAMESPACES=${raw}: ${bad.join(', ')} is not a namespace name; give a comma-separated list, or * for every namespace`,
    );
  return [...new Set(names)].sort();
}

export function loadConfig(env: Record<string, string | undefined> = process.env): OperatorConfig {
  const webhookTokenFile = env.TORCHAIN_WEBHOOK_TOKEN_FILE ?? '';
  if (!webhookTokenFile)
    throw new Error('TORCHAIN_WEBHOOK_TOKEN_FILE is not set: point it at the file holding the webhook bearer token');
  const prometheusUrl = env.TORCHAIN_PROMETHEUS_URL ?? '';
  if (prometheusUrl && !/^https?:\/\/[^/]/.test(prometheusUrl))
    throw new Error(`TORCHAIN_PROMETHEUS_URL=${prometheusUrl} is not an http(s) URL`);
  const alertmanagerUrl = env.TORCHAIN_ALERTMANAGER_URL ?? '';
  if (alertmanagerUrl && !/^https?:\/\/[^/]/.test(alertmanagerUrl))
    throw new Error(`TORCHAIN_ALERTMANAGER_URL=${alertmanagerUrl} is not an http(s) URL`);
  const leaseDurationSeconds = int(env, 'TORCHAIN_LEASE_DURATION_SECONDS', 15, 2, 3600);
  return {
    httpPort: int(env, 'TORCHAIN_HTTP_PORT', 8080, 0, 65535),
    httpHost: env.TORCHAIN_HTTP_HOST || '0.0.0.0',
    webhookTokenFile,
    watchNamespace: env.TORCHAIN_WATCH_NAMESPACE ?? '',
    workloadNamespaces: workloadNamespaces(env.TORCHAIN_WORKLOAD_NAMESPACES, env.TORCHAIN_WATCH_NAMESPACE ?? ''),
    podName: env.POD_NAME || `torchain-operator-${String(process.pid)}`,
    podNamespace: env.POD_NAMESPACE || 'torchain-system',
    leaseName: env.TORCHAIN_LEASE_NAME || 'torchain-operator',
    leaseDurationSeconds,
    poolPrefix: env.TORCHAIN_POOL_PREFIX || 'torchain',
    prometheusUrl,
    alertmanagerUrl,
    pollIntervalSeconds: int(env, 'TORCHAIN_POLL_INTERVAL_SECONDS', DEFAULT_POLL_INTERVAL_SECONDS, 1, 86400),
    cooldownSeconds: int(env, 'TORCHAIN_COOLDOWN_SECONDS', DEFAULT_COOLDOWN_SECONDS, 0, 86400),
    settleSeconds: int(env, 'TORCHAIN_SETTLE_SECONDS', DEFAULT_SETTLE_SECONDS, 0, 3600),
    graceSeconds: int(
      env,
      'TORCHAIN_GRACE_SECONDS',
      int(env, 'TORCHAIN_COOLDOWN_SECONDS', DEFAULT_COOLDOWN_SECONDS, 0, 86400),
      0,
      86400,
    ),
    quarantineSeconds: int(env, 'TORCHAIN_QUARANTINE_SECONDS', DEFAULT_QUARANTINE_SECONDS, 0, 7 * 86400),
    images: {
      // One variable per protocol, TORCHAIN_IMAGE_<PROTOCOL> (the chart renders them from hop.images).
      ...(Object.fromEntries(
        PROTOCOLS.map((p) => [p, env[`TORCHAIN_IMAGE_${p.toUpperCase()}`] || `ghcr.io/torchain/hop-${p}:0.1.0`]),
      ) as Record<Protocol, string>),
      logExporter: env.TORCHAIN_IMAGE_LOG_EXPORTER || 'ghcr.io/torchain/log-exporter:0.1.0',
      pullPolicy: pullPolicy(env.TORCHAIN_IMAGE_PULL_POLICY),
    },
    hopServiceAccount: env.TORCHAIN_HOP_SERVICE_ACCOUNT ?? '',
    linkMtu: int(env, 'TORCHAIN_LINK_MTU', 1500, 576, 65535),
    logLevel: parseLevel(env.TORCHAIN_LOG_LEVEL),
    concurrency: int(env, 'TORCHAIN_RECONCILE_CONCURRENCY', 8, 1, 256),
    relistSeconds: int(env, 'TORCHAIN_RELIST_SECONDS', 300, 5, 86400),
    env,
  };
}
