// Live traffic through the chain: a steady ping from the LAN client to the internet host (real ICMP through every
// tunnel). It tells whether traffic flows end to end right now, when it stopped and when it came back, which is how
// scenarios and the failover benchmark measure recovery.
import type { Managed, Supervisor } from './runtime/supervisor.js';

export interface TrafficSample {
  at: number;
  ok: boolean;
  rttMs?: number;
}

export interface TrafficState {
  flowing: boolean;
  /** Last reply (ms since epoch), 0 before the first. */
  lastReplyAt: number;
  lastRttMs?: number;
  sent: number;
  received: number;
  /** Outages seen so far: start (first lost probe) and end (first reply after it). */
  outages: Array<{ from: number; to?: number }>;
}

/** Parses one line of `ping -O -D`; undefined for lines that say nothing about a probe. */
export function parsePingLine(line: string): TrafficSample | undefined {
  const ts = /^\[(\d+\.\d+)\]/.exec(line);
  const at = ts ? Math.round(Number(ts[1]) * 1000) : Date.now();
  const reply = /bytes from .*icmp_seq=\d+.*time=([\d.]+) ms/.exec(line);
  if (reply) return { at, ok: true, rttMs: Number(reply[1]) };
  if (/no answer yet for icmp_seq=|Destination .* Unreachable|Packet filtered|Network is unreachable/.test(line))
    return { at, ok: false };
  return undefined;
}

export class TrafficMonitor {
  readonly state: TrafficState = { flowing: false, lastReplyAt: 0, sent: 0, received: 0, outages: [] };
  private proc?: Managed;
  private stopping = false;
  private readonly listeners = new Set<(s: TrafficState) => void>();

  constructor(
    private readonly supervisor: Supervisor,
    private readonly opts: { netns: string; target: string; intervalSeconds?: number; name?: string },
  ) {}

  start(): void {
    const interval = String(this.opts.intervalSeconds ?? 0.2);
    this.proc = this.supervisor.start(this.opts.name ?? 'traffic', 'ping', {
      netns: this.opts.netns,
      // -O: report a missing reply before the next probe; -D: timestamps; -W 1: wait at most 1 s per reply.
      args: ['-n', '-O', '-D', '-i', interval, '-W', '1', this.opts.target],
      onLine: (line) => {
        const s = parsePingLine(line);
        if (s) this.record(s);
      },
    });
    // A ping that ended by itself (killed from outside, its namespace torn down and rebuilt) must not freeze the
    // state at its last answer: count the gap as a lost probe and start it again.
    const proc = this.proc;
    void proc.exited.then(({ code, signal }) => {
      if (this.stopping || this.proc !== proc) return;
      process.stderr.write(
        `[lab] ${this.opts.name ?? 'traffic'}: ping in ${this.opts.netns} exited (code ${String(code)}, signal ${String(signal)}); restarting it\n`,
      );
      this.record({ at: Date.now(), ok: false });
      setTimeout(() => {
        if (!this.stopping) this.start();
      }, 1000).unref();
    });
  }

  /** Applies one probe result (exposed for tests of the bookkeeping). */
  record(s: TrafficSample): void {
    const st = this.state;
    st.sent += 1;
    if (s.ok) {
      st.received += 1;
      st.lastReplyAt = s.at;
      st.lastRttMs = s.rttMs;
      const open = st.outages.at(-1);
      if (open && open.to === undefined) open.to = s.at;
      st.flowing = true;
    } else {
      // An outage starts at the first lost probe after traffic flowed; before the first reply nothing is "out".
      if (st.flowing) st.outages.push({ from: s.at });
      st.flowing = false;
    }
    for (const l of this.listeners) l(st);
  }

  onChange(listener: (s: TrafficState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when a reply arrives at or after `since` (ms since epoch). */
  waitFlowing(since: number, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.state.flowing && this.state.lastReplyAt >= since) return resolve(this.state.lastReplyAt);
      const timer = setTimeout(() => {
        off();
        const last = this.state.lastReplyAt
          ? `${((Date.now() - this.state.lastReplyAt) / 1000).toFixed(1)} s ago`
          : 'never';
        reject(
          new Error(
            `${this.opts.name ?? 'traffic'}: no reply from ${this.opts.target} (ping in ${this.opts.netns}) within ${timeoutMs} ms; last reply ${last}, ${this.state.received}/${this.state.sent} answered`,
          ),
        );
      }, timeoutMs);
      const off = this.onChange((st) => {
        if (st.flowing && st.lastReplyAt >= since) {
          clearTimeout(timer);
          off();
          resolve(st.lastReplyAt);
        }
      });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.proc?.stop(1000);
  }
}
