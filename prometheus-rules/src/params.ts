// The alerting parameters: every threshold, window and `for` of the rules, the Alertmanager route timings, and the
// assumptions of the timing budget. One shape feeds the rule file, the chart values, the lab and the operator's
// default cooldown, so none of them can disagree.
import { durationSeconds, isDuration } from './duration.js';
import {
  ALERTING_PROTOCOLS,
  defaultSilenceSeconds,
  silenceKey,
  silenceProtocols,
  type LogSilenceSeconds,
} from './protocols/index.js';

/** Durations are Prometheus duration strings ("30s", "2m"); they are written as they are into rules and routes. */
export interface AlertingParams {
  /** Evaluation interval of every torchain rule group (the rule file sets it, so the budget does not depend on Prometheus' global). */
  evaluationInterval: string;
  tunnelDown: { for: string };
  connectionErrors: { window: string; threshold: number; for: string };
  exporterDown: { for: string };
  exporterMissing: { lookback: string; for: string };
  /** `<type>Seconds` per protocol with a silence rule (prometheus-rules/src/protocols/), and `for`. */
  logSilence: LogSilenceSeconds & { for: string };
  poolExhausted: { for: string };
  failoverSlow: { window: string; quantile: number; thresholdSeconds: number };
  switchingOften: { window: string; threshold: number };
  operatorDown: { for: string };
  webhookErrors: { window: string; for: string };
  /**
   * TorchainSwitchNotificationsMissing: how long switch alerts may fire while the operator receives no webhook call.
   * It must cover a whole notification cycle (see paramProblems), or it fires while Alertmanager is only waiting.
   */
  notificationsMissing: { for: string };
  /** TorchainDnsDown: the gateway's resolver fails its probe while the hop's tunnel is up. */
  dnsDown: { for: string };
  /** TorchainDnsErrors: the share of failed queries at the gateway's resolver, once there are enough queries. */
  dnsErrors: { window: string; ratio: number; minQueries: number; for: string };
  route: { groupWait: string; groupInterval: string; repeatInterval: string };
  /**
   * Inputs of the timing budget that the rules do not set (docs/alerting.md). They only feed
   * `timingBudget()`/`defaultCooldownSeconds()`; the chart's PodMonitor owns the scrape interval.
   */
  budget: {
    scrapeInterval: string;
    downDetectionSeconds: number;
    upDetectionSeconds: number;
    reconnectSeconds: number;
  };
}

export const DEFAULT_ALERTING: AlertingParams = {
  evaluationInterval: '2s',
  tunnelDown: { for: '6s' },
  connectionErrors: { window: '1m', threshold: 6, for: '10s' },
  exporterDown: { for: '1m' },
  exporterMissing: { lookback: '1h', for: '2m' },
  logSilence: { ...defaultSilenceSeconds(), for: '5m' },
  poolExhausted: { for: '30s' },
  failoverSlow: { window: '1h', quantile: 0.9, thresholdSeconds: 60 },
  switchingOften: { window: '1h', threshold: 6 },
  operatorDown: { for: '2m' },
  webhookErrors: { window: '15m', for: '0s' },
  notificationsMissing: { for: '7m' },
  dnsDown: { for: '1m' },
  dnsErrors: { window: '5m', ratio: 0.25, minQueries: 20, for: '2m' },
  route: { groupWait: '2s', groupInterval: '5s', repeatInterval: '5m' },
  budget: { scrapeInterval: '2s', downDetectionSeconds: 5, upDetectionSeconds: 2, reconnectSeconds: 10 },
};

/** Short timings for the lab (one machine, 1 s scrapes): server death → webhook well under 10 s. */
export const LAB_ALERTING: AlertingParams = {
  evaluationInterval: '1s',
  tunnelDown: { for: '5s' },
  connectionErrors: { window: '30s', threshold: 3, for: '2s' },
  exporterDown: { for: '5s' },
  exporterMissing: { lookback: '10m', for: '5s' },
  logSilence: { ...defaultSilenceSeconds(), for: '10s' },
  poolExhausted: { for: '1s' },
  failoverSlow: { window: '10m', quantile: 0.9, thresholdSeconds: 25 },
  switchingOften: { window: '10m', threshold: 30 },
  operatorDown: { for: '5s' },
  webhookErrors: { window: '1m', for: '0s' },
  notificationsMissing: { for: '40s' },
  dnsDown: { for: '5s' },
  dnsErrors: { window: '30s', ratio: 0.5, minQueries: 5, for: '2s' },
  route: { groupWait: '1s', groupInterval: '1s', repeatInterval: '30s' },
  budget: { scrapeInterval: '1s', downDetectionSeconds: 3, upDetectionSeconds: 2, reconnectSeconds: 5 },
};

