// Exponential backoff with jitter: retries of many objects (or two replicas) spread out instead of hitting the API
// server or Vault in lockstep.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Uniform random in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (0-based): the exponential step capped at maxMs, of which the upper half is
 * random ("equal jitter"), so a delay is never shorter than half its step.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const random = opts.random ?? Math.random;
  const step = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Per-key failure counts with their backoff delays; success forgets the key. */
export class KeyedBackoff {
  private readonly failures = new Map<string, number>();
  constructor(private readonly opts: BackoffOptions) {}

  /** Records one more failure of the key and returns how long to wait before retrying it. */
  next(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return backoffDelay(n, this.opts);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  attempts(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}
