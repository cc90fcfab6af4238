// Failover bookkeeping kept on the TorChain itself (annotation torchain.dev/failover), written in the same patch as
// spec.switchServer. Keeping it on the object, not in memory, makes cooldown, quarantine and the switch count survive
// an operator restart or a change of leader, and the resourceVersion precondition makes the write atomic.
import { ANNOTATION_FAILOVER } from './naming.js';
import type { TorChain } from '../api/torchain.js';

export interface TriggerAlert {
  fingerprint?: string;
  startsAt: string;
  alertname?: string;
}

export interface FailoverState {
  /** Switches made by the operator (status.switches). */
  switches: number;
  /** ISO time of the last switch (status.lastSwitchTime; the cooldown runs from it). */
  lastSwitchTime?: string;
  /** The alert that caused the last switch (idempotence; failover duration runs from its startsAt). */
  lastAlert?: TriggerAlert;
  /** The server the hop left at the last switch. */
  lastFrom?: string;
  /** Server → ISO end of its quarantine. */
  quarantine: Record<string, string>;
}

export const EMPTY_FAILOVER_STATE: FailoverState = { switches: 0, quarantine: {} };

function isIsoTime(v: unknown): v is string {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v));
}

/** Reads the annotation; anything malformed reads as "no state" field by field, never as an exception. */
export function parseFailoverState(annotation: string | undefined): FailoverState {
  if (!annotation) return { ...EMPTY_FAILOVER_STATE, quarantine: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(annotation);
  } catch {
    return { ...EMPTY_FAILOVER_STATE, quarantine: {} };
  }
  if (raw === null || typeof raw !== 'object') return { ...EMPTY_FAILOVER_STATE, quarantine: {} };
  const r = raw as Record<string, unknown>;
  const state: FailoverState = {
    switches: Number.isInteger(r.switches) && (r.switches as number) >= 0 ? (r.switches as number) : 0,
    quarantine: {},
  };
  if (isIsoTime(r.lastSwitchTime)) state.lastSwitchTime = r.lastSwitchTime;
  if (typeof r.lastFrom === 'string') state.lastFrom = r.lastFrom;
  const a = r.lastAlert as Record<string, unknown> | undefined;
  if (a && typeof a === 'object' && isIsoTime(a.startsAt)) {
    state.lastAlert = { startsAt: a.startsAt };
    if (typeof a.fingerprint === 'string') state.lastAlert.fingerprint = a.fingerprint;
    if (typeof a.alertname === 'string') state.lastAlert.alertname = a.alertname;
  }
  if (r.quarantine && typeof r.quarantine === 'object') {
    for (const [server, until] of Object.entries(r.quarantine as Record<string, unknown>))
      if (isIsoTime(until)) state.quarantine[server] = until;
  }
  return state;
}

export function failoverStateOf(tc: TorChain): FailoverState {
  return parseFailoverState(tc.metadata.annotations?.[ANNOTATION_FAILOVER]);
}

/** Quarantine as epoch milliseconds for server-choice.ts. */
export function quarantineMillis(state: FailoverState): Record<string, number> {
  return Object.fromEntries(Object.entries(state.quarantine).map(([s, until]) => [s, Date.parse(until)]));
}

/** The state after one switch: count, time, trigger, the left server quarantined, expired quarantines dropped. */
export function afterSwitch(
  state: FailoverState,
  opts: { now: number; quarantineMs: number; from?: string; alert?: TriggerAlert },
): FailoverState {
  const quarantine: Record<string, string> = {};
  for (const [server, until] of Object.entries(state.quarantine))
    if (Date.parse(until) > opts.now) quarantine[server] = until;
  if (opts.from && opts.quarantineMs > 0) quarantine[opts.from] = new Date(opts.now + opts.quarantineMs).toISOString();
  const next: FailoverState = {
    switches: state.switches + 1,
    lastSwitchTime: new Date(opts.now).toISOString(),
    quarantine,
  };
  if (opts.from) next.lastFrom = opts.from;
  if (opts.alert) next.lastAlert = opts.alert;
  return next;
}

export function serializeFailoverState(state: FailoverState): string {
  return JSON.stringify(state);
}
