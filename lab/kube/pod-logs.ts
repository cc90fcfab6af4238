// Container logs behind GET /api/v1/namespaces/{ns}/pods/{name}/log. In a cluster the kubelet keeps them; here the
// lab kubelet appends each line it reads from a container process (appendPodLog), and `previous` keeps the last
// terminated instance after a restart. Follow streams end when the container instance ends or the pod goes away.
// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#get-read-log-of-the-specified-pod

export interface LogLine {
  /** RFC 3339 with nanoseconds, as `timestamps=true` prints it. */
  time: string;
  /** Milliseconds since the epoch plus the sub-millisecond part, for sinceTime/sinceSeconds comparisons. */
  ms: number;
  text: string;
}

interface Stream {
  podUid: string;
  lines: LogLine[];
  previous?: LogLine[];
  followers: Set<Follower>;
}

export interface Follower {
  line(l: LogLine): void;
  end(): void;
}

/** Go's time.RFC3339Nano (trailing zeros of the fraction trimmed). */
export function rfc3339Nano(ms: number, subMsNanos = 0): string {
  const base = new Date(Math.floor(ms)).toISOString(); // 2026-01-01T00:00:00.123Z
  const frac = (base.slice(20, 23) + String(subMsNanos).padStart(6, '0')).replace(/0+$/, '');
  return `${base.slice(0, 19)}${frac ? '.' + frac : ''}Z`;
}

/** Parses RFC 3339 (with any fraction) to milliseconds, keeping sub-millisecond order as a fraction. */
export function parseRfc3339(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return NaN;
  const base = Date.parse(`${m[1]}${m[3]}`);
  const frac = m[2] ? Number(`0${m[2]}`) * 1000 : 0;
  return base + frac;
}

export class PodLogs {
  private readonly streams = new Map<string, Stream>();

  constructor(private readonly maxLines = 20_000) {}

  private key(ns: string, pod: string, container: string): string {
    return `${ns}/${pod}/${container}`;
  }

  private stream(ns: string, pod: string, container: string, podUid: string): Stream {
    const k = this.key(ns, pod, container);
    let s = this.streams.get(k);
    if (!s || s.podUid !== podUid) {
      if (s) for (const f of s.followers) f.end();
      s = { podUid, lines: [], followers: new Set() };
      this.streams.set(k, s);
    }
    return s;
  }

  append(ns: string, pod: string, podUid: string, container: string, text: string, at?: Date): LogLine {
    const now = at ? at.getTime() : Date.now();
    const sub = at ? 0 : Number(process.hrtime.bigint() % 1_000_000n);
    const line: LogLine = { time: rfc3339Nano(now, sub), ms: now + sub / 1e6, text };
    const s = this.stream(ns, pod, container, podUid);
    s.lines.push(line);
    if (s.lines.length > this.maxLines) s.lines.splice(0, s.lines.length - this.maxLines);
    for (const f of s.followers) f.line(line);
    return line;
  }

  /** A new container instance starts: current lines become `previous`, followers of the old instance end. */
  restart(ns: string, pod: string, podUid: string, container: string): void {
    const s = this.stream(ns, pod, container, podUid);
    s.previous = s.lines;
    s.lines = [];
    for (const f of s.followers) f.end();
    s.followers.clear();
  }

  /** The container instance terminated: follow streams end (the lines stay readable). */
  terminate(ns: string, pod: string, container: string): void {
    const s = this.streams.get(this.key(ns, pod, container));
    if (!s) return;
    for (const f of s.followers) f.end();
    s.followers.clear();
  }

  /** The pod is gone: its logs go with it. */
  dropPod(ns: string, pod: string, podUid: string): void {
    for (const [k, s] of this.streams) {
      if (k.startsWith(`${ns}/${pod}/`) && s.podUid === podUid) {
        for (const f of s.followers) f.end();
        this.streams.delete(k);
      }
    }
  }

  read(ns: string, pod: string, podUid: string, container: string, previous: boolean): LogLine[] | undefined {
    const s = this.streams.get(this.key(ns, pod, container));
    if (!s || s.podUid !== podUid) return undefined;
    return previous ? s.previous : s.lines;
  }

  follow(ns: string, pod: string, podUid: string, container: string, f: Follower): () => void {
    const s = this.stream(ns, pod, container, podUid);
    s.followers.add(f);
    return () => s.followers.delete(f);
  }
}
