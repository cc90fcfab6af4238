// The failover decision (design: failover rules 1-3) as a plain function over plain data: which hop of each chain to
// switch, and why nothing happens for the others. The webhook and the Prometheus safety net both feed it.
import type { FailoverState, TriggerAlert } from './failover-state.js';
import { afterSwitch, serializeFailoverState } from './failover-state.js';
import { ANNOTATION_FAILOVER, sameServer } from './naming.js';

/** A firing alert that asks for a switch, reduced to what the decision needs. */
export interface SwitchAlert {
  namespace: string;
  torchain: string;
  hop: number;
  fingerprint?: string;
  startsAt: string;
  alertname?: string;
  /** The `server` label: the server the failing pod ran. */
  server?: string;
}

/** What the decision needs to know of one hop (one TorChain object). */
export interface HopView {
  namespace: string;
  name: string;
  chain: string;
  hop: number;
  resourceVersion: string;
  switchServer: number;
  dropped: boolean;
  currentServer?: string;
  failover: FailoverState;
  /** The hop's Ready condition (tunnel carries traffic); undefined when not known yet. */
  ready?: boolean;
  /** When Ready last turned True (its lastTransitionTime), while it is True. */
  readySince?: string;
  /** The PoolExhausted condition is True: another switch cannot help until a quarantine ends. */
  poolExhausted?: boolean;
  /** metadata.creationTimestamp: a new hop gets the cooldown to come up before it can be switched. */
  createdAt?: string;
  /** When the hop began running its current server (the hop Secret's torchain.dev/server-since). */
  serverSince?: string;
}

export type SkipReason =
  | 'cooldown' // the topmost firing hop was switched less than the cooldown ago
  | 'already-switched' // the same alert (fingerprint, startsAt) already caused the last switch, inside the cooldown
  | 'stale-server' // the alert is about a server the hop no longer runs
  | 'stale-alert' // the alert began before the hop's last switch or current server: it says nothing about them
  | 'recovered' // the hop is Ready, and has been since after the alert began: the outage it describes is over
  | 'hop-ready' // the hop is Ready although its alert began later: a hop that carries traffic is never switched
  | 'upstream-switching' // a hop above was switched less than the cooldown ago: hops below wait for it
  | 'upstream-dropped' // a hop above is dropped on purpose: the hops below cannot work anyway
  | 'upstream-down' // a hop above is not Ready: the hops below cannot work until it is (its own alert will come)
  | 'upstream-recovering' // a hop above became Ready less than the cooldown ago: the hops below are reconnecting
  | 'starting' // the hop was created less than the cooldown ago and is still coming up
  | 'pool-exhausted' // every server of the pool is quarantined: reconcile retries when a quarantine ends
  | 'settling' // the topmost firing hop is below hop 1 and fired only just now: alerts of hops above may follow
  | 'no-hop'; // no TorChain exists for any firing hop of this chain

/** Why the alerts of a firing hop were set aside (the next firing hop below it is considered instead). */
export type IgnoreReason = 'stale-server' | 'stale-alert' | 'recovered' | 'hop-ready';

export interface IgnoredHop {
  hop: number;
  reason: IgnoreReason;
}

export interface SwitchDecision {
  action: 'switch';
  namespace: string;
  chain: string;
  hop: number;
  name: string;
  resourceVersion: string;
  fromSwitchServer: number;
  toSwitchServer: number;
  fromServer?: string;
  trigger: TriggerAlert;
  /** Hops of this chain whose alerts were ignored because this one is above them. */
  waiting: number[];
  /** Firing hops above this one whose alerts were set aside, and why. */
  ignored?: IgnoredHop[];
}

export interface SkipDecision {
  action: 'none';
  namespace: string;
  chain: string;
  hop?: number;
  name?: string;
  reason: SkipReason;
  /** Seconds until the cooldown (or the upstream one) ends, when that is the reason. */
  retryInSeconds?: number;
  waiting: number[];
  unknownHops: number[];
  /** Firing hops whose alerts were set aside, and why. */
  ignored?: IgnoredHop[];
}

export type ChainDecision = SwitchDecision | SkipDecision;

export interface DecisionInput {
  alerts: readonly SwitchAlert[];
  /** Every known hop of the chains the alerts name (other hops are ignored). */
  hops: readonly HopView[];
  now: number;
  cooldownMs: number;
  /** Grace of a new hop, and of hops below one that just became Ready (default: cooldownMs). */
  graceMs?: number;
  /**
   * How long a hop below hop 1 must have been firing before it is switched (default 0): when two hops die together,
   * the lower one's alert may fire first, and switching it would be a false switch.
   */
  settleMs?: number;
}

const chainKey = (namespace: string, chain: string): string => `${namespace}/${chain}`;

