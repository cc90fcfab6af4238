// Deployment and ReplicaSet controllers, kept small and documented rather than complete:
// - A Deployment owns one ReplicaSet per pod template (`<name>-<hash>`, label `pod-template-hash`, annotation
//   `deployment.kubernetes.io/revision`); the ReplicaSet owns the Pods (`<rs>-<5 chars>`), all with controller
//   ownerReferences, so cascading deletion works as in a cluster.
// - Recreate: old ReplicaSets go to 0 first; the new one scales up once their pods are gone.
//   RollingUpdate: the new ReplicaSet gets all replicas at once (maxSurge taken as 100%) and old ReplicaSets shrink
//   as new pods become Ready, so ready capacity never drops below the old pods still serving.
// - Status (replicas, updatedReplicas, readyReplicas, availableReplicas, observedGeneration, Available and
//   Progressing conditions) follows pod readiness (the pod's Ready condition, set by the lab kubelet), which is what
//   `kubectl rollout status` reads. minReadySeconds, paused rollouts and progress deadlines are not modelled.
// https://kubernetes.io/docs/concepts/workloads/controllers/deployment/
import { createHash } from 'node:crypto';
import type { Api } from '../api.js';
import type { StoreEvent } from '../store.js';
import type { KObject, Obj, OwnerReference, ResourceType } from '../types.js';
import { WorkQueue } from './queue.js';

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** A short, stable hash of the pod template in the alphabet Kubernetes uses for generated names. */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(template)).digest();
  let out = '';
  for (let i = 0; i < 10; i++) out += SAFE[digest[i]! % SAFE.length];
  return out;
}

const isReady = (pod: KObject): boolean =>
  (((pod.status as Obj | undefined)?.conditions as Obj[] | undefined) ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );

const controllerOf = (o: KObject): OwnerReference | undefined =>
  o.metadata.ownerReferences?.find((r) => r.controller === true);

export class DeploymentController {
  private readonly deployments: WorkQueue;
  private readonly replicaSets: WorkQueue;
  private readonly unsubscribe: () => void;
  private readonly deployType: ResourceType;
  private readonly rsType: ResourceType;
  private readonly podType: ResourceType;

  constructor(
    private readonly api: Api,
    log: (e: Record<string, unknown>) => void,
  ) {
    this.deployType = api.registry.byGroupResource('apps', 'deployments')!;
    this.rsType = api.registry.byGroupResource('apps', 'replicasets')!;
    this.podType = api.registry.byGroupResource('', 'pods')!;
    this.deployments = new WorkQueue('deployment', (k) => this.syncDeployment(k), log);
    this.replicaSets = new WorkQueue('replicaset', (k) => this.syncReplicaSet(k), log);
    this.unsubscribe = api.store.subscribe((ev) => this.onEvent(ev));
    for (const d of api.store.list('apps/deployments'))
      this.deployments.add(`${d.metadata.namespace}/${d.metadata.name}`);
    for (const r of api.store.list('apps/replicasets'))
      this.replicaSets.add(`${r.metadata.namespace}/${r.metadata.name}`);
  }

  private onEvent(ev: StoreEvent): void {
    const o = ev.object;
    const ns = o.metadata.namespace;
    if (ev.rk === 'apps/deployments' && ev.type !== 'DELETED') this.deployments.add(`${ns}/${o.metadata.name}`);
    if (ev.rk === 'apps/replicasets') {
      if (ev.type !== 'DELETED') this.replicaSets.add(`${ns}/${o.metadata.name}`);
      const owner = controllerOf(o);
      if (owner?.kind === 'Deployment') this.deployments.add(`${ns}/${owner.name}`);
    }
    if (ev.rk === '/pods') {
      const owner = controllerOf(o) ?? (ev.prev && controllerOf(ev.prev));
      if (owner?.kind === 'ReplicaSet') {
        this.replicaSets.add(`${ns}/${owner.name}`);
        // A Recreate rollout waits for the old pods to be gone: their deletion moves the Deployment on.
        const rs = this.api.store.get('apps/replicasets', ns ?? '', owner.name);
        const deployment = rs && controllerOf(rs);
        if (deployment?.kind === 'Deployment') this.deployments.add(`${ns}/${deployment.name}`);
      }
    }
  }

  private ownedBy(rk: string, ns: string, uid: string): KObject[] {
    return this.api.store
      .dependentsOf(uid)
      .map((d) => this.api.store.byUidLookup(d))
      .filter((l) => l !== undefined && l.rk === rk && l.ns === ns)
      .map((l) => this.api.store.get(l!.rk, l!.ns, l!.name)!)
      .filter((o) => o !== undefined && controllerOf(o)?.uid === uid);
  }

