// Failover through the real operator process: Alertmanager-shaped notifications, cooldown, quarantine, exhaustion,
// Vault down, a bad-request table, and a kill in the middle of a switch. lab/kube and lab/vault stand in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TorChain } from '../../operator/src/api/torchain.js';
import {
  PodReadiness,
  createChain,
  eventsFor,
  eventually,
  getDeployment,
  getSecret,
  getTc,
  notification,
  ovpn,
  patchTc,
  putServer,
  secretConfig,
  seedChain,
  sleep,
  startOperatorProcess,
  startStandIns,
  switchAlert,
  waitLeader,
  type OperatorProcess,
  type StandIns,
} from './support/harness.js';

const COOLDOWN_S = 4;

describe('failover through the webhook (operator process, lab/kube, lab/vault)', () => {
  let s: StandIns;
  let op: OperatorProcess;
  let kubelet: PodReadiness;
  let fp = 0;

  /**
   * A firing switch alert for a hop of `chain`, labelled as Prometheus labels it: with the `server` label of the hop's
   * pod (the label form of the Vault key). By default it began now, i.e. after the hop took its current server.
   */
  async function alertFor(chain: string, hop: number, startsAt = new Date().toISOString()) {
    const dep = await getDeployment(s, `${chain}-${String(hop)}`);
    return switchAlert(
      hop,
      { startsAt, fingerprint: `fp-${chain}-${String(hop)}-${String(fp++)}` },
      {
        torchain: chain,
        server: dep?.spec?.template.metadata?.labels?.['torchain.dev/server'] ?? '',
      },
    );
  }
  /** A hop whose tunnel is down: its pod turns not Ready, and so does its TorChain (what precedes every alert). */
  const down = async (name: string) => {
    kubelet.down.add(name);
    await eventually(async () => {
      const t = await getTc(s, name);
      return t.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False';
    }, `${name} not Ready`);
  };
  const up = (name: string) => kubelet.down.delete(name);
  const ready = async (name: string, server?: string) =>
    eventually(
      async () => {
        const t = await getTc(s, name);
        const ok = t.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        return ok && (!server || t.status?.currentServer === server) ? t : undefined;
      },
      `${name} Ready${server ? ` on ${server}` : ''}`,
    );
  const switchServers = async (chain: string) =>
    Promise.all([1, 2, 3].map(async (h) => (await getTc(s, `${chain}-${String(h)}`)).spec.switchServer ?? 0));

  beforeAll(async () => {
    s = await startStandIns();
    for (const chain of ['alpha', 'beta', 'gamma']) {
      await seedChain(s, chain);
      await createChain(s, chain);
    }
    kubelet = new PodReadiness(s);
    kubelet.start();
    op = await startOperatorProcess(s, { TORCHAIN_COOLDOWN_SECONDS: String(COOLDOWN_S) });
    await waitLeader(op);
    for (const chain of ['alpha', 'beta', 'gamma']) for (const h of [1, 2, 3]) await ready(`${chain}-${String(h)}`);
  });
  afterAll(async () => {
    kubelet?.stop();
    await op?.kill();
    await s?.close();
  });

  it('switches exactly the topmost firing hop, once; the hops below wait', async () => {
    await down('alpha-1');
    await down('alpha-3');
    const body = notification([await alertFor('alpha', 3), await alertFor('alpha', 1)]);
    const res = await op.post(body);
    expect(res.status).toBe(200);
    expect(res.body.chains).toEqual([
      expect.objectContaining({
        action: 'switch',
        result: 'switched',
        namespace: 'vpn',
        chain: 'alpha',
        hop: 1,
        fromServer: 'h1-s0',
        toSwitchServer: 1,
        waiting: [3],
      }),
    ]);
    expect(await switchServers('alpha')).toEqual([1, 0, 0]);
    up('alpha-1');
    up('alpha-3');
    const tc = await ready('alpha-1', 'h1-s1');
    expect(tc.status!.switches).toBe(1);
    expect(secretConfig(await getSecret(s, 'alpha-1-vpn-config'))).toContain('198.51.100.11');
    expect((await eventsFor(s, 'alpha-1')).map((e) => e.reason)).toContain('Switching');
    // The switch was measured from the alert's startsAt to Ready.
    const metrics = await (await fetch(`${op.url}/metrics`)).text();
    expect(metrics).toMatch(/torchain_operator_switches_total\{namespace="vpn",torchain="alpha",hop="1"\} 1/);
    expect(metrics).toMatch(
      /torchain_operator_failover_duration_seconds_count\{namespace="vpn",torchain="alpha",hop="1"\} 1/,
    );

    // Repeats inside the cooldown (Alertmanager's repeat, or another alert for the hop) change nothing.
    const repeat = await op.post(body);
    expect(repeat.status).toBe(200);
    expect(repeat.body.chains[0]).toMatchObject({ action: 'none', hop: 1 });
    expect(['already-switched', 'cooldown', 'stale-server']).toContain(repeat.body.chains[0].reason);
    const other = await op.post(notification([await alertFor('alpha', 1)]));
    expect(other.body.chains[0]).toMatchObject({ action: 'none', reason: 'cooldown' });
    expect(await switchServers('alpha')).toEqual([1, 0, 0]);
  });

  it('after the cooldown a still-firing hop moves on, skipping quarantined servers; then the pool is exhausted', async () => {
    // h2-s1 failed earlier (say, under the other replica): its quarantine is part of the hop's persisted state.
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await patchTc(s, 'beta-2', {
      metadata: {
        annotations: { 'torchain.dev/failover': JSON.stringify({ switches: 0, quarantine: { 'h2-s1': until } }) },
      },
    });
    await down('beta-2');
    const first = await op.post(notification([await alertFor('beta', 2)]));
    expect(first.body.chains[0]).toMatchObject({ result: 'switched', hop: 2, toSwitchServer: 1 });
    // switchServer 1 points at h2-s1, quarantined: the hop goes on to h2-s2.
    up('beta-2');
    await ready('beta-2', 'h2-s2');
    expect(secretConfig(await getSecret(s, 'beta-2-vpn-config'))).toContain('198.51.100.22:51820');

    // Down again and still firing after the cooldown: the next switch finds every server quarantined.
    await down('beta-2');
    await sleep(COOLDOWN_S * 1000 + 200);
    const second = await op.post(notification([await alertFor('beta', 2)]));
    expect(second.body.chains[0]).toMatchObject({ result: 'switched', toSwitchServer: 2 });
    const tc = await eventually(async () => {
      const t = await getTc(s, 'beta-2');
      return t.status?.conditions?.find((c) => c.type === 'PoolExhausted' && c.status === 'True') ? t : undefined;
    }, 'PoolExhausted on beta-2');
    expect(tc.status!.conditions!.find((c) => c.type === 'PoolExhausted')!.message).toMatch(/quarantined until/);
    // The running hop keeps its last server: nothing is emptied.
    expect(tc.status!.currentServer).toBe('h2-s2');
    expect(secretConfig(await getSecret(s, 'beta-2-vpn-config'))).toContain('198.51.100.22:51820');
    await eventually(
      async () => (await eventsFor(s, 'beta-2')).some((e) => e.reason === 'PoolExhausted'),
      'the PoolExhausted Event',
    );
    const metrics = await (await fetch(`${op.url}/metrics`)).text();
    expect(metrics).toMatch(/torchain_operator_pool_exhausted\{namespace="vpn",torchain="beta",hop="2"\} 1/);
    expect(metrics).toMatch(
      /torchain_operator_pool_servers\{namespace="vpn",torchain="beta",hop="2",state="quarantined"\} 3/,
    );
  });

  it('Vault down: 503, every Secret intact, then it converges', async () => {
    const snapshot = async () =>
      Promise.all(
        ['alpha', 'beta', 'gamma'].flatMap((c) =>
          [1, 2, 3].map(async (h) => (await getSecret(s, `${c}-${String(h)}-vpn-config`))?.data),
        ),
      );
    const before = await snapshot();
    await down('gamma-2');
    await s.vault.stop();
    try {
      const alert = await alertFor('gamma', 2);
      const res = await op.post(notification([alert]));
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/vault unavailable/i);
      expect(await switchServers('gamma')).toEqual([0, 0, 0]);
      await sleep(6000); // a relist and its reconciles run while Vault is down
      expect(await snapshot()).toEqual(before);
      expect((await getTc(s, 'gamma-2')).status!.currentServer).toBe('h2-s0');
    } finally {
      await s.vault.start();
    }
    const retry = await op.post(notification([await alertFor('gamma', 2)]));
    expect(retry.status).toBe(200);
    expect(retry.body.chains[0]).toMatchObject({ result: 'switched', hop: 2 });
    up('gamma-2');
    await ready('gamma-2', 'h2-s1');
  });

  it('a table of bad requests: each gets its answer and changes nothing', async () => {
    // What a request could change: spec and the failover annotation (status moves on its own with the hops).
    const rvs = async () =>
      Promise.all(
        ['alpha-1', 'beta-1', 'gamma-1'].map(async (n) => {
          const t = await getTc(s, n);
          return [t.metadata.generation, t.spec, t.metadata.annotations?.['torchain.dev/failover']];
        }),
      );
    const before = await rvs();
    const good = notification([await alertFor('gamma', 1)]);
    const cases: Array<[string, () => Promise<{ status: number; body: { error?: unknown } }>, number]> = [
      ['malformed JSON', () => op.post('{"version":"4",'), 400],
      ['wrong version', () => op.post({ ...good, version: '3' }), 400],
      ['2 MB body', () => op.post({ ...good, commonAnnotations: { pad: 'x'.repeat(2 * 1024 * 1024) } }), 413],
      [
        'no token',
        () =>
          fetch(`${op.url}/v1/alertmanager`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(good),
          }).then(async (r) => ({ status: r.status, body: await r.json() })),
        401,
      ],
      ['wrong token', () => op.post(good, 'not-the-token'), 401],
    ];
    for (const [name, call, code] of cases) {
      const res = await call();
      expect(res.status, name).toBe(code);
      expect(typeof res.body.error, name).toBe('string');
    }
    // A malformed switch alert is skipped and reported; the notification is answered 200 (a 400 would make
    // Alertmanager drop every other chain of the group with it).
    const malformed = await op.post(notification([switchAlert(1, {}, { torchain: 'gamma', hop: '' })]));
    expect(malformed.status).toBe(200);
    expect(malformed.body).toMatchObject({
      received: { malformed: 1, firing: 0 },
      switched: 0,
      malformed: [{ index: 0, torchain: 'gamma', error: expect.stringMatching(/lacks the label\(s\) hop/) }],
    });
    // An unknown chain is well-formed: 200, nothing to do, said so.
    const unknown = await op.post(notification([switchAlert(1, {}, { torchain: 'nosuchchain' })]));
    expect(unknown.status).toBe(200);
    expect(unknown.body.chains[0]).toMatchObject({ action: 'none', reason: 'no-hop', unknownHops: [1] });
    expect(await rvs()).toEqual(before);
  });

  it('killed in the middle of a switch, the operator converges after restart with no double switch', async () => {
    // alpha: its hop 1 switched long ago, so no upstream cooldown is running (gamma-2 just switched above gamma-3).
    await down('alpha-3');
    const alert = await alertFor('alpha', 3);
    const body = notification([alert]);
    const inFlight = op.post(body).catch(() => undefined);
    await sleep(15);
    await op.kill('SIGKILL');
    await inFlight;
    op = await startOperatorProcess(s, { TORCHAIN_COOLDOWN_SECONDS: String(COOLDOWN_S) });
    await waitLeader(op);
    // Alertmanager got no answer (or a 200) and sends the same notification again.
    const again = await op.post(body);
    expect(again.status).toBe(200);
    expect((await switchServers('alpha'))[2]).toBe(1);
    up('alpha-3');
    const tc: TorChain = await ready('alpha-3', 'h3-s1');
    expect(tc.status!.switches).toBe(1);
    const third = await op.post(body);
    expect(third.body.chains[0].action).toBe('none');
    expect((await switchServers('alpha'))[2]).toBe(1);
  });
  it("a hop's own readiness and the age of its alert: a recovered hop and a stale alert switch nothing", async () => {
    // gamma-1 goes down, its alert begins; then it reconnects and is Ready again while the alert still fires (the
    // connection-errors window outlasts the outage).
    await down('gamma-1');
    const began = new Date().toISOString();
    await sleep(1100); // Ready's lastTransitionTime has a one-second resolution
    up('gamma-1');
    await ready('gamma-1');
    const before = await switchServers('gamma');
    const recovered = await op.post(notification([await alertFor('gamma', 1, began)]));
    expect(recovered.status).toBe(200);
    expect(recovered.body.chains[0]).toMatchObject({ action: 'none', hop: 1, reason: 'recovered' });
    // An alert four days old with no server label, long before gamma-1 took its server.
    const old = switchAlert(
      1,
      { startsAt: new Date(Date.now() - 4 * 86_400_000).toISOString(), fingerprint: 'old' },
      {
        torchain: 'gamma',
        server: '',
      },
    );
    const stale = await op.post(notification([old]));
    expect(stale.body.chains[0]).toMatchObject({ action: 'none', hop: 1, reason: 'stale-alert' });
    expect(await switchServers('gamma')).toEqual(before);
    const logged = op.logs.filter((l) => l.msg === 'failover: no action for chain' && l.chain === 'vpn/gamma');
    expect(logged.map((l) => [l.hop, l.reason])).toEqual(
      expect.arrayContaining([
        [1, 'recovered'],
        [1, 'stale-alert'],
      ]),
    );
  });

  it('Vault keys that are not label values: the alert carries the label form and the hop is switched', async () => {
    const servers = ['de:frankfurt-01', 'de:frankfurt-02'];
    for (const [i, name] of servers.entries())
      await putServer(s, 'delta', 1, name, ovpn(`198.51.100.${String(60 + i)}`));
    await s.custom.createNamespacedCustomObject({
      group: 'torchain.dev',
      version: 'v1alpha1',
      namespace: 'vpn',
      plural: 'torchains',
      body: {
        apiVersion: 'torchain.dev/v1alpha1',
        kind: 'TorChain',
        metadata: { name: 'delta-1', namespace: 'vpn' },
        spec: {
          numberNode: 1,
          typeNode: 'openvpn',
          nameTorChain: 'delta',
          outInterface: 'net-up',
          inInterface: 'net-lan',
        },
      },
    });
    await ready('delta-1', 'de:frankfurt-01');
    await down('delta-1');
    const alert = await alertFor('delta', 1);
    expect(alert.labels.server).toMatch(/^de-frankfurt-01-[0-9a-f]{8}$/);
    const res = await op.post(notification([alert], { groupLabels: { namespace: 'vpn', torchain: 'delta' } }));
    expect(res.body.chains[0]).toMatchObject({ result: 'switched', hop: 1, fromServer: 'de:frankfurt-01' });
    up('delta-1');
    const tc = await ready('delta-1', 'de:frankfurt-02');
    expect(Object.keys(JSON.parse(tc.metadata.annotations!['torchain.dev/failover']!).quarantine)).toEqual([
      'de:frankfurt-01',
    ]);
  });
});
