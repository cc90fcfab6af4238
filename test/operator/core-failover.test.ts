import { describe, expect, it } from 'vitest';
import { decideFailover, switchPatch, type HopView, type SwitchAlert } from '../../operator/src/core/failover.js';
import { parseFailoverState, type FailoverState } from '../../operator/src/core/failover-state.js';
import { ANNOTATION_FAILOVER, ANNOTATION_SERVER_SINCE, labelValue } from '../../operator/src/core/naming.js';
import { hopView } from '../../operator/src/failover/executor.js';
import { torchain } from './support/fixtures.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const COOLDOWN = 120_000;
const iso = (ms: number) => new Date(ms).toISOString();

const hop = (n: number, extra: Partial<HopView> = {}): HopView => ({
  namespace: 'vpn',
  name: `alpha-${String(n)}`,
  chain: 'alpha',
  hop: n,
  resourceVersion: `rv${String(n)}`,
  switchServer: 0,
  dropped: false,
  currentServer: `s${String(n)}-a`,
  failover: { switches: 0, quarantine: {} },
  ...extra,
});
const alert = (n: number, extra: Partial<SwitchAlert> = {}): SwitchAlert => ({
  namespace: 'vpn',
  torchain: 'alpha',
  hop: n,
  startsAt: iso(NOW - 30_000),
  fingerprint: `fp${String(n)}`,
  ...extra,
});
const switchedAt = (ms: number, a?: SwitchAlert): FailoverState => ({
  switches: 1,
  lastSwitchTime: iso(ms),
  quarantine: {},
  ...(a ? { lastAlert: { startsAt: a.startsAt, fingerprint: a.fingerprint! } } : {}),
});
const decide = (alerts: SwitchAlert[], hops: HopView[], now = NOW) =>
  decideFailover({ alerts, hops, now, cooldownMs: COOLDOWN });

describe('failover decision: topmost firing hop', () => {
  it('switches only the lowest-numbered firing hop of a chain, the others wait', () => {
    const [d] = decide([alert(3), alert(2)], [hop(1), hop(2), hop(3)]);
    expect(d).toMatchObject({ action: 'switch', hop: 2, name: 'alpha-2', toSwitchServer: 1, waiting: [3] });
  });

  it('decides each chain of each namespace on its own', () => {
    const ds = decide(
      [alert(2), alert(1, { torchain: 'beta' }), alert(1, { namespace: 'other' })],
      [hop(1), hop(2), hop(1, { chain: 'beta', name: 'beta-1' }), hop(1, { namespace: 'other', name: 'o-1' })],
    );
    expect(ds.map((d) => [d.namespace, d.chain, d.action, d.hop])).toEqual([
      ['other', 'alpha', 'switch', 1],
      ['vpn', 'alpha', 'switch', 2],
      ['vpn', 'beta', 'switch', 1],
    ]);
  });

  it('carries the resourceVersion precondition, the server left and the earliest alert of the hop', () => {
    const early = alert(1, { startsAt: iso(NOW - 90_000), fingerprint: 'early', server: 's1-a' });
    const [d] = decide([alert(1), early], [hop(1, { switchServer: 4 })]);
    expect(d).toMatchObject({
      action: 'switch',
      resourceVersion: 'rv1',
      fromSwitchServer: 4,
      toSwitchServer: 5,
      fromServer: 's1-a',
      trigger: { startsAt: early.startsAt, fingerprint: 'early' },
    });
  });

  it('reports alerts for hops that have no TorChain and acts on the next existing hop', () => {
    const [d] = decide([alert(1), alert(2)], [hop(2)]);
    expect(d).toMatchObject({ action: 'switch', hop: 2 });
    const [none] = decide([alert(5)], [hop(1)]);
    expect(none).toMatchObject({ action: 'none', reason: 'no-hop', unknownHops: [5] });
  });
});

