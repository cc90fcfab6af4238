// Which of Prometheus' firing switch alerts the safety net may act on, given what Alertmanager says: an alert that
// Alertmanager holds as silenced or inhibited is left alone, and so is an alert it has not received yet when one of
// its active silences matches it (Prometheus re-sends alerts only every resend delay). Plain data in, plain data out.
import type { SwitchAlert } from '../core/failover.js';

/** An alert as GET /api/v2/alerts returns it (the fields read here). */
export interface AmAlert {
  labels: Record<string, string>;
  status: { state: string; silencedBy?: string[] | null; inhibitedBy?: string[] | null };
}

export interface AmMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  /** false for != and !~ (absent in old Alertmanagers: equal). */
  isEqual?: boolean;
}

/** A silence as GET /api/v2/silences returns it (the fields read here). */
export interface AmSilence {
  id: string;
  matchers: AmMatcher[];
  status: { state: string };
}

/** A Prometheus alert with its full label set, as the rules API gives it. */
export interface LabelledAlert {
  alert: SwitchAlert;
  labels: Record<string, string>;
}

export type SuppressReason = 'silenced' | 'inhibited';

export interface Suppressed {
  namespace: string;
  torchain: string;
  hop: number;
  alertname?: string;
  server?: string;
  reason: SuppressReason;
  /** Silence ids, or fingerprints of the inhibiting alerts. */
  by: string[];
}

/** The labels that name one switch alert the same way in Prometheus and in Alertmanager (which adds external labels). */
const IDENTITY = ['alertname', 'namespace', 'torchain', 'hop', 'server'] as const;
const identity = (labels: Record<string, string>): string => IDENTITY.map((k) => labels[k] ?? '').join('\u0000');

/**
 * Alertmanager's label matching: a regex is anchored and RE2; JavaScript understands the usual subset, and a leading
 * (?i) becomes the `i` flag. A pattern JavaScript cannot compile counts as matching: a silence is never ignored by
 * accident (safety first: no switch the user asked to hold).
 */
export function matcherMatches(m: AmMatcher, labels: Record<string, string>): boolean {
  const value = labels[m.name] ?? '';
  let hit: boolean;
  if (!m.isRegex) hit = value === m.value;
  else {
    const insensitive = m.value.startsWith('(?i)');
    try {
      hit = new RegExp(`^(?:${insensitive ? m.value.slice(4) : m.value})$`, insensitive ? 'i' : '').test(value);
    } catch {
      return true;
    }
  }
  return m.isEqual === false ? !hit : hit;
}

export function silenceMatches(s: AmSilence, labels: Record<string, string>): boolean {
  return s.status.state === 'active' && s.matchers.length > 0 && s.matchers.every((m) => matcherMatches(m, labels));
}

export function screenWithAlertmanager(
  alerts: readonly LabelledAlert[],
  am: { alerts: readonly AmAlert[]; silences: readonly AmSilence[] },
): { act: SwitchAlert[]; suppressed: Suppressed[] } {
  const known = new Map<string, AmAlert[]>();
  for (const a of am.alerts) {
    const k = identity(a.labels);
    known.set(k, [...(known.get(k) ?? []), a]);
  }
  const act: SwitchAlert[] = [];
  const suppressed: Suppressed[] = [];
  for (const { alert, labels } of alerts) {
    const seen = known.get(identity(labels)) ?? [];
    const silencedBy = seen.flatMap((a) => a.status.silencedBy ?? []);
    const inhibitedBy = seen.flatMap((a) => a.status.inhibitedBy ?? []);
    // Alertmanager has not received it yet: its active silences decide.
    const matching = seen.length ? [] : am.silences.filter((s) => silenceMatches(s, labels)).map((s) => s.id);
    const reason: SuppressReason | undefined =
      silencedBy.length || matching.length ? 'silenced' : inhibitedBy.length ? 'inhibited' : undefined;
    if (!reason) {
      act.push(alert);
      continue;
    }
    const s: Suppressed = {
      namespace: alert.namespace,
      torchain: alert.torchain,
      hop: alert.hop,
      reason,
      by: [...new Set(reason === 'silenced' ? [...silencedBy, ...matching] : inhibitedBy)],
    };
    if (alert.alertname) s.alertname = alert.alertname;
    if (alert.server) s.server = alert.server;
    suppressed.push(s);
  }
  return { act, suppressed };
}
