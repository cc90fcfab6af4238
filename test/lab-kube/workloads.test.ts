// Controllers and lifecycles of lab/kube that a client observes through the API: Deployment → ReplicaSet → Pod with
// owner references and rollouts, cascading deletion policies, finalizers, namespace termination, and restarts with a
// state file. Each case names the real behaviour it keeps to.
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube, type Kube } from '../../lab/kube/server.js';

async function until<T>(fn: () => T | Promise<T>, what: string, ms = 5000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const deployment = (
  name: string,
  image: string,
  strategy: 'Recreate' | 'RollingUpdate',
  replicas = 2,
): V1Deployment => ({
  metadata: { name, labels: { 'app.kubernetes.io/name': 'torchain-hop' } },
  spec: {
    replicas,
    strategy: { type: strategy },
    selector: { matchLabels: { hop: name } },
    template: { metadata: { labels: { hop: name } }, spec: { containers: [{ name: 'vpn', image }] } },
  },
});

describe('lab/kube workloads and lifecycles', () => {
  let kube: Kube;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let dir: string;

  /** What the lab kubelet does: report every pending pod of a label as Running and Ready. */
  const kubelet = async (selector: string) => {
    const pods = await core.listNamespacedPod({ namespace: 'default', labelSelector: selector });
    for (const p of pods.items)
      if (p.status?.phase === 'Pending' && !p.metadata?.deletionTimestamp)
        kube.setPodStatus('default', p.metadata!.name!, {
          phase: 'Running',
          podIP: '10.0.0.1',
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }],
          containerStatuses: [
            {
              name: 'vpn',
              ready: true,
              restartCount: 0,
              image: 'x',
              imageID: '',
              state: { running: { startedAt: new Date().toISOString() } },
            },
          ],
        });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lab-kube-wl-'));
    kube = await startKube({ dir, stateFile: join(dir, 'state.json') });
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
  });

  afterAll(async () => {
    await kube?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a Deployment creates a ReplicaSet and Pods with controller owner references; status follows pod readiness', async () => {
    // Real: https://kubernetes.io/docs/concepts/workloads/controllers/deployment/ — pod-template-hash label,
    // `<deployment>-<hash>` ReplicaSet, `<replicaset>-<suffix>` Pods, status.readyReplicas from Ready pods.
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: deployment('hop-a', 'vpn:1', 'RollingUpdate'),
    });
    const pods = await until(async () => {
      const l = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'hop=hop-a' });
      return l.items.length === 2 ? l.items : undefined;
    }, 'two pods');
    const rs = (await apps.listNamespacedReplicaSet({ namespace: 'default', labelSelector: 'hop=hop-a' })).items;
    expect(rs).toHaveLength(1);
    const hash = rs[0]!.metadata!.labels!['pod-template-hash']!;
    expect(rs[0]!.metadata!.name).toBe(`hop-a-${hash}`);
    expect(rs[0]!.metadata!.ownerReferences).toMatchObject([{ kind: 'Deployment', name: 'hop-a', controller: true }]);
    for (const p of pods) {
      expect(p.metadata!.name).toMatch(new RegExp(`^hop-a-${hash}-[a-z0-9]{5}$`));
      expect(p.metadata!.ownerReferences).toMatchObject([
        { kind: 'ReplicaSet', name: `hop-a-${hash}`, controller: true },
      ]);
      expect(p.status!.phase).toBe('Pending');
    }
    const notReady = await apps.readNamespacedDeployment({ namespace: 'default', name: 'hop-a' });
    expect(notReady.status?.readyReplicas ?? 0).toBe(0);
    await kubelet('hop=hop-a');
    const ready = await until(async () => {
      const d = await apps.readNamespacedDeployment({ namespace: 'default', name: 'hop-a' });
      return d.status?.readyReplicas === 2 ? d : undefined;
    }, 'readyReplicas 2');
    expect(ready.status).toMatchObject({
      replicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
      observedGeneration: 1,
    });
    expect(ready.status!.conditions!.find((c) => c.type === 'Available')!.status).toBe('True');
  });

  it('a template change rolls out: new ReplicaSet, old pods kept until new ones are Ready, then removed', async () => {
    // Real: RollingUpdate never drops below the available pods while the new ReplicaSet comes up.
    // https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-update-deployment
    await apps.patchNamespacedDeployment(
      {
        namespace: 'default',
        name: 'hop-a',
        body: { spec: { template: { spec: { containers: [{ name: 'vpn', image: 'vpn:2' }] } } } },
      },
      (await import('@kubernetes/client-node')).setHeaderOptions(
        'Content-Type',
        'application/strategic-merge-patch+json',
      ),
    );
    const all = await until(async () => {
      const l = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'hop=hop-a' });
      return l.items.length === 4 ? l.items : undefined;
    }, 'surge to 4 pods');
    const images = all.map((p) => p.spec!.containers[0]!.image).sort();
    expect(images).toEqual(['vpn:1', 'vpn:1', 'vpn:2', 'vpn:2']);
    await kubelet('hop=hop-a');
    const done = await until(async () => {
      const d = await apps.readNamespacedDeployment({ namespace: 'default', name: 'hop-a' });
      const l = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'hop=hop-a' });
      return d.status?.updatedReplicas === 2 && d.status.replicas === 2 && l.items.length === 2 ? { d, l } : undefined;
    }, 'rollout complete');
    expect(done.l.items.map((p) => p.spec!.containers[0]!.image)).toEqual(['vpn:2', 'vpn:2']);
    expect(done.d.metadata!.generation).toBe(2);
    expect(done.d.status!.observedGeneration).toBe(2);
    const rs = (await apps.listNamespacedReplicaSet({ namespace: 'default', labelSelector: 'hop=hop-a' })).items;
    expect(
      rs.map((r) => [r.metadata!.annotations!['deployment.kubernetes.io/revision'], r.spec!.replicas]).sort(),
    ).toEqual([
      ['1', 0],
      ['2', 2],
    ]);
  });

  it('Recreate: old pods go first, new ones come only after', async () => {
    // Real: https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#recreate-deployment
    await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('hop-r', 'vpn:1', 'Recreate', 1) });
    await until(
      async () =>
        (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'hop=hop-r' })).items.length === 1,
      'first pod',
    );
    const seen: string[][] = [];
    const stop = kube.api.store.subscribe((ev) => {
      if (ev.rk === '/pods' && ev.object.metadata.labels?.hop === 'hop-r')
        seen.push(
          kube.api.store
            .list('/pods', 'default')
            .filter((p) => p.metadata.labels?.hop === 'hop-r')
            .map((p) => (p.spec as V1Pod['spec'])!.containers[0]!.image!),
        );
    });
    try {
      const d = await apps.readNamespacedDeployment({ namespace: 'default', name: 'hop-r' });
      d.spec!.template.spec!.containers[0]!.image = 'vpn:2';
      await apps.replaceNamespacedDeployment({ namespace: 'default', name: 'hop-r', body: d });
      await until(async () => {
        const l = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'hop=hop-r' });
        return l.items.length === 1 && l.items[0]!.spec!.containers[0]!.image === 'vpn:2';
      }, 'recreated pod');
      expect(seen.every((images) => !(images.includes('vpn:1') && images.includes('vpn:2')))).toBe(true);
    } finally {
      stop();
    }
  });

  it('pods bound to a node are deleted gracefully (Terminating until the kubelet confirms); unbound pods at once', async () => {
    // Real: the pod strategy gives bound pods terminationGracePeriodSeconds; the kubelet stops the containers and
    // deletes with gracePeriodSeconds=0. Unscheduled pods are deleted immediately.
    // https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination
    // https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/binding-v1/
    const body = (name: string): V1Pod => ({
      metadata: { name },
      spec: { containers: [{ name: 'vpn', image: 'v:1' }] },
    });
    await core.createNamespacedPod({ namespace: 'default', body: body('unbound') });
    await core.deleteNamespacedPod({ namespace: 'default', name: 'unbound' });
    await expect(core.readNamespacedPod({ namespace: 'default', name: 'unbound' })).rejects.toMatchObject({
      code: 404,
    });

    await core.createNamespacedPod({ namespace: 'default', body: body('bound') });
    await core.createNamespacedPodBinding({
      namespace: 'default',
      name: 'bound',
      body: { metadata: { name: 'bound' }, target: { apiVersion: 'v1', kind: 'Node', name: 'lab-node' } },
    });
    await expect(
      core.createNamespacedPodBinding({
        namespace: 'default',
        name: 'bound',
        body: { metadata: { name: 'bound' }, target: { kind: 'Node', name: 'other' } },
      }),
    ).rejects.toMatchObject({ code: 409 });
    expect((await core.readNamespacedPod({ namespace: 'default', name: 'bound' })).spec!.nodeName).toBe('lab-node');
    await core.deleteNamespacedPod({ namespace: 'default', name: 'bound' });
    const terminating = await core.readNamespacedPod({ namespace: 'default', name: 'bound' });
    expect(terminating.metadata!.deletionGracePeriodSeconds).toBe(30);
    expect(terminating.metadata!.deletionTimestamp).toBeDefined();
    await core.deleteNamespacedPod({ namespace: 'default', name: 'bound', gracePeriodSeconds: 0 });
    await expect(core.readNamespacedPod({ namespace: 'default', name: 'bound' })).rejects.toMatchObject({ code: 404 });
  });

  it('deleting a Deployment cascades to its ReplicaSets and Pods (background) and is immediate for the owner', async () => {
    // Real: https://kubernetes.io/docs/concepts/architecture/garbage-collection/#background-deletion
    await apps.deleteNamespacedDeployment({ namespace: 'default', name: 'hop-a' });
    await expect(apps.readNamespacedDeployment({ namespace: 'default', name: 'hop-a' })).rejects.toMatchObject({
      code: 404,
    });
    await until(
      async () =>
        (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'hop=hop-a' })).items.length === 0,
      'pods collected',
    );
    expect(
      (await apps.listNamespacedReplicaSet({ namespace: 'default', labelSelector: 'hop=hop-a' })).items,
    ).toHaveLength(0);
  });

  it('foreground deletion keeps the owner with deletionTimestamp until dependents are gone; orphan keeps dependents', async () => {
    // Real: https://kubernetes.io/docs/concepts/architecture/garbage-collection/#foreground-deletion and
    // https://kubernetes.io/docs/concepts/architecture/garbage-collection/#orphaned-dependents
    const owner = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'owner', finalizers: ['example.com/hold'] } },
    });
    const ref = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'owner',
      uid: owner.metadata!.uid!,
      blockOwnerDeletion: true,
    };
    await core.createNamespacedSecret({
      namespace: 'default',
      body: { metadata: { name: 'dep', ownerReferences: [ref], finalizers: ['example.com/hold'] } },
    });
    const del = await core.deleteNamespacedConfigMap({
      namespace: 'default',
      name: 'owner',
      propagationPolicy: 'Foreground',
    });
    expect(del).toBeDefined();
    const marked = await core.readNamespacedConfigMap({ namespace: 'default', name: 'owner' });
    expect(marked.metadata!.deletionTimestamp).toBeDefined();
    expect(marked.metadata!.finalizers).toEqual(['example.com/hold', 'foregroundDeletion']);
    // the dependent is being deleted but holds a finalizer: the owner waits
    const dep = await until(async () => {
      const s = await core.readNamespacedSecret({ namespace: 'default', name: 'dep' });
      return s.metadata!.deletionTimestamp ? s : undefined;
    }, 'dependent marked');
    expect(dep.metadata!.finalizers).toEqual(['example.com/hold']);
    // a finalizer cannot be added to an object being deleted (422)
    await expect(
      core.patchNamespacedSecret({
        namespace: 'default',
        name: 'dep',
        body: [{ op: 'add', path: '/metadata/finalizers/-', value: 'x/y' }],
      }),
    ).rejects.toMatchObject({ code: 422 });
    // releasing the dependent's finalizer deletes it; then the owner loses foregroundDeletion
    await core.patchNamespacedSecret({
      namespace: 'default',
      name: 'dep',
      body: [{ op: 'remove', path: '/metadata/finalizers' }],
    });
    await expect(core.readNamespacedSecret({ namespace: 'default', name: 'dep' })).rejects.toMatchObject({ code: 404 });
    const left = await until(async () => {
      const c = await core.readNamespacedConfigMap({ namespace: 'default', name: 'owner' });
      return c.metadata!.finalizers!.length === 1 ? c : undefined;
    }, 'foregroundDeletion removed');
    expect(left.metadata!.finalizers).toEqual(['example.com/hold']);
    await core.patchNamespacedConfigMap({
      namespace: 'default',
      name: 'owner',
      body: [{ op: 'remove', path: '/metadata/finalizers' }],
    });
    await expect(core.readNamespacedConfigMap({ namespace: 'default', name: 'owner' })).rejects.toMatchObject({
      code: 404,
    });

    const o2 = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'owner2' } } });
    await core.createNamespacedSecret({
      namespace: 'default',
      body: {
        metadata: {
          name: 'dep2',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner2', uid: o2.metadata!.uid! }],
        },
      },
    });
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'owner2', propagationPolicy: 'Orphan' });
    await until(
      async () =>
        (await core.listNamespacedConfigMap({ namespace: 'default', fieldSelector: 'metadata.name=owner2' })).items
          .length === 0,
      'owner2 gone',
    );
    const orphan = await core.readNamespacedSecret({ namespace: 'default', name: 'dep2' });
    expect(orphan.metadata!.ownerReferences).toBeUndefined();
  });

  it('deleting a namespace terminates it: content deleted, then the namespace; no new content meanwhile', async () => {
    // Real: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/ (phase Terminating,
    // NamespaceLifecycle admission refuses creates with 403 Forbidden).
    await core.createNamespace({ body: { metadata: { name: 'chain-b' } } });
    const sa = await until(
      async () =>
        (await core.listNamespacedServiceAccount({ namespace: 'chain-b' })).items.find(
          (s) => s.metadata!.name === 'default',
        ),
      'default ServiceAccount',
    );
    expect(sa).toBeDefined();
    await core.createNamespacedConfigMap({
      namespace: 'chain-b',
      body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } },
    });
    await core.deleteNamespace({ name: 'chain-b' });
    const ns = await core.readNamespace({ name: 'chain-b' });
    expect(ns.status!.phase).toBe('Terminating');
    await expect(
      core.createNamespacedConfigMap({ namespace: 'chain-b', body: { metadata: { name: 'late' } } }),
    ).rejects.toMatchObject({ code: 403 });
    await core.patchNamespacedConfigMap({
      namespace: 'chain-b',
      name: 'held',
      body: [{ op: 'remove', path: '/metadata/finalizers' }],
    });
    await until(async () => {
      try {
        await core.readNamespace({ name: 'chain-b' });
        return false;
      } catch (e) {
        return (e as { code: number }).code === 404;
      }
    }, 'namespace gone');
  });

  it('a restart with the same state file keeps objects, resourceVersions, the kubeconfig and issued tokens', async () => {
    // Real: etcd keeps state across API server restarts; resourceVersions only move forward.
    const cm = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'persisted' }, data: { k: 'v' } },
    });
    await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'keeper' } } });
    const token = kube.mintServiceAccountToken('default', 'keeper', { audiences: ['vault'] });
    await kube.close();
    kube = await startKube({ dir, stateFile: join(dir, 'state.json') });
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    const back = await core.readNamespacedConfigMap({ namespace: 'default', name: 'persisted' });
    expect(back.metadata!.uid).toBe(cm.metadata!.uid);
    expect(back.data).toEqual({ k: 'v' });
    const next = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after' } } });
    expect(Number(next.metadata!.resourceVersion)).toBeGreaterThan(Number(cm.metadata!.resourceVersion));
    expect(kube.reviewToken(token, ['vault']).authenticated).toBe(true);
  });
});
