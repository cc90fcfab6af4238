// The service proxy with real pods, lab/kube's EndpointSlice controller and a host process: ClusterIP:port reaches
// only ready endpoints (randomly spread), from a pod and from the host; named targetPorts; a selector-less Service
// with a hand-written EndpointSlice to a host process; hairpin; no endpoints = refused; and `default/kubernetes`
// reaching lab/kube on the node IP. https://kubernetes.io/docs/reference/networking/virtual-ips/
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupPodNetwork, createPodNetwork, type PodNetwork } from '../../lab/cluster/pod-network.js';
import { cleanupServiceProxy, startServiceProxy, type ServiceProxy } from '../../lab/cluster/service-proxy.js';
import { startKube, type Kube } from '../../lab/kube/server.js';
import type { Obj } from '../../lab/kube/types.js';
import { run } from '../../lab/netns/exec.js';
import { waitFor } from '../../lab/runtime/wait.js';
import { skipUnless } from '../support/env.js';
import { apply, ensureNamespace, setPodState } from './kube-fixtures.js';
import { hostProbe, TestPod } from './pods.js';

const STEM = 'tkgsp';
const NODE_IP = '100.65.0.3';
const NS = 'shop';

describe.skipIf(skipUnless({ root: true, binaries: ['/usr/sbin/nft'] }))('service proxy', () => {
  let kube: Kube;
  let net: PodNetwork;
  let proxy: ServiceProxy;
  let vaultLike: Server;
  const logs: Array<Record<string, unknown>> = [];
  const dir = mkdtempSync(join(tmpdir(), 'tkg-sp-'));
  const ports = [{ name: 'http', containerPort: 8080, protocol: 'TCP' }];
  const web1 = new TestPod(`${STEM}-w1`, {
    namespace: NS,
    name: 'web-1',
    labels: { app: 'web', pod: '1' },
    tcp: [8080],
    ports,
  });
  const web2 = new TestPod(`${STEM}-w2`, {
    namespace: NS,
    name: 'web-2',
    labels: { app: 'web', pod: '2' },
    tcp: [8080],
    ports,
  });
  const web3 = new TestPod(`${STEM}-w3`, {
    namespace: NS,
    name: 'web-3',
    labels: { app: 'web', pod: '3' },
    tcp: [8080],
    ports,
    ready: false,
  });
  const client = new TestPod(`${STEM}-cl`, { namespace: NS, name: 'client', labels: { app: 'client' } });
  const clusterIP = (name: string) => String((kube.api.store.get('/services', NS, name)!.spec as Obj).clusterIP);

  /** Who answers `n` connections to ip:port (a set of pod names). */
  async function answers(from: TestPod | 'host', ip: string, port: number, n = 24): Promise<string[]> {
    const got = await Promise.all(
      Array.from({ length: n }, () => (from === 'host' ? hostProbe('tcp', ip, port) : from.probe('tcp', ip, port))),
    );
    return [...new Set(got)].sort();
  }

  beforeAll(async () => {
    await cleanupPodNetwork(STEM);
    await cleanupServiceProxy(STEM);
    net = await createPodNetwork({ stem: STEM, podCIDR: '100.64.3.0/24', nodeIP: NODE_IP });
    // lab/kube on the node IP, as the lab will run it: default/kubernetes then points there
    kube = await startKube({ dir, host: NODE_IP });
    ensureNamespace(kube, NS);
    for (const p of [web1, web2, web3, client]) await p.start(net, kube);
    apply(kube, '', 'services', {
      metadata: { name: 'web', namespace: NS },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    apply(kube, '', 'services', {
      metadata: { name: 'solo', namespace: NS },
      spec: { selector: { pod: '1' }, ports: [{ port: 81, targetPort: 8080 }] },
    });
    apply(kube, '', 'services', {
      metadata: { name: 'empty', namespace: NS },
      spec: { selector: { app: 'nothing' }, ports: [{ port: 82, targetPort: 8080 }] },
    });
    vaultLike = createServer((s) => s.end('vault\n')).listen(18200, NODE_IP);
    apply(kube, '', 'services', {
      metadata: { name: 'vault', namespace: NS },
      spec: { ports: [{ name: 'http', port: 8200 }] },
    });
    apply(kube, 'discovery.k8s.io', 'endpointslices', {
      metadata: { name: 'vault-host', namespace: NS, labels: { 'kubernetes.io/service-name': 'vault' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [NODE_IP], conditions: { ready: true } }],
      ports: [{ name: 'http', port: 18200, protocol: 'TCP' }],
    });
    proxy = await startServiceProxy({
      stem: STEM,
      kubeconfigPath: kube.kubeconfigPath,
      nodeIP: NODE_IP,
      log: (e) => logs.push(e),
    });
  });
  afterAll(async () => {
    vaultLike?.close();
    await proxy?.stop();
    for (const p of [web1, web2, web3, client]) await p.stop(net).catch(() => undefined);
    await kube?.close();
    await net?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('spreads a ClusterIP over the ready endpoints only (named targetPort), from a pod and from the host', async () => {
    const ip = clusterIP('web');
    await waitFor(
      'web served by web-1 and web-2',
      async () => (await answers(client, ip, 80, 8)).join() === 'web-1,web-2',
    );
    expect(await answers(client, ip, 80)).toEqual(['web-1', 'web-2']);
    expect(await answers('host', ip, 80)).toEqual(['web-1', 'web-2']);
    expect(proxy.current()?.body).toMatch(/numgen random mod 2 vmap/);
  });

  it('follows readiness: a pod turning ready joins, one turning unready leaves', async () => {
    const ip = clusterIP('web');
    setPodState(kube, NS, 'web-3', { ready: true });
    setPodState(kube, NS, 'web-1', { ready: false });
    await waitFor(
      'web served by web-2 and web-3',
      async () => (await answers(client, ip, 80, 8)).join() === 'web-2,web-3',
    );
    expect(await answers('host', ip, 80)).toEqual(['web-2', 'web-3']);
    expect(logs.some((l) => l.msg === 'service endpoints' && l.service === `${NS}/web`)).toBe(true);
    setPodState(kube, NS, 'web-1', { ready: true });
  });

  it('reaches a host process through a selector-less Service and a hand-written EndpointSlice', async () => {
    const ip = clusterIP('vault');
    expect(await client.probe('tcp', ip, 8200)).toBe('vault');
    expect(await hostProbe('tcp', ip, 8200)).toBe('vault');
  });

  it('lets a pod reach itself through its own Service (hairpin, SNAT to the node IP)', async () => {
    // web-1 turned ready again at the end of the previous case
    await waitFor('solo has its endpoint', () =>
      proxy.current()?.targets.some((t) => t.service === `${NS}/solo` && t.endpoints.length === 1),
    );
    expect(await web1.probe('tcp', clusterIP('solo'), 81)).toBe('web-1');
  });

  it('refuses at once a ClusterIP without endpoints, or on a port no Service defines', async () => {
    expect(await client.probe('tcp', clusterIP('empty'), 82)).toBe('refused');
    expect(await hostProbe('tcp', clusterIP('empty'), 82)).toBe('refused');
    expect(await client.probe('tcp', clusterIP('web'), 9999)).toBe('refused');
  });

  it('routes default/kubernetes (10.96.0.1:443) to lab/kube on the node IP', async () => {
    const slice = kube.api.store.get('discovery.k8s.io/endpointslices', 'default', 'kubernetes')!;
    expect((slice.endpoints as Obj[])[0]!.addresses).toEqual([NODE_IP]);
    await waitFor('kubernetes service programmed', () => proxy.current()?.body.includes('10.96.0.1 . tcp . 443'));
    expect(await client.probe('tcp', '10.96.0.1', 443, 1500, true)).toBe('connected');
  });

  it('stop() removes its table', async () => {
    await proxy.stop();
    expect((await run('nft', ['list', 'tables'])).stdout).not.toContain(`${STEM}_svc`);
    proxy = { stop: async () => undefined } as unknown as ServiceProxy;
  });
});