type Kind = 'duration' | 'positive-duration' | 'count' | 'seconds' | 'quantile';

interface ParamDoc {
  kind: Kind;
  /** One line for `## @param alerting.<path>` in values.yaml and for docs/alerting.md. */
  doc: string;
}

/** Every parameter that is a chart value (`alerting.<path>`), in values.yaml order. `budget.*` is not a chart value. */
export const PARAM_DOCS: Record<string, ParamDoc> = {
  evaluationInterval: { kind: 'positive-duration', doc: 'Evaluation interval of the torchain rule groups' },
  'tunnelDown.for': {
    kind: 'duration',
    doc: 'How long a hop tunnel must read down before TorchainHopTunnelDown asks for a switch',
  },
  'connectionErrors.window': {
    kind: 'positive-duration',
    doc: 'Window over which connection errors of a hop are counted',
  },
  'connectionErrors.threshold': {
    kind: 'count',
    doc: 'Connection errors within the window that make TorchainHopConnectionErrors ask for a switch',
  },
  'connectionErrors.for': { kind: 'duration', doc: 'How long the error count must stay at or above the threshold' },
  'exporterDown.for': {
    kind: 'duration',
    doc: "How long a hop's log-exporter may fail its scrapes before TorchainExporterDown",
  },
  'exporterMissing.lookback': {
    kind: 'positive-duration',
    doc: 'A hop scraped within this lookback but not now raises TorchainExporterMissing',
  },
  'exporterMissing.for': {
    kind: 'duration',
    doc: 'How long the exporter must be missing before TorchainExporterMissing',
  },
  ...Object.fromEntries(
    silenceProtocols().map((p) => [
      `logSilence.${silenceKey(p)}`,
      { kind: 'seconds', doc: (ALERTING_PROTOCOLS[p].logSilence as { doc: string }).doc } satisfies ParamDoc,
    ]),
  ),
  'logSilence.for': { kind: 'duration', doc: 'How long the silence must last beyond its threshold' },
  'poolExhausted.for': { kind: 'duration', doc: 'How long a hop pool must be exhausted before TorchainPoolExhausted' },
  'failoverSlow.window': { kind: 'positive-duration', doc: 'Window of failovers that TorchainFailoverSlow looks at' },
  'failoverSlow.quantile': { kind: 'quantile', doc: 'Quantile of the failover durations compared with the threshold' },
  'failoverSlow.thresholdSeconds': {
    kind: 'seconds',
    doc: 'Failover duration (alert start to hop Ready) considered slow',
  },
  'switchingOften.window': { kind: 'positive-duration', doc: 'Window over which switches of one hop are counted' },
  'switchingOften.threshold': {
    kind: 'count',
    doc: 'Switches of one hop within the window that raise TorchainHopSwitchingOften',
  },
  'operatorDown.for': { kind: 'duration', doc: 'How long no operator replica may lead before TorchainOperatorDown' },
  'webhookErrors.window': {
    kind: 'positive-duration',
    doc: 'Window for the webhook alerts (notifications Alertmanager failed to deliver, requests the operator refused)',
  },
  'webhookErrors.for': { kind: 'duration', doc: 'How long a webhook failure must persist before its alert fires' },
  'notificationsMissing.for': {
    kind: 'positive-duration',
    doc: 'How long switch alerts may fire without any webhook call reaching the operator before TorchainSwitchNotificationsMissing (at least groupWait + groupInterval + repeatInterval + evaluationInterval, plus a scrape of the operator)',
  },
  'dnsDown.for': {
    kind: 'duration',
    doc: "How long the gateway's DNS resolver must fail its probe (while the hop's tunnel is up) before TorchainDnsDown",
  },
  'dnsErrors.window': {
    kind: 'positive-duration',
    doc: "Window over which the gateway resolver's answered and failed queries are counted",
  },
  'dnsErrors.ratio': {
    kind: 'quantile', // a share: between 0 and 1
    doc: 'Share of failed DNS queries within the window that raises TorchainDnsErrors',
  },
  'dnsErrors.minQueries': {
    kind: 'count',
    doc: 'Queries within the window below which TorchainDnsErrors stays quiet (a few failures of a quiet LAN prove nothing)',
  },
  'dnsErrors.for': { kind: 'duration', doc: 'How long the failed share must stay above the ratio' },
  'route.groupWait': {
    kind: 'positive-duration',
    doc: 'Alertmanager group_wait of the switch route: wait for other hops of the chain before the first notification',
  },
  'route.groupInterval': {
    kind: 'positive-duration',
    doc: 'Alertmanager group_interval of the switch route: delay of a notification when the group changes',
  },
  'route.repeatInterval': {
    kind: 'positive-duration',
    doc: 'Alertmanager repeat_interval of the switch route: re-notify a chain whose switch alerts keep firing',
  },
};

