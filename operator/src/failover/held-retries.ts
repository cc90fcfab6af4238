// Decisions that hold a switch "for N seconds" (settling, a new hop's grace, cooldown, a hop above recovering) must be
// taken again when the N seconds are up. Alertmanager will not ask again by itself: it notifies a group only when the
// group changes or after repeat_interval (minutes), and the safety-net poll runs every pollInterval. So the operator
// keeps the firing alerts of each held chain and decides again on its own when the hold ends. The decision itself
// stays safe with old alerts: a hop that is Ready, or whose alert predates its current server, is never switched.
import type { Logger } from '../../../common/log.js';
import type { SwitchAlert } from '../core/failover.js';
import type { ChainOutcome, FailoverSummary } from './executor.js';

export interface HeldRetriesDeps {
  /** Decides again for the alerts of one chain (the executor, with source 'retry'). */
  run(alerts: SwitchAlert[]): Promise<FailoverSummary>;
  isLeader(): boolean;
  log: Logger;
  /** Alerts older than this (since the notification or poll that brought them) are not retried any more. */
  maxAgeMs: number;
  now?: () => number;
}

/** A chain whose decision said "not now, in N seconds", and when to decide again. */
export interface HeldChain {
  chain: string;
  delayMs: number;
}

const chainOf = (a: { namespace: string; torchain?: string; chain?: string }): string =>
  `${a.namespace}/${a.torchain ?? a.chain ?? ''}`;

/** The chains of a summary to decide again, each after its hold plus a small margin (the hold rounds up to seconds). */
export function heldChains(outcomes: readonly ChainOutcome[], marginMs = 250): HeldChain[] {
  const out: HeldChain[] = [];
  for (const o of outcomes)
    if (o.action === 'none' && 'retryInSeconds' in o && o.retryInSeconds !== undefined)
      out.push({ chain: chainOf(o), delayMs: o.retryInSeconds * 1000 + marginMs });
  return out;
}

export class HeldRetries {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly d: HeldRetriesDeps) {}

  private now(): number {
    return this.d.now ? this.d.now() : Date.now();
  }

  /**
   * After a notification, a poll or a retry: every chain it decided on loses its pending retry (the newer decision
   * supersedes it), and each chain held for N seconds gets one, with the alerts that were firing for it.
   */
  track(alerts: readonly SwitchAlert[], summary: FailoverSummary, receivedAt = this.now()): void {
    for (const o of summary.chains) this.cancel(chainOf(o));
    for (const held of heldChains(summary.chains)) {
      const mine = alerts.filter((a) => chainOf(a) === held.chain);
      // Alerts this old are left to Alertmanager's repeat and the safety-net poll, which see the present.
      if (!mine.length || this.now() + held.delayMs - receivedAt > this.d.maxAgeMs) continue;
      const timer = setTimeout(() => {
        this.timers.delete(held.chain);
        void this.retry(held.chain, mine, receivedAt);
      }, held.delayMs);
      timer.unref();
      this.timers.set(held.chain, timer);
    }
  }

  private async retry(chain: string, alerts: SwitchAlert[], receivedAt: number): Promise<void> {
    if (!this.d.isLeader()) return;
    this.d.log.debug('failover: deciding again after a hold', { chain, alerts: alerts.length });
    try {
      this.track(alerts, await this.d.run(alerts), receivedAt);
    } catch (err) {
      // Vault or the API unavailable: the next notification, repeat or poll tries again.
      this.d.log.warn('failover: deciding again after a hold failed; the next notification or poll retries', {
        chain,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private cancel(chain: string): void {
    const t = this.timers.get(chain);
    if (t) clearTimeout(t);
    this.timers.delete(chain);
  }

  /** Pending retries (for tests and /debug). */
  get pending(): string[] {
    return [...this.timers.keys()];
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
