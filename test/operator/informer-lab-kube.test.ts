// The informer over the real watch protocol of lab/kube: paged list + watch through KubeClient, 410 Gone for a
// resourceVersion older than the server keeps, bookmarks keeping a healthy watch from looking silent, catching up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiextensionsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { KubeClient } from '../../operator/src/adapters/kube/client.js';
import { Informer, type WatchEventType } from '../../operator/src/controller/informer.js';
import type { TorChain } from '../../operator/src/api/torchain.js';
import { REPO_ROOT } from '../../scripts/paths.js';
import { eventually, sleep } from './support/harness.js';

describe('informer against lab/kube', () => {
  let kube: Kube;
  let client: KubeClient;
  let kc: KubeConfig;

  const create = (name: string) =>
    client.custom.createNamespacedCustomObject({
      group: 'torchain.dev',
      version: 'v1alpha1',
      namespace: 'vpn',
      plural: 'torchains',
      body: {
        apiVersion: 'torchain.dev/v1alpha1',
        kind: 'TorChain',
        metadata: { name, namespace: 'vpn' },
        spec: { numberNode: 1, typeNode: 'openvpn', nameTorChain: 'x', inInterface: 'net1' },
      },
    });

  beforeAll(async () => {
    kube = await startKube({ watchHistory: 5, bookmarkIntervalMs: 200, log: () => undefined });
    kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    const crd = parse(readFileSync(join(REPO_ROOT, 'helm/torchain/crds/torchain.dev_torchains.yaml'), 'utf8'));
    await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: crd });
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'vpn' } } });
    client = new KubeClient(kc, { namespace: 'vpn', pageSize: 3 }); // lists span several pages
    await eventually(async () => (await client.torchainListWatch().list()) && true, 'the CRD to be served');
  });
  afterAll(async () => kube?.close());

  it('a watch from a resourceVersion the server no longer keeps ends with 410', async () => {
    const lw = client.torchainListWatch();
    const { resourceVersion } = await lw.list();
    for (let i = 0; i < 10; i++) await create(`old-${String(i)}`);
    const seen: Array<[WatchEventType, unknown]> = [];
    let done: unknown = 'not yet';
    const handle = await lw.watch(
      resourceVersion,
      (t, o) => seen.push([t, o]),
      (err) => (done = err),
    );
    await eventually(async () => seen.some(([t]) => t === 'ERROR') || (done !== 'not yet' && done), 'a 410');
    handle.abort();
    const error = seen.find(([t]) => t === 'ERROR')?.[1] as { code?: number } | undefined;
    expect(error?.code ?? (done as { statusCode?: number }).statusCode).toBe(410);
  });

  it('the informer syncs over pages, follows changes, keeps a healthy watch (bookmarks) and catches up after a gap', async () => {
    const changes: string[] = [];
    const inf = new Informer<TorChain>({
      name: 'it',
      source: client.torchainListWatch(),
      relistMs: 60_000,
      silentMs: 1_000, // bookmarks every 200 ms keep a healthy watch from looking silent
      backoff: { baseMs: 50, maxMs: 200 },
      onChange: (kind, o) => changes.push(`${kind}:${o.metadata.name ?? ''}`),
    });
    inf.start();
    await inf.waitForSync();
    expect(inf.store.size).toBe(10);
    await create('live');
    await eventually(async () => changes.includes('add:live'), 'the watch to deliver');
    await sleep(1500);
    expect(inf.stats.silentRestarts).toBe(0);
    inf.stop();
    // While it is stopped, more happens than the server's watch history holds.
    for (let i = 0; i < 10; i++) await create(`gap-${String(i)}`);
    inf.start();
    await eventually(async () => inf.store.size === 21 && changes.includes('add:gap-9'), 'the informer to catch up');
    inf.stop();
  });
});