describe('failover decision: cooldown and idempotence', () => {
  it('ignores a hop switched less than the cooldown ago, and says when it may act again', () => {
    const [d] = decide([alert(1)], [hop(1, { failover: switchedAt(NOW - 30_000) })]);
    expect(d).toMatchObject({ action: 'none', reason: 'cooldown', hop: 1, retryInSeconds: 90 });
  });

  it('a repeated notification of the alert that caused the switch is recognised as such', () => {
    const a = alert(1);
    const [d] = decide([a], [hop(1, { failover: switchedAt(NOW - 10_000, a) })]);
    expect(d).toMatchObject({ action: 'none', reason: 'already-switched' });
  });

  it('after the cooldown a still-firing hop moves on', () => {
    const a = alert(1);
    const [d] = decide([a], [hop(1, { switchServer: 1, failover: switchedAt(NOW - COOLDOWN, a) })]);
    expect(d).toMatchObject({ action: 'switch', toSwitchServer: 2 });
  });

  it('an alert about a server the hop already left is stale', () => {
    const [d] = decide([alert(1, { server: 'old' })], [hop(1, { currentServer: 'new' })]);
    expect(d).toMatchObject({ action: 'none', reason: 'stale-server' });
  });

  it('hops below a hop inside its cooldown wait for it, even when that hop no longer fires', () => {
    const [d] = decide([alert(3)], [hop(1, { failover: switchedAt(NOW - 60_000) }), hop(2), hop(3)]);
    expect(d).toMatchObject({ action: 'none', reason: 'upstream-switching', hop: 3, retryInSeconds: 60 });
  });

  it('a topmost hop inside its cooldown blocks the hops below it', () => {
    const [d] = decide([alert(1), alert(2)], [hop(1, { failover: switchedAt(NOW - 1000) }), hop(2)]);
    expect(d).toMatchObject({ action: 'none', reason: 'cooldown', hop: 1, waiting: [2] });
  });
});

describe('failover decision: dropped hops', () => {
  it('never switches a dropped hop, and hops below a dropped hop wait', () => {
    const [d] = decide([alert(1), alert(2)], [hop(1, { dropped: true }), hop(2)]);
    expect(d).toMatchObject({ action: 'none', reason: 'upstream-dropped', hop: 2 });
  });

  it('a dropped hop below the failing one changes nothing', () => {
    const [d] = decide([alert(1)], [hop(1), hop(2, { dropped: true })]);
    expect(d).toMatchObject({ action: 'switch', hop: 1 });
  });
});

describe('switch patch', () => {
  it('bumps switchServer, keeps the precondition and records count, time, trigger and quarantine', () => {
    const a = alert(1, { server: 's1-a' });
    const [d] = decide([a], [hop(1, { switchServer: 2 })]);
    if (d?.action !== 'switch') throw new Error('expected a switch');
    const old: FailoverState = {
      switches: 3,
      quarantine: { expired: iso(NOW - 1), live: iso(NOW + 5000) },
    };
    const patch = switchPatch(d, old, NOW, 600_000) as {
      metadata: { resourceVersion: string; annotations: Record<string, string> };
      spec: { switchServer: number };
    };
    expect(patch.spec.switchServer).toBe(3);
    expect(patch.metadata.resourceVersion).toBe('rv1');
    const state = parseFailoverState(patch.metadata.annotations[ANNOTATION_FAILOVER]);
    expect(state).toEqual({
      switches: 4,
      lastSwitchTime: iso(NOW),
      lastFrom: 's1-a',
      lastAlert: { startsAt: a.startsAt, fingerprint: 'fp1' },
      quarantine: { live: iso(NOW + 5000), 's1-a': iso(NOW + 600_000) },
    });
  });

  it('reads a missing or malformed annotation as no state, never throws', () => {
    expect(parseFailoverState(undefined)).toEqual({ switches: 0, quarantine: {} });
    expect(parseFailoverState('{not json')).toEqual({ switches: 0, quarantine: {} });
    expect(
      parseFailoverState('{"switches":-1,"lastSwitchTime":"never","quarantine":{"a":"x","b":"2026-01-01T00:00:00Z"}}'),
    ).toEqual({ switches: 0, quarantine: { b: '2026-01-01T00:00:00Z' } });
  });
});

