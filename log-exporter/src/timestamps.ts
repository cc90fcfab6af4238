// Timestamps VPN clients print at the start of a line. OpenVPN's default prefix, wireguard-go's and openconnect's
// (--timestamp) are in the client's local time zone, which in a pod is the node's (normally UTC); the exporter reads them in its own zone,
// which is the same pod's.

// OpenVPN default: "2026-11-26 10:55:14 message".
const OPENVPN_DEFAULT = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) /;
// OpenVPN --machine-readable-output: "1764154514.123456 1 message" (unix seconds.microseconds, flags in hex).
const OPENVPN_MACHINE = /^(\d{9,11})\.(\d{6}) [0-9a-f]+ /;
// wireguard-go: "DEBUG: (tcxwg0) 2026/11/26 10:55:14 message" (the interface name only in newer versions).
const WIREGUARD_GO = /^(?:DEBUG|INFO|ERROR): (?:\([^)]*\) )?(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}) /;
// openconnect --timestamp: "[2026-11-26 10:55:14] message".
const OPENCONNECT = /^\[(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\] /;
// Kubernetes log API with timestamps=true: "2026-11-26T10:55:14.123456789Z " (RFC3339Nano; offsets are allowed).
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}) /;

function localSeconds(m: RegExpExecArray): number {
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi, s).getTime() / 1000;
}

/** Unix seconds of the client's own timestamp at the start of `line`, or undefined when it has none. */
export function lineTimestampSeconds(line: string): number | undefined {
  let m = OPENVPN_DEFAULT.exec(line);
  if (m) return localSeconds(m);
  m = WIREGUARD_GO.exec(line);
  if (m) return localSeconds(m);
  m = OPENCONNECT.exec(line);
  if (m) return localSeconds(m);
  m = OPENVPN_MACHINE.exec(line);
  if (m) return Number(m[1]) + Number(m[2]) / 1e6;
  return undefined;
}

export interface KubeTimestamped {
  /** RFC3339 text as the API sent it (kept for sinceTime). */
  text: string;
  /** Nanoseconds since the epoch, exact (for ordering and de-duplication). */
  nanos: bigint;
  line: string;
}

/** Splits "RFC3339Nano line" as the Kubernetes log API sends it with timestamps=true; undefined if malformed. */
export function splitKubeTimestamp(raw: string): KubeTimestamped | undefined {
  const m = RFC3339.exec(raw);
  if (!m) return undefined;
  const base = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(base)) return undefined;
  const fraction = (m[2] ?? '.').slice(1).padEnd(9, '0');
  return {
    text: m[0].slice(0, -1),
    nanos: BigInt(base) * 1_000_000n + BigInt(fraction),
    line: raw.slice(m[0].length),
  };
}