function cooldownLeftMs(view: HopView, now: number, cooldownMs: number): number {
  if (!view.failover.lastSwitchTime) return 0;
  return Math.max(0, Date.parse(view.failover.lastSwitchTime) + cooldownMs - now);
}

/** Time left until `since` + cooldown; 0 when `since` is unset or long past. */
function sinceLeftMs(since: string | undefined, now: number, cooldownMs: number): number {
  if (!since) return 0;
  const t = Date.parse(since);
  return Number.isNaN(t) ? 0 : Math.max(0, t + cooldownMs - now);
}

/** The earliest-starting alert of a hop is its trigger: the failover duration runs from it. */
function earliest(alerts: readonly SwitchAlert[]): SwitchAlert {
  return alerts.reduce((a, b) => (Date.parse(b.startsAt) < Date.parse(a.startsAt) ? b : a));
}

function sameAlert(a: SwitchAlert, t: TriggerAlert | undefined): boolean {
  return !!t && t.startsAt === a.startsAt && (t.fingerprint ?? '') === (a.fingerprint ?? '');
}

/**
 * Since when an alert can say something about the hop as it runs now: the latest of its creation, its last switch (an
 * alert begun earlier was answered by that switch, even when an operator restart left the status behind) and the
 * time its Secret took the current server.
 */
function serverSinceMs(view: HopView): number | undefined {
  const times = [view.createdAt, view.failover.lastSwitchTime, view.serverSince]
    .map((t) => (t ? Date.parse(t) : NaN))
    .filter((t) => !Number.isNaN(t));
  return times.length ? Math.max(...times) : undefined;
}

/**
 * What the hop's own state says of its alerts: the alerts that may describe its current server, or why none does.
 * An alert naming another server (label form, see naming.sameServer) or begun before the hop took its current server
 * is stale. A hop that is Ready carries traffic now: it is never switched (`recovered` when it turned Ready after the
 * alert began, `hop-ready` otherwise); if it is really failing it turns not Ready within seconds (the exporter's
 * readiness is tunnel_up) and the next notification or poll switches it.
 */
function ownVerdict(
  view: HopView,
  alerts: readonly SwitchAlert[],
): { alerts: SwitchAlert[] } | { reason: IgnoreReason } {
  const current = alerts.filter((a) => !a.server || !view.currentServer || sameServer(a.server, view.currentServer));
  if (current.length === 0) return { reason: 'stale-server' };
  const since = serverSinceMs(view);
  const fresh = since === undefined ? current : current.filter((a) => !(Date.parse(a.startsAt) < since));
  if (fresh.length === 0) return { reason: 'stale-alert' };
  if (view.ready) {
    const readyAt = view.readySince ? Date.parse(view.readySince) : NaN;
    const latest = Math.max(...fresh.map((a) => Date.parse(a.startsAt)));
    return { reason: readyAt > latest ? 'recovered' : 'hop-ready' };
  }
  return { alerts: fresh };
}

