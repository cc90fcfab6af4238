// The torchain rule groups (recording rules, switch alerts, informational alerts) as plain data, from the parameters.
// `buildRules` writes parameter values into the text as they are, without judging them, so the Helm generator can
// pass placeholder tokens; `renderRules` validates real parameters first.
import { stringify } from 'yaml';
import { ACTION_LABEL, ACTION_SWITCH, SWITCH_LABEL } from '../../common/contracts/labels.js';
import { validateParams, type AlertingParams } from './params.js';
import { silenceKey, silenceProtocols } from './protocols/index.js';
import { RECEIVER_NAME_REGEX } from './receiver.js';

export interface RecordingRule {
  record: string;
  expr: string;
}
export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string };
}
export type Rule = RecordingRule | AlertingRule;
export interface RuleGroup {
  name: string;
  interval: string;
  rules: Rule[];
}
export interface RuleFile {
  groups: RuleGroup[];
}

/** Label set of one hop running one server: what every switch alert carries. */
export const HOP_SERVER_LABELS = ['namespace', 'torchain', 'hop', 'type', 'server'] as const;
/** Label set of one hop, whatever its server. */
export const HOP_LABELS = ['namespace', 'torchain', 'hop'] as const;
/** Targets of hop log-exporters: the scrape relabelings give them the identity labels, the operator's target has no `hop`. */
export const EXPORTER_UP = 'up{torchain!="",hop!=""}';

const byHopServer = `by (${HOP_SERVER_LABELS.join(', ')})`;
const byHop = `by (${HOP_LABELS.join(', ')})`;

/** Names of the recording rules (the dashboard and the alerts read them). The errors window is part of its name. */
export const RECORD = {
  tunnelUp: 'torchain_hop_server:torchain_vpn_tunnel_up:max',
  connectionErrors: (window: string) => `torchain_hop_server:torchain_vpn_connection_errors:increase${window}`,
  exporterUp: 'torchain_hop:up:max',
  lastLineAge: 'torchain_hop_server:torchain_log_exporter_last_line_age_seconds:min',
  handshakeAge: 'torchain_hop_server:torchain_vpn_last_handshake_age_seconds:min',
  dnsUp: 'torchain_hop_server:torchain_dns_up:max',
  dnsQueries: (window: string) => `torchain_hop_server:torchain_dns_queries:increase${window}`,
} as const;

const HOP = '{{ $labels.namespace }}/{{ $labels.torchain }} hop {{ $labels.hop }}';