export function getPath(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

/** Every problem of `params`, each naming the value and what to write instead; empty when valid. */
export function paramProblems(params: AlertingParams): string[] {
  const problems: string[] = [];
  const check = (path: string, kind: Kind, v: unknown): void => {
    const where = `alerting.${path}`;
    switch (kind) {
      case 'duration':
      case 'positive-duration':
        if (typeof v !== 'string' || !isDuration(v))
          problems.push(`${where}: "${String(v)}" is not a duration like 30s or 2m`);
        else if (kind === 'positive-duration' && durationSeconds(v) <= 0)
          problems.push(`${where}: must be longer than 0s`);
        break;
      case 'count':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
          problems.push(`${where}: ${String(v)} must be an integer >= 1`);
        break;
      case 'seconds':
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
          problems.push(`${where}: ${String(v)} must be a number of seconds > 0`);
        break;
      case 'quantile':
        if (typeof v !== 'number' || !(v > 0 && v < 1))
          problems.push(`${where}: ${String(v)} must be between 0 and 1 (exclusive)`);
        break;
    }
  };
  for (const [path, { kind }] of Object.entries(PARAM_DOCS)) check(path, kind, getPath(params, path));
  check('budget.scrapeInterval', 'positive-duration', params.budget?.scrapeInterval);
  for (const k of ['downDetectionSeconds', 'upDetectionSeconds', 'reconnectSeconds'] as const) {
    const v = params.budget?.[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      problems.push(`alerting.budget.${k}: ${String(v)} must be seconds >= 0`);
  }
  if (problems.length === 0) {
    if (durationSeconds(params.route.repeatInterval) < durationSeconds(params.route.groupInterval))
      problems.push(
        'alerting.route.repeatInterval: must not be shorter than route.groupInterval (Alertmanager re-sends on group flushes)',
      );
    const cycle = ['groupWait', 'groupInterval', 'repeatInterval'].reduce(
      (sum, k) => sum + durationSeconds(params.route[k as keyof AlertingParams['route']]),
      durationSeconds(params.evaluationInterval),
    );
    if (durationSeconds(params.notificationsMissing.for) <= cycle)
      problems.push(
        `alerting.notificationsMissing.for: must be longer than route.groupWait + route.groupInterval + route.repeatInterval + evaluationInterval (${cycle}s), or it fires while Alertmanager is still due to notify`,
      );
    if (durationSeconds(params.connectionErrors.window) < 2 * durationSeconds(params.budget.scrapeInterval))
      problems.push('alerting.connectionErrors.window: must cover at least two scrapes, or increase() sees no change');
  }
  return problems;
}

/** Throws one error listing every problem; returns `params` unchanged when valid. */
export function validateParams(params: AlertingParams): AlertingParams {
  const problems = paramProblems(params);
  if (problems.length) throw new Error(`invalid alerting parameters:\n  ${problems.join('\n  ')}`);
  return params;
}
