// High availability and the 409 path, against lab/kube and lab/vault: two operator processes share one Lease and only
// the leader acts; a switch decided on a stale copy meets a real 409 and is decided again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../operator/src/adapters/kube/client.js';
import { EventRecorder } from '../../operator/src/adapters/kube/events.js';
import { VaultClient } from '../../operator/src/adapters/vault/index.js';
import { FailoverExecutor } from '../../operator/src/failover/executor.js';
import { silentLogger } from '../../common/log.js';
import { createMetrics } from '../../operator/src/metrics.js';
import {
  OP_NS,
  PodReadiness,
  createChain,
  eventually,
  getTc,
  loadKc,
  notification,
  patchTc,
  seedChain,
  startOperatorProcess,
  startStandIns,
  switchAlert,
  waitLeader,
  type OperatorProcess,
  type StandIns,
} from './support/harness.js';

describe('two replicas and a Lease', () => {
  let s: StandIns;
  let a: OperatorProcess | undefined;
  let b: OperatorProcess | undefined;
  let kubelet: PodReadiness;

  beforeAll(async () => {
    s = await startStandIns();
    await seedChain(s, 'alpha');
    await createChain(s, 'alpha');
    kubelet = new PodReadiness(s);
    kubelet.start();
  });
  afterAll(async () => {
    kubelet?.stop();
    await a?.kill();
    await b?.kill();
    await s?.close();
  });

  const metric = async (op: OperatorProcess, name: string) => {
    const text = await (await fetch(`${op.url}/metrics`)).text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };

  it('only the leader reconciles and switches; the follower answers 503; the follower takes over when the leader stops', async () => {
    a = await startOperatorProcess(s, { POD_NAME: 'operator-a' });
    await waitLeader(a);
    b = await startOperatorProcess(s, { POD_NAME: 'operator-b' });
    await eventually(async () => (await getTc(s, 'alpha-3')).status?.phase === 'Running', 'the chain running');
    const lease = await s.coordination.readNamespacedLease({ namespace: OP_NS, name: 'torchain-operator' });
    expect(lease.spec!.holderIdentity).toBe('operator-a');
    expect(await metric(a, 'torchain_operator_leader')).toBe(1);
    expect(await metric(b, 'torchain_operator_leader')).toBe(0);

    // Hop 1's tunnel goes down (its TorChain turns not Ready); its alert begins after that.
    kubelet.down.add('alpha-1');
    await eventually(
      async () => (await getTc(s, 'alpha-1')).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False',
      'alpha-1 not Ready',
    );
    const alert = switchAlert(1, { startsAt: new Date().toISOString() }, { server: 'h1-s0' });
    const follower = await b.post(notification([alert]));
    expect(follower.status).toBe(503);
    expect(follower.body.error).toMatch(/not the leader/);
    expect((await getTc(s, 'alpha-1')).spec.switchServer).toBe(0);

    // A spec change is reconciled by the leader alone.
    await patchTc(s, 'alpha-2', { spec: { tmpDir: '/var/tmp/x' } });
    await eventually(
      async () => (await getTc(s, 'alpha-2')).status?.observedGeneration === 2,
      'the leader to reconcile',
    );
    expect(await metric(b, 'torchain_operator_reconcile_total\\{result="success"\\}')).toBe(0);
    expect(await metric(a, 'torchain_operator_reconcile_total\\{result="success"\\}')).toBeGreaterThan(0);

    // The leader stops (rolling update): it releases the Lease and the other replica leads at once.
    await a.kill('SIGTERM');
    a = undefined;
    await waitLeader(b);
    const res = await b.post(notification([alert]));
    expect(res.status).toBe(200);
    expect(res.body.chains[0]).toMatchObject({ result: 'switched', hop: 1 });
    const taken = await s.coordination.readNamespacedLease({ namespace: OP_NS, name: 'torchain-operator' });
    expect(taken.spec!.holderIdentity).toBe('operator-b');
    expect(taken.spec!.leaseTransitions).toBeGreaterThanOrEqual(1);
  });

  it('a leader killed without releasing the Lease is replaced once the Lease expires', async () => {
    await b!.kill('SIGKILL');
    b = undefined;
    a = await startOperatorProcess(s, { POD_NAME: 'operator-c' });
    const started = Date.now();
    await waitLeader(a);
    // Lease duration is 3 s in the harness: the new replica waits for it, not much longer.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    const lease = await s.coordination.readNamespacedLease({ namespace: OP_NS, name: 'torchain-operator' });
    expect(lease.spec!.holderIdentity).toBe('operator-c');
  });
});

describe('a 409 is retried', () => {
  let s: StandIns;
  beforeAll(async () => {
    s = await startStandIns();
    await seedChain(s, 'alpha');
    await createChain(s, 'alpha');
  });
  afterAll(async () => s?.close());

  it('a switch decided on a stale copy meets 409, re-reads, decides again and switches once', async () => {
    const kube = new KubeClient(loadKc(s));
    const vault = new VaultClient({ address: s.vault.url, auth: { method: 'token', token: s.vault.rootToken } });
    const stale = await getTc(s, 'alpha-1');
    // Someone else writes the object after the cache saw it (a label edit): the cached resourceVersion is stale now.
    await patchTc(s, 'alpha-1', { metadata: { labels: { team: 'net' } } });
    const metrics = createMetrics({ defaultMetrics: false });
    const executor = new FailoverExecutor({
      kube,
      kv: vault,
      torchains: new Map([['vpn/alpha-1', stale]]),
      secrets: new Map(),
      events: new EventRecorder(kube, 'test', silentLogger),
      metrics,
      log: silentLogger,
      poolPrefix: 'torchain',
      cooldownMs: 60_000,
      graceMs: 0,
      quarantineMs: 600_000,
      enqueue: () => undefined,
    });
    const summary = await executor.handle(
      [{ namespace: 'vpn', torchain: 'alpha', hop: 1, startsAt: new Date().toISOString() }],
      'webhook',
    );
    expect(summary.chains[0]).toMatchObject({ result: 'switched', attempts: 2, toSwitchServer: 1 });
    const tc = await getTc(s, 'alpha-1');
    expect(tc.spec.switchServer).toBe(1);
    expect(tc.metadata.labels).toMatchObject({ team: 'net' });
    // Deciding again on the same stale copy now finds the hop inside its cooldown: no second switch.
    const again = await executor.handle(
      [{ namespace: 'vpn', torchain: 'alpha', hop: 1, startsAt: new Date().toISOString() }],
      'webhook',
    );
    expect(again.chains[0]).toMatchObject({ action: 'none', reason: 'cooldown' });
    expect((await getTc(s, 'alpha-1')).spec.switchServer).toBe(1);
  });
});
