// The EndpointSlice/Endpoints controller of lab/kube, read back with the real kubectl: slices follow pod readiness,
// named targetPorts, terminating pods and deletion as kube-controller-manager's controllers do
// (https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { waitFor } from '../../lab/runtime/wait.js';
import { KUBECTL } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { apply, createPod, deletePod, ensureNamespace, kubectl, remove, setPodState } from './kube-fixtures.js';

interface Slice {
  metadata: { name: string; labels: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string }> };
  addressType: string;
  ports: Array<{ name: string; port: number; protocol: string }>;
  endpoints: Array<{
    addresses: string[];
    conditions: { ready: boolean; serving: boolean; terminating: boolean };
    targetRef: { name: string };
  }>;
}

describe.skipIf(skipUnless({ binaries: [KUBECTL] }))('EndpointSlice controller (lab/kube)', () => {
  let kube: Kube;
  const dir = mkdtempSync(join(tmpdir(), 'tkg-eps-'));
  const NS = 'shop';

  const slices = async (svc: string): Promise<Slice[]> =>
    (
      JSON.parse(
        await kubectl(kube, [
          '-n',
          NS,
          'get',
          'endpointslices',
          '-l',
          `kubernetes.io/service-name=${svc}`,
          '-o',
          'json',
        ]),
      ) as { items: Slice[] }
    ).items;
  const readiness = async (svc: string) =>
    Object.fromEntries(
      (await slices(svc)).flatMap((s) =>
        s.endpoints.map((e) => [e.targetRef.name, `${e.addresses[0]}:${s.ports[0]?.port}:${e.conditions.ready}`]),
      ),
    );

  beforeAll(async () => {
    kube = await startKube({ dir });
    ensureNamespace(kube, NS);
    apply(kube, '', 'services', {
      metadata: { name: 'web', namespace: NS, labels: { tier: 'front' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    const ports = (n: number) => [{ name: 'http', containerPort: n, protocol: 'TCP' }];
    createPod(kube, { namespace: NS, name: 'web-a', labels: { app: 'web' }, ports: ports(8080), podIP: '10.1.0.1' });
    createPod(kube, {
      namespace: NS,
      name: 'web-b',
      labels: { app: 'web' },
      ports: ports(8080),
      podIP: '10.1.0.2',
      ready: false,
    });
    createPod(kube, { namespace: NS, name: 'other', labels: { app: 'db' }, ports: ports(8080), podIP: '10.1.0.9' });
  });
  afterAll(async () => {
    await kube?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves discovery.k8s.io/v1 and lists the slice with kubectl, labelled and owned like upstream', async () => {
    expect(await kubectl(kube, ['api-resources', '--api-group=discovery.k8s.io', '--no-headers'])).toMatch(
      /^endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice/m,
    );
    const s = await waitFor('a slice for web', async () => (await slices('web'))[0]);
    expect(s.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(s.metadata.labels).toMatchObject({
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      tier: 'front',
    });
    expect(s.metadata.ownerReferences).toMatchObject([{ kind: 'Service', name: 'web' }]);
    expect(s.addressType).toBe('IPv4');
    expect(s.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(await readiness('web')).toEqual({ 'web-a': '10.1.0.1:8080:true', 'web-b': '10.1.0.2:8080:false' });
    const table = await kubectl(kube, ['-n', NS, 'get', 'endpointslices']);
    expect(table).toMatch(/^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE$/m);
    expect(table).toMatch(/web-\w+\s+IPv4\s+8080\s+10\.1\.0\.1,10\.1\.0\.2\s/);
  });

  it('keeps v1 Endpoints: ready pods under addresses, the others under notReadyAddresses', async () => {
    const ep = JSON.parse(await kubectl(kube, ['-n', NS, 'get', 'endpoints', 'web', '-o', 'json'])) as {
      subsets: Array<{ addresses?: Array<{ ip: string }>; notReadyAddresses?: Array<{ ip: string }>; ports: unknown }>;
    };
    expect(ep.subsets).toHaveLength(1);
    expect(ep.subsets[0]!.addresses!.map((a) => a.ip)).toEqual(['10.1.0.1']);
    expect(ep.subsets[0]!.notReadyAddresses!.map((a) => a.ip)).toEqual(['10.1.0.2']);
    expect(ep.subsets[0]!.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
  });

  it('follows readiness both ways', async () => {
    setPodState(kube, NS, 'web-b', { ready: true });
    setPodState(kube, NS, 'web-a', { ready: false });
    await waitFor('web-b ready and web-a not', async () => {
      const r = await readiness('web');
      return r['web-b'] === '10.1.0.2:8080:true' && r['web-a'] === '10.1.0.1:8080:false';
    });
  });

  it('resolves a named targetPort per pod: pods with another port number get their own slice', async () => {
    createPod(kube, {
      namespace: NS,
      name: 'web-c',
      labels: { app: 'web' },
      ports: [{ name: 'http', containerPort: 9090, protocol: 'TCP' }],
      podIP: '10.1.0.3',
    });
    const all = await waitFor('two slices for web', async () => {
      const s = await slices('web');
      return s.length === 2 ? s : undefined;
    });
    const byPort = Object.fromEntries(all.map((s) => [s.ports[0]!.port, s.endpoints.map((e) => e.targetRef.name)]));
    expect(byPort).toEqual({ 8080: ['web-a', 'web-b'], 9090: ['web-c'] });
  });

  it('marks a terminating pod not ready but serving, and drops a deleted pod', async () => {
    // a bound pod's deletion is graceful: it stays Terminating until its kubelet confirms
    remove(kube, '', 'pods', NS, 'web-b');
    await waitFor('web-b terminating', async () => {
      const e = (await slices('web')).flatMap((s) => s.endpoints).find((x) => x.targetRef.name === 'web-b');
      return e?.conditions.terminating === true && e.conditions.ready === false && e.conditions.serving === true;
    });
    deletePod(kube, NS, 'web-b');
    deletePod(kube, NS, 'web-c');
    await waitFor('only web-a left in one slice', async () => {
      const s = await slices('web');
      return s.length === 1 && s[0]!.endpoints.map((e) => e.targetRef.name).join() === 'web-a';
    });
  });

  it('leaves the slices of a Service without a selector to their author', async () => {
    apply(kube, '', 'services', {
      metadata: { name: 'vault', namespace: NS },
      spec: { ports: [{ name: 'http', port: 8200 }] },
    });
    apply(kube, 'discovery.k8s.io', 'endpointslices', {
      metadata: { name: 'vault-host', namespace: NS, labels: { 'kubernetes.io/service-name': 'vault' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.251.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'http', port: 8200, protocol: 'TCP' }],
    });
    await new Promise((r) => setTimeout(r, 300));
    const s = await slices('vault');
    expect(s.map((x) => x.metadata.name)).toEqual(['vault-host']);
    expect(s[0]!.endpoints[0]!.addresses).toEqual(['10.251.0.1']);
  });

  it('refuses a slice without addressType (422, as the API server does)', async () => {
    expect(() =>
      apply(kube, 'discovery.k8s.io', 'endpointslices', { metadata: { name: 'bad', namespace: NS }, endpoints: [] }),
    ).toThrow(/addressType/);
  });

  it('publishes the API server as default/kubernetes (Endpoints and EndpointSlice)', async () => {
    const port = Number(new URL(kube.url).port);
    const s = JSON.parse(
      await kubectl(kube, ['-n', 'default', 'get', 'endpointslice', 'kubernetes', '-o', 'json']),
    ) as Slice;
    expect(s.endpoints[0]!.addresses).toEqual(['127.0.0.1']);
    expect(s.ports).toEqual([{ name: 'https', port, protocol: 'TCP' }]);
  });

  it('removes Endpoints and slices with their Service', async () => {
    remove(kube, '', 'services', NS, 'web');
    await waitFor('web endpoints and slices gone', async () => {
      const eps = await kubectl(kube, ['-n', NS, 'get', 'endpoints', '-o', 'name']);
      return !eps.includes('endpoints/web') && (await slices('web')).length === 0;
    });
  });
});