export function buildRules(p: AlertingParams): RuleFile {
  const errors = RECORD.connectionErrors(p.connectionErrors.window);
  const dnsQueries = RECORD.dnsQueries(p.dnsErrors.window);
  const switchAlerts: AlertingRule[] = [
    {
      alert: 'TorchainHopTunnelDown',
      expr: `${RECORD.tunnelUp} == 0`,
      for: p.tunnelDown.for,
      labels: { severity: 'warning', ...SWITCH_LABEL },
      annotations: {
        summary: `${HOP} is down on server {{ $labels.server }}`,
        description:
          `The {{ $labels.type }} tunnel of ${HOP} has read down for ${p.tunnelDown.for} on server {{ $labels.server }}. ` +
          'Alertmanager asks the operator to switch the topmost failing hop of the chain to the next server of its pool. ' +
          'If it keeps firing: kubectl -n {{ $labels.namespace }} get tc, the operator logs, and TorchainPoolExhausted.',
      },
    },
    {
      alert: 'TorchainHopConnectionErrors',
      expr: `${errors} >= ${p.connectionErrors.threshold}`,
      for: p.connectionErrors.for,
      labels: { severity: 'warning', ...SWITCH_LABEL },
      annotations: {
        summary: `${HOP} logs connection errors on server {{ $labels.server }}`,
        description:
          `${HOP} counted {{ $value | printf "%.0f" }} connection errors within ${p.connectionErrors.window} ` +
          `(threshold ${p.connectionErrors.threshold}) on server {{ $labels.server }}: a flapping or failing tunnel. ` +
          'The operator switches the topmost failing hop of the chain. The reasons are on the dashboard ' +
          '(torchain_vpn_connection_errors_total by reason).',
      },
    },
  ];

  const healthAlerts: AlertingRule[] = [
    {
      alert: 'TorchainExporterDown',
      expr: `${RECORD.exporterUp} == 0`,
      for: p.exporterDown.for,
      labels: { severity: 'warning' },
      annotations: {
        summary: `The log-exporter of ${HOP} cannot be scraped`,
        description:
          `Prometheus has failed to scrape the log-exporter of ${HOP} for ${p.exporterDown.for}: the hop is unobserved ` +
          'and cannot be failed over. Check the pod (kubectl -n {{ $labels.namespace }} get pods -l ' +
          'torchain.dev/chain={{ $labels.torchain }}) and the log-exporter container log.',
      },
    },
    {
      alert: 'TorchainExporterMissing',
      expr:
        `max ${byHop} (max_over_time(${EXPORTER_UP}[${p.exporterMissing.lookback}])) ` +
        `unless on (${HOP_LABELS.join(', ')}) ${EXPORTER_UP}`,
      for: p.exporterMissing.for,
      labels: { severity: 'warning' },
      annotations: {
        summary: `The log-exporter of ${HOP} has disappeared`,
        description:
          `${HOP} was scraped within ${p.exporterMissing.lookback} but has no scrape target now: its pod is gone or no ` +
          'longer matches the PodMonitor, so the hop is unobserved and cannot be failed over. If the hop was dropped or ' +
          `deleted on purpose this clears within ${p.exporterMissing.lookback}; silence it.`,
      },
    },
    {
      alert: 'TorchainVpnLogSilent',
      // One term per protocol with a silence rule (protocols/): OpenConnect is silent when healthy and has none.
      expr: silenceProtocols()
        .map((t) => `${RECORD.lastLineAge}{type="${t}"} > ${p.logSilence[silenceKey(t)]}`)
        .join(' or '),
      for: p.logSilence.for,
      labels: { severity: 'info' },
      annotations: {
        summary: `The VPN log of ${HOP} is silent`,
        description:
          `No log line from the {{ $labels.type }} client of ${HOP} for {{ $value | humanizeDuration }}: the client hangs ` +
          "or the exporter's log stream stalled, and failures now show only through the exporter's probe. Check the vpn " +
          'container log and restart the pod if the client hangs.',
      },
    },
    {
      alert: 'TorchainDnsDown',
      // Only while the tunnel carries traffic: a chain that is down is the switch alerts' business.
      expr: `(${RECORD.dnsUp} == 0) and on (${HOP_SERVER_LABELS.join(', ')}) ` + `(${RECORD.tunnelUp} == 1)`,
      for: p.dnsDown.for,
      labels: { severity: 'warning' },
      annotations: {
        summary: `The LAN's DNS resolver on ${HOP} fails`,
        description:
          `The gateway's resolver on ${HOP} has not answered its probe for ${p.dnsDown.for} although the tunnel to ` +
          'server {{ $labels.server }} is up: the exit resolver (the one the server pushes, or chains[].dns.servers) ' +
          'does not answer, so LAN clients cannot resolve names. Check the dns container log; set chains[].dns.servers ' +
          'to a resolver you trust (reached through the chain), or move the hop to its next server ' +
          '(kubectl -n {{ $labels.namespace }} patch tc with switchServer + 1).',
      },
    },
    {
      alert: 'TorchainDnsErrors',
      expr:
        `(${dnsQueries}{result="failed"} / ignoring (result) sum without (result) (${dnsQueries}) > ${p.dnsErrors.ratio}) ` +
        `and ignoring (result) (sum without (result) (${dnsQueries}) >= ${p.dnsErrors.minQueries}) ` +
        // Only when the tunnel carried traffic throughout the window: the queries that failed while the chain was
        // down (a failover: the switch alerts' business) would otherwise raise this for a whole window after it.
        `and on (${HOP_SERVER_LABELS.join(', ')}) (min_over_time(${RECORD.tunnelUp}[${p.dnsErrors.window}]) == 1)`,
      for: p.dnsErrors.for,
      labels: { severity: 'warning' },
      annotations: {
        summary: `DNS queries fail at the LAN gateway of ${HOP}`,
        description:
          `{{ $value | humanizePercentage }} of the DNS queries at the gateway of ${HOP} failed within ${p.dnsErrors.window} ` +
          `(threshold ${p.dnsErrors.ratio}, at least ${p.dnsErrors.minQueries} queries) while the tunnel was up all along: the exit resolver answers ` +
          'SERVFAIL or REFUSED, or not at all. Check the dns container log and the exit resolver; chains[].dns.servers ' +
          'sets another one.',
      },
    },
    {
      alert: 'TorchainPoolExhausted',
      expr: `max ${byHop} (torchain_operator_pool_exhausted) == 1`,
      for: p.poolExhausted.for,
      labels: { severity: 'critical' },
      annotations: {
        summary: `Every server in the pool of ${HOP} is quarantined`,
        description:
          `The operator has no server left to switch ${HOP} to: all servers of its Vault pool failed recently. The hop ` +
          'stays down until a quarantine ends. Add servers to the pool (docs/vault.md) or check the upstream network.',
      },
    },
    {
      alert: 'TorchainFailoverSlow',
      expr:
        `histogram_quantile(${p.failoverSlow.quantile}, sum by (${HOP_LABELS.join(', ')}, le) ` +
        `(increase(torchain_operator_failover_duration_seconds_bucket[${p.failoverSlow.window}]))) ` +
        `> ${p.failoverSlow.thresholdSeconds}`,
      labels: { severity: 'warning' },
      annotations: {
        summary: `Failovers of ${HOP} are slow`,
        description:
          `The ${p.failoverSlow.quantile} quantile of the failovers of ${HOP} within ${p.failoverSlow.window} is ` +
          `{{ $value | humanizeDuration }} (threshold ${p.failoverSlow.thresholdSeconds}s, alert start to hop Ready). ` +
          'See the timing budget in docs/alerting.md: slow pod starts, slow VPN handshakes or a long cooldown.',
      },
    },
    {
      alert: 'TorchainHopSwitchingOften',
      expr:
        `sum ${byHop} (increase(torchain_operator_switches_total[${p.switchingOften.window}])) ` +
        `>= ${p.switchingOften.threshold}`,
      labels: { severity: 'warning' },
      annotations: {
        summary: `${HOP} keeps switching servers`,
        description:
          `${HOP} switched about {{ $value | printf "%.0f" }} times within ${p.switchingOften.window}: every server ` +
          'fails soon after connecting, or the alert timings are too tight for this hop (false switches). Check the ' +
          'connection errors by reason on the dashboard.',
      },
    },
    {
      alert: 'TorchainOperatorDown',
      expr: '(sum(torchain_operator_leader) < 1) or absent(torchain_operator_leader)',
      for: p.operatorDown.for,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'No torchain operator replica is leading',
        description:
          `For ${p.operatorDown.for} no operator replica has held the leader Lease (or none is scraped): nothing ` +
          'fails hops over. Check the operator pods, their logs and the Lease (kubectl get lease torchain-operator).',
      },
    },
    {
      alert: 'TorchainOperatorWebhookRefusing',
      expr: `sum by (code) (increase(torchain_operator_webhook_requests_total{code=~"4.."}[${p.webhookErrors.window}])) > 0`,
      for: p.webhookErrors.for,
      labels: { severity: 'critical' },
      annotations: {
        summary: "The operator refused Alertmanager's notifications with {{ $labels.code }}",
        description:
          `The operator answered {{ $labels.code }} to webhook calls within ${p.webhookErrors.window}. Alertmanager ` +
          'drops a notification answered with 4xx, so switches wait for the safety-net poll. 401: the token in ' +
          "Alertmanager's receiver differs from the operator's Secret; 400/413: check the operator logs.",
      },
    },
    {
      alert: 'TorchainWebhookNotificationsFailing',
      // Alertmanager labels this counter with the receiver only under --enable-feature=receiver-name-in-metrics
      // (>= 0.26; label `receiver_name`). Without it the series carry no receiver_name and this rule stays silent:
      // it never blames torchain for another team's webhook. TorchainSwitchNotificationsMissing covers that case.
      expr:
        'sum by (receiver_name) (increase(alertmanager_notifications_failed_total{integration="webhook",' +
        `receiver_name=~"${RECEIVER_NAME_REGEX}"}[${p.webhookErrors.window}])) > 0`,
      for: p.webhookErrors.for,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Alertmanager fails to deliver switch notifications to the torchain operator',
        description:
          `Alertmanager gave up on notifications of its receiver {{ $labels.receiver_name }} within ${p.webhookErrors.window}: ` +
          "switch requests are lost and the operator falls back to its Prometheus poll. Check the Alertmanager log for the receiver's URL, " +
          "the operator's Service and the NetworkPolicy that admits Alertmanager.",
      },
    },
    {
      alert: 'TorchainSwitchNotificationsMissing',
      // End to end and without any Alertmanager feature flag: a chain's switch alerts have fired for a whole
      // notification cycle and no webhook call reached any operator replica (any answer counts: 4xx has its own alert).
      expr:
        `count by (${HOP_LABELS.slice(0, 2).join(', ')}) (ALERTS{alertstate="firing",${ACTION_LABEL}="${ACTION_SWITCH}"}) ` +
        `unless on () (sum(increase(torchain_operator_webhook_requests_total[${p.notificationsMissing.for}])) > 0)`,
      for: p.notificationsMissing.for,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Switch alerts of {{ $labels.namespace }}/{{ $labels.torchain }} do not reach the operator',
        description:
          `Switch alerts of {{ $labels.namespace }}/{{ $labels.torchain }} have fired for ${p.notificationsMissing.for} and ` +
          'no webhook call reached the torchain operator: Alertmanager does not route them to it (the AlertmanagerConfig ' +
          "of the chain's namespace is missing or not selected, or a route before it catches them) or cannot reach it. " +
          "Failovers now wait for the operator's Prometheus poll. See docs/install.md, kube-prometheus-stack.",
      },
    },
  ];

  return {
    groups: [
      {
        // Recording rules first: rules of one group run in order, so the alerts read values of the same evaluation.
        name: 'torchain.hops',
        interval: p.evaluationInterval,
        rules: [
          { record: RECORD.tunnelUp, expr: `max ${byHopServer} (torchain_vpn_tunnel_up)` },
          {
            record: errors,
            // increase() per pod series first, then the sum: a restarted container's counter reset counts as 0.
            expr: `sum ${byHopServer} (increase(torchain_vpn_connection_errors_total[${p.connectionErrors.window}]))`,
          },
          ...switchAlerts,
        ],
      },
      {
        name: 'torchain.health',
        interval: p.evaluationInterval,
        rules: [
          { record: RECORD.exporterUp, expr: `max ${byHop} (${EXPORTER_UP})` },
          {
            record: RECORD.lastLineAge,
            expr: `time() - max ${byHopServer} (torchain_log_exporter_last_line_timestamp_seconds > 0)`,
          },
          {
            record: RECORD.handshakeAge,
            expr: `time() - max ${byHopServer} (torchain_vpn_last_handshake_timestamp_seconds > 0)`,
          },
          { record: RECORD.dnsUp, expr: `max ${byHopServer} (torchain_dns_up)` },
          {
            record: dnsQueries,
            // increase() per pod series first, then the sum: a restarted exporter's counter reset counts as 0.
            expr: `sum by (${HOP_SERVER_LABELS.join(', ')}, result) (increase(torchain_dns_queries_total[${p.dnsErrors.window}]))`,
          },
          ...healthAlerts,
        ],
      },
    ],
  };
}

/** The rule groups for validated parameters; throws listing every invalid parameter. */
export function renderRules(params: AlertingParams): RuleFile {
  return buildRules(validateParams(params));
}

export const GENERATED_HEADER = (what: string) =>
  `# Generated by \`npm run gen:monitoring\` from prometheus-rules/src (${what}). Do not edit by hand.\n`;

/** YAML text of a rule file: one line per expression, so text substitutions stay line-local. */
export function rulesYaml(file: RuleFile): string {
  return stringify(file, { lineWidth: 0 });
}
