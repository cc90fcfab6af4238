// Carries out failover decisions: for each chain, the decision of core/failover.ts, then the switch as a merge patch of
// spec.switchServer with a resourceVersion precondition (rule 3: 409 → re-read, decide again). Vault is asked first
// whether the hop's pool can be read: when it cannot, nothing is patched and the caller answers 503, so Alertmanager
// retries once Vault is back instead of the hop being pointed at a server nobody can fetch.
import type { V1Secret } from '@kubernetes/client-node';
import type { TorChain } from '../api/torchain.js';
import { isConflict, isNotFound, kubeError } from '../adapters/kube/errors.js';
import { VaultError, hopPoolPath, type KvReader } from '../adapters/vault/index.js';
import type { MalformedAlert, ParsedNotification } from '../core/alertmanager-payload.js';
import { failoverStateOf } from '../core/failover-state.js';
import {
  decideFailover,
  switchPatch,
  type ChainDecision,
  type HopView,
  type SwitchAlert,
  type SwitchDecision,
} from '../core/failover.js';
import { ANNOTATION_SERVER_SINCE, keyOf, secretName } from '../core/naming.js';
import { UnavailableError, errorMessage } from '../errors.js';
import type { EventRecorder } from '../adapters/kube/events.js';
import type { Logger } from '../../../common/log.js';
import type { OperatorMetrics } from '../metrics.js';

export interface FailoverKube {
  getTorChain(namespace: string, name: string): Promise<TorChain | undefined>;
  patchTorChain(namespace: string, name: string, patch: Record<string, unknown>): Promise<TorChain>;
}

export interface ExecutorDeps {
  kube: FailoverKube;
  kv: KvReader;
  torchains: ReadonlyMap<string, TorChain>;
  /** The hop Secrets (slim cache): when each hop took its current server. */
  secrets: { get(key: string): V1Secret | undefined };
  events: EventRecorder;
  metrics: OperatorMetrics;
  log: Logger;
  poolPrefix: string;
  cooldownMs: number;
  /** Grace of new hops and of hops below a just-recovered one (default: the cooldown). */
  graceMs?: number;
  /** How long a hop below hop 1 must be firing before it is switched (default 0). */
  settleMs?: number;
  quarantineMs: number;
  /** Reconcile the switched hop now instead of waiting for the watch event. */
  enqueue: (key: string) => void;
  now?: () => number;
  /** Concurrent switches of one notification (chains are independent). */
  concurrency?: number;
  /** Every failed switch (e.g. a 403 to count and report). */
  onError?: (err: unknown) => void;
}

export type ChainOutcome =
  | (Omit<SwitchDecision, 'resourceVersion' | 'trigger'> & { result: 'switched'; startsAt: string; attempts: number })
  | (ChainDecision & { action: 'none' })
  | { action: 'none'; namespace: string; chain: string; hop: number; name: string; reason: 'gone' }
  | { action: 'none'; namespace: string; chain: string; hop: number; name: string; reason: 'error'; error: string };

export interface FailoverSummary {
  source: 'webhook' | 'prometheus';
  received: { firing: number; resolved: number; ignored: number; truncated: number; malformed: number };
  switched: number;
  chains: ChainOutcome[];
  /** Switch alerts skipped because they could not be read (webhook only). */
  malformed?: MalformedAlert[];
}

const MAX_ATTEMPTS = 4;

/** What the decision reads of one hop: the TorChain (spec, status, failover annotation) and its Secret. */
export function hopView(tc: TorChain, secret?: V1Secret): HopView {
  const v: HopView = {
    namespace: tc.metadata.namespace ?? '',
    name: tc.metadata.name ?? '',
    chain: tc.spec.nameTorChain,
    hop: tc.spec.numberNode,
    resourceVersion: tc.metadata.resourceVersion ?? '',
    switchServer: tc.spec.switchServer ?? 0,
    dropped: (tc.spec.drop ?? 0) > 0,
    failover: failoverStateOf(tc),
  };
  if (tc.status?.currentServer) v.currentServer = tc.status.currentServer;
  const condition = (type: string) => tc.status?.conditions?.find((c) => c.type === type);
  const ready = condition('Ready');
  if (ready) {
    v.ready = ready.status === 'True';
    if (v.ready) v.readySince = ready.lastTransitionTime;
  }
  if (condition('PoolExhausted')?.status === 'True') v.poolExhausted = true;
  if (tc.metadata.creationTimestamp) v.createdAt = tc.metadata.creationTimestamp;
  const since = secret?.metadata?.annotations?.[ANNOTATION_SERVER_SINCE];
  if (since && !Number.isNaN(Date.parse(since))) v.serverSince = since;
  return v;
}

