// Conformance of lab/kube with @kubernetes/client-node 1.4 (what the operator and the log-exporter use). Each case
// names the real API server behaviour it checks, with the documentation that defines it.
import {
  ApiException,
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Log,
  makeInformer,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  Watch,
  type KubernetesObject,
  type V1Pod,
} from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { CHART_DIR } from '../../scripts/paths.js';

const GROUP = { group: 'torchain.dev', version: 'v1alpha1', plural: 'torchains' };
interface TorChainObj extends KubernetesObject {
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const hop = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'torchain.dev/v1alpha1',
  kind: 'TorChain',
  metadata: { name, labels },
  spec: { numberNode: 1, typeNode: 'openvpn', nameTorChain: 'alpha', inInterface: 'net1' },
});

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function expectApiError(p: Promise<unknown>, code: number, reason: string): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiException);
    const err = e as ApiException<string>;
    expect(err.code).toBe(code);
    const body = JSON.parse(err.body) as Record<string, unknown>;
    expect(body).toMatchObject({ kind: 'Status', status: 'Failure', reason, code });
    return body;
  }
  throw new Error(`expected a ${code} ${reason}`);
}

describe('lab/kube with @kubernetes/client-node', () => {
  let kube: Kube;
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;

  beforeAll(async () => {
    kube = await startKube({ watchHistory: 50, bookmarkIntervalMs: 200 });
    kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    custom = kc.makeApiClient(CustomObjectsApi);
    core = kc.makeApiClient(CoreV1Api);
    // Created in-process: client-node's V1CustomResourceDefinition serializer drops `enum` from schemas.
    const crd = parse(readFileSync(`${CHART_DIR}/crds/torchain.dev_torchains.yaml`, 'utf8')) as KubernetesObject;
    kube.api.create(kube.api.registry.byGroupResource('apiextensions.k8s.io', 'customresourcedefinitions')!, '', crd, {
      version: 'v1',
    });
  });

  afterAll(async () => {
    await kube?.close();
  });

  it('informer: list, then watch from the list resourceVersion; sees add, update and delete', async () => {
    // Real: list returns a resourceVersion; a watch from it delivers every later change exactly once.
    // https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
    await custom.createNamespacedCustomObject({ ...GROUP, namespace: 'default', body: hop('inf-0') });
    const informer = makeInformer<TorChainObj>(
      kc,
      '/apis/torchain.dev/v1alpha1/namespaces/default/torchains',
      () => custom.listNamespacedCustomObject({ ...GROUP, namespace: 'default' }) as never,
    );
    const events: string[] = [];
    informer.on('add', (o) => events.push(`add ${o.metadata!.name}`));
    informer.on('update', (o) => events.push(`update ${o.metadata!.name} ${String(o.spec.switchServer)}`));
    informer.on('delete', (o) => events.push(`delete ${o.metadata!.name}`));
    await informer.start();
    try {
      await until(() => events.includes('add inf-0'), 'initial list');
      await custom.createNamespacedCustomObject({ ...GROUP, namespace: 'default', body: hop('inf-1') });
      await custom.patchNamespacedCustomObject(
        { ...GROUP, namespace: 'default', name: 'inf-1', body: { spec: { switchServer: 1 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await custom.deleteNamespacedCustomObject({ ...GROUP, namespace: 'default', name: 'inf-1' });
      await until(() => events.includes('delete inf-1'), 'delete event');
      expect(events).toEqual(['add inf-0', 'add inf-1', 'update inf-1 1', 'delete inf-1']);
      expect(informer.list('default').map((o) => o.metadata!.name)).toEqual(['inf-0']);
    } finally {
      await informer.stop();
    }
  });

  it('status subresource: a status patch changes status only and leaves generation alone', async () => {
    // Real: with `subresources.status`, PUT/PATCH on /status ignores everything but status; generation moves only
    // with spec. https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#status-subresource
    await custom.createNamespacedCustomObject({ ...GROUP, namespace: 'default', body: hop('st-1') });
    const patched = (await custom.patchNamespacedCustomObjectStatus(
      {
        ...GROUP,
        namespace: 'default',
        name: 'st-1',
        body: { spec: { numberNode: 5 }, status: { phase: 'Running', switches: 1 } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as TorChainObj;
    expect(patched.status).toEqual({ phase: 'Running', switches: 1 });
    expect(patched.spec.numberNode).toBe(1);
    expect(patched.metadata!.generation).toBe(1);
    // and the main resource ignores status
    const main = (await custom.patchNamespacedCustomObject(
      { ...GROUP, namespace: 'default', name: 'st-1', body: { spec: { switchServer: 2 }, status: { phase: 'Error' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as TorChainObj;
    expect(main.status!.phase).toBe('Running');
    expect(main.metadata!.generation).toBe(2);
    // a status value the schema refuses is a 422 naming the field
    const body = await expectApiError(
      custom.patchNamespacedCustomObjectStatus(
        { ...GROUP, namespace: 'default', name: 'st-1', body: { status: { phase: 'Sleeping' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
      422,
      'Invalid',
    );
    expect((body.details as { causes: Array<{ field: string }> }).causes[0]!.field).toBe('status.phase');
  });

  it('optimistic concurrency: a write with a stale resourceVersion is a 409 Conflict', async () => {
    // Real: updates carrying metadata.resourceVersion succeed only if it is current.
    // https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions
    const created = (await custom.createNamespacedCustomObject({
      ...GROUP,
      namespace: 'default',
      body: hop('cc-1'),
    })) as TorChainObj;
    const stale = created.metadata!.resourceVersion!;
    await custom.patchNamespacedCustomObject(
      { ...GROUP, namespace: 'default', name: 'cc-1', body: { spec: { switchServer: 1 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const body = await expectApiError(
      custom.replaceNamespacedCustomObject({
        ...GROUP,
        namespace: 'default',
        name: 'cc-1',
        body: { ...created, spec: { ...created.spec, switchServer: 5 } },
      }),
      409,
      'Conflict',
    );
    expect(body.message).toBe(
      'Operation cannot be fulfilled on torchains.torchain.dev "cc-1": the object has been modified; please apply your changes to the latest version and try again',
    );
    // the same precondition inside a merge patch (how the operator switches a hop)
    await expectApiError(
      custom.patchNamespacedCustomObject(
        {
          ...GROUP,
          namespace: 'default',
          name: 'cc-1',
          body: { metadata: { resourceVersion: stale }, spec: { switchServer: 9 } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
      409,
      'Conflict',
    );
    const now = (await custom.getNamespacedCustomObject({
      ...GROUP,
      namespace: 'default',
      name: 'cc-1',
    })) as TorChainObj;
    expect(now.spec.switchServer).toBe(1);
    // custom resources refuse an update without resourceVersion
    await expectApiError(
      custom.replaceNamespacedCustomObject({
        ...GROUP,
        namespace: 'default',
        name: 'cc-1',
        body: { ...now, metadata: { name: 'cc-1' } },
      }),
      422,
      'Invalid',
    );
  });

  it('watch from a resourceVersion older than the history gets 410 Expired, then the server ends the stream', async () => {
    // Real: etcd compaction / the watch cache window; the server sends an ERROR event with a 410 Status.
    // https://kubernetes.io/docs/reference/using-api/api-concepts/#410-gone-responses
    const first = (await custom.createNamespacedCustomObject({
      ...GROUP,
      namespace: 'default',
      body: hop('old-0'),
    })) as TorChainObj;
    const oldRv = first.metadata!.resourceVersion!;
    for (let i = 0; i < 60; i++)
      await custom.patchNamespacedCustomObject(
        { ...GROUP, namespace: 'default', name: 'old-0', body: { spec: { switchServer: i } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    const got: Array<{ type: string; obj: Record<string, unknown> }> = [];
    let done: unknown = 'pending';
    await new Watch(kc).watch(
      '/apis/torchain.dev/v1alpha1/namespaces/default/torchains',
      { resourceVersion: oldRv },
      (type, obj) => got.push({ type, obj }),
      (err) => (done = err),
    );
    await until(() => done !== 'pending', 'the server to end the watch');
    expect(got).toHaveLength(1);
    expect(got[0]!.type).toBe('ERROR');
    expect(got[0]!.obj).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(String(got[0]!.obj.message)).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it('watch: resourceVersion replays later changes in order; bookmarks carry the current resourceVersion', async () => {
    // Real: a watch from rv X sees all changes after X; with allowWatchBookmarks the server sends BOOKMARK events
    // holding only a resourceVersion. https://kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks
    const a = (await custom.createNamespacedCustomObject({
      ...GROUP,
      namespace: 'default',
      body: hop('bm-1', { tier: 'a' }),
    })) as TorChainObj;
    await custom.createNamespacedCustomObject({ ...GROUP, namespace: 'default', body: hop('bm-2', { tier: 'b' }) });
    const got: Array<[string, string, string]> = [];
    const ctl = await new Watch(kc).watch(
      '/apis/torchain.dev/v1alpha1/namespaces/default/torchains',
      { resourceVersion: a.metadata!.resourceVersion, allowWatchBookmarks: true, labelSelector: 'tier in (a,b)' },
      (type, obj: KubernetesObject) => got.push([type, obj.metadata?.name ?? '', obj.metadata?.resourceVersion ?? '']),
      () => undefined,
    );
    try {
      await until(() => got.some(([t]) => t === 'BOOKMARK'), 'a bookmark');
      expect(got[0]!.slice(0, 2)).toEqual(['ADDED', 'bm-2']);
      const bookmark = got.find(([t]) => t === 'BOOKMARK')!;
      expect(Number(bookmark[2])).toBeGreaterThanOrEqual(Number(got[0]![2]));
      // an object leaving the selector is DELETED for this watch
      await custom.patchNamespacedCustomObject(
        { ...GROUP, namespace: 'default', name: 'bm-2', body: { metadata: { labels: { tier: 'c' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await until(() => got.some(([t, n]) => t === 'DELETED' && n === 'bm-2'), 'DELETED on selector exit');
    } finally {
      ctl.abort();
    }
  });

  it('lists with label and field selectors, and pages with limit/continue', async () => {
    // Real: label selector grammar (=, !=, in, notin, exists) and metadata.name field selector; limit + continue.
    // https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
    // https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks
    for (const [name, hopNo] of [
      ['sel-1', '1'],
      ['sel-2', '2'],
      ['sel-3', '3'],
    ] as const)
      await custom.createNamespacedCustomObject({
        ...GROUP,
        namespace: 'default',
        body: hop(name, { 'torchain.dev/chain': 'sel', 'torchain.dev/hop': hopNo }),
      });
    const names = async (q: { labelSelector?: string; fieldSelector?: string }) =>
      (
        (await custom.listNamespacedCustomObject({ ...GROUP, namespace: 'default', ...q })) as { items: TorChainObj[] }
      ).items.map((o) => o.metadata!.name);
    expect(await names({ labelSelector: 'torchain.dev/chain=sel,torchain.dev/hop!=2' })).toEqual(['sel-1', 'sel-3']);
    expect(await names({ labelSelector: 'torchain.dev/hop in (2,3)' })).toEqual(['sel-2', 'sel-3']);
    expect(await names({ labelSelector: 'torchain.dev/chain=sel', fieldSelector: 'metadata.name=sel-2' })).toEqual([
      'sel-2',
    ]);
    const page1 = (await custom.listNamespacedCustomObject({
      ...GROUP,
      namespace: 'default',
      labelSelector: 'torchain.dev/chain=sel',
      limit: 2,
    })) as {
      items: TorChainObj[];
      metadata: { continue?: string };
    };
    expect(page1.items.map((o) => o.metadata!.name)).toEqual(['sel-1', 'sel-2']);
    const page2 = (await custom.listNamespacedCustomObject({
      ...GROUP,
      namespace: 'default',
      labelSelector: 'torchain.dev/chain=sel',
      limit: 2,
      _continue: page1.metadata.continue,
    })) as {
      items: TorChainObj[];
      metadata: { continue?: string };
    };
    expect(page2.items.map((o) => o.metadata!.name)).toEqual(['sel-3']);
    expect(page2.metadata.continue).toBeUndefined();
    await expectApiError(
      custom.listNamespacedCustomObject({ ...GROUP, namespace: 'default', fieldSelector: 'spec.typeNode=openvpn' }),
      400,
      'BadRequest',
    );
  });

  it('create/get errors: 409 AlreadyExists, 404 NotFound in the Status shape; generateName picks a free name', async () => {
    // Real: https://kubernetes.io/docs/reference/using-api/api-concepts/#responses (Status kind, reasons)
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'cm-1' }, data: { a: '1' } },
    });
    const exists = await expectApiError(
      core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cm-1' } } }),
      409,
      'AlreadyExists',
    );
    expect(exists.message).toBe('configmaps "cm-1" already exists');
    const missing = await expectApiError(
      core.readNamespacedConfigMap({ namespace: 'default', name: 'nope' }),
      404,
      'NotFound',
    );
    expect(missing.details).toMatchObject({ name: 'nope', kind: 'configmaps' });
    await expectApiError(
      core.createNamespacedConfigMap({ namespace: 'no-such-ns', body: { metadata: { name: 'x' } } }),
      404,
      'NotFound',
    );
    const gen = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { generateName: 'hop-' } },
    });
    expect(gen.metadata!.name).toMatch(/^hop-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('Secrets: stringData is merged into base64 data; JSON patch with a failed test op changes nothing', async () => {
    // Real: stringData is write-only and overrides data; JSON patch (RFC 6902) is atomic.
    // https://kubernetes.io/docs/concepts/configuration/secret/#restriction-names-data
    const s = await core.createNamespacedSecret({
      namespace: 'default',
      body: { metadata: { name: 'vpn' }, stringData: { 'client.ovpn': 'remote 1.2.3.4' } },
    });
    expect(s.data).toEqual({ 'client.ovpn': Buffer.from('remote 1.2.3.4').toString('base64') });
    expect(s.type).toBe('Opaque');
    expect((s as unknown as Record<string, unknown>).stringData).toBeUndefined();
    await expectApiError(
      core.patchNamespacedSecret(
        {
          namespace: 'default',
          name: 'vpn',
          body: [
            { op: 'test', path: '/type', value: 'kubernetes.io/tls' },
            { op: 'remove', path: '/data' },
          ],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
      422,
      'Invalid',
    );
    expect((await core.readNamespacedSecret({ namespace: 'default', name: 'vpn' })).data).toEqual(s.data);
  });

  it('TokenRequest mints a ServiceAccount JWT that TokenReview accepts, and rejects once the ServiceAccount is gone', async () => {
    // Real: https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/ and
    // https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-review-v1/
    await core.createNamespacedServiceAccount({
      namespace: 'default',
      body: { metadata: { name: 'torchain-operator' } },
    });
    const tr = await core.createNamespacedServiceAccountToken({
      namespace: 'default',
      name: 'torchain-operator',
      body: { spec: { audiences: ['vault'], expirationSeconds: 600 } },
    });
    const token = tr.status!.token;
    expect(token.split('.')).toHaveLength(3);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims.sub).toBe('system:serviceaccount:default:torchain-operator');
    expect(claims.aud).toEqual(['vault']);
    const auth = kc.makeApiClient(AuthenticationV1Api);
    const ok = await auth.createTokenReview({ body: { spec: { token, audiences: ['vault'] } } });
    expect(ok.status).toMatchObject({
      authenticated: true,
      audiences: ['vault'],
      user: {
        username: 'system:serviceaccount:default:torchain-operator',
        groups: expect.arrayContaining(['system:serviceaccounts', 'system:serviceaccounts:default']),
      },
    });
    const wrongAud = await auth.createTokenReview({ body: { spec: { token, audiences: ['other'] } } });
    expect(wrongAud.status!.authenticated).toBeFalsy();
    // a ServiceAccount token is also a bearer token for the API itself (audience = the API server)
    const apiToken = kube.mintServiceAccountToken('default', 'torchain-operator');
    const saKc = new KubeConfig();
    saKc.loadFromFile(kube.kubeconfigPath);
    saKc.users[0] = { name: saKc.users[0]!.name, token: apiToken };
    const saCore = saKc.makeApiClient(CoreV1Api);
    // authenticated, but RBAC grants a fresh ServiceAccount nothing beyond discovery. (RequestInfoFactory takes
    // the namespace of /api/v1/namespaces/default to be "default", hence the message's scope.)
    const denied = await expectApiError(saCore.readNamespace({ name: 'default' }), 403, 'Forbidden');
    expect(denied.message).toBe(
      'namespaces "default" is forbidden: User "system:serviceaccount:default:torchain-operator" cannot get resource "namespaces" in API group "" in the namespace "default"',
    );
    expect(denied.details).toEqual({ name: 'default', kind: 'namespaces' });
    await kc.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
      namespace: 'default',
      body: {
        metadata: { name: 'operator-view' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'ServiceAccount', name: 'torchain-operator', namespace: 'default' }],
      },
    });
    expect((await saCore.listNamespacedConfigMap({ namespace: 'default' })).kind).toBe('ConfigMapList');
    await core.deleteNamespacedServiceAccount({ namespace: 'default', name: 'torchain-operator' });
    const revoked = await auth.createTokenReview({ body: { spec: { token, audiences: ['vault'] } } });
    expect(revoked.status!.authenticated).toBeFalsy();
    expect(revoked.status!.error).toContain('torchain-operator');
    await expect(saCore.listNamespacedConfigMap({ namespace: 'default' })).rejects.toMatchObject({ code: 401 });
  });

  it('pod logs: whole log, timestamps, sinceTime, container choice, and follow until the container ends', async () => {
    // Real: GET pods/{name}/log with container, follow, sinceTime, timestamps; a multi-container pod needs a
    // container name. https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#get-read-log-of-the-specified-pod
    const pod: V1Pod = {
      metadata: { name: 'hop-1-abc' },
      spec: {
        containers: [
          { name: 'vpn', image: 'vpn:1' },
          { name: 'log-exporter', image: 'exp:1' },
        ],
      },
    };
    await core.createNamespacedPod({ namespace: 'default', body: pod });
    await expectApiError(
      core.readNamespacedPodLog({ namespace: 'default', name: 'hop-1-abc', container: 'vpn' }),
      400,
      'BadRequest',
    );
    kube.setPodStatus('default', 'hop-1-abc', {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'vpn',
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
          image: 'vpn:1',
          imageID: '',
        },
      ],
    });
    kube.appendPodLog('default', 'hop-1-abc', 'vpn', 'old line', new Date('2026-01-01T00:00:00Z'));
    kube.appendPodLog(
      'default',
      'hop-1-abc',
      'vpn',
      'Initialization Sequence Completed',
      new Date('2026-01-01T00:00:05Z'),
    );
    const all = await core.readNamespacedPodLog({ namespace: 'default', name: 'hop-1-abc', container: 'vpn' });
    expect(all).toBe('old line\nInitialization Sequence Completed\n');
    const sinceOut = new PassThrough();
    let since = '';
    sinceOut.on('data', (d) => (since += d));
    await new Log(kc).log('default', 'hop-1-abc', 'vpn', sinceOut, {
      sinceTime: '2026-01-01T00:00:03Z',
      timestamps: true,
    });
    await until(() => since.length > 0, 'sinceTime log');
    expect(since).toBe('2026-01-01T00:00:05Z Initialization Sequence Completed\n');
    const tail = await core.readNamespacedPodLog({
      namespace: 'default',
      name: 'hop-1-abc',
      container: 'vpn',
      tailLines: 1,
    });
    expect(tail).toBe('Initialization Sequence Completed\n');
    const noContainer = await expectApiError(
      core.readNamespacedPodLog({ namespace: 'default', name: 'hop-1-abc' }),
      400,
      'BadRequest',
    );
    expect(noContainer.message).toBe(
      'a container name must be specified for pod hop-1-abc, choose one of: [vpn log-exporter]',
    );

    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    let ended = false;
    out.on('end', () => (ended = true));
    await new Log(kc).log('default', 'hop-1-abc', 'vpn', out, { follow: true, tailLines: 1 });
    await until(() => text === 'Initialization Sequence Completed\n', 'tail');
    kube.appendPodLog('default', 'hop-1-abc', 'vpn', 'read UDPv4 [ECONNREFUSED]: Connection refused (fd=3,code=111)');
    await until(() => text.endsWith('code=111)\n'), 'a followed line');
    kube.setPodStatus('default', 'hop-1-abc', {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'vpn',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 1, startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:01:00Z' } },
          image: 'vpn:1',
          imageID: '',
        },
      ],
    });
    await until(() => ended, 'the follow stream to end when the container terminates');
  });
});
