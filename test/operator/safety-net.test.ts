// The safety net against a real Prometheus: firing switch alerts read from /api/v1/rules, and the operator process
// switching a hop with no webhook call at all (a lost notification).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import {
  matcherMatches,
  screenWithAlertmanager,
  type AmAlert,
  type LabelledAlert,
} from '../../operator/src/safety-net/alertmanager-screen.js';
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
import { ALERTMANAGER, AMTOOL, startAlertmanager, type TestAlertmanager } from './support/alertmanager.js';
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

describe('pure: what Alertmanager holds back', () => {
  const labelled = (hop: number, extra: Record<string, string> = {}): LabelledAlert => {
    const labels = {
      alertname: 'TorchainHopTunnelDown',
      torchain_action: 'switch',
      namespace: 'vpn',
      torchain: 'alpha',
      hop: String(hop),
      server: `h${String(hop)}-s0`,
      ...extra,
    };
    return {
      labels,
      alert: { namespace: 'vpn', torchain: 'alpha', hop, startsAt: '2026-01-01T12:00:00Z', server: labels.server },
    };
  };
  // Alertmanager adds Prometheus' external labels: the identity labels still find the alert.
  const am = (hop: number, status: AmAlert['status']): AmAlert => ({
    labels: { ...labelled(hop).labels, prometheus: 'monitoring/kps', severity: 'warning' },
    status,
  });

  it('leaves out what Alertmanager holds as silenced or inhibited, acts on the rest', () => {
    const r = screenWithAlertmanager([labelled(1), labelled(2), labelled(3)], {
      alerts: [
        am(1, { state: 'suppressed', silencedBy: ['s-1'], inhibitedBy: [] }),
        am(2, { state: 'suppressed', silencedBy: [], inhibitedBy: ['fp-x'] }),
        am(3, { state: 'active', silencedBy: [], inhibitedBy: [] }),
      ],
      silences: [],
    });
    expect(r.act.map((a) => a.hop)).toEqual([3]);
    expect(r.suppressed).toEqual([
      expect.objectContaining({ hop: 1, reason: 'silenced', by: ['s-1'], server: 'h1-s0' }),
      expect.objectContaining({ hop: 2, reason: 'inhibited', by: ['fp-x'] }),
    ]);
  });

  it('an alert Alertmanager has not received yet is held back by a matching active silence', () => {
    const silence = (matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual?: boolean }>) => ({
      id: 'sil',
      matchers,
      status: { state: 'active' },
    });
    const screen = (s: ReturnType<typeof silence>, state = 'active') =>
      screenWithAlertmanager([labelled(1)], { alerts: [], silences: [{ ...s, status: { state } }] }).act.length;
    expect(screen(silence([{ name: 'torchain', value: 'alpha', isRegex: false }]))).toBe(0);
    expect(screen(silence([{ name: 'torchain', value: 'alpha', isRegex: false }]), 'expired')).toBe(1);
    expect(screen(silence([{ name: 'torchain', value: 'beta', isRegex: false }]))).toBe(1);
    expect(screen(silence([{ name: 'hop', value: '1|2', isRegex: true }]))).toBe(0);
    expect(screen(silence([{ name: 'hop', value: '1', isRegex: false, isEqual: false }]))).toBe(1);
    expect(screen(silence([{ name: 'server', value: '(?i)H1-.*', isRegex: true }]))).toBe(0);
  });

  it('matchers are anchored; a pattern JavaScript cannot compile holds the alert back (never ignored by accident)', () => {
    const labels = { hop: '12' };
    expect(matcherMatches({ name: 'hop', value: '1', isRegex: true }, labels)).toBe(false);
    expect(matcherMatches({ name: 'hop', value: '1.', isRegex: true }, labels)).toBe(true);
    expect(matcherMatches({ name: 'missing', value: '', isRegex: false }, labels)).toBe(true);
    expect(matcherMatches({ name: 'hop', value: '(?P<x>1)2', isRegex: true }, labels)).toBe(true);
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

describe.skipIf(skipUnless({ binaries: [PROMETHEUS, ALERTMANAGER, AMTOOL] }))(
  'safety net and Alertmanager: silences are honoured, an Alertmanager outage is not a reason to wait',
  () => {
    let am: TestAlertmanager;
    let prom: TestPrometheus;
    let s: StandIns;
    let op: OperatorProcess | undefined;
    let kubelet: PodReadiness;

    // A new alert for hop 2, begun once hop 2 is down (the base rule for hop 2 has been pending since the start).
    const HOP2_FIRING =
      RULES +
      `      - alert: TorchainHopConnectionErrors
        expr: vector(1)
        for: 2s
        labels: { torchain_action: switch, namespace: vpn, torchain: alpha, hop: "2", server: h2-s0 }
`;
    const notReady = (name: string) =>
      eventually(
        async () => (await getTc(s, name)).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False',
        `${name} not Ready`,
      );
    const switchServer = async (name: string) => (await getTc(s, name)).spec.switchServer ?? 0;
    const metric = async (name: string) => {
      const text = await (await fetch(`${op!.url}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    };

    beforeAll(async () => {
      am = await startAlertmanager();
      prom = await startPrometheus(BASE_RULES, { alertmanager: am.address });
      s = await startStandIns();
      await seedChain(s, 'alpha');
      await createChain(s, 'alpha');
      kubelet = new PodReadiness(s);
      kubelet.start();
      op = await startOperatorProcess(s, {
        TORCHAIN_PROMETHEUS_URL: prom.url,
        TORCHAIN_ALERTMANAGER_URL: am.url,
        TORCHAIN_POLL_INTERVAL_SECONDS: '1',
        TORCHAIN_COOLDOWN_SECONDS: '2',
      });
      await eventually(async () => (await getTc(s, 'alpha-3')).status?.phase === 'Running', 'the chain running');
    });
    afterAll(async () => {
      kubelet?.stop();
      await op?.kill();
      await s?.close();
      await prom?.close();
      await am?.close();
    });

    it('a silenced alert is not switched by the poll; once the silence expires it is', async () => {
      kubelet.down.add('alpha-1');
      await notReady('alpha-1');
      const id = await am.silence({ torchain: 'alpha', hop: '1' });
      await prom.setRules(RULES);
      // Alertmanager received the alert from Prometheus and holds it as silenced.
      await eventually(
        async () => (await am.alerts()).some((a) => a.labels.hop === '1' && a.status.state === 'suppressed'),
        'the hop-1 alert silenced in Alertmanager',
      );
      const polls = () =>
        op!.logs.filter((l) => l.msg === 'safety net: alerts silenced or inhibited in Alertmanager; not acted on');
      const seen = polls().length;
      await eventually(async () => polls().length >= seen + 3, 'three polls holding the silenced alert back');
      expect(await switchServer('alpha-1')).toBe(0);
      expect(polls().at(-1)).toMatchObject({
        suppressed: [expect.objectContaining({ hop: 1, reason: 'silenced', by: [id] })],
      });
      expect(
        await metric('torchain_operator_safety_net_suppressed_alerts_total\\{reason="silenced"\\}'),
      ).toBeGreaterThan(0);

      await am.expire(id);
      await eventually(async () => (await switchServer('alpha-1')) === 1, 'the switch once the silence expired');
      kubelet.down.delete('alpha-1');
      await eventually(async () => (await getTc(s, 'alpha-1')).status?.currentServer === 'h1-s1', 'hop 1 on h1-s1');
    });

    it('Alertmanager down: the poll still fails over (a silence cannot be checked, a lost failover is worse)', async () => {
      kubelet.down.add('alpha-2');
      await notReady('alpha-2');
      await am.silence({ torchain: 'alpha', hop: '2' });
      await am.stop();
      try {
        await prom.setRules(HOP2_FIRING);
        await eventually(async () => (await switchServer('alpha-2')) === 1, 'the poll to switch hop 2', 30_000);
        expect(op!.logs).toContainEqual(
          expect.objectContaining({
            level: 'warn',
            msg: "safety net: Alertmanager unreachable; acting on Prometheus' alerts without its silences",
          }),
        );
        expect(await metric('torchain_operator_alertmanager_requests_total\\{result="error"\\}')).toBeGreaterThan(0);
      } finally {
        kubelet.down.delete('alpha-2');
        await am.start();
      }
    });
  },
);