describe('failover decision: hops above that are down or just recovered, new hops, exhausted pools', () => {
  const ago = (ms: number) => new Date(NOW - ms).toISOString();

  it('waits while a hop above is not Ready: its failure explains the alert below', () => {
    const [d] = decide([alert(2), alert(3)], [hop(1, { ready: false }), hop(2), hop(3)]);
    expect(d).toMatchObject({ action: 'none', reason: 'upstream-down', hop: 2, waiting: [3] });
  });

  it('waits while a hop above came back less than the grace ago (the hops below are reconnecting)', () => {
    const [d] = decide([alert(2)], [hop(1, { ready: true, readySince: ago(5_000) }), hop(2)]);
    expect(d).toMatchObject({ action: 'none', reason: 'upstream-recovering', hop: 2, retryInSeconds: 115 });
  });

  it('switches once the hop above has been Ready for longer than the grace', () => {
    const [d] = decide([alert(2)], [hop(1, { ready: true, readySince: ago(COOLDOWN + 1) }), hop(2)]);
    expect(d).toMatchObject({ action: 'switch', hop: 2 });
  });

  it('gives a new hop the grace to come up, then switches it', () => {
    // The alert began after the hop was created (an older one would be stale).
    expect(decide([alert(1, { startsAt: ago(500) })], [hop(1, { createdAt: ago(1_000) })])[0]).toMatchObject({
      action: 'none',
      reason: 'starting',
    });
    expect(decide([alert(1)], [hop(1, { createdAt: ago(COOLDOWN + 1) })])[0]).toMatchObject({ action: 'switch' });
  });

  it('a separate grace can be shorter than the cooldown', () => {
    const [d] = decideFailover({
      alerts: [alert(1, { startsAt: ago(500) })],
      hops: [hop(1, { createdAt: ago(1_000) })],
      now: NOW,
      cooldownMs: COOLDOWN,
      graceMs: 500,
    });
    expect(d).toMatchObject({ action: 'switch' });
  });

  it('does not switch a hop whose pool is exhausted again: reconcile retries when a quarantine ends', () => {
    const [d] = decide([alert(1)], [hop(1, { poolExhausted: true })]);
    expect(d).toMatchObject({ action: 'none', reason: 'pool-exhausted', hop: 1 });
  });
});

describe('failover decision: settling of hops below hop 1', () => {
  const decideSettle = (alerts: SwitchAlert[], hops: HopView[]) =>
    decideFailover({ alerts, hops, now: NOW, cooldownMs: COOLDOWN, settleMs: 15_000 });

  it('a hop below hop 1 that fired only just now waits: the alert of a hop above may still come', () => {
    const [d] = decideSettle([alert(3, { startsAt: iso(NOW - 4_000) })], [hop(1), hop(2), hop(3)]);
    expect(d).toMatchObject({ action: 'none', reason: 'settling', hop: 3, retryInSeconds: 11 });
  });

  it('once hop 1 fires too, hop 1 is switched and hop 3 waits', () => {
    const [d] = decideSettle(
      [alert(3, { startsAt: iso(NOW - 4_000) }), alert(1, { startsAt: iso(NOW - 1_000) })],
      [hop(1), hop(2), hop(3)],
    );
    expect(d).toMatchObject({ action: 'switch', hop: 1, waiting: [3] });
  });

  it('hop 1 never settles, and a lower hop firing long enough is switched', () => {
    expect(decideSettle([alert(1, { startsAt: iso(NOW - 1_000) })], [hop(1)])[0]).toMatchObject({
      action: 'switch',
      hop: 1,
    });
    expect(decideSettle([alert(2, { startsAt: iso(NOW - 16_000) })], [hop(1), hop(2)])[0]).toMatchObject({
      action: 'switch',
      hop: 2,
    });
  });
});

