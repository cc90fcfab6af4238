// The cluster DNS (dnsmasq as the kube-dns pod) with the pod network, the service proxy and lab/kube: a process in a
// pod namespace resolves service names through its search path like a pod does (glibc getaddrinfo via getent),
// headless Services give their ready pods, changes show up, external names get nothing.
// https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/
import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupClusterDns, startClusterDns, writePodResolvConf, type ClusterDns } from '../../lab/cluster/dns.js';
import {
  cleanupNetworkPolicy,
  startNetworkPolicy,
  type NetworkPolicyEnforcer,
} from '../../lab/cluster/network-policy.js';
import { cleanupPodNetwork, createPodNetwork, type PodNetwork } from '../../lab/cluster/pod-network.js';
import { cleanupServiceProxy, startServiceProxy, type ServiceProxy } from '../../lab/cluster/service-proxy.js';
import { startKube, type Kube } from '../../lab/kube/server.js';
import type { Obj } from '../../lab/kube/types.js';
import { waitFor } from '../../lab/runtime/wait.js';
import { skipUnless } from '../support/env.js';
import { apply, createPod, ensureNamespace, remove, setPodState } from './kube-fixtures.js';
import { TestPod } from './pods.js';

const exec = promisify(execFile);
const STEM = 'tkgdn';
const NODE_IP = '100.65.0.4';
const RESOLVE = join(import.meta.dirname, 'fixtures', 'resolve.mjs');

