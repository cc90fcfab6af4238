// Event loop lag, as a histogram of 1 ms buckets (pure). The exporter samples it with a timer of its own rather than
// perf_hooks' monitorEventLoopDelay: node:perf_hooks loads about ten internal modules, 0.4 MB of RSS on node 24
// (docs/performance.md), for one gauge.

/** Lags up to this many milliseconds are counted exactly; longer ones share the last bucket and keep their maximum. */
const MAX_MS = 1000;

export class LagHistogram {
  private readonly buckets = new Uint32Array(MAX_MS + 1);
  private over = 0;
  count = 0;

  /** One sample, in milliseconds (negative values, from a clock step, count as 0). */
  record(ms: number): void {
    const lag = Math.max(0, ms);
    this.buckets[Math.min(MAX_MS, Math.floor(lag))]!++;
    if (lag > this.over) this.over = lag;
    this.count++;
  }

  /** The p-th percentile (0 < p <= 100) in seconds, to the millisecond; 0 without samples. */
  percentileSeconds(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let ms = 0; ms < MAX_MS; ms++) {
      seen += this.buckets[ms]!;
      if (seen >= rank) return ms / 1000;
    }
    return Math.max(MAX_MS, this.over) / 1000;
  }

  reset(): void {
    this.buckets.fill(0);
    this.over = 0;
    this.count = 0;
  }
}

/**
 * Samples the lag every `intervalMs`: how much later than due the timer fired. Returns the stop function. The timer
 * is unref'd: it never keeps the process alive.
 */
export function sampleLoopLag(histogram: LagHistogram, intervalMs = 20, now = () => Date.now()): () => void {
  let due = now() + intervalMs;
  const timer = setInterval(() => {
    const t = now();
    histogram.record(t - due);
    due = t + intervalMs;
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