describe("failover decision: the firing hop's own readiness and the age of its alert", () => {
  const ago = (ms: number) => new Date(NOW - ms).toISOString();
  const GRACE = COOLDOWN;

  it('a Ready hop whose alert began before it became Ready is not switched (its outage is over)', () => {
    // Hop 1 was down for minutes; hop 2 counted probe_failed meanwhile and its connection-errors alert (5-minute
    // window, for: 1m) still fires although hop 2 reconnected and is Ready again.
    const [d] = decide(
      [alert(2, { startsAt: ago(240_000), server: 's2-a', alertname: 'TorchainHopConnectionErrors' })],
      [hop(1, { ready: true, readySince: ago(GRACE + 10_000) }), hop(2, { ready: true, readySince: ago(60_000) })],
    );
    expect(d).toMatchObject({ action: 'none', reason: 'recovered', hop: 2 });
  });

  it('a Ready hop whose alert began after it became Ready is not switched either (safety first)', () => {
    const [d] = decide(
      [alert(1, { startsAt: ago(30_000), server: 's1-a' })],
      [hop(1, { ready: true, readySince: ago(600_000) })],
    );
    expect(d).toMatchObject({ action: 'none', reason: 'hop-ready', hop: 1 });
  });

  it('a hop that is not Ready is switched on the same alert', () => {
    const [d] = decide(
      [alert(2, { startsAt: ago(240_000), server: 's2-a' })],
      [hop(1, { ready: true, readySince: ago(GRACE + 10_000) }), hop(2, { ready: false })],
    );
    expect(d).toMatchObject({ action: 'switch', hop: 2 });
  });

  it('an alert that started before the hop took its current server is stale, with or without a server label', () => {
    const serverSince = ago(600_000);
    const fourDays = ago(4 * 86_400_000);
    for (const a of [alert(2, { startsAt: fourDays }), alert(2, { startsAt: fourDays, server: 's2-a' })]) {
      const [d] = decide([a], [hop(1), hop(2, { ready: false, serverSince })]);
      expect(d).toMatchObject({ action: 'none', reason: 'stale-alert', hop: 2 });
    }
    const [fresh] = decide([alert(2, { startsAt: ago(60_000) })], [hop(1), hop(2, { ready: false, serverSince })]);
    expect(fresh).toMatchObject({ action: 'switch', hop: 2 });
  });

  it('the alert that caused the last switch, repeated after the cooldown while the status still names the old server, is stale', () => {
    const a = alert(1, { startsAt: ago(200_000), server: 's1-a' });
    const [d] = decide([a], [hop(1, { ready: false, failover: switchedAt(NOW - COOLDOWN - 1_000, a) })]);
    expect(d).toMatchObject({ action: 'none', reason: 'stale-alert', hop: 1 });
  });

  it('a stale or recovered hop above does not hold back a real failure below it', () => {
    const [d] = decide(
      [
        alert(1, { startsAt: ago(200_000), server: 's1-old' }),
        alert(2, { startsAt: ago(200_000) }),
        alert(3, { startsAt: ago(20_000) }),
      ],
      [
        hop(1, { ready: true, readySince: ago(GRACE + 5_000) }),
        hop(2, { ready: true, readySince: ago(GRACE + 5_000) }),
        hop(3, { ready: false }),
      ],
    );
    expect(d).toMatchObject({
      action: 'switch',
      hop: 3,
      ignored: [
        { hop: 1, reason: 'stale-server' },
        { hop: 2, reason: 'recovered' },
      ],
    });
  });

  it('a hop inside its cooldown still holds back the hops below it', () => {
    const a = alert(1);
    const [d] = decide([a, alert(2)], [hop(1, { failover: switchedAt(NOW - 10_000, a) }), hop(2, { ready: false })]);
    expect(d).toMatchObject({ action: 'none', reason: 'already-switched', hop: 1, waiting: [2] });
  });
});

describe('failover decision: server names that are not label values', () => {
  it('compares the label form of the hop server with the alert label (Vault keys with colons, capitals, dots)', () => {
    for (const server of ['de:frankfurt-01', 'NL.Amsterdam.02', 'us/east:1', '-edge-']) {
      const [d] = decide([alert(1, { server: labelValue(server) })], [hop(1, { currentServer: server })]);
      expect(d, server).toMatchObject({ action: 'switch', hop: 1, fromServer: server });
    }
    expect(labelValue('de:frankfurt-01')).not.toBe('de:frankfurt-01');
    const [d] = decide(
      [alert(1, { server: labelValue('de:frankfurt-02') })],
      [hop(1, { currentServer: 'de:frankfurt-01' })],
    );
    expect(d).toMatchObject({ action: 'none', reason: 'stale-server' });
  });

  it('the server left is quarantined under its Vault key, not under its label form', () => {
    const [d] = decide(
      [alert(1, { server: labelValue('de:frankfurt-01') })],
      [hop(1, { currentServer: 'de:frankfurt-01' })],
    );
    if (d?.action !== 'switch') throw new Error('expected a switch');
    const patch = switchPatch(d, { switches: 0, quarantine: {} }, NOW, 600_000) as {
      metadata: { annotations: Record<string, string> };
    };
    expect(Object.keys(parseFailoverState(patch.metadata.annotations[ANNOTATION_FAILOVER]).quarantine)).toEqual([
      'de:frankfurt-01',
    ]);
  });
});

describe('hop view: what the decision reads of a TorChain and its Secret', () => {
  it('takes readiness from the Ready condition and the server start from the Secret', () => {
    const tc = torchain('alpha-2', { numberNode: 2 }, { creationTimestamp: '2026-01-01T10:00:00Z' });
    tc.status = {
      currentServer: 'de:frankfurt-01',
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: '2026-01-01T11:00:00Z' },
      ],
    };
    const secret = { metadata: { annotations: { [ANNOTATION_SERVER_SINCE]: '2026-01-01T10:30:00.000Z' } } };
    expect(hopView(tc, secret)).toMatchObject({
      hop: 2,
      currentServer: 'de:frankfurt-01',
      ready: true,
      readySince: '2026-01-01T11:00:00Z',
      createdAt: '2026-01-01T10:00:00Z',
      serverSince: '2026-01-01T10:30:00.000Z',
    });
    expect(hopView(tc).serverSince).toBeUndefined();
    tc.status.conditions![0]!.status = 'False';
    expect(hopView(tc)).toMatchObject({ ready: false });
    expect(hopView(tc).readySince).toBeUndefined();
  });
});
