// Namespace lifecycle as kube-controller-manager runs it: a new namespace gets its `default` ServiceAccount; a
// deleted namespace (phase Terminating, spec.finalizers ["kubernetes"]) has all its content deleted, then its
// `kubernetes` finalizer removed, and then it is gone.
// https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
import type { Api } from '../api.js';
import type { KObject, Obj } from '../types.js';
import { WorkQueue } from './queue.js';

export class NamespaceController {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly api: Api,
    log: (e: Record<string, unknown>) => void,
  ) {
    this.queue = new WorkQueue('namespace', (name) => this.process(name), log);
    this.unsubscribe = api.store.subscribe((ev) => {
      if (ev.rk === '/namespaces' && ev.type !== 'DELETED') this.queue.add(ev.object.metadata.name!);
      if (ev.rk === '/serviceaccounts' && ev.type === 'DELETED') this.queue.add(ev.object.metadata.namespace!);
      // content of a terminating namespace going away may let it finish
      if (ev.type === 'DELETED' && ev.object.metadata.namespace) {
        const ns = api.store.get('/namespaces', '', ev.object.metadata.namespace);
        if (ns?.metadata.deletionTimestamp) this.queue.add(ns.metadata.name!);
      }
    });
    for (const ns of api.store.list('/namespaces')) this.queue.add(ns.metadata.name!);
  }

  private process(name: string): void {
    const nsType = this.api.registry.byGroupResource('', 'namespaces')!;
    const ns = this.api.store.get('/namespaces', '', name);
    if (!ns) return;
    if (!ns.metadata.deletionTimestamp) {
      const saType = this.api.registry.byGroupResource('', 'serviceaccounts')!;
      if (!this.api.store.get('/serviceaccounts', name, 'default'))
        this.api.create(saType, name, { metadata: { name: 'default' } }, { version: 'v1' });
      return;
    }
    let remaining = 0;
    for (const t of this.api.registry.all()) {
      if (!t.namespaced || t.virtual) continue;
      const rk = `${t.group}/${t.plural}`;
      for (const o of this.api.store.list(rk, name)) {
        remaining++;
        if (!o.metadata.deletionTimestamp)
          this.api.delete(t, name, o.metadata.name!, {
            version: (t.versions.find((v) => v.storage) ?? t.versions[0]!).name,
            propagationPolicy: 'Background',
          });
      }
    }
    if (remaining > 0 && this.hasContent(name)) return;
    const spec = (ns.spec ?? {}) as Obj;
    const finalizers = ((spec.finalizers as string[] | undefined) ?? []).filter((f) => f !== 'kubernetes');
    const updated: KObject = structuredClone(ns);
    (updated.spec as Obj).finalizers = finalizers;
    if (!finalizers.length) {
      this.api.update(nsType, '', name, updated, { version: 'v1' });
      const still = this.api.store.get('/namespaces', '', name);
      if (still && !still.metadata.finalizers?.length) this.api.store.remove('/namespaces', '', name);
    }
  }

  private hasContent(name: string): boolean {
    for (const t of this.api.registry.all()) {
      if (!t.namespaced || t.virtual) continue;
      if (this.api.store.count(`${t.group}/${t.plural}`, name) > 0) return true;
    }
    return false;
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }
}
