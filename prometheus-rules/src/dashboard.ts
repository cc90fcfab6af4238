// The "torchain / chain health" Grafana dashboard, built as typed JSON. It is provisioned by kube-prometheus-stack's
// Grafana sidecar from a ConfigMap, so it uses a datasource variable and no `__inputs` (grafana/grafana#10786).
import type {
  Dashboard,
  DataSourceRef,
  FieldConfig,
  GridPos,
  Panel,
  PanelType,
  PrometheusTarget,
  QueryVariable,
} from './grafana-types.js';
import { RECORD } from './rules.js';

export const DASHBOARD_UID = 'torchain-chain-health';
const DS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };
/** Selector of one chain; every per-chain panel uses it. */
export const CHAIN = 'namespace="$namespace", torchain="$chain"';

function queryVariable(name: string, label: string, query: string): QueryVariable {
  return {
    type: 'query',
    name,
    label,
    datasource: DS,
    definition: query,
    query: { query, refId: `${name}-variable`, qryType: 1 },
    refresh: 2,
    sort: 1,
    multi: false,
    includeAll: false,
    current: {},
    hide: 0,
    regex: '',
    options: [],
  };
}

const target = (
  expr: string,
  legendFormat: string,
  refId = 'A',
  extra: Partial<PrometheusTarget> = {},
): PrometheusTarget => ({
  refId,
  datasource: DS,
  expr,
  legendFormat,
  ...extra,
});

function fields(defaults: FieldConfig['defaults']): FieldConfig {
  return { defaults, overrides: [] };
}

/** An up/down state timeline (tunnels, the gateway's resolver): red 0, green 1. */
function upDownFields(): FieldConfig {
  return fields({
    mappings: [UP_DOWN],
    color: { mode: 'thresholds' },
    thresholds: {
      mode: 'absolute',
      steps: [
        { color: RED, value: null },
        { color: GREEN, value: 1 },
      ],
    },
    custom: { fillOpacity: 80, lineWidth: 0 },
  });
}
const UP_DOWN_TIMELINE = {
  showValue: 'never',
  mergeValues: true,
  rowHeight: 0.8,
  alignValue: 'left',
  legend: { showLegend: false },
};

const RED = 'red';
const GREEN = 'green';
const UP_DOWN = {
  type: 'value' as const,
  options: { '0': { text: 'down', color: RED, index: 0 }, '1': { text: 'up', color: GREEN, index: 1 } },
};

let nextId = 1;
function panel(
  type: PanelType,
  title: string,
  gridPos: GridPos,
  description: string,
  targets: PrometheusTarget[],
  fieldConfig: FieldConfig,
  options: Record<string, unknown> = {},
): Panel {
  return { id: nextId++, type, title, description, gridPos, datasource: DS, targets, fieldConfig, options };
}

function row(title: string, y: number): Panel {
  return { id: nextId++, type: 'row', title, gridPos: { x: 0, y, w: 24, h: 1 }, collapsed: false, panels: [] };
}

const timeseries = (unit: string, extra: Record<string, unknown> = {}) =>
  fields({
    unit,
    color: { mode: 'palette-classic' },
    custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, ...extra },
  });
const legendTable = {
  legend: { displayMode: 'table', placement: 'right', calcs: ['lastNotNull', 'max'] },
  tooltip: { mode: 'multi', sort: 'desc' },
};
const statOptions = {
  reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
  colorMode: 'value',
  graphMode: 'none',
  textMode: 'auto',
};

