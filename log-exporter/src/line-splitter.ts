// Bytes → lines, bounded. Lines end at "\n" (a trailing "\r" is dropped, for CRLF logs); bytes that are not UTF-8 are
// decoded as U+FFFD; a line longer than maxLineBytes is skipped up to its newline and reported as oversized, so one
// runaway line (a binary dump, a 10 MB blob) costs at most maxLineBytes of memory.

export interface LineSink {
  /** Called once per pushed chunk, before its lines (e.g. to take the read time once, not per line). */
  chunk?(): void;
  line(text: string): void;
  /** A line longer than the limit was dropped (its bytes were never kept). */
  oversized(): void;
}

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly sink: LineSink,
  ) {}

  /** Bytes held for an unfinished line (never more than maxLineBytes). */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): void {
    this.sink.chunk?.();
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) break;
      this.finishLine(chunk, start, nl);
      start = nl + 1;
    }
    if (start >= chunk.length) return;
    if (this.discarding) return;
    const rest = chunk.length - start;
    if (this.pendingBytes + rest > this.maxLineBytes) {
      this.pending = [];
      this.pendingBytes = 0;
      this.discarding = true;
      return;
    }
    // Copy: the caller may reuse its buffer.
    this.pending.push(Buffer.from(chunk.subarray(start)));
    this.pendingBytes += rest;
  }

  /** End of input: a last line without a newline still counts. */
  end(): void {
    if (this.discarding) {
      this.discarding = false;
      this.sink.oversized();
    } else if (this.pendingBytes > 0) {
      const buf = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.emit(buf, 0, buf.length);
    }
  }

  private finishLine(chunk: Buffer, start: number, end: number): void {
    if (this.discarding) {
      this.discarding = false;
      this.sink.oversized();
      return;
    }
    if (this.pendingBytes === 0) {
      if (end - start > this.maxLineBytes) this.sink.oversized();
      else this.emit(chunk, start, end);
      return;
    }
    const total = this.pendingBytes + (end - start);
    this.pending.push(chunk.subarray(start, end));
    const buf = Buffer.concat(this.pending, total);
    this.pending = [];
    this.pendingBytes = 0;
    if (total > this.maxLineBytes) this.sink.oversized();
    else this.emit(buf, 0, buf.length);
  }

  private emit(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === 13) end--;
    this.sink.line(buf.toString('utf8', start, end));
  }
}
