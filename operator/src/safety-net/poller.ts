// The safety net: every poll interval the leader asks Prometheus for firing switch alerts and feeds them to the same
// decision as the webhook, so a lost notification or an operator restart delays a failover by one interval at most.
import { PrometheusDriver } from 'prometheus-query';
import { errorMessage } from '../errors.js';
import type { SwitchAlert } from '../core/failover.js';
import type { Logger } from '../../../common/log.js';
import { switchAlertsFromRules, type RuleGroupLike } from './prometheus-alerts.js';

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
}

export function prometheusRules(url: string, timeoutMs = 5000): () => Promise<RuleGroupLike[]> {
  const driver = new PrometheusDriver({ endpoint: url.replace(/\/+$/, ''), baseURL: '/api/v1', timeout: timeoutMs });
  return async () => (await driver.rules()) as unknown as RuleGroupLike[];
}

export class PrometheusPoller {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly fetchRules: () => Promise<RuleGroupLike[]>;
  readonly stats = { polls: 0, failures: 0, alerts: 0 };

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

  /** One poll; never throws (a failed poll is logged and the next one comes). Returns the alerts acted on. */
  async pollOnce(): Promise<SwitchAlert[]> {
    if (!this.opts.isLeader() || !this.opts.isReady()) return [];
    this.stats.polls++;
    try {
      const groups = await this.fetchRules();
      const alerts = switchAlertsFromRules(groups, Date.now(), this.opts.minAgeMs);
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
