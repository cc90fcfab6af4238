// A per-key work queue in the manner of client-go's workqueue: a key is queued at most once, never processed by two
// workers at once (a change arriving mid-reconcile marks it dirty and it runs again after), failures are retried with
// per-key backoff, and one key's failure never holds up the others.
import { KeyedBackoff, type BackoffOptions } from './backoff.js';

export interface ProcessResult {
  /** Run the key again after this long even if nothing changes (a quarantine ends, a rollout is awaited). */
  requeueAfterMs?: number;
}

export interface WorkQueueOptions {
  concurrency: number;
  process: (key: string) => Promise<ProcessResult | void>;
  backoff: BackoffOptions;
  /** Told about every failure (the queue retries it anyway). */
  onError?: (key: string, err: unknown, retryInMs: number) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly backoff: KeyedBackoff;
  private active = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: WorkQueueOptions) {
    this.backoff = new KeyedBackoff(opts.backoff);
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds the key after `ms`; an earlier pending delay for the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Keys waiting or running now (not the delayed ones). */
  get depth(): number {
    return this.queue.length + this.active;
  }

  /** Resolves when nothing is queued or running (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking work and waits for the running keys to finish. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    await this.idle();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.opts.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.depth === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string): Promise<void> {
    try {
      const result = await this.opts.process(key);
      this.backoff.forget(key);
      if (result && result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      const delay = this.backoff.next(key);
      try {
        this.opts.onError?.(key, err, delay);
      } catch {
        // A failing error hook must not stop the queue.
      }
      this.addAfter(key, delay);
    } finally {
      this.processing.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