  private syncReplicaSet(key: string): void {
    const [ns, name] = key.split('/') as [string, string];
    const rs = this.api.store.get('apps/replicasets', ns, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const spec = rs.spec as Obj;
    const want = Number(spec.replicas ?? 1);
    const pods = this.ownedBy('/pods', ns, rs.metadata.uid!);
    const active = pods.filter(
      (p) =>
        !p.metadata.deletionTimestamp &&
        !['Succeeded', 'Failed'].includes(String((p.status as Obj | undefined)?.phase)),
    );
    if (active.length < want) {
      const template = (spec.template ?? {}) as Obj;
      const tmeta = (template.metadata ?? {}) as Obj;
      for (let i = active.length; i < want; i++) {
        this.api.create(
          this.podType,
          ns,
          {
            metadata: {
              generateName: `${name}-`,
              labels: tmeta.labels,
              ...(tmeta.annotations ? { annotations: tmeta.annotations } : {}),
              ownerReferences: [
                {
                  apiVersion: 'apps/v1',
                  kind: 'ReplicaSet',
                  name,
                  uid: rs.metadata.uid!,
                  controller: true,
                  blockOwnerDeletion: true,
                },
              ],
            },
            spec: structuredClone(template.spec ?? {}),
          },
          { version: 'v1' },
        );
      }
    } else if (active.length > want) {
      // delete not-ready pods first, then the newest
      const victims = [...active].sort(
        (a, b) =>
          Number(isReady(a)) - Number(isReady(b)) ||
          String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)),
      );
      for (const p of victims.slice(0, active.length - want))
        this.api.delete(this.podType, ns, p.metadata.name!, { version: 'v1' });
    }
    const now = this.ownedBy('/pods', ns, rs.metadata.uid!).filter((p) => !p.metadata.deletionTimestamp);
    const ready = now.filter(isReady).length;
    const status = {
      replicas: now.length,
      fullyLabeledReplicas: now.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation,
    };
    this.writeStatus(this.rsType, rs, status);
  }

  private writeStatus(t: ResourceType, obj: KObject, status: Obj): void {
    const cur = (obj.status ?? {}) as Obj;
    const merged = { ...cur, ...status };
    if (JSON.stringify(merged) === JSON.stringify(cur)) return;
    this.api.update(
      t,
      obj.metadata.namespace!,
      obj.metadata.name!,
      { ...obj, status: merged },
      { version: 'v1', subresource: 'status' },
    );
  }

  private syncDeployment(key: string): void {
    const [ns, name] = key.split('/') as [string, string];
    const d = this.api.store.get('apps/deployments', ns, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const spec = d.spec as Obj;
    const replicas = Number(spec.replicas ?? 1);
    const template = structuredClone((spec.template ?? {}) as Obj);
    const hash = templateHash(template);
    const owned = this.ownedBy('apps/replicasets', ns, d.metadata.uid!);
    const revisionOf = (rs: KObject) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
    let current = owned.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    const old = owned.filter((rs) => rs !== current);
    const maxRevision = Math.max(0, ...owned.map(revisionOf));
    const recreate = (spec.strategy as Obj | undefined)?.type === 'Recreate';
    const podsOf = (rs: KObject) =>
      this.ownedBy('/pods', ns, rs.metadata.uid!).filter((p) => !p.metadata.deletionTimestamp);

    // scale down old ReplicaSets
    const newReady = current ? podsOf(current).filter(isReady).length : 0;
    let oldBudget = recreate ? 0 : Math.max(0, replicas - newReady);
    for (const rs of old.sort((a, b) => revisionOf(b) - revisionOf(a))) {
      const have = Number((rs.spec as Obj).replicas ?? 0);
      const keep = Math.min(have, oldBudget);
      oldBudget -= keep;
      if (keep !== have) this.scale(rs, keep);
    }
    // Recreate waits for every old pod to be gone, terminating ones included (the kubelet is still stopping them)
    const oldPods = old.reduce((n, rs) => n + this.ownedBy('/pods', ns, rs.metadata.uid!).length, 0);

    if (!current) {
      if (recreate && oldPods > 0) return this.deploymentStatus(d, undefined, old, hash);
      const labels = {
        ...((template.metadata as Obj | undefined)?.labels as Record<string, string>),
        'pod-template-hash': hash,
      };
      const selector = structuredClone((spec.selector ?? {}) as Obj);
      selector.matchLabels = {
        ...((selector.matchLabels as Record<string, string> | undefined) ?? {}),
        'pod-template-hash': hash,
      };
      current = this.api.create(
        this.rsType,
        ns,
        {
          metadata: {
            name: `${name}-${hash}`,
            labels,
            annotations: {
              'deployment.kubernetes.io/revision': String(maxRevision + 1),
              'deployment.kubernetes.io/desired-replicas': String(replicas),
              'deployment.kubernetes.io/max-replicas': String(replicas),
            },
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'Deployment',
                name,
                uid: d.metadata.uid!,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
          spec: {
            replicas: recreate && oldPods > 0 ? 0 : replicas,
            selector,
            template: { ...template, metadata: { ...((template.metadata as Obj | undefined) ?? {}), labels } },
          },
        },
        { version: 'v1' },
      );
    } else {
      const want = recreate && oldPods > 0 ? 0 : replicas;
      if (Number((current.spec as Obj).replicas ?? 0) !== want) current = this.scale(current, want);
      if (revisionOf(current) < maxRevision) {
        current = this.api.patch(
          this.rsType,
          ns,
          current.metadata.name!,
          'merge',
          { metadata: { annotations: { 'deployment.kubernetes.io/revision': String(maxRevision + 1) } } },
          { version: 'v1' },
        );
      }
    }
    // revision history: drop empty old ReplicaSets beyond revisionHistoryLimit
    const limit = Number(spec.revisionHistoryLimit ?? 10);
    const empty = old
      .filter((rs) => Number((rs.spec as Obj).replicas ?? 0) === 0 && podsOf(rs).length === 0)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of empty.slice(0, Math.max(0, empty.length - limit)))
      this.api.delete(this.rsType, ns, rs.metadata.name!, { version: 'v1' });
    this.deploymentStatus(d, current, old, hash);
  }

  private scale(rs: KObject, replicas: number): KObject {
    return this.api.patch(
      this.rsType,
      rs.metadata.namespace!,
      rs.metadata.name!,
      'merge',
      { spec: { replicas } },
      { version: 'v1' },
    );
  }

  private deploymentStatus(d: KObject, current: KObject | undefined, old: KObject[], _hash: string): void {
    const ns = d.metadata.namespace!;
    const pods = (rs: KObject) =>
      this.ownedBy('/pods', ns, rs.metadata.uid!).filter((p) => !p.metadata.deletionTimestamp);
    const newPods = current ? pods(current) : [];
    const oldPods = old.flatMap(pods);
    const all = [...newPods, ...oldPods];
    const ready = all.filter(isReady).length;
    const replicas = Number((d.spec as Obj).replicas ?? 1);
    const updated = newPods.length;
    const prev = (d.status ?? {}) as Obj;
    const now = this.api.now();
    const condition = (type: string, status: string, reason: string, message: string) => {
      const before = ((prev.conditions as Obj[] | undefined) ?? []).find((c) => c.type === type);
      const changed = !before || before.status !== status;
      return {
        type,
        status,
        lastUpdateTime: before && before.reason === reason && !changed ? before.lastUpdateTime : now,
        lastTransitionTime: changed ? now : before!.lastTransitionTime,
        reason,
        message,
      };
    };
    const complete = updated === replicas && oldPods.length === 0 && newPods.filter(isReady).length === replicas;
    const status: Obj = {
      observedGeneration: d.metadata.generation,
      replicas: all.length,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(all.length - ready > 0 ? { unavailableReplicas: all.length - ready } : {}),
      conditions: [
        ready >= replicas
          ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
          : condition(
              'Available',
              'False',
              'MinimumReplicasUnavailable',
              'Deployment does not have minimum availability.',
            ),
        complete
          ? condition(
              'Progressing',
              'True',
              'NewReplicaSetAvailable',
              `ReplicaSet "${current?.metadata.name ?? ''}" has successfully progressed.`,
            )
          : condition(
              'Progressing',
              'True',
              'ReplicaSetUpdated',
              `ReplicaSet "${current?.metadata.name ?? ''}" is progressing.`,
            ),
      ],
    };
    if (!status.unavailableReplicas) delete (prev as Obj).unavailableReplicas;
    const cur = this.api.store.get('apps/deployments', ns, d.metadata.name!);
    if (!cur) return;
    const { unavailableReplicas: _u, ...rest } = (cur.status ?? {}) as Obj;
    const next = { ...rest, ...status };
    if (JSON.stringify(next) === JSON.stringify(cur.status)) return;
    this.api.update(
      this.deployType,
      ns,
      d.metadata.name!,
      { ...cur, status: next },
      { version: 'v1', subresource: 'status' },
    );
  }

  stop(): void {
    this.unsubscribe();
    this.deployments.stop();
    this.replicaSets.stop();
  }
}
