// unbound's statistics (`unbound-control stats_noreset`: `name=value` lines, cumulative) → the gateway resolver's
// answered and failed queries. Pure.
//
// Every reply unbound sends is counted under its rcode (extended-statistics); a query it never answered (its
// upstream silent until the client gave up, or dropped when its request list was full) has no rcode: the queries
// neither answered nor still waiting count as failed too.

/** Reply codes that mean the exit's resolver gave an answer (NXDOMAIN is an answer: the name does not exist). */
const ANSWERED = new Set(['NOERROR', 'NXDOMAIN', 'YXDOMAIN', 'nodata']);

export interface UnboundTotals {
  /** Queries received (total.num.queries). */
  queries: number;
  /** Replies that carry an answer. */
  answered: number;
  /** Replies that say it failed (SERVFAIL, REFUSED, FORMERR, NOTIMPL, …). */
  errorReplies: number;
  /** Queries still waiting for their upstream (total.requestlist.current.user). */
  pending: number;
  /** Seconds since unbound started (time.up): tells a restart from a reading taken later. */
  uptimeSeconds: number;
}

/** Parses the statistics text; throws when it is not unbound's (no total.num.queries line). */
export function parseUnboundStats(text: string): UnboundTotals {
  let queries: number | undefined;
  let answered = 0;
  let errorReplies = 0;
  let pending = 0;
  let uptimeSeconds = 0;
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = Number(line.slice(eq + 1).trim());
    if (!Number.isFinite(value)) continue;
    if (key === 'total.num.queries') queries = value;
    else if (key === 'total.requestlist.current.user') pending = value;
    else if (key === 'time.up') uptimeSeconds = value;
    else if (key.startsWith('num.answer.rcode.')) {
      // `nodata` is a subset of NOERROR in unbound's counting: do not add it twice.
      const rcode = key.slice('num.answer.rcode.'.length);
      if (rcode === 'nodata') continue;
      if (ANSWERED.has(rcode)) answered += value;
      else errorReplies += value;
    }
  }
  if (queries === undefined) throw new Error('not unbound statistics: no total.num.queries line');
  return { queries, answered, errorReplies, pending, uptimeSeconds };
}

/** Answered and failed so far: error replies plus queries that got no reply and wait no longer. */
export function dnsOutcomes(t: UnboundTotals): { answered: number; failed: number; uptimeSeconds: number } {
  const unanswered = Math.max(0, t.queries - t.answered - t.errorReplies - t.pending);
  return { answered: t.answered, failed: t.errorReplies + unanswered, uptimeSeconds: t.uptimeSeconds };
}
