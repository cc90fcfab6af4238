// Firing switch alerts as Prometheus itself reports them (GET /api/v1/rules), for the safety net. Prometheus sends an
// alert to Alertmanager with startsAt = the evaluation at which it fired, i.e. about activeAt + the rule's `for`; the
// same estimate is used here so both paths describe one alert alike.
import { ACTION_LABEL, ACTION_SWITCH } from '../../../common/contracts/labels.js';
import type { SwitchAlert } from '../core/failover.js';
import type { LabelledAlert } from './alertmanager-screen.js';

export interface RuleAlertLike {
  activeAt: Date | string;
  labels: Record<string, string>;
  state: string;
}

export interface RuleLike {
  type: string;
  duration?: number;
  alerts?: RuleAlertLike[];
}

export interface RuleGroupLike {
  rules: RuleLike[];
}

const HOP = /^[1-9][0-9]{0,5}$/;

/**
 * @param minAgeMs only alerts firing at least this long: Alertmanager gets its chance first (grouping, silences).
 */
export function switchAlertsFromRules(groups: readonly RuleGroupLike[], now: number, minAgeMs: number): SwitchAlert[] {
  return labelledSwitchAlertsFromRules(groups, now, minAgeMs).map((l) => l.alert);
}

/** The same alerts with their full label sets (to find them again in Alertmanager). */
export function labelledSwitchAlertsFromRules(
  groups: readonly RuleGroupLike[],
  now: number,
  minAgeMs: number,
): LabelledAlert[] {
  const out: LabelledAlert[] = [];
  for (const g of groups)
    for (const rule of g.rules) {
      if (rule.type !== 'alerting') continue;
      for (const a of rule.alerts ?? []) {
        const l = a.labels ?? {};
        if (a.state !== 'firing' || l[ACTION_LABEL] !== ACTION_SWITCH) continue;
        if (!l.namespace || !l.torchain || !l.hop || !HOP.test(l.hop)) continue;
        const active = typeof a.activeAt === 'string' ? Date.parse(a.activeAt) : a.activeAt.getTime();
        if (Number.isNaN(active)) continue;
        const startsAt = active + (rule.duration ?? 0) * 1000;
        if (now - startsAt < minAgeMs) continue;
        const alert: SwitchAlert = {
          namespace: l.namespace,
          torchain: l.torchain,
          hop: Number(l.hop),
          startsAt: new Date(startsAt).toISOString(),
        };
        if (l.alertname) alert.alertname = l.alertname;
        if (l.server) alert.server = l.server;
        out.push({ alert, labels: l });
      }
    }
  return out;
}