export function decideFailover(input: DecisionInput): ChainDecision[] {
  const { now, cooldownMs } = input;
  const graceMs = input.graceMs ?? cooldownMs;
  const hopsByChain = new Map<string, Map<number, HopView>>();
  for (const h of input.hops) {
    const k = chainKey(h.namespace, h.chain);
    let m = hopsByChain.get(k);
    if (!m) hopsByChain.set(k, (m = new Map()));
    // Two objects claiming one hop number: the first by name wins, deterministically.
    const prev = m.get(h.hop);
    if (!prev || h.name < prev.name) m.set(h.hop, h);
  }
  const alertsByChain = new Map<string, Map<number, SwitchAlert[]>>();
  for (const a of input.alerts) {
    const k = chainKey(a.namespace, a.torchain);
    let m = alertsByChain.get(k);
    if (!m) alertsByChain.set(k, (m = new Map()));
    m.set(a.hop, [...(m.get(a.hop) ?? []), a]);
  }

  const decisions: ChainDecision[] = [];
  for (const [k, byHop] of [...alertsByChain].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const [namespace, chain] = [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)];
    const hops = hopsByChain.get(k) ?? new Map<number, HopView>();
    const firing = [...byHop.keys()].sort((a, b) => a - b);
    const unknownHops = firing.filter((n) => !hops.has(n));
    // Rule 1: only the topmost (lowest-numbered) firing hop that exists, is not dropped on purpose and whose alerts
    // may describe its current state. A hop inside its cooldown holds the chain whatever its alerts say.
    const ignored: IgnoredHop[] = [];
    let top: number | undefined;
    let relevant: SwitchAlert[] = [];
    for (const n of firing) {
      const view = hops.get(n);
      if (!view || view.dropped) continue;
      const alerts = byHop.get(n)!;
      if (cooldownLeftMs(view, now, cooldownMs) > 0) {
        [top, relevant] = [n, alerts];
        break;
      }
      const verdict = ownVerdict(view, alerts);
      if ('reason' in verdict) {
        ignored.push({ hop: n, reason: verdict.reason });
        continue;
      }
      [top, relevant] = [n, verdict.alerts];
      break;
    }
    const withIgnored = ignored.length ? { ignored } : {};
    const skip = (reason: SkipReason, extra: Partial<SkipDecision> = {}): SkipDecision => ({
      action: 'none',
      namespace,
      chain,
      reason,
      waiting: top === undefined ? [] : firing.filter((n) => n > top && hops.has(n)),
      unknownHops,
      ...withIgnored,
      ...extra,
    });
    if (top === undefined) {
      const first = ignored[0];
      decisions.push(first ? skip(first.reason, { hop: first.hop, name: hops.get(first.hop)!.name }) : skip('no-hop'));
      continue;
    }
    const view = hops.get(top)!;
    const above = [...hops.values()].filter((h) => h.hop < top);
    const base = { hop: top, name: view.name };
    if (above.some((h) => h.dropped)) {
      decisions.push(skip('upstream-dropped', base));
      continue;
    }
    const upstreamLeft = Math.max(0, ...above.map((h) => cooldownLeftMs(h, now, cooldownMs)));
    if (upstreamLeft > 0) {
      decisions.push(skip('upstream-switching', { ...base, retryInSeconds: Math.ceil(upstreamLeft / 1000) }));
      continue;
    }
    // A hop above that is down, or came back only just now, explains this hop's alert: every hop below a broken one
    // is cut off, and after it recovers they need a moment to reconnect. Switching them would be a false switch.
    if (above.some((h) => h.ready === false)) {
      decisions.push(skip('upstream-down', base));
      continue;
    }
    const recoveringLeft = Math.max(0, ...above.map((h) => sinceLeftMs(h.readySince, now, graceMs)));
    if (recoveringLeft > 0) {
      decisions.push(skip('upstream-recovering', { ...base, retryInSeconds: Math.ceil(recoveringLeft / 1000) }));
      continue;
    }
    const startingLeft = sinceLeftMs(view.createdAt, now, graceMs);
    if (startingLeft > 0) {
      decisions.push(skip('starting', { ...base, retryInSeconds: Math.ceil(startingLeft / 1000) }));
      continue;
    }
    if (view.poolExhausted) {
      decisions.push(skip('pool-exhausted', base));
      continue;
    }
    const settlingLeft = top > 1 ? sinceLeftMs(earliest(relevant).startsAt, now, input.settleMs ?? 0) : 0;
    if (settlingLeft > 0) {
      decisions.push(skip('settling', { ...base, retryInSeconds: Math.ceil(settlingLeft / 1000) }));
      continue;
    }
    const left = cooldownLeftMs(view, now, cooldownMs);
    if (left > 0) {
      const reason = relevant.some((a) => sameAlert(a, view.failover.lastAlert)) ? 'already-switched' : 'cooldown';
      decisions.push(skip(reason, { ...base, retryInSeconds: Math.ceil(left / 1000) }));
      continue;
    }
    const trigger = earliest(relevant);
    const t: TriggerAlert = { startsAt: trigger.startsAt };
    if (trigger.fingerprint) t.fingerprint = trigger.fingerprint;
    if (trigger.alertname) t.alertname = trigger.alertname;
    const decision: SwitchDecision = {
      action: 'switch',
      namespace,
      chain,
      hop: top,
      name: view.name,
      resourceVersion: view.resourceVersion,
      fromSwitchServer: view.switchServer,
      toSwitchServer: view.switchServer + 1,
      trigger: t,
      waiting: firing.filter((n) => n > top && hops.has(n)),
      ...withIgnored,
    };
    // The server left is quarantined under its Vault key (the alert carries only its label form).
    const from = view.currentServer ?? trigger.server;
    if (from) decision.fromServer = from;
    decisions.push(decision);
  }
  return decisions;
}

/**
 * The merge patch of one switch: spec.switchServer + 1 and the failover annotation, with metadata.resourceVersion as
 * the precondition (the API server answers 409 when the object changed since the decision).
 */
export function switchPatch(
  decision: SwitchDecision,
  state: FailoverState,
  now: number,
  quarantineMs: number,
): Record<string, unknown> {
  const opts: Parameters<typeof afterSwitch>[1] = { now, quarantineMs, alert: decision.trigger };
  if (decision.fromServer) opts.from = decision.fromServer;
  const next = afterSwitch(state, opts);
  return {
    metadata: {
      resourceVersion: decision.resourceVersion,
      annotations: { [ANNOTATION_FAILOVER]: serializeFailoverState(next) },
    },
    spec: { switchServer: decision.toSwitchServer },
  };
}
