// NetworkPolicy enforcement with real pods (network namespaces on the lab pod network, processes listening) and real
// policies applied as YAML with the real kubectl: one case per semantic of
// https://kubernetes.io/docs/concepts/services-networking/network-policies/ (and the API reference's policyTypes
// defaulting and "traffic from the pod's local node" rule).
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupNetworkPolicy,
  startNetworkPolicy,
  type NetworkPolicyEnforcer,
} from '../../lab/cluster/network-policy.js';
import { cleanupPodNetwork, createPodNetwork, type PodNetwork } from '../../lab/cluster/pod-network.js';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { run } from '../../lab/netns/exec.js';
import { waitFor } from '../../lab/runtime/wait.js';
import { KUBECTL } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { apply, ensureNamespace, kubectl } from './kube-fixtures.js';
import { hostProbe, TestPod } from './pods.js';

const STEM = 'tkgnp';
const NODE_IP = '100.65.0.2';
const HOST_PORT = 18082;
const http = [
  { name: 'http', containerPort: 8080, protocol: 'TCP' },
  { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
  { name: 'dns', containerPort: 5353, protocol: 'UDP' },
];

describe.skipIf(skipUnless({ root: true, binaries: ['/usr/sbin/nft', KUBECTL] }))('NetworkPolicy enforcement', () => {
  let kube: Kube;
  let net: PodNetwork;
  let enforcer: NetworkPolicyEnforcer;
  let hostServer: Server;
  const logs: Array<Record<string, unknown>> = [];
  const dir = mkdtempSync(join(tmpdir(), 'tkg-np-'));
  const web = new TestPod(`${STEM}-web`, {
    namespace: 'alpha',
    name: 'web',
    labels: { app: 'web' },
    tcp: [8080, 9090],
    udp: [5353],
    ports: http,
  });
  const aClient = new TestPod(`${STEM}-ac`, {
    namespace: 'alpha',
    name: 'client',
    labels: { app: 'client' },
    tcp: [8080],
    ports: http,
  });
  const bClient = new TestPod(`${STEM}-bc`, {
    namespace: 'beta',
    name: 'client',
    labels: { app: 'client' },
    tcp: [8080],
    ports: http,
  });
  const bOther = new TestPod(`${STEM}-bo`, {
    namespace: 'beta',
    name: 'other',
    labels: { app: 'other' },
    tcp: [8080, 9090],
    ports: http,
  });
  const applied = new Set<string>();

  /** Applies policies with the real kubectl and waits until the enforcer has them in the kernel. */
  async function policies(yaml: string): Promise<void> {
    const child = spawn(KUBECTL, ['apply', '-f', '-'], { env: { ...process.env, KUBECONFIG: kube.kubeconfigPath } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.stdin.end(yaml);
    const code = await new Promise((r) => child.on('close', r));
    expect(code, out).toBe(0);
    const names = [...yaml.matchAll(/^\s+name: (\S+)\n\s+namespace: (\S+)/gm)].map((m) => `${m[2]}/${m[1]}`);
    for (const n of names) applied.add(n);
    await waitFor(`policies ${names.join(', ')} enforced`, () =>
      names.every((n) => enforcer.current()?.body.includes(`allow.${n}.`)),
    );
  }

  const expectProbes = async (cases: Array<[Promise<string>, string, string]>) => {
    const got = await Promise.all(cases.map((c) => c[0]));
    expect(Object.fromEntries(cases.map((c, i) => [c[2], got[i]]))).toEqual(
      Object.fromEntries(cases.map((c) => [c[2], c[1]])),
    );
  };

  beforeAll(async () => {
    await cleanupPodNetwork(STEM);
    await cleanupNetworkPolicy(STEM);
    kube = await startKube({ dir });
    ensureNamespace(kube, 'alpha', { team: 'a' });
    ensureNamespace(kube, 'beta', { team: 'b' });
    net = await createPodNetwork({ stem: STEM, podCIDR: '100.64.2.0/24', nodeIP: NODE_IP });
    for (const p of [web, aClient, bClient, bOther]) await p.start(net, kube);
    hostServer = createServer((s) => s.end('host\n')).listen(HOST_PORT, NODE_IP);
    enforcer = await startNetworkPolicy({
      stem: STEM,
      kubeconfigPath: kube.kubeconfigPath,
      counterIntervalMs: 500,
      log: (e) => logs.push(e),
    });
    await waitFor('all four pods known to the enforcer', () => enforcer.current()?.summary.pods === 4);
  });
  afterEach(async () => {
    if (!applied.size) return;
    for (const n of applied) {
      const [ns, name] = n.split('/') as [string, string];
      await kubectl(kube, ['-n', ns, 'delete', 'networkpolicy', name, '--ignore-not-found']);
    }
    const gone = [...applied];
    applied.clear();
    await waitFor('policies removed', () => gone.every((n) => !enforcer.current()?.body.includes(`allow.${n}.`)));
  });
  afterAll(async () => {
    hostServer?.close();
    await enforcer?.stop();
    for (const p of [web, aClient, bClient, bOther]) await p.stop(net).catch(() => undefined);
    await net?.close();
    await kube?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('allows everything while no policy selects a pod', async () => {
    await expectProbes([
      [aClient.probe('tcp', web.ip, 8080), 'web', 'alpha/client → web'],
      [bOther.probe('tcp', web.ip, 9090), 'web', 'beta/other → web:9090'],
      [web.probe('udp', bOther.ip, 8080), 'timeout', 'udp to a closed port (no listener)'],
      [web.probe('tcp', bClient.ip, 8080), 'client', 'web → beta/client'],
      [web.probe('tcp', NODE_IP, HOST_PORT), 'host', 'web → node'],
      [hostProbe('tcp', web.ip, 8080), 'web', 'node → web'],
    ]);
  });

  it('default deny ingress: isolates ingress only; the node still reaches the pod', async () => {
    await policies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-ingress
  namespace: alpha
spec:
  podSelector: {}
`);
    await expectProbes([
      [aClient.probe('tcp', web.ip, 8080), 'timeout', 'alpha/client → web'],
      [bClient.probe('tcp', web.ip, 8080), 'timeout', 'beta/client → web'],
      [hostProbe('tcp', web.ip, 8080), 'web', 'node → web (always allowed)'],
      [web.probe('tcp', bClient.ip, 8080), 'client', 'web → beta/client (egress not isolated)'],
      [bClient.probe('tcp', bOther.ip, 8080), 'other', 'beta is not affected'],
    ]);
    const drops = await enforcer.counters();
    expect(drops.get('drop.ingress.alpha/web')).toBeGreaterThan(0);
    await waitFor('a policy drop logged', () =>
      logs.some((l) => l.msg === 'policy drop' && l.counter === 'drop.ingress.alpha/web'),
    );
  });

  it('default deny egress: isolates egress only, toward pods and toward the node', async () => {
    await policies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-egress
  namespace: alpha
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
`);
    await expectProbes([
      [web.probe('tcp', bClient.ip, 8080), 'timeout', 'web → beta/client'],
      [web.probe('tcp', NODE_IP, HOST_PORT), 'timeout', 'web → node'],
      [web.probe('tcp', aClient.ip, 8080), 'timeout', 'web → alpha/client'],
      [bClient.probe('tcp', web.ip, 8080), 'web', 'beta/client → web (ingress not isolated)'],
      [aClient.probe('tcp', bClient.ip, 8080), 'client', 'alpha/client not selected'],
    ]);
  });

  it('default deny both ways, and Multus-style extra interfaces stay unpoliced', async () => {
    await policies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: alpha
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
`);
    // a second interface of the web pod, as a Multus attachment would be: not eth0, so not policed
    await run('ip', ['link', 'add', 'tkgnpx', 'type', 'veth', 'peer', 'name', 'net1', 'netns', web.netns]);
    await run('ip', ['link', 'set', 'tkgnpx', 'netns', bOther.netns]);
    await run('ip', ['-n', web.netns, 'addr', 'add', '192.168.77.1/30', 'dev', 'net1']);
    await run('ip', ['-n', web.netns, 'link', 'set', 'net1', 'up']);
    await run('ip', ['-n', bOther.netns, 'addr', 'add', '192.168.77.2/30', 'dev', 'tkgnpx']);
    await run('ip', ['-n', bOther.netns, 'link', 'set', 'tkgnpx', 'up']);
    await expectProbes([
      [aClient.probe('tcp', web.ip, 8080), 'timeout', 'alpha/client → web'],
      [web.probe('tcp', aClient.ip, 8080), 'timeout', 'web → alpha/client'],
      [web.probe('tcp', bOther.ip, 8080), 'timeout', 'web → beta/other over eth0'],
      [web.probe('tcp', '192.168.77.2', 8080), 'other', 'web → beta/other over the attachment'],
      [bOther.probe('tcp', '192.168.77.1', 8080), 'web', 'beta/other → web over the attachment'],
    ]);
    await run('ip', ['-n', web.netns, 'link', 'del', 'net1']);
  });

  it('namespaceSelector admits every pod of the selected namespaces', async () => {
    await policies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: from-team-b
  namespace: alpha
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: b}}
`);
    await expectProbes([
      [bClient.probe('tcp', web.ip, 8080), 'web', 'beta/client'],
      [bOther.probe('tcp', web.ip, 9090), 'web', 'beta/other'],
      [aClient.probe('tcp', web.ip, 8080), 'timeout', 'alpha/client (own namespace, not team b)'],
    ]);
  });

  it('namespaceSelector and podSelector in one peer: both must match', async () => {
    await policies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: clients-of-team-b
  namespace: alpha
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: b}}
          podSelector: {matchExpressions: [{key: app, operator: In, values: [client]}]}
`);
    await expectProbes([
      [bClient.probe('tcp', web.ip, 8080), 'web', 'beta/client'],
      [bOther.probe('tcp', web.ip, 8080), 'timeout', 'beta/other (wrong pod)'],
      [aClient.probe('tcp', web.ip, 8080), 'timeout', 'alpha/client (wrong namespace)'],
    ]);
  });

  it('ipBlock with except, for pods and for the node', async () => {
    await policies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: by-address
  namespace: alpha
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - ipBlock: {cidr: 100.64.2.0/24, except: [${bOther.ip}/32]}
  egress:
    - to:
        - ipBlock: {cidr: ${NODE_IP}/32}
`);
    await expectProbes([
      [bClient.probe('tcp', web.ip, 8080), 'web', 'beta/client inside the block'],
      [bOther.probe('tcp', web.ip, 8080), 'timeout', 'beta/other excepted'],
      [web.probe('tcp', NODE_IP, HOST_PORT), 'host', 'web → node (ipBlock /32)'],
      [web.probe('tcp', bClient.ip, 8080), 'timeout', 'web → beta/client (not in the egress block)'],
    ]);
  });

  it('named ports resolve against the destination pod, for ingress and egress', async () => {
    await policies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: named
  namespace: alpha
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress:
    - ports: [{port: metrics}]
  egress:
    - to: [{namespaceSelector: {}}]
      ports: [{port: http, protocol: TCP}]
`);
    await expectProbes([
      [aClient.probe('tcp', web.ip, 9090), 'web', 'alpha/client → web:metrics (9090)'],
      [aClient.probe('tcp', web.ip, 8080), 'timeout', 'alpha/client → web:8080 (not named)'],
      [web.probe('tcp', bOther.ip, 8080), 'other', 'web → beta/other:http (8080)'],
      [web.probe('tcp', bOther.ip, 9090), 'timeout', 'web → beta/other:9090 (metrics, not http)'],
    ]);
  });

  it('endPort admits a port range', async () => {
    await policies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: range
  namespace: alpha
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - ports: [{protocol: TCP, port: 9000, endPort: 9100}]
`);
    await expectProbes([
      [aClient.probe('tcp', web.ip, 9090), 'web', 'web:9090 inside 9000-9100'],
      [aClient.probe('tcp', web.ip, 8080), 'timeout', 'web:8080 outside'],
    ]);
  });

  it('replies of allowed connections pass both ways (TCP and UDP) although the other side is isolated', async () => {
    await policies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: alpha
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-out
  namespace: alpha
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {}, namespaceSelector: {matchLabels: {team: b}}}]
      ports: [{port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: dns-in
  namespace: alpha
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - ports: [{protocol: UDP, port: 5353}]
`);
    await expectProbes([
      [web.probe('tcp', bClient.ip, 8080), 'client', 'web → beta/client: the reply enters isolated web'],
      [bClient.probe('udp', web.ip, 5353), 'web', 'beta/client → web udp: the reply leaves egress-isolated web'],
      [bClient.probe('tcp', web.ip, 8080), 'timeout', 'beta/client → web tcp: not admitted'],
    ]);
  });

  it('unions the rules of two policies selecting one pod', async () => {
    await policies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: client-8080
  namespace: alpha
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: client}}}]
      ports: [{port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: other-9090
  namespace: alpha
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: other}}}]
      ports: [{port: 9090}]
`);
    await expectProbes([
      [aClient.probe('tcp', web.ip, 8080), 'web', 'alpha/client:8080 by the first'],
      [aClient.probe('tcp', web.ip, 9090), 'timeout', 'alpha/client:9090 by neither'],
      [bOther.probe('tcp', web.ip, 9090), 'web', 'beta/other:9090 by the second'],
      [bOther.probe('tcp', web.ip, 8080), 'timeout', 'beta/other:8080 by neither'],
      [bClient.probe('tcp', web.ip, 8080), 'timeout', 'beta/client: the first only selects alpha pods'],
    ]);
  });

  it('applies a policy change live: an edited policy, a relabelled pod, a relabelled namespace', async () => {
    const policy = (app: string) => `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: live
  namespace: alpha
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {team: b}}, podSelector: {matchLabels: {app: ${app}}}}]
`;
    await policies(policy('client'));
    expect(await bClient.probe('tcp', web.ip, 8080)).toBe('web');
    expect(await bOther.probe('tcp', web.ip, 8080)).toBe('timeout');
    await policies(policy('other'));
    await waitFor('beta/other admitted', async () => (await bOther.probe('tcp', web.ip, 8080)) === 'web');
    expect(await bClient.probe('tcp', web.ip, 8080)).toBe('timeout');
    // the pod's labels change: it is no longer selected as a peer
    await kubectl(kube, ['-n', 'beta', 'label', 'pod', 'other', 'app=renamed', '--overwrite']);
    await waitFor(
      'beta/other refused after relabel',
      async () => (await bOther.probe('tcp', web.ip, 8080)) === 'timeout',
    );
    await kubectl(kube, ['-n', 'beta', 'label', 'pod', 'other', 'app=other', '--overwrite']);
    await waitFor('beta/other admitted again', async () => (await bOther.probe('tcp', web.ip, 8080)) === 'web');
    // the namespace's labels change: no longer team b
    await kubectl(kube, ['label', 'namespace', 'beta', 'team=c', '--overwrite']);
    await waitFor(
      'beta/other refused after namespace relabel',
      async () => (await bOther.probe('tcp', web.ip, 8080)) === 'timeout',
    );
    await kubectl(kube, ['label', 'namespace', 'beta', 'team=b', '--overwrite']);
    await waitFor('beta/other admitted again', async () => (await bOther.probe('tcp', web.ip, 8080)) === 'web');
    expect(logs.some((l) => l.msg === 'network policy event' && l.policy === 'alpha/live' && l.verb === 'update')).toBe(
      true,
    );
  });

  it('drops traffic of an address no pod holds (an unregistered namespace on the pod network)', async () => {
    const stranger = await new TestPod(`${STEM}-st`, { namespace: 'x', name: 'stranger', tcp: [8080] }).start(net);
    try {
      expect(await stranger.probe('tcp', bClient.ip, 8080)).toBe('timeout');
      expect(await bClient.probe('tcp', stranger.ip, 8080)).toBe('timeout');
      expect((await enforcer.counters()).get('drop.unknown-endpoint')).toBeGreaterThan(0);
    } finally {
      await stranger.stop(net);
    }
  });

  it('reports a broken policy by name and field, and it allows nothing', async () => {
    apply(kube, 'networking.k8s.io', 'networkpolicies', {
      metadata: { name: 'broken', namespace: 'alpha' },
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ ipBlock: { cidr: '100.64.2.0/99' } }] }],
      },
    });
    applied.add('alpha/broken');
    await waitFor('error logged', () =>
      logs.some(
        (l) =>
          l.msg === 'network policy problem' &&
          String(l.error).includes('alpha/broken: spec.ingress[0].from[0].ipBlock'),
      ),
    );
    await waitFor('web isolated', async () => (await aClient.probe('tcp', web.ip, 8080)) === 'timeout');
  });

  it('stop() removes its table', async () => {
    await enforcer.stop();
    expect((await run('nft', ['list', 'tables'])).stdout).not.toContain(`${STEM}_policy`);
    expect(await aClient.probe('tcp', web.ip, 8080)).toBe('web');
  });
});
