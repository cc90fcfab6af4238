// The safety net against a real Prometheus: firing switch alerts read from /api/v1/rules, and the operator process
// switching a hop with no webhook call at all (a lost notification).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { PrometheusPoller } from '../../operator/src/safety-net/poller.js';
import { switchAlertsFromRules } from '../../operator/src/safety-net/prometheus-alerts.js';
import { skipUnless } from '../support/env.js';
import {
  PodReadiness,
  createChain,
  eventually,
  getTc,
  seedChain,
  sleep,
  startOperatorProcess,
  startStandIns,
  type OperatorProcess,
  type StandIns,
} from './support/harness.js';
import { PROMETHEUS, startPrometheus, type TestPrometheus } from './support/prometheus.js';

// Rules shaped like prometheus-rules' switch alerts; vector(1) stands for "tunnel down" so the test needs no exporter.
// Hop 1's rule is loaded only once hop 1 is down, as its alert would begin in a cluster.
const BASE_RULES = `groups:
  - name: test
    rules:
      - alert: TorchainHopTunnelDown
        expr: vector(1)
        for: 1h
        labels: { torchain_action: switch, namespace: vpn, torchain: alpha, hop: "2", server: h2-s0 }
      - alert: TorchainExporterMissing
        expr: vector(1)
        labels: { namespace: vpn, torchain: alpha, hop: "3" }
`;
const HOP1_RULE = `      - alert: TorchainHopTunnelDown
        expr: vector(1)
        for: 2s
        labels: { torchain_action: switch, namespace: vpn, torchain: alpha, hop: "1", server: h1-s0, type: openvpn }
`;
const RULES = BASE_RULES + HOP1_RULE;

describe('pure: alerts from the rules API', () => {
  it('keeps firing switch alerts old enough, estimating startsAt as activeAt + for', () => {
    const activeAt = '2026-01-01T12:00:00Z';
    const groups = [
      {
        rules: [
          {
            type: 'alerting',
            duration: 60,
            alerts: [
              {
                activeAt,
                state: 'firing',
                labels: { torchain_action: 'switch', namespace: 'n', torchain: 'c', hop: '2' },
              },
            ],
          },
          {
            type: 'alerting',
            duration: 0,
            alerts: [
              {
                activeAt,
                state: 'pending',
                labels: { torchain_action: 'switch', namespace: 'n', torchain: 'c', hop: '1' },
              },
            ],
          },
          {
            type: 'alerting',
            duration: 0,
            alerts: [
              {
                activeAt,
                state: 'firing',
                labels: { torchain_action: 'switch', namespace: 'n', torchain: 'c', hop: 'x' },
              },
            ],
          },
          { type: 'recording' },
        ],
      },
    ];
    const now = Date.parse('2026-01-01T12:01:30Z');
    expect(switchAlertsFromRules(groups, now, 10_000)).toEqual([
      { namespace: 'n', torchain: 'c', hop: 2, startsAt: '2026-01-01T12:01:00.000Z' },
    ]);
    expect(switchAlertsFromRules(groups, now, 60_000)).toEqual([]);
  });
});

describe.skipIf(skipUnless({ binaries: [PROMETHEUS] }))('safety net with a real Prometheus', () => {
  let prom: TestPrometheus;
  let s: StandIns;
  let op: OperatorProcess | undefined;
  let kubelet: PodReadiness;

  beforeAll(async () => {
    prom = await startPrometheus(RULES);
    s = await startStandIns();
    await seedChain(s, 'alpha');
    await createChain(s, 'alpha');
    kubelet = new PodReadiness(s);
    kubelet.start();
  });
  afterAll(async () => {
    kubelet?.stop();
    await op?.kill();
    await s?.close();
    await prom?.close();
  });

  it('reads the firing switch alerts Prometheus holds, and only those', async () => {
    const seen: unknown[] = [];
    const poller = new PrometheusPoller({
      url: prom.url,
      intervalMs: 1000,
      minAgeMs: 0,
      isLeader: () => true,
      isReady: () => true,
      act: async (alerts) => seen.push(...alerts),
      log: silentLogger,
    });
    const alerts = await eventually(async () => {
      const a = await poller.pollOnce();
      return a.length ? a : undefined;
    }, 'a firing switch alert');
    expect(alerts).toEqual([
      expect.objectContaining({
        namespace: 'vpn',
        torchain: 'alpha',
        hop: 1,
        server: 'h1-s0',
        alertname: 'TorchainHopTunnelDown',
      }),
    ]);
    expect(seen).toEqual(alerts);
    expect(Date.parse(alerts[0]!.startsAt)).toBeLessThanOrEqual(Date.now());
    // A follower never acts.
    const follower = new PrometheusPoller({
      url: prom.url,
      intervalMs: 1000,
      minAgeMs: 0,
      isLeader: () => false,
      isReady: () => true,
      act: async () => undefined,
      log: silentLogger,
    });
    expect(await follower.pollOnce()).toEqual([]);
    // A Prometheus that does not answer is a logged failure, not an exception.
    const dead = new PrometheusPoller({
      url: 'http://127.0.0.1:9',
      intervalMs: 1000,
      minAgeMs: 0,
      isLeader: () => true,
      isReady: () => true,
      act: async () => undefined,
      log: silentLogger,
      timeoutMs: 500,
    });
    expect(await dead.pollOnce()).toEqual([]);
    expect(dead.stats.failures).toBe(1);
  });

  it('switches the topmost firing hop with no webhook call, once', async () => {
    await prom.setRules(BASE_RULES);
    op = await startOperatorProcess(s, {
      TORCHAIN_PROMETHEUS_URL: prom.url,
      TORCHAIN_POLL_INTERVAL_SECONDS: '1',
      TORCHAIN_COOLDOWN_SECONDS: '2',
    });
    await eventually(async () => (await getTc(s, 'alpha-3')).status?.phase === 'Running', 'the chain running');
    // Hop 1's tunnel goes down: its TorChain turns not Ready, then its alert begins.
    kubelet.down.add('alpha-1');
    await eventually(
      async () => (await getTc(s, 'alpha-1')).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False',
      'alpha-1 not Ready',
    );
    await prom.setRules(RULES);
    const tc = await eventually(async () => {
      const t = await getTc(s, 'alpha-1');
      return (t.spec.switchServer ?? 0) >= 1 ? t : undefined;
    }, 'the safety net to switch hop 1');
    expect(tc.spec.switchServer).toBe(1);
    kubelet.down.delete('alpha-1');
    await eventually(async () => (await getTc(s, 'alpha-1')).status?.currentServer === 'h1-s1', 'hop 1 on h1-s1');
    // The alert still names h1-s0, a server the hop left: polls past the cooldown do not switch again.
    await sleep(4000);
    expect((await getTc(s, 'alpha-1')).spec.switchServer).toBe(1);
    expect((await getTc(s, 'alpha-2')).spec.switchServer ?? 0).toBe(0);
    expect(op.logs.some((l) => l.msg === 'safety net: firing switch alerts found in Prometheus')).toBe(true);
  });
});