describe.skipIf(skipUnless({ root: true, binaries: ['/usr/sbin/dnsmasq', '/usr/sbin/nft'] }))('cluster DNS', () => {
  let kube: Kube;
  let net: PodNetwork;
  let proxy: ServiceProxy;
  let dns: ClusterDns;
  const dir = mkdtempSync(join(tmpdir(), 'tkg-dns-'));
  const pod = new TestPod(`${STEM}-op`, { namespace: 'torchain-system', name: 'operator-0' });

  /** getent (glibc: resolv.conf search path and ndots, as any program in a pod) from the pod's namespace. */
  async function getent(name: string): Promise<string> {
    try {
      const { stdout } = await exec('ip', ['netns', 'exec', pod.netns, 'getent', 'ahostsv4', name]);
      return [
        ...new Set(
          stdout
            .split('\n')
            .filter(Boolean)
            .map((l) => l.split(/\s+/)[0]),
        ),
      ]
        .sort()
        .join(',');
    } catch (e) {
      return `exit ${(e as { code: number }).code}`;
    }
  }
  /** c-ares from the pod's namespace: the DNS answer code for names that do not resolve. */
  async function resolve(...names: string[]): Promise<Record<string, string>> {
    const { stdout } = await exec('ip', ['netns', 'exec', pod.netns, process.execPath, RESOLVE, ...names]);
    return Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
  }
  const clusterIP = (ns: string, name: string) =>
    String((kube.api.store.get('/services', ns, name)!.spec as Obj).clusterIP);

  beforeAll(async () => {
    await cleanupPodNetwork(STEM);
    await cleanupServiceProxy(STEM);
    await cleanupClusterDns(STEM);
    net = await createPodNetwork({ stem: STEM, podCIDR: '100.64.4.0/24', nodeIP: NODE_IP });
    kube = await startKube({ dir, host: NODE_IP });
    for (const ns of ['torchain-system', 'shop']) ensureNamespace(kube, ns);
    proxy = await startServiceProxy({ stem: STEM, kubeconfigPath: kube.kubeconfigPath, nodeIP: NODE_IP });
    dns = await startClusterDns({ stem: STEM, kubeconfigPath: kube.kubeconfigPath, podNetwork: net });
    await pod.start(net, kube);
    dns.writePodResolvConf(pod.netns, 'torchain-system');
    // an explicit ClusterIP, so the test knows the address DNS must answer
    apply(kube, '', 'services', {
      metadata: { name: 'torchain-operator', namespace: 'torchain-system' },
      spec: { clusterIP: '10.96.1.20', selector: { app: 'op' }, ports: [{ name: 'http', port: 8080 }] },
    });
    apply(kube, '', 'services', {
      metadata: { name: 'hl', namespace: 'shop' },
      spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    createPod(kube, { namespace: 'shop', name: 'web-1', labels: { app: 'web' }, podIP: '100.64.9.1' });
    createPod(kube, { namespace: 'shop', name: 'web-2', labels: { app: 'web' }, podIP: '100.64.9.2', ready: false });
  });
  afterAll(async () => {
    await pod.stop(net).catch(() => undefined);
    await dns?.stop();
    await proxy?.stop();
    await kube?.close();
    await net?.close();
    await cleanupClusterDns(STEM);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs as the kube-dns pod behind the kube-dns Service at 10.96.0.10', async () => {
    expect(dns.nameserver).toBe('10.96.0.10');
    const p = kube.api.store.get('/pods', 'kube-system', 'cluster-dns')!;
    expect(p.metadata.labels).toEqual({ 'k8s-app': 'kube-dns' });
    expect((p.status as Obj).podIP).toBe(dns.podIP);
    await waitFor('kube-dns has an endpoint in the service proxy', () =>
      proxy.current()?.targets.some((t) => t.service === 'kube-system/kube-dns' && t.endpoints.length === 1),
    );
  });

  it("writes the pod's resolv.conf where ip netns exec picks it up", () => {
    expect(readFileSync(`/etc/netns/${pod.netns}/resolv.conf`, 'utf8')).toContain(
      'search torchain-system.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
  });

  it('resolves service names through the search path, like a pod', async () => {
    const op = clusterIP('torchain-system', 'torchain-operator');
    await waitFor('operator name resolves', async () => (await getent('torchain-operator.torchain-system.svc')) === op);
    expect(await getent('torchain-operator')).toBe(op);
    expect(await getent('torchain-operator.torchain-system')).toBe(op);
    expect(await getent('torchain-operator.torchain-system.svc.cluster.local')).toBe(op);
    expect(await getent('kube-dns.kube-system')).toBe('10.96.0.10');
    expect(await getent('kubernetes.default')).toBe('10.96.0.1');
  });

  it('gives a headless Service its ready pods, and follows readiness', async () => {
    await waitFor('hl → web-1', async () => (await getent('hl.shop')) === '100.64.9.1');
    setPodState(kube, 'shop', 'web-2', { ready: true });
    await waitFor('hl → web-1 and web-2', async () => (await getent('hl.shop')) === '100.64.9.1,100.64.9.2');
  });

  it('answers a new Service at once and forgets a deleted one', async () => {
    apply(kube, '', 'services', {
      metadata: { name: 'late', namespace: 'shop' },
      spec: { clusterIP: '10.96.1.21', ports: [{ port: 1 }] },
    });
    await waitFor('late resolves', async () => (await getent('late.shop')) === clusterIP('shop', 'late'));
    kube.api.delete(kube.api.registry.byGroupResource('', 'services')!, 'shop', 'late', { version: 'v1' });
    await waitFor('late gone', async () => (await getent('late.shop')).startsWith('exit'));
  });

  it('answers nothing outside cluster.local: REFUSED, no forwarding; NXDOMAIN for unknown cluster names', async () => {
    expect(await getent('example.com')).toBe('exit 2');
    expect(await resolve('example.com', 'nope.shop.svc.cluster.local', 'hl.shop.svc.cluster.local')).toEqual({
      'example.com': 'EREFUSED',
      'nope.shop.svc.cluster.local': 'ENOTFOUND',
      'hl.shop.svc.cluster.local': '100.64.9.1,100.64.9.2',
    });
  });

  it('serves host processes through the ClusterIP too', async () => {
    const r = new Resolver();
    r.setServers(['10.96.0.10']);
    expect(await r.resolve4('torchain-operator.torchain-system.svc.cluster.local')).toEqual([
      clusterIP('torchain-system', 'torchain-operator'),
    ]);
  });

  it('is reachable under a default-deny policy exactly when DNS egress to the kube-dns pods is allowed', async () => {
    const enforcer: NetworkPolicyEnforcer = await startNetworkPolicy({
      stem: STEM,
      kubeconfigPath: kube.kubeconfigPath,
    });
    try {
      apply(kube, 'networking.k8s.io', 'networkpolicies', {
        metadata: { name: 'default-deny', namespace: 'torchain-system' },
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      });
      const fqdn = 'torchain-operator.torchain-system.svc.cluster.local';
      await waitFor('DNS blocked', async () => (await resolve(fqdn))[fqdn] === 'ETIMEOUT');
      // the chart's DNS egress rule (helm/torchain/templates/_helpers.tpl torchain.netpol.dnsEgress)
      apply(kube, 'networking.k8s.io', 'networkpolicies', {
        metadata: { name: 'dns', namespace: 'torchain-system' },
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
                },
              ],
              ports: [
                { protocol: 'UDP', port: 53 },
                { protocol: 'TCP', port: 53 },
              ],
            },
          ],
        },
      });
      const op = clusterIP('torchain-system', 'torchain-operator');
      await waitFor('DNS allowed again', async () => (await getent('torchain-operator')) === op);
    } finally {
      for (const n of ['default-deny', 'dns'])
        remove(kube, 'networking.k8s.io', 'networkpolicies', 'torchain-system', n);
      await enforcer.stop();
      await cleanupNetworkPolicy(STEM);
    }
  });

  it('stop() and cleanup leave no namespace, pod, Service or resolv.conf behind', async () => {
    writePodResolvConf(STEM, `${STEM}-gone`, 'x');
    await dns.stop();
    dns = { stop: async () => undefined } as unknown as ClusterDns;
    expect(kube.api.store.get('/pods', 'kube-system', 'cluster-dns')).toBeUndefined();
    expect(kube.api.store.get('/services', 'kube-system', 'kube-dns')).toBeUndefined();
    const { stdout } = await exec('ip', ['netns', 'list']);
    expect(stdout).not.toContain(`${STEM}-dns`);
    const r = await cleanupClusterDns(STEM);
    expect(r.resolvConfs.sort()).toEqual([`${STEM}-gone`, pod.netns].sort());
    expect(existsSync(`/etc/netns/${STEM}-gone`)).toBe(false);
  });
});
