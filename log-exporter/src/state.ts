// The exporter's state as plain data, and the decisions that change it. No I/O: sources, the probe and the handshake
// reader feed events in; metrics.ts reads it at scrape time.
//
// Tunnel state follows the latest evidence: a log line that says up or down, a probe result (down only after
// `probeFailuresForDown` failures in a row, so one lost packet does not flap it), or a handshake reading. A handshake
// reading is evidence of the moment the handshake happened, not of the moment it was read: it can say up only for a
// handshake newer than the latest down evidence (`lastDownSeconds`).
import type { Protocol } from '../../common/contracts/protocols.js';
import type { Pattern } from './protocols/pattern.js';
import { REASONS, type Reason } from '../../common/contracts/metrics.js';
import { lineTimestampSeconds } from './timestamps.js';

/** WireGuard's REJECT_AFTER_TIME: keys older than this cannot carry data, so an older handshake means no tunnel. */
export const WIREGUARD_REJECT_AFTER_SECONDS = 180;

export interface ExporterState {
  type: Protocol;
  errors: Record<Reason, number>;
  restarts: Record<Reason, number>;
  linesMatched: number;
  linesUnmatched: number;
  tunnelUp: boolean;
  /** Unix seconds of the latest completed handshake (WireGuard: from the interface or from the log). */
  lastHandshakeSeconds: number | undefined;
  /** The last line, kept so its own timestamp is parsed once per scrape instead of once per line. */
  lastLine: string | undefined;
  /** Source timestamp of the last line (Kubernetes log API), else the time it was read. */
  lastLineSeconds: number | undefined;
  /** True when lastLineSeconds came from the source, false when it is the read time (then the line's prefix wins). */
  lastLineSourceTimed: boolean;
  consecutiveProbeFailures: number;
  probeFailuresForDown: number;
  /** Unix seconds of the latest evidence that took or kept the tunnel down: a line, failed probes, no interface. */
  lastDownSeconds: number | undefined;
  /** The gateway's resolver (hops that serve DNS); untouched elsewhere. */
  dns: DnsState;
}

export interface DnsState {
  /** 1 while the resolver answers the probe through the chain (down after probeFailuresForDown failures). */
  up: boolean;
  consecutiveProbeFailures: number;
  /** Queries answered and failed, counted by this exporter from the resolver's own totals. */
  answered: number;
  failed: number;
  /** The resolver's totals at the last reading (undefined: none yet). */
  last: { answered: number; failed: number; uptimeSeconds: number } | undefined;
}

function zeroes(): Record<Reason, number> {
  return Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<Reason, number>;
}

export function initialState(type: Protocol, probeFailuresForDown = 2): ExporterState {
  return {
    type,
    errors: zeroes(),
    restarts: zeroes(),
    linesMatched: 0,
    linesUnmatched: 0,
    tunnelUp: false,
    lastHandshakeSeconds: undefined,
    lastLine: undefined,
    lastLineSeconds: undefined,
    lastLineSourceTimed: false,
    consecutiveProbeFailures: 0,
    probeFailuresForDown,
    lastDownSeconds: undefined,
    dns: { up: false, consecutiveProbeFailures: 0, answered: 0, failed: 0, last: undefined },
  };
}

/**
 * One line read. `pattern` is the classifier's verdict; `readSeconds` the time it was read; `sourceSeconds` the
 * timestamp the source attached (Kubernetes), if any. A line too long to keep is passed as `undefined` text.
 * A `history` line (written long before this exporter started) sets the state but counts nothing: a restarted
 * exporter re-reads the container's whole log, and counting old failures again would look to Prometheus like new
 * ones (a counter reset followed by N) and could trigger a switch for a failure long past.
 */
export function applyLine(
  state: ExporterState,
  line: string | undefined,
  pattern: Pattern | undefined,
  readSeconds: number,
  sourceSeconds?: number,
  history = false,
): void {
  state.lastLine = line;
  state.lastLineSeconds = sourceSeconds ?? readSeconds;
  state.lastLineSourceTimed = sourceSeconds !== undefined;
  if (!pattern) {
    if (!history) state.linesUnmatched++;
    return;
  }
  if (!history) {
    state.linesMatched++;
    if (pattern.error) state.errors[pattern.error]++;
    if (pattern.restart) state.restarts[pattern.restart]++;
  }
  if (pattern.tunnel === 'up') state.tunnelUp = true;
  else if (pattern.tunnel === 'down') down(state, sourceSeconds ?? readSeconds);
  if (pattern.handshake && line !== undefined) {
    const at = sourceSeconds ?? lineTimestampSeconds(line) ?? readSeconds;
    if (state.lastHandshakeSeconds === undefined || at > state.lastHandshakeSeconds) state.lastHandshakeSeconds = at;
  }
}

