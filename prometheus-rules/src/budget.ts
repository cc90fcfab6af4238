// The timing budget from a server's death to the operator's webhook, and the operator's default cooldown derived
// from it. Pure arithmetic over the parameters; docs/alerting.md shows the same numbers.
import { durationSeconds } from './duration.js';
import { validateParams, type AlertingParams } from './params.js';

export interface BudgetStep {
  step: string;
  /** Worst-case seconds this step adds. */
  seconds: number;
  /** Which parameter sets it. */
  setBy: string;
}

export interface TimingBudget {
  /** Server death → first webhook call for the chain, worst case (a new Alertmanager group). */
  steps: BudgetStep[];
  worstSeconds: number;
  /** Same, when another hop of the chain already fires (the group exists: group_interval instead of group_wait). */
  worstSecondsExistingGroup: number;
  /**
   * Best case: failure seen at once, scraped and evaluated right after it, and the chain's Alertmanager group already
   * there and flushing at once (a new group waits group_wait on top).
   */
  bestSeconds: number;
}

/** `for` only counts at evaluations: it is rounded up to a whole number of evaluation intervals. */
function forAtEvaluations(forSeconds: number, evalSeconds: number): number {
  return Math.ceil(forSeconds / evalSeconds) * evalSeconds;
}

export function timingBudget(params: AlertingParams): TimingBudget {
  const p = validateParams(params);
  const evaluation = durationSeconds(p.evaluationInterval);
  const scrape = durationSeconds(p.budget.scrapeInterval);
  const forS = forAtEvaluations(durationSeconds(p.tunnelDown.for), evaluation);
  const groupWait = durationSeconds(p.route.groupWait);
  const groupInterval = durationSeconds(p.route.groupInterval);
  const steps: BudgetStep[] = [
    {
      step: 'exporter detects the failure (log line or failed probe)',
      seconds: p.budget.downDetectionSeconds,
      setBy: 'log-exporter probe (budget.downDetectionSeconds)',
    },
    { step: 'Prometheus scrapes tunnel_up 0', seconds: scrape, setBy: 'monitoring.podMonitor.interval' },
    { step: 'rule evaluation sees it: alert pending', seconds: evaluation, setBy: 'alerting.evaluationInterval' },
    {
      step: '`for` elapses (rounded up to evaluations): alert firing',
      seconds: forS,
      setBy: 'alerting.tunnelDown.for',
    },
    {
      step: 'Alertmanager waits for the rest of the chain, then calls the webhook',
      seconds: groupWait,
      setBy: 'alerting.route.groupWait',
    },
  ];
  const worstSeconds = steps.reduce((s, x) => s + x.seconds, 0);
  return {
    steps,
    worstSeconds,
    worstSecondsExistingGroup: worstSeconds - groupWait + groupInterval,
    bestSeconds: forS,
  };
}

export interface CooldownTerm {
  term: string;
  seconds: number;
}

/**
 * Terms of the default cooldown: after a switch, the time the new server needs to prove itself healthy and the old
 * alert to be resolved in the operator's eyes — reconnect (pod replaced, VPN handshake), the exporter reports
 * tunnel_up 1, the next scrape, the next evaluation resolves the alert, and Alertmanager's next group flush delivers
 * the resolution. A repeated notification of the old alert inside that time must not switch again.
 */
export function cooldownTerms(params: AlertingParams): CooldownTerm[] {
  const p = validateParams(params);
  return [
    { term: 'reconnect (pod replaced, VPN handshake)', seconds: p.budget.reconnectSeconds },
    { term: 'exporter reports the tunnel up', seconds: p.budget.upDetectionSeconds },
    { term: 'scrape interval', seconds: durationSeconds(p.budget.scrapeInterval) },
    { term: 'evaluation interval (alert resolves)', seconds: durationSeconds(p.evaluationInterval) },
    { term: 'Alertmanager group_interval (resolution delivered)', seconds: durationSeconds(p.route.groupInterval) },
  ];
}

/** The operator's default cooldown in whole seconds: the sum of `cooldownTerms`, rounded up. */
export function defaultCooldownSeconds(params: AlertingParams): number {
  return Math.ceil(cooldownTerms(params).reduce((s, t) => s + t.seconds, 0));
}