export class FailoverExecutor {
  constructor(private readonly d: ExecutorDeps) {}

  private now(): number {
    return this.d.now ? this.d.now() : Date.now();
  }

  /** Hop views of the chains the alerts name, from the cache. */
  private views(alerts: readonly SwitchAlert[]): HopView[] {
    const chains = new Set(alerts.map((a) => `${a.namespace}/${a.torchain}`));
    const out: HopView[] = [];
    for (const tc of this.d.torchains.values())
      if (tc.spec && chains.has(`${tc.metadata.namespace ?? ''}/${tc.spec.nameTorChain}`)) out.push(this.view(tc));
    return out;
  }

  private view(tc: TorChain): HopView {
    return hopView(tc, this.d.secrets.get(keyOf(tc.metadata.namespace ?? '', secretName(tc))));
  }

  async handleNotification(n: ParsedNotification): Promise<FailoverSummary> {
    const summary = await this.handle(n.firing, 'webhook');
    summary.received = {
      firing: n.firing.length,
      resolved: n.resolved,
      ignored: n.ignored,
      truncated: n.truncatedAlerts,
      malformed: n.malformed.length,
    };
    if (n.malformed.length) summary.malformed = n.malformed;
    return summary;
  }

  async handle(alerts: readonly SwitchAlert[], source: FailoverSummary['source']): Promise<FailoverSummary> {
    // One successful pool listing per notification proves Vault reachable for all of its switches.
    let vaultChecked: Promise<void> | undefined;
    const checkVault = (tc: TorChain): Promise<void> =>
      (vaultChecked ??= this.checkPool(tc).catch((err: unknown) => {
        vaultChecked = undefined;
        throw err;
      }));
    const decisions = decideFailover({
      alerts,
      hops: this.views(alerts),
      now: this.now(),
      cooldownMs: this.d.cooldownMs,
      graceMs: this.d.graceMs ?? this.d.cooldownMs,
      settleMs: this.d.settleMs ?? 0,
    });
    const outcomes: ChainOutcome[] = new Array(decisions.length);
    let next = 0;
    let unavailable: UnavailableError | undefined;
    const worker = async () => {
      for (let i = next++; i < decisions.length; i = next++) {
        const d = decisions[i]!;
        if (d.action === 'none') {
          outcomes[i] = d;
          continue;
        }
        try {
          outcomes[i] = await this.execute(d, alerts, checkVault);
        } catch (err) {
          this.d.onError?.(err);
          if (err instanceof UnavailableError) unavailable ??= err;
          else {
            // This object's own problem (RBAC, admission): retrying the notification would not help.
            this.d.log.error('switch failed', { torchain: `${d.namespace}/${d.name}`, error: errorMessage(err) });
            outcomes[i] = {
              action: 'none',
              namespace: d.namespace,
              chain: d.chain,
              hop: d.hop,
              name: d.name,
              reason: 'error',
              error: errorMessage(err),
            };
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.d.concurrency ?? 16, decisions.length) }, worker));
    // Chains switched before the failure stay switched; the retry finds them inside their cooldown and leaves them.
    if (unavailable) throw unavailable;
    const switched = outcomes.filter((o) => 'result' in o && o.result === 'switched').length;
    // Every decision not to act is one structured line with its reason (the same as in the summary).
    for (const o of outcomes)
      if (o.action === 'none' && 'reason' in o)
        this.d.log.info('failover: no action for chain', {
          chain: `${o.namespace}/${o.chain}`,
          hop: o.hop,
          reason: o.reason,
          ...('retryInSeconds' in o && o.retryInSeconds !== undefined ? { retryInSeconds: o.retryInSeconds } : {}),
          ...('ignored' in o && o.ignored ? { ignored: o.ignored } : {}),
          source,
        });
    return {
      source,
      received: { firing: alerts.length, resolved: 0, ignored: 0, truncated: 0, malformed: 0 },
      switched,
      chains: outcomes,
    };
  }

