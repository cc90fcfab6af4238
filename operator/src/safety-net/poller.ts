// The safety net: every poll interval the leader asks Prometheus for firing switch alerts and feeds them to the same
// decision as the webhook, so a lost notification or an operator restart delays a failover by one interval at most.
// Alertmanager is asked first: what it holds as silenced or inhibited is left alone. When Alertmanager cannot be
// reached, the poll acts on Prometheus' alerts alone: it exists for lost notifications and Alertmanager outages, and
// a hop left down for the length of an outage is worse than a silence not honoured (docs/operator.md).
import { PrometheusDriver } from 'prometheus-query';
import { errorMessage } from '../errors.js';
import type { SwitchAlert } from '../core/failover.js';
import type { Logger } from '../../../common/log.js';
import { screenWithAlertmanager, type AmAlert, type AmSilence, type SuppressReason } from './alertmanager-screen.js';
import { labelledSwitchAlertsFromRules, type RuleGroupLike } from './prometheus-alerts.js';

export interface PollerOptions {
  url: string;
  intervalMs: number;
  /** Alerts younger than this are left to Alertmanager. */
  minAgeMs: number;
  isLeader: () => boolean;
  isReady: () => boolean;
  act: (alerts: SwitchAlert[]) => Promise<unknown>;
  log: Logger;
  timeoutMs?: number;
  /** Alertmanager's state (alerts and silences); absent: Prometheus' alerts are acted on as they are. */
  alertmanager?: { url: string; state: () => Promise<{ alerts: AmAlert[]; silences: AmSilence[] }> };
  /** Counts Alertmanager queries by result and the alerts left alone by reason. */
  onAlertmanager?: (result: 'success' | 'error') => void;
  onSuppressed?: (reason: SuppressReason, count: number) => void;
}

export function prometheusRules(url: string, timeoutMs = 5000): () => Promise<RuleGroupLike[]> {
  const driver = new PrometheusDriver({ endpoint: url.replace(/\/+$/, ''), baseURL: '/api/v1', timeout: timeoutMs });
  return async () => (await driver.rules()) as unknown as RuleGroupLike[];
}

export class PrometheusPoller {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly fetchRules: () => Promise<RuleGroupLike[]>;
  readonly stats = { polls: 0, failures: 0, alerts: 0, suppressed: 0, alertmanagerFailures: 0 };

  constructor(private readonly opts: PollerOptions) {
    this.fetchRules = prometheusRules(opts.url, opts.timeoutMs);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      void this.pollOnce().finally(() => {
        if (!this.running) return;
        this.timer = setTimeout(loop, this.opts.intervalMs);
        this.timer.unref();
      });
    };
    this.timer = setTimeout(loop, this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Leaves out what Alertmanager holds as silenced or inhibited; all of them when Alertmanager does not answer. */
  private async screen(firing: Parameters<typeof screenWithAlertmanager>[0]): Promise<SwitchAlert[]> {
    const am = this.opts.alertmanager;
    if (!am) return firing.map((f) => f.alert);
    let state;
    try {
      state = await am.state();
      this.opts.onAlertmanager?.('success');
    } catch (err) {
      this.stats.alertmanagerFailures++;
      this.opts.onAlertmanager?.('error');
      this.opts.log.warn("safety net: Alertmanager unreachable; acting on Prometheus' alerts without its silences", {
        url: am.url,
        error: errorMessage(err),
        alerts: firing.length,
      });
      return firing.map((f) => f.alert);
    }
    const { act, suppressed } = screenWithAlertmanager(firing, state);
    if (suppressed.length) {
      this.stats.suppressed += suppressed.length;
      for (const reason of ['silenced', 'inhibited'] as const) {
        const n = suppressed.filter((x) => x.reason === reason).length;
        if (n) this.opts.onSuppressed?.(reason, n);
      }
      this.opts.log.info('safety net: alerts silenced or inhibited in Alertmanager; not acted on', { suppressed });
    }
    return act;
  }

  /** One poll; never throws (a failed poll is logged and the next one comes). Returns the alerts acted on. */
  async pollOnce(): Promise<SwitchAlert[]> {
    if (!this.opts.isLeader() || !this.opts.isReady()) return [];
    this.stats.polls++;
    try {
      const groups = await this.fetchRules();
      const firing = labelledSwitchAlertsFromRules(groups, Date.now(), this.opts.minAgeMs);
      const alerts = firing.length ? await this.screen(firing) : [];
      this.stats.alerts += alerts.length;
      if (alerts.length) {
        this.opts.log.info('safety net: firing switch alerts found in Prometheus', { alerts: alerts.length });
        await this.opts.act(alerts);
      }
      return alerts;
    } catch (err) {
      this.stats.failures++;
      this.opts.log.warn('safety net: Prometheus poll failed; retrying next interval', {
        url: this.opts.url,
        error: errorMessage(err),
      });
      return [];
    }
  }
}
