// Leader election when the API server hangs (a network partition: connections accepted, no byte answered), with the
// real client-node against lab/kube behind a TCP proxy that freezes. As client-go's leaderelection does, every Lease
// call times out within the renew deadline, and a leader that cannot renew within it stops acting, before the Lease
// could pass to another replica.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/log.js';
import { KubeClient } from '../../operator/src/adapters/kube/client.js';
import { LeaderElector } from '../../operator/src/leader/elector.js';
import { OP_NS, eventually, loadKc, startStandIns, type StandIns } from './support/harness.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const LEASE_SECONDS = 6;
const RENEW_DEADLINE_MS = 4000;

describe('leader election with a hanging API server', () => {
  let s: StandIns;
  let proxy: TcpProxy;
  beforeAll(async () => {
    s = await startStandIns();
    proxy = await startTcpProxy(Number(new URL(s.kube.url).port));
  });
  afterAll(async () => {
    await proxy?.close();
    await s?.close();
  });

  it('a leader whose Lease calls hang stops leading within the renew deadline, and leads again once they answer', async () => {
    const kc = loadKc(s);
    const cluster = kc.getCurrentCluster()!;
    kc.clusters = kc.clusters.map((c) =>
      c.name === cluster.name ? { ...c, server: `https://127.0.0.1:${String(proxy.port)}` } : c,
    );
    const changes: Array<{ leader: boolean; at: number }> = [];
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({ level: 'debug', destination: { write: (l) => lines.push(JSON.parse(l)) } });
    const elector = new LeaderElector({
      store: new KubeClient(kc),
      namespace: OP_NS,
      name: 'hang-test',
      identity: 'replica-a',
      leaseDurationSeconds: LEASE_SECONDS,
      renewDeadlineMs: RENEW_DEADLINE_MS,
      retryPeriodMs: 500,
      onChange: (leader) => changes.push({ leader, at: Date.now() }),
      log,
    });
    elector.start();
    try {
      await eventually(async () => elector.isLeader, 'leadership');
      proxy.freeze();
      await eventually(async () => !elector.isLeader, 'leadership given up while the API server hangs', 15_000);
      const stopped = changes.find((c) => !c.leader)!;
      // Safety: it stopped acting before another replica could take the Lease over (lease duration after its last
      // successful renewal, on the other replica's clock at the earliest).
      expect(stopped.at - elector.lastRenewedAt).toBeLessThan(LEASE_SECONDS * 1000);
      expect(stopped.at - elector.lastRenewedAt).toBeGreaterThanOrEqual(RENEW_DEADLINE_MS - 50);
      expect(lines).toContainEqual(
        expect.objectContaining({ msg: 'could not renew the leader Lease within the renew deadline; stopped acting' }),
      );
      // The calls themselves give up (aborted), so the elector keeps trying rather than waiting on a dead socket.
      await eventually(
        async () => lines.filter((l) => l.msg === 'Lease update failed' && /abort/i.test(String(l.error))).length >= 2,
        'aborted Lease calls',
        15_000,
      );
      proxy.thaw();
      await eventually(async () => elector.isLeader, 'leadership again once the API server answers', 15_000);
    } finally {
      proxy.thaw();
      await elector.stop();
    }
    const lease = await s.coordination.readNamespacedLease({ namespace: OP_NS, name: 'hang-test' });
    expect(lease.spec?.holderIdentity).toBe('');
  });
});
