// End to end with the real daemons and the lab timings: a hop reads down → Prometheus fires the switch alert →
// Alertmanager calls the webhook with the bearer token and the hop's labels → the hop recovers → resolution.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durationSeconds, LAB_ALERTING, timingBudget } from '../../prometheus-rules/src/render.js';
import { skipUnless } from '../support/env.js';
import { IDENTITY, measureFailureToWebhook, startPipeline, type Pipeline } from './pipeline.js';
import { ALERTMANAGER, PROMETHEUS } from './support.js';

describe.skipIf(skipUnless({ binaries: [PROMETHEUS, ALERTMANAGER] }))(
  'exporter → Prometheus → Alertmanager → webhook',
  () => {
    let p: Pipeline;
    beforeAll(async () => {
      p = await startPipeline(LAB_ALERTING);
    });
    afterAll(async () => p?.close());

    it('delivers the switch alert with the hop identity and the token, then its resolution', async () => {
      const ms = await measureFailureToWebhook(p);
      const budget = timingBudget(LAB_ALERTING);
      console.log(
        JSON.stringify({
          measure: 'down→webhook (lab timings)',
          ms,
          budgetWorstSeconds: budget.worstSeconds - LAB_ALERTING.budget.downDetectionSeconds,
        }),
      );
      // `for` is a lower bound Prometheus guarantees (no speed claim): the alert cannot fire sooner.
      expect(ms).toBeGreaterThanOrEqual(durationSeconds(LAB_ALERTING.tunnelDown.for) * 1000);
      const firing = p.calls.find((c) => c.body.status === 'firing');
      expect(firing?.authorization).toBe(`Bearer ${p.token}`);
      expect(firing?.body.groupLabels).toEqual({ namespace: IDENTITY.namespace, torchain: IDENTITY.torchain });
      const { pod: _pod, ...identity } = IDENTITY;
      expect(firing?.body.alerts[0]?.labels).toEqual({
        alertname: 'TorchainHopTunnelDown',
        severity: 'warning',
        torchain_action: 'switch',
        ...identity,
      });
      const resolved = p.calls.at(-1);
      expect(resolved?.body.alerts.map((a) => a.status)).toEqual(['resolved']);
    });
  },
);
