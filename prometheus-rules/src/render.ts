// Public entry of torchain's alerting: parameters and their defaults, the rule renderer, the Alertmanager route,
// the timing budget and the operator's default cooldown. The lab, the operator and the chart tests import from here.
export {
  DEFAULT_ALERTING,
  LAB_ALERTING,
  PARAM_DOCS,
  paramProblems,
  validateParams,
  type AlertingParams,
} from './params.js';
export { durationSeconds } from './duration.js';
export {
  buildRules,
  renderRules,
  rulesYaml,
  RECORD,
  HOP_SERVER_LABELS,
  type RuleFile,
  type RuleGroup,
  type Rule,
  type AlertingRule,
  type RecordingRule,
} from './rules.js';
export {
  renderAlertmanagerConfig,
  alertmanagerYaml,
  DEFAULT_WEBHOOK_TARGET,
  GROUP_BY,
  RECEIVER,
  WEBHOOK_PATH,
  type WebhookTarget,
} from './alertmanager.js';
export { timingBudget, cooldownTerms, defaultCooldownSeconds, type TimingBudget } from './budget.js';

import { renderRules, rulesYaml } from './rules.js';
import type { AlertingParams } from './params.js';

/** The rule file text for `params` (what the lab writes and Prometheus loads). */
export function renderRulesYaml(params: AlertingParams): string {
  return rulesYaml(renderRules(params));
}
export { alertingValuesSchema } from './values-schema.js';
