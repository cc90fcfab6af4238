// Faults lose nothing and converge: while lab/kube is down the enforced policy stays (no fail-open); once it is back
// the enforcer's watches reconnect and a policy change made meanwhile is enforced.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupNetworkPolicy,
  startNetworkPolicy,
  type NetworkPolicyEnforcer,
} from '../../lab/cluster/network-policy.js';
import { cleanupPodNetwork, createPodNetwork, type PodNetwork } from '../../lab/cluster/pod-network.js';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { sleep } from '../../lab/netns/exec.js';
import { waitFor } from '../../lab/runtime/wait.js';
import { skipUnless } from '../support/env.js';
import { apply, ensureNamespace } from './kube-fixtures.js';
import { TestPod } from './pods.js';

const STEM = 'tkgpf';

describe.skipIf(skipUnless({ root: true, binaries: ['/usr/sbin/nft'] }))(
  'NetworkPolicy enforcement across an API outage',
  () => {
    let kube: Kube;
    let net: PodNetwork;
    let enforcer: NetworkPolicyEnforcer;
    const logs: Array<Record<string, unknown>> = [];
    const dir = mkdtempSync(join(tmpdir(), 'tkg-pf-'));
    const stateFile = join(dir, 'state.json');
    const server = new TestPod(`${STEM}-s`, {
      namespace: 'app',
      name: 'server',
      labels: { app: 'server' },
      tcp: [8080],
    });
    const client = new TestPod(`${STEM}-c`, { namespace: 'app', name: 'client', labels: { app: 'client' } });

    beforeAll(async () => {
      await cleanupPodNetwork(STEM);
      await cleanupNetworkPolicy(STEM);
      kube = await startKube({ dir, stateFile });
      ensureNamespace(kube, 'app');
      net = await createPodNetwork({ stem: STEM, podCIDR: '100.64.7.0/24', nodeIP: '100.65.0.7' });
      await server.start(net, kube);
      await client.start(net, kube);
      apply(kube, 'networking.k8s.io', 'networkpolicies', {
        metadata: { name: 'deny', namespace: 'app' },
        spec: { podSelector: { matchLabels: { app: 'server' } } },
      });
      enforcer = await startNetworkPolicy({
        stem: STEM,
        kubeconfigPath: kube.kubeconfigPath,
        log: (e) => logs.push(e),
      });
    });
    afterAll(async () => {
      await enforcer?.stop();
      for (const p of [server, client]) await p.stop(net).catch(() => undefined);
      await net?.close();
      await kube?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps enforcing while the API is down, and converges on what changed once it is back', async () => {
      await waitFor('server isolated', async () => (await client.probe('tcp', server.ip, 8080)) === 'timeout');
      const port = Number(new URL(kube.url).port);
      await kube.close();
      await waitFor('the watches noticed', () => logs.some((l) => l.msg === 'watch failed; restarting'), {
        timeoutMs: 20_000,
      });
      await sleep(1000);
      expect(await client.probe('tcp', server.ip, 8080)).toBe('timeout');
      // back on the same port and state, with a policy admitting the client
      kube = await startKube({ dir, stateFile, port });
      apply(kube, 'networking.k8s.io', 'networkpolicies', {
        metadata: { name: 'allow-client', namespace: 'app' },
        spec: {
          podSelector: { matchLabels: { app: 'server' } },
          ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
        },
      });
      await waitFor(
        'client admitted after the outage',
        async () => (await client.probe('tcp', server.ip, 8080)) === 'server',
        {
          timeoutMs: 30_000,
        },
      );
    });
  },
);
