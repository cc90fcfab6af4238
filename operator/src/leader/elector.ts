// Keeps (or waits for) the leader Lease. Only the leader reconciles and switches; a follower answers webhook calls
// with 503 so Alertmanager retries (and reaches the leader through the Service).
import type { V1Lease } from '@kubernetes/client-node';
import { errorMessage } from '../errors.js';
import type { Logger } from '../../../common/log.js';
import { isConflict } from '../adapters/kube/errors.js';
import { decideLease, microTime, type Observation } from './lease-decision.js';

/** Lease calls; each gives up (rejects) after timeoutMs, so a hanging API server never holds the elector. */
export interface LeaseStore {
  getLease(namespace: string, name: string, opts: { timeoutMs: number }): Promise<V1Lease | undefined>;
  createLease(body: V1Lease, opts: { timeoutMs: number }): Promise<V1Lease>;
  replaceLease(body: V1Lease, opts: { timeoutMs: number }): Promise<V1Lease>;
}

export interface ElectorOptions {
  store: LeaseStore;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  /** Give up leadership when no renewal succeeded for this long (must be < lease duration). */
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onChange: (leader: boolean) => void;
  log: Logger;
  /** Every failed Lease call (e.g. a 403 to count and report). */
  onError?: (err: unknown) => void;
}

export class LeaderElector {
  private leader = false;
  private observed: Observation | undefined;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Fires renewDeadlineMs after the last renewal: a leader that could not renew by then stops acting. */
  private deadline: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly opts: ElectorOptions) {}

  get isLeader(): boolean {
    return this.leader;
  }

  /** Local time (ms) of the last successful acquire or renewal. */
  get lastRenewedAt(): number {
    return this.lastRenew;
  }

  /** How long the next Lease call may take: within the renew deadline, and never past it while leading. */
  private callTimeoutMs(now: number): number {
    const left = this.leader ? this.lastRenew + this.opts.renewDeadlineMs - now : this.opts.renewDeadlineMs;
    return Math.max(1, Math.min(this.opts.renewDeadlineMs, left));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      this.inFlight = this.tick().finally(() => {
        this.inFlight = undefined;
        if (this.running) {
          // Jitter so two replicas do not try in lockstep.
          this.timer = setTimeout(loop, this.opts.retryPeriodMs * (0.8 + Math.random() * 0.4));
          this.timer.unref();
        }
      });
    };
    loop();
  }

  /** Stops trying and, when leading, releases the Lease so the other replica takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    if (!this.leader) return;
    try {
      const timeoutMs = this.callTimeoutMs(Date.now());
      const lease = await this.opts.store.getLease(this.opts.namespace, this.opts.name, { timeoutMs });
      if (lease?.spec?.holderIdentity === this.opts.identity) {
        const now = Date.now();
        await this.opts.store.replaceLease(
          {
            ...lease,
            spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) as never },
          },
          { timeoutMs: this.callTimeoutMs(now) },
        );
      }
    } catch (err) {
      this.opts.log.warn('could not release the leader Lease; the other replica takes over when it expires', {
        error: errorMessage(err),
      });
    }
    this.setLeader(false);
  }

  private setLeader(value: boolean): void {
    if (!value && this.deadline) clearTimeout(this.deadline);
    if (value === this.leader) return;
    this.leader = value;
    this.opts.log.info(value ? 'became the leader' : 'stopped leading', {
      lease: `${this.opts.namespace}/${this.opts.name}`,
      identity: this.opts.identity,
    });
    this.opts.onChange(value);
  }

  /** One attempt to acquire or renew; public for tests. */
  async tick(): Promise<void> {
    const { store, namespace, name, identity, leaseDurationSeconds } = this.opts;
    const now = Date.now();
    try {
      const lease = await store.getLease(namespace, name, { timeoutMs: this.callTimeoutMs(now) });
      const rv = lease?.metadata?.resourceVersion ?? '';
      if (lease && this.observed?.resourceVersion !== rv) this.observed = { resourceVersion: rv, at: now };
      const action = decideLease(
        lease && {
          holder: lease.spec?.holderIdentity ?? undefined,
          durationSeconds: lease.spec?.leaseDurationSeconds ?? undefined,
          resourceVersion: rv,
        },
        identity,
        this.observed,
        now,
        leaseDurationSeconds,
      );
      if (action === 'follow') {
        this.setLeader(false);
        return;
      }
      const spec = {
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: microTime(now) as never,
        acquireTime: (action === 'renew' ? lease?.spec?.acquireTime : microTime(now)) as never,
        leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (action === 'acquire' ? 1 : 0),
      };
      const timeout = { timeoutMs: this.callTimeoutMs(Date.now()) };
      const written =
        action === 'create'
          ? await store.createLease(
              { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec },
              timeout,
            )
          : await store.replaceLease({ ...lease!, spec: { ...lease!.spec, ...spec } }, timeout);
      // The renewal counts from when the tick began (conservative: the server wrote it later than that).
      this.observed = { resourceVersion: written.metadata?.resourceVersion ?? '', at: now };
      this.lastRenew = now;
      this.armDeadline();
      this.setLeader(true);
    } catch (err) {
      this.opts.onError?.(err);
      if (isConflict(err)) this.opts.log.debug('lost a Lease race; another replica wrote first', {});
      else this.opts.log.warn('Lease update failed', { error: errorMessage(err) });
      // A leader that cannot renew within the deadline must stop acting before the Lease can pass to another.
      if (!this.stepDownPastDeadline() && this.leader && isConflict(err)) this.setLeader(false);
    }
  }

  /** Gives up leadership renewDeadlineMs after the last renewal unless a renewal comes first (a call may hang). */
  private armDeadline(): void {
    if (this.deadline) clearTimeout(this.deadline);
    const check = () => {
      // A timer may fire a hair early: look again at the exact deadline rather than let it slip.
      if (!this.stepDownPastDeadline() && this.leader)
        this.deadline = setTimeout(check, Math.max(1, this.lastRenew + this.opts.renewDeadlineMs - Date.now()));
      this.deadline?.unref();
    };
    this.deadline = setTimeout(check, this.opts.renewDeadlineMs);
    this.deadline.unref();
  }

  /** True when a leader's last renewal is renewDeadlineMs old: it stops acting (the Lease may pass on soon). */
  private stepDownPastDeadline(): boolean {
    if (!this.leader || Date.now() - this.lastRenew < this.opts.renewDeadlineMs) return false;
    this.opts.log.warn('could not renew the leader Lease within the renew deadline; stopped acting', {
      lease: `${this.opts.namespace}/${this.opts.name}`,
      renewDeadlineMs: this.opts.renewDeadlineMs,
    });
    this.setLeader(false);
    return true;
  }
}
