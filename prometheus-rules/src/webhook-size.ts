// How many alerts one webhook notification may carry so that its body stays under the operator's 1 MiB limit
// (operator/src/http/server.ts BODY_LIMIT; a larger body is answered 413 and Alertmanager drops it for good).
// The figure comes from a worst-case switch alert: every label at its longest legal value, the annotation templates
// of the rules rendered with those values, a long generator URL, plus the notification's envelope. Alertmanager's
// webhook `max_alerts` cuts the list (and reports `truncatedAlerts`), so the body can never pass the limit.
import { BODY_LIMIT } from '../../operator/src/http/server.js';
import { PROTOCOLS } from '../../common/contracts/protocols.js';
import { SWITCH_LABEL } from '../../common/contracts/labels.js';
import { DEFAULT_ALERTING } from './params.js';
import { buildRules, type AlertingRule } from './rules.js';

/** The longest value each label can take (Kubernetes caps namespaces and label values at 63, chain names at 40). */
export const WORST_LABELS = {
  namespace: 'n'.repeat(63),
  torchain: 't'.repeat(40),
  hop: '63', // the chart's limit: 63 /30 links in one /24
  type: [...PROTOCOLS].sort((a, b) => b.length - a.length)[0]!,
  server: 's'.repeat(63), // the pod label torchain.dev/server: a label value
} as const;

/** Room for labels the alert gains outside the rules: Prometheus' external labels (kps: `prometheus: <ns>/<name>`). */
export const EXTERNAL_LABELS_BYTES = 1024;
/** Room for Prometheus' and Alertmanager's external URLs (each). */
export const EXTERNAL_URL_BYTES = 256;

const LONG_VALUE = '9'.repeat(24);

/** A rule annotation as Prometheus renders it with the worst-case labels and value (text/template on `$labels`, `$value`). */
function renderAnnotation(text: string): string {
  return text
    .replace(
      /\{\{\s*\$labels\.(\w+)\s*\}\}/g,
      (_m, l: string) => (WORST_LABELS as Record<string, string>)[l] ?? 'x'.repeat(63),
    )
    .replace(/\{\{[^}]*\$value[^}]*\}\}/g, LONG_VALUE);
}

/** The largest switch alert of the rules, as it appears in a version-4 webhook payload. */
export function worstCaseAlert(): Record<string, unknown> {
  const alerts = buildRules(DEFAULT_ALERTING)
    .groups.flatMap((g) => g.rules)
    .filter((r): r is AlertingRule => 'alert' in r && Object.keys(SWITCH_LABEL).every((k) => k in r.labels));
  const as = alerts.map((r) => ({
    status: 'resolved',
    labels: {
      alertname: r.alert,
      ...r.labels,
      ...WORST_LABELS,
      prometheus: 'p'.repeat(EXTERNAL_LABELS_BYTES), // stands for every external label together
    },
    annotations: Object.fromEntries(Object.entries(r.annotations).map(([k, v]) => [k, renderAnnotation(v)])),
    startsAt: '2006-01-02T15:04:05.999999999+07:00',
    endsAt: '2006-01-02T15:04:05.999999999+07:00',
    generatorURL: `${'u'.repeat(EXTERNAL_URL_BYTES)}/graph?g0.expr=${encodeURIComponent(r.expr)}&g0.tab=1`,
    fingerprint: 'f'.repeat(16),
  }));
  return as.reduce((a, b) => (JSON.stringify(b).length > JSON.stringify(a).length ? b : a));
}

/** The notification around the alerts (commonLabels/commonAnnotations at most one alert's worth). */
export function envelopeBytes(alert = worstCaseAlert()): number {
  const labels = alert.labels as Record<string, string>;
  const envelope = {
    receiver: `${WORST_LABELS.namespace}/${'r'.repeat(63)}/torchain-operator`,
    status: 'resolved',
    alerts: [],
    groupLabels: { namespace: labels.namespace, torchain: labels.torchain },
    commonLabels: labels,
    commonAnnotations: alert.annotations,
    externalURL: 'u'.repeat(EXTERNAL_URL_BYTES),
    version: '4',
    groupKey: `{}/{torchain_action="switch",namespace="${WORST_LABELS.namespace}"}:{namespace="${WORST_LABELS.namespace}", torchain="${WORST_LABELS.torchain}"}`,
    truncatedAlerts: 99_999_999,
  };
  return Buffer.byteLength(JSON.stringify(envelope));
}

/** max_alerts of the operator's webhook: as many worst-case alerts as fit under the body limit (comma included). */
export function webhookMaxAlerts(limit = BODY_LIMIT): number {
  const alert = worstCaseAlert();
  const per = Buffer.byteLength(JSON.stringify(alert)) + 1;
  return Math.floor((limit - envelopeBytes(alert)) / per);
}
