// Resume point of the Kubernetes log stream. The log API's sinceTime has one-second precision and returns every line
// of that second again, so the cursor remembers the exact (nanosecond) timestamp of the last line it passed and how
// many lines carried exactly that timestamp, and skips the replayed ones. Pure; unit-tested.
export class ResumeCursor {
  private lastNanos: bigint | undefined;
  private countAtLast = 0;
  private replayNanos: bigint | undefined;
  private replaySkip = 0;

  /** sinceTime for the next request: the last line's second (RFC3339), or undefined before any line. */
  sinceTime(): string | undefined {
    if (this.lastNanos === undefined) return undefined;
    const seconds = this.lastNanos / 1_000_000_000n;
    return new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');
  }

  /** A new stream starts: lines up to the cursor will come again and must be skipped. */
  reconnect(): void {
    this.replayNanos = this.lastNanos;
    this.replaySkip = this.countAtLast;
  }

  /** True when the line with this timestamp is new (and moves the cursor); false for a replayed line. */
  accept(nanos: bigint): boolean {
    if (this.replayNanos !== undefined) {
      if (nanos < this.replayNanos) return false;
      if (nanos === this.replayNanos && this.replaySkip > 0) {
        this.replaySkip--;
        return false;
      }
      this.replayNanos = undefined;
    }
    if (this.lastNanos !== undefined && nanos < this.lastNanos) {
      // Out of order inside one stream: the API does not do this; counting it is better than losing it.
      return true;
    }
    if (nanos === this.lastNanos) this.countAtLast++;
    else {
      this.lastNanos = nanos;
      this.countAtLast = 1;
    }
    return true;
  }
}
