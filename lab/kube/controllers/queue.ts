// A keyed work queue like client-go's: a key queued several times is processed once; failures retry with backoff.
export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly failures = new Map<string, number>();
  private scheduled = false;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly name: string,
    private readonly handler: (key: string) => void,
    private readonly log: (entry: Record<string, unknown>) => void,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      if (this.stopped) return;
      try {
        this.handler(key);
        this.failures.delete(key);
      } catch (err) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        const delay = Math.min(5 * 2 ** n, 5_000);
        this.log({
          level: 'warn',
          msg: 'controller retry',
          controller: this.name,
          key,
          attempt: n,
          delayMs: delay,
          error: (err as Error).message,
        });
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.add(key);
        }, delay);
        this.timers.add(t);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
  }
}
