// A pattern entry: one kind of VPN client log line and its metric effects. Each protocol module keeps its own table
// (protocols/<type>/patterns.ts); the exporter (classify.ts), the Vector config (vector/render.ts) and the mtail program
// of the benchmark are all rendered from those tables, so they cannot drift.
//
// Rules for entries:
// - A pattern is tested against the whole line (any timestamp prefix included), unanchored; the first entry of the
//   line's protocol that matches wins, so specific entries come before general ones.
// - Patterns stay inside the common subset of JavaScript and Rust (VRL) / RE2 regex syntax: literals, `\` escapes of
//   punctuation only (no `\d \s \w`: Rust's are Unicode-aware), bracket classes, `* + ? {n,m}`, `(?:…)` groups,
//   `|`, `^ $`. No lookaround, no backreferences, no named or capturing groups, no inline flags.
//   vector/regex-subset.ts defines it; test/log-exporter/patterns.test.ts enforces it.
// - `note` says which failure the line is, for the SRE reading an alert at 3 am.
// - Counting is "one per failure": where a client prints several lines for one failure, one of them counts and the
//   others are matched without effect (so they are known, not "unmatched").
import type { Reason } from '../../../common/contracts/metrics.js';

export type TunnelEffect = 'up' | 'down';

export interface Pattern {
  /** Stable identifier (snake_case, unique over all protocols); used in the rendered Vector config and in tests. */
  id: string;
  /** Regex source in the JS/Rust common subset (see above). */
  regex: string;
  /** Counts torchain_vpn_connection_errors_total{reason}. */
  error?: Reason;
  /** Counts torchain_vpn_restarts_total{reason}. */
  restart?: Reason;
  /** Sets the tunnel state. */
  tunnel?: TunnelEffect;
  /** The line is a completed handshake (sets the last-handshake gauge from the line's timestamp). */
  handshake?: boolean;
  note: string;
}