/** The last line's timestamp: the source's, else the client's own prefix, else the read time. */
export function lastLineTimestamp(state: ExporterState): number | undefined {
  if (state.lastLineSeconds === undefined) return undefined;
  if (state.lastLineSourceTimed || state.lastLine === undefined) return state.lastLineSeconds;
  return lineTimestampSeconds(state.lastLine) ?? state.lastLineSeconds;
}

function down(state: ExporterState, atSeconds: number): void {
  state.tunnelUp = false;
  if (state.lastDownSeconds === undefined || atSeconds > state.lastDownSeconds) state.lastDownSeconds = atSeconds;
}

/**
 * One active probe result, at `nowSeconds`. A failure counts probe_failed; enough failures in a row take the tunnel
 * down.
 */
export function applyProbe(state: ExporterState, ok: boolean, nowSeconds: number): void {
  if (ok) {
    state.consecutiveProbeFailures = 0;
    state.tunnelUp = true;
    return;
  }
  state.errors.probe_failed++;
  state.consecutiveProbeFailures++;
  if (state.consecutiveProbeFailures >= state.probeFailuresForDown) down(state, nowSeconds);
}

/**
 * One reading of the WireGuard interface's latest handshake (unix seconds, 0 = never). A newer handshake proves the
 * server answered then: up, unless the tunnel was seen down after it (the reading comes up to one interval late, and
 * a handshake done just before the server died must not undo the failed probes that followed it). A handshake older
 * than REJECT_AFTER_TIME (or none) means no data can flow (down).
 */
export function applyHandshakeReading(state: ExporterState, handshakeSeconds: number, nowSeconds: number): void {
  if (
    handshakeSeconds > 0 &&
    (state.lastHandshakeSeconds === undefined || handshakeSeconds > state.lastHandshakeSeconds)
  ) {
    const fresh = state.lastHandshakeSeconds !== undefined;
    state.lastHandshakeSeconds = handshakeSeconds;
    // The first reading after start is not "new" evidence of life by itself; only its age decides.
    const afterDown = state.lastDownSeconds === undefined || handshakeSeconds > state.lastDownSeconds;
    if (fresh && afterDown && nowSeconds - handshakeSeconds < WIREGUARD_REJECT_AFTER_SECONDS) state.tunnelUp = true;
  }
  // Down, but not down evidence against later readings: a handshake newer than this one is news whenever it is read.
  if (handshakeSeconds === 0 || nowSeconds - handshakeSeconds >= WIREGUARD_REJECT_AFTER_SECONDS) state.tunnelUp = false;
}

/** The tunnel interface does not exist (the client is not running): down, but no probe was sent, so nothing counts. */
export function applyTunnelMissing(state: ExporterState, nowSeconds: number): void {
  down(state, nowSeconds);
}

/**
 * One reading of the resolver's cumulative totals. The first reading is the baseline (like history lines: what the
 * resolver counted before this exporter started is not new). A resolver that has run for less time than at the
 * last reading was restarted (it is on every upstream change): everything it counted since is new. Otherwise only
 * growth counts (a query waiting for its upstream may move from "unanswered" back to pending between readings).
 */
export function applyDnsTotals(
  state: ExporterState,
  totals: { answered: number; failed: number; uptimeSeconds: number },
): void {
  const d = state.dns;
  if (!d.last || totals.uptimeSeconds < d.last.uptimeSeconds) {
    if (d.last) {
      d.answered += totals.answered;
      d.failed += totals.failed;
    }
    d.last = { ...totals };
    return;
  }
  const answered = Math.max(d.last.answered, totals.answered);
  const failed = Math.max(d.last.failed, totals.failed);
  d.answered += answered - d.last.answered;
  d.failed += failed - d.last.failed;
  d.last = { answered, failed, uptimeSeconds: totals.uptimeSeconds };
}

/** One probe query through the resolver: up at once when answered, down after probeFailuresForDown failures. */
export function applyDnsProbe(state: ExporterState, answered: boolean): void {
  const d = state.dns;
  if (answered) {
    d.consecutiveProbeFailures = 0;
    d.up = true;
    return;
  }
  d.consecutiveProbeFailures++;
  if (d.consecutiveProbeFailures >= state.probeFailuresForDown) d.up = false;
}