export function buildDashboard(): Dashboard {
  nextId = 1;
  // Hop numbers are labels (strings): pad 1-9 to 01-09 so series sort in hop order (Prometheus sorts results by labels).
  const hopOrdered = (expr: string) => `label_replace(${expr}, "hop", "0$1", "hop", "(\\\\d)")`;
  const panels: Panel[] = [
    row('Chain at a glance', 0),
    panel(
      'state-timeline',
      'Hops (hop 1 = outermost), by server',
      { x: 0, y: 1, w: 24, h: 9 },
      'Each hop up or down over time. A switch starts a new row for the new server. Hop 1 is the topmost: when it is down, every hop below it is cut off too.',
      [
        target(
          hopOrdered(`max by (hop, type, server) (${RECORD.tunnelUp}{${CHAIN}})`),
          'hop {{hop}} · {{type}} · {{server}}',
        ),
      ],
      upDownFields(),
      UP_DOWN_TIMELINE,
    ),
    panel(
      'stat',
      'Hops up',
      { x: 0, y: 10, w: 6, h: 4 },
      'Hops whose tunnel carries traffic, out of the hops of the chain.',
      [
        target(`sum(${RECORD.tunnelUp}{${CHAIN}})`, 'up', 'A', { instant: true, range: false }),
        target(`count(${RECORD.tunnelUp}{${CHAIN}})`, 'hops', 'B', { instant: true, range: false }),
      ],
      fields({ unit: 'none', decimals: 0, color: { mode: 'fixed', fixedColor: 'text' } }),
      statOptions,
    ),
    panel(
      'stat',
      'Switches in range',
      { x: 6, y: 10, w: 6, h: 4 },
      'Server switches the operator made in the dashboard time range.',
      [
        target(`sum(increase(torchain_operator_switches_total{${CHAIN}}[$__range]))`, 'switches', 'A', {
          instant: true,
          range: false,
        }),
      ],
      fields({ unit: 'none', decimals: 0, color: { mode: 'fixed', fixedColor: 'blue' } }),
      statOptions,
    ),
    panel(
      'stat',
      'Failover duration in range (p50 / p95)',
      { x: 12, y: 10, w: 6, h: 4 },
      'Alert start to hop Ready, measured by the operator. Compare with the timing budget in docs/alerting.md.',
      [
        target(
          `histogram_quantile(0.5, sum by (le) (increase(torchain_operator_failover_duration_seconds_bucket{${CHAIN}}[$__range])))`,
          'p50',
          'A',
          { instant: true, range: false },
        ),
        target(
          `histogram_quantile(0.95, sum by (le) (increase(torchain_operator_failover_duration_seconds_bucket{${CHAIN}}[$__range])))`,
          'p95',
          'B',
          { instant: true, range: false },
        ),
      ],
      fields({
        unit: 's',
        decimals: 1,
        color: { mode: 'thresholds' },
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: GREEN, value: null },
            { color: 'orange', value: 60 },
            { color: RED, value: 180 },
          ],
        },
      }),
      statOptions,
    ),
    panel(
      'stat',
      'Hops with an exhausted pool',
      { x: 18, y: 10, w: 6, h: 4 },
      'Hops whose every server is quarantined: they stay down until a quarantine ends (TorchainPoolExhausted).',
      [
        target(`sum(max by (hop) (torchain_operator_pool_exhausted{${CHAIN}}))`, 'exhausted', 'A', {
          instant: true,
          range: false,
        }),
      ],
      fields({
        unit: 'none',
        decimals: 0,
        color: { mode: 'thresholds' },
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: GREEN, value: null },
            { color: RED, value: 1 },
          ],
        },
      }),
      statOptions,
    ),

    row('Why hops fail', 14),
    panel(
      'timeseries',
      'Connection errors by reason',
      { x: 0, y: 15, w: 12, h: 9 },
      'Failure lines of the VPN clients and failed probes, per hop and reason (torchain_vpn_connection_errors_total).',
      [
        target(
          `sum by (hop, reason) (increase(torchain_vpn_connection_errors_total{${CHAIN}}[$__rate_interval])) > 0`,
          'hop {{hop}} · {{reason}}',
        ),
      ],
      timeseries('none', { drawStyle: 'bars', fillOpacity: 60, stacking: { mode: 'normal', group: 'A' } }),
      legendTable,
    ),
    panel(
      'timeseries',
      'VPN client restarts',
      { x: 12, y: 15, w: 12, h: 9 },
      'Client restarts (OpenVPN SIGUSR1/SIGHUP restarts, ping-restart), per hop and reason.',
      [
        target(
          `sum by (hop, reason) (increase(torchain_vpn_restarts_total{${CHAIN}}[$__rate_interval])) > 0`,
          'hop {{hop}} · {{reason}}',
        ),
      ],
      timeseries('none', { drawStyle: 'bars', fillOpacity: 60, stacking: { mode: 'normal', group: 'A' } }),
      legendTable,
    ),
    panel(
      'timeseries',
      'WireGuard handshake age',
      { x: 0, y: 24, w: 12, h: 8 },
      'Seconds since the latest WireGuard handshake. With traffic flowing it renews every 2 minutes; past 180 s the session keys expire.',
      [target(`max by (hop, server) (${RECORD.handshakeAge}{${CHAIN}, type="wireguard"})`, 'hop {{hop}} · {{server}}')],
      fields({
        unit: 's',
        color: { mode: 'palette-classic' },
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: GREEN, value: null },
            { color: RED, value: 180 },
          ],
        },
        custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 0, thresholdsStyle: { mode: 'line' } },
      }),
      legendTable,
    ),
    panel(
      'timeseries',
      'VPN log silence',
      { x: 12, y: 24, w: 12, h: 8 },
      "Seconds since the VPN client's last log line (TorchainVpnLogSilent). OpenVPN is quiet while healthy (it logs at each renegotiation, hourly); verbose wireguard-go logs keepalives.",
      [target(`max by (hop, type) (${RECORD.lastLineAge}{${CHAIN}})`, 'hop {{hop}} · {{type}}')],
      timeseries('s'),
      legendTable,
    ),

    row('Failover', 32),
    panel(
      'timeseries',
      'Switches',
      { x: 0, y: 33, w: 8, h: 8 },
      'Server switches per hop (torchain_operator_switches_total).',
      [
        target(
          `sum by (hop) (increase(torchain_operator_switches_total{${CHAIN}}[$__rate_interval])) > 0`,
          'hop {{hop}}',
        ),
      ],
      timeseries('none', { drawStyle: 'bars', fillOpacity: 80 }),
      legendTable,
    ),
    panel(
      'timeseries',
      'Failover duration (p95 over 1h)',
      { x: 8, y: 33, w: 8, h: 8 },
      'p95 of alert start to hop Ready over the trailing hour, per hop.',
      [
        target(
          `histogram_quantile(0.95, sum by (hop, le) (increase(torchain_operator_failover_duration_seconds_bucket{${CHAIN}}[1h])))`,
          'hop {{hop}}',
        ),
      ],
      timeseries('s'),
      legendTable,
    ),
    panel(
      'timeseries',
      'Pool servers',
      { x: 16, y: 33, w: 8, h: 8 },
      "Servers of each hop's Vault pool, available or quarantined after a failure.",
      [target(`max by (hop, state) (torchain_operator_pool_servers{${CHAIN}})`, 'hop {{hop}} · {{state}}')],
      timeseries('none', { drawStyle: 'line', lineInterpolation: 'stepAfter', fillOpacity: 20 }),
      legendTable,
    ),

    row('Pipeline health', 41),
    panel(
      'timeseries',
      'Exporter scraped',
      { x: 0, y: 42, w: 8, h: 7 },
      "1 while Prometheus scrapes the hop's log-exporter; 0 or no line: the hop is unobserved (TorchainExporterDown/Missing).",
      [target(hopOrdered(`max by (hop) (${RECORD.exporterUp}{${CHAIN}})`), 'hop {{hop}}')],
      timeseries('none', { lineInterpolation: 'stepAfter' }),
      legendTable,
    ),
    panel(
      'timeseries',
      'Log lines read',
      { x: 8, y: 42, w: 8, h: 7 },
      'Lines per second the exporter read, matched by a pattern or not. A jump in unmatched lines can mean a new client message worth a pattern.',
      [
        target(
          `sum by (hop, matched) (rate(torchain_log_exporter_lines_total{${CHAIN}}[$__rate_interval]))`,
          'hop {{hop}} · matched={{matched}}',
        ),
      ],
      timeseries('ops'),
      legendTable,
    ),
    panel(
      'timeseries',
      'Operator: leader and webhook calls',
      { x: 16, y: 42, w: 8, h: 7 },
      'Leading replicas (must be 1) and webhook requests by HTTP code (4xx: Alertmanager drops the notification).',
      [
        target('sum(torchain_operator_leader)', 'leaders', 'A'),
        target(
          'sum by (code) (increase(torchain_operator_webhook_requests_total[$__rate_interval]))',
          'webhook {{code}}',
          'B',
        ),
      ],
      timeseries('none'),
      legendTable,
    ),

    row('DNS for the LAN (the last hop answers DNS on the gateway)', 49),
    panel(
      'state-timeline',
      'DNS at the gateway',
      { x: 0, y: 50, w: 8, h: 7 },
      "The gateway's resolver answers the exporter's probe through the chain (up) or not (down). Down while the tunnel is up: the exit resolver fails (TorchainDnsDown). No row: the chain does not serve DNS (chains[].dns).",
      [target(`max by (hop, server) (${RECORD.dnsUp}{${CHAIN}})`, 'hop {{hop}} · {{server}}')],
      upDownFields(),
      UP_DOWN_TIMELINE,
    ),
    panel(
      'timeseries',
      'DNS queries at the gateway: answered and failed',
      { x: 8, y: 50, w: 10, h: 7 },
      "Queries per second the gateway's resolver answered (NOERROR, NXDOMAIN from the exit's resolver) or failed (SERVFAIL, REFUSED or no answer: the chain or the exit resolver is down).",
      [target(`sum by (result) (rate(torchain_dns_queries_total{${CHAIN}}[$__rate_interval]))`, '{{result}}')],
      timeseries('reqps'),
      legendTable,
    ),
    panel(
      'stat',
      'DNS queries failed (5m)',
      { x: 18, y: 50, w: 6, h: 7 },
      'Share of the queries at the gateway that failed within 5 minutes (TorchainDnsErrors above its ratio).',
      [
        target(
          `sum(rate(torchain_dns_queries_total{${CHAIN}, result="failed"}[5m])) / sum(rate(torchain_dns_queries_total{${CHAIN}}[5m]))`,
          'failed',
          'A',
          { instant: true, range: false },
        ),
      ],
      fields({
        unit: 'percentunit',
        decimals: 1,
        color: { mode: 'thresholds' },
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: GREEN, value: null },
            { color: 'orange', value: 0.05 },
            { color: RED, value: 0.25 },
          ],
        },
      }),
      statOptions,
    ),
  ];

  return {
    uid: DASHBOARD_UID,
    title: 'torchain / chain health',
    description:
      'One torchain chain: hops up/down with their servers, why they fail, failovers, the monitoring pipeline and DNS at the gateway.',
    tags: ['torchain', 'vpn'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    templating: {
      list: [
        {
          type: 'datasource',
          name: 'datasource',
          label: 'Data source',
          query: 'prometheus',
          regex: '',
          current: {},
          hide: 0,
          refresh: 1,
          options: [],
        },
        queryVariable('namespace', 'Namespace', 'label_values(torchain_vpn_tunnel_up, namespace)'),
        queryVariable('chain', 'Chain', 'label_values(torchain_vpn_tunnel_up{namespace="$namespace"}, torchain)'),
      ],
    },
    annotations: {
      list: [
        {
          name: 'Switches',
          datasource: DS,
          enable: true,
          iconColor: 'orange',
          expr: `sum by (hop) (changes(torchain_operator_switches_total{${CHAIN}}[2m])) > 0`,
          titleFormat: 'switch',
          textFormat: 'hop {{hop}} switched server',
          step: '1m',
        },
      ],
    },
    links: [],
    panels,
  };
}

export interface DashboardQuery {
  where: string;
  expr: string;
  instant: boolean;
}

/** Every PromQL query the dashboard runs (panels, variables, annotations), with where it comes from. */
export function dashboardQueries(d: Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? [])
        out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr, instant: t.instant === true });
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  for (const a of d.annotations.list as { name: string; expr?: string }[])
    if (a.expr) out.push({ where: `annotation "${a.name}"`, expr: a.expr, instant: false });
  return out;
}

export function dashboardJson(d: Dashboard = buildDashboard()): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}
