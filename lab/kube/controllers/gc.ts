// Garbage collection by ownerReferences, as kube-controller-manager's garbage collector does it:
// - an object whose owners are all gone is deleted (Background: the owner went first);
// - an owner deleted with propagationPolicy=Foreground keeps a `foregroundDeletion` finalizer until its dependents
//   are gone (they are deleted in the foreground too);
// - an owner deleted with propagationPolicy=Orphan keeps an `orphan` finalizer until its dependents no longer
//   reference it.
// https://kubernetes.io/docs/concepts/architecture/garbage-collection/#cascading-deletion
import type { Api } from '../api.js';
import type { StoreEvent } from '../store.js';
import type { KObject, ResourceType } from '../types.js';
import { WorkQueue } from './queue.js';

export class GarbageCollector {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly api: Api,
    log: (e: Record<string, unknown>) => void,
  ) {
    this.queue = new WorkQueue('garbage-collector', (uid) => this.process(uid), log);
    this.unsubscribe = api.store.subscribe((ev) => this.onEvent(ev));
  }

  private onEvent(ev: StoreEvent): void {
    const uid = ev.object.metadata.uid;
    if (!uid) return;
    if (ev.type === 'DELETED') {
      for (const d of this.api.store.dependentsOf(uid)) this.queue.add(d);
    } else {
      const meta = ev.object.metadata;
      if (meta.deletionTimestamp && meta.finalizers?.some((f) => f === 'foregroundDeletion' || f === 'orphan'))
        this.queue.add(uid);
      if (meta.ownerReferences?.length) this.queue.add(uid);
    }
    // a dependent going away may unblock an owner in foreground deletion
    const refs = (ev.type === 'DELETED' ? ev.object : ev.prev)?.metadata.ownerReferences ?? [];
    if (ev.type === 'DELETED' || ev.object.metadata.deletionTimestamp) for (const r of refs) this.queue.add(r.uid);
  }

  private typeOf(rk: string): ResourceType | undefined {
    const slash = rk.indexOf('/');
    return this.api.registry.byGroupResource(rk.slice(0, slash), rk.slice(slash + 1));
  }

  private lookup(uid: string): { t: ResourceType; obj: KObject } | undefined {
    const loc = this.api.store.byUidLookup(uid);
    if (!loc) return undefined;
    const t = this.typeOf(loc.rk);
    const obj = this.api.store.get(loc.rk, loc.ns, loc.name);
    return t && obj ? { t, obj } : undefined;
  }

  private version(t: ResourceType): string {
    return (t.versions.find((v) => v.storage) ?? t.versions[0]!).name;
  }

  private process(uid: string): void {
    const found = this.lookup(uid);
    if (!found) return;
    const { t, obj } = found;
    const meta = obj.metadata;
    const ns = meta.namespace ?? '';
    // 1. owner in foreground / orphan deletion
    if (meta.deletionTimestamp && meta.finalizers?.includes('foregroundDeletion')) {
      const deps = this.api.store
        .dependentsOf(uid)
        .map((d) => this.lookup(d))
        .filter((d) => d !== undefined);
      for (const d of deps) {
        if (!d.obj.metadata.deletionTimestamp)
          this.api.delete(d.t, d.obj.metadata.namespace ?? '', d.obj.metadata.name!, {
            version: this.version(d.t),
            propagationPolicy: 'Foreground',
          });
      }
      const blocking = this.api.store
        .dependentsOf(uid)
        .map((d) => this.lookup(d))
        .filter(
          (d) =>
            d !== undefined &&
            d.obj.metadata.ownerReferences?.some((r) => r.uid === uid && r.blockOwnerDeletion === true),
        );
      if (blocking.length === 0) this.dropFinalizer(t, obj, 'foregroundDeletion');
      return;
    }
    if (meta.deletionTimestamp && meta.finalizers?.includes('orphan')) {
      for (const d of this.api.store.dependentsOf(uid)) {
        const dep = this.lookup(d);
        if (!dep) continue;
        const refs = (dep.obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        this.api.patch(
          dep.t,
          dep.obj.metadata.namespace ?? '',
          dep.obj.metadata.name!,
          'merge',
          { metadata: { ownerReferences: refs.length ? refs : null } },
          { version: this.version(dep.t) },
        );
      }
      this.dropFinalizer(t, obj, 'orphan');
      return;
    }
    // 2. dependent whose owners may be gone
    const refs = meta.ownerReferences ?? [];
    if (!refs.length || meta.deletionTimestamp) return;
    const owners = refs.map((r) => ({ r, owner: this.lookup(r.uid) }));
    const solid = owners.filter((o) => o.owner && !o.owner.obj.metadata.deletionTimestamp);
    const waiting = owners.filter(
      (o) => o.owner?.obj.metadata.deletionTimestamp && o.owner.obj.metadata.finalizers?.includes('foregroundDeletion'),
    );
    const dangling = owners.filter((o) => !o.owner);
    if (solid.length) {
      if (dangling.length || waiting.length) {
        const keep = solid.map((o) => o.r);
        this.api.patch(
          t,
          ns,
          meta.name!,
          'merge',
          { metadata: { ownerReferences: keep } },
          { version: this.version(t) },
        );
      }
      return;
    }
    if (
      owners.some((o) => o.owner?.obj.metadata.deletionTimestamp && o.owner.obj.metadata.finalizers?.includes('orphan'))
    )
      return;
    if (dangling.length === owners.length || waiting.length) {
      this.api.delete(t, ns, meta.name!, {
        version: this.version(t),
        propagationPolicy: waiting.length ? 'Foreground' : 'Background',
      });
    }
  }

  private dropFinalizer(t: ResourceType, obj: KObject, finalizer: string): void {
    const finalizers = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    this.api.patch(
      t,
      obj.metadata.namespace ?? '',
      obj.metadata.name!,
      'merge',
      {
        metadata: { finalizers: finalizers.length ? finalizers : null, resourceVersion: obj.metadata.resourceVersion },
      },
      { version: this.version(t) },
    );
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }
}
