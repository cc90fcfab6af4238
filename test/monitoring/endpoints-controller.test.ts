// lab/kube's endpoints controller (lab/kube/controllers/endpoints.ts): what kube-controller-manager writes into a
// Service's Endpoints, which Prometheus' `role: endpoints` discovery reads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointSubsets } from '../../lab/kube/controllers/endpoints.js';
import { startKube, type Kube } from '../../lab/kube/server.js';
import type { KObject } from '../../lab/kube/types.js';

const pod = (
  name: string,
  ip: string | undefined,
  ready: boolean,
  labels: Record<string, string> = { app: 'op' },
  extra: Partial<KObject> = {},
): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels },
  spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: {
    phase: 'Running',
    ...(ip ? { podIP: ip } : {}),
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  },
  ...extra,
});
const service: KObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'op', namespace: 'ns', labels: { team: 't' } },
  spec: { selector: { app: 'op' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
};

describe('endpoint subsets', () => {
  it('ready pods under addresses, others under notReadyAddresses; named targetPort resolved; no IP, finished, terminating or unselected pods left out', () => {
    const subsets = endpointSubsets(service, [
      pod('b', '10.0.0.2', false),
      pod('a', '10.0.0.1', true),
      pod('no-ip', undefined, true),
      pod('done', '10.0.0.3', true, { app: 'op' }, { status: { phase: 'Succeeded', podIP: '10.0.0.3' } }),
      pod(
        'going',
        '10.0.0.4',
        true,
        { app: 'op' },
        {
          metadata: {
            name: 'going',
            namespace: 'ns',
            labels: { app: 'op' },
            deletionTimestamp: '2026-01-01T00:00:00Z',
          },
        },
      ),
      pod('other', '10.0.0.5', true, { app: 'x' }),
    ]);
    expect(subsets).toEqual([
      {
        addresses: [
          { ip: '10.0.0.1', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' } },
        ],
        notReadyAddresses: [
          { ip: '10.0.0.2', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'b', uid: 'uid-b' } },
        ],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it('a pod without the named port is left out; a numeric targetPort is used as it is', () => {
    const noPort = pod('np', '10.0.0.9', true);
    (noPort.spec as { containers: unknown[] }).containers = [{ name: 'c', image: 'x' }];
    expect(endpointSubsets(service, [noPort])).toEqual([]);
    const numeric = { ...service, spec: { selector: { app: 'op' }, ports: [{ port: 80, targetPort: 9999 }] } };
    expect(endpointSubsets(numeric, [noPort])[0]!.ports).toEqual([{ port: 9999, protocol: 'TCP' }]);
  });
});

describe('the controller in lab/kube', () => {
  let kube: Kube;
  beforeAll(async () => {
    kube = await startKube();
  });
  afterAll(async () => kube?.close());

  const t = (plural: string) => kube.api.registry.byGroupResource('', plural)!;
  const endpoints = () => kube.api.store.get('/endpoints', 'ns', 'op');
  const settle = () => new Promise((r) => setTimeout(r, 50));

  it('follows pods and the Service; Services without a selector keep hand-written Endpoints', async () => {
    kube.api.create(t('namespaces'), '', { metadata: { name: 'ns' } }, { version: 'v1' });
    kube.api.create(t('services'), 'ns', { metadata: service.metadata, spec: service.spec }, { version: 'v1' });
    await settle();
    expect(endpoints()?.subsets).toEqual([]);
    expect(endpoints()?.metadata.labels).toEqual({ team: 't' });
    const p = pod('a', undefined, false);
    kube.api.create(
      t('pods'),
      'ns',
      { metadata: { name: 'a', labels: { app: 'op' } }, spec: p.spec },
      { version: 'v1' },
    );
    kube.setPodStatus('ns', 'a', {
      phase: 'Running',
      podIP: '10.1.0.1',
      conditions: [{ type: 'Ready', status: 'True' }],
    });
    await settle();
    expect(endpoints()?.subsets).toMatchObject([{ addresses: [{ ip: '10.1.0.1', targetRef: { name: 'a' } }] }]);
    kube.setPodStatus('ns', 'a', {
      phase: 'Running',
      podIP: '10.1.0.1',
      conditions: [{ type: 'Ready', status: 'False' }],
    });
    await settle();
    expect(endpoints()?.subsets).toMatchObject([{ notReadyAddresses: [{ ip: '10.1.0.1' }] }]);
    kube.api.delete(t('services'), 'ns', 'op', { version: 'v1' });
    await settle();
    expect(endpoints()).toBeUndefined();
    // default/kubernetes has no selector: its Endpoints (lab/kube's own address) stay as written.
    expect(kube.api.store.get('/endpoints', 'default', 'kubernetes')?.subsets).toHaveLength(1);
  });
});