  /** Verifies Vault answers, so a switch is never made toward a pool nobody can read. */
  private async checkPool(tc: TorChain): Promise<void> {
    const path = hopPoolPath({
      prefix: this.d.poolPrefix,
      namespace: tc.metadata.namespace ?? '',
      chain: tc.spec.nameTorChain,
      hop: tc.spec.numberNode,
      ...(tc.spec.poolPath ? { poolPath: tc.spec.poolPath } : {}),
    });
    try {
      await this.d.kv.list(path);
    } catch (err) {
      const message = err instanceof VaultError ? err.message : `listing ${path}: ${errorMessage(err)}`;
      void this.d.events.record(tc, 'Warning', 'VaultUnavailable', `switch postponed: ${message}`);
      throw new UnavailableError(message, 'vault', { cause: err });
    }
  }

  private async execute(
    first: SwitchDecision,
    alerts: readonly SwitchAlert[],
    checkVault: (tc: TorChain) => Promise<void>,
  ): Promise<ChainOutcome> {
    let d: ChainDecision = first;
    let fresh: TorChain | undefined; // read after a 409: newer than the cache
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (d.action === 'none') return d;
      const key = keyOf(d.namespace, d.name);
      const current =
        (fresh && fresh.metadata.name === d.name ? fresh : undefined) ??
        this.d.torchains.get(key) ??
        (await this.getFresh(d.namespace, d.name));
      if (!current)
        return { action: 'none', namespace: d.namespace, chain: d.chain, hop: d.hop, name: d.name, reason: 'gone' };
      await checkVault(current);
      const patch = switchPatch(d, failoverStateOf(current), this.now(), this.d.quarantineMs);
      try {
        await this.d.kube.patchTorChain(d.namespace, d.name, patch);
      } catch (err) {
        if (isNotFound(err))
          return { action: 'none', namespace: d.namespace, chain: d.chain, hop: d.hop, name: d.name, reason: 'gone' };
        if (!isConflict(err)) throw kubeError(err, `switch TorChain ${key}`);
        // 409: the object changed since the decision. Read it again and decide again for this chain only.
        this.d.log.info('switch conflict (409); re-reading and deciding again', { torchain: key, attempt });
        fresh = await this.getFresh(d.namespace, d.name);
        if (!fresh)
          return { action: 'none', namespace: d.namespace, chain: d.chain, hop: d.hop, name: d.name, reason: 'gone' };
        const chainAlerts = alerts.filter((a) => a.namespace === d.namespace && a.torchain === d.chain);
        const views = this.views(chainAlerts).filter((v) => v.name !== d.name || v.namespace !== d.namespace);
        views.push(this.view(fresh));
        const again = decideFailover({
          alerts: chainAlerts,
          hops: views,
          now: this.now(),
          cooldownMs: this.d.cooldownMs,
          graceMs: this.d.graceMs ?? this.d.cooldownMs,
          settleMs: this.d.settleMs ?? 0,
        })[0];
        if (!again) return { ...d, action: 'none', reason: 'no-hop', unknownHops: [] } as ChainOutcome;
        d = again;
        continue;
      }
      this.d.metrics.switches.inc({ namespace: d.namespace, torchain: d.chain, hop: String(d.hop) });
      const msg = `switching hop ${String(d.hop)} from server ${d.fromServer ?? '(unknown)'}: switchServer ${String(d.fromSwitchServer)} -> ${String(d.toSwitchServer)} (alert ${d.trigger.alertname ?? ''} since ${d.trigger.startsAt})`;
      this.d.log.info('switch', {
        torchain: key,
        chain: d.chain,
        hop: d.hop,
        from: d.fromServer,
        switchServer: d.toSwitchServer,
        startsAt: d.trigger.startsAt,
        waiting: d.waiting,
      });
      void this.d.events.record(current, 'Normal', 'Switching', msg);
      this.d.enqueue(key);
      const { resourceVersion: _rv, trigger, ...rest } = d;
      return { ...rest, result: 'switched', startsAt: trigger.startsAt, attempts: attempt };
    }
    throw new UnavailableError(
      `TorChain ${first.namespace}/${first.name} kept changing (409 ${String(MAX_ATTEMPTS)} times)`,
      'kubernetes',
    );
  }

  private async getFresh(namespace: string, name: string): Promise<TorChain | undefined> {
    return this.d.kube.getTorChain(namespace, name);
  }
}
