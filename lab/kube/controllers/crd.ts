// The apiextensions controllers: a stored CRD becomes a served resource (discovery, REST, watch) at once, since its
// names are accepted when it is written; a deleted CRD keeps the `customresourcecleanup.apiextensions.k8s.io`
// finalizer until all its objects are deleted, then stops being served.
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#delete-a-customresourcedefinition
import type { Api } from '../api.js';
import { CRD_CLEANUP_FINALIZER as CLEANUP, typeFromCrd } from '../crd.js';
import type { ResourceType } from '../types.js';
import { WorkQueue } from './queue.js';

export const CRD_RK = 'apiextensions.k8s.io/customresourcedefinitions';

export class CrdController {
  private readonly served = new Map<string, { rv: string; t: ResourceType }>();
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly api: Api,
    log: (e: Record<string, unknown>) => void,
  ) {
    this.queue = new WorkQueue('crd-cleanup', (name) => this.cleanup(name), log);
    api.onCrdChange = () => this.sync();
    this.unsubscribe = api.store.subscribe((ev) => {
      if (ev.rk === CRD_RK && ev.type !== 'DELETED' && ev.object.metadata.deletionTimestamp)
        this.queue.add(ev.object.metadata.name!);
    });
    this.sync();
  }

  /** Registers the resource of every stored CRD (synchronously, so the next request sees it), drops removed ones. */
  sync(): void {
    const present = new Set<string>();
    for (const crd of this.api.store.list(CRD_RK)) {
      const name = crd.metadata.name!;
      present.add(name);
      const cur = this.served.get(name);
      // the schema and names live in the spec: re-register only when the generation moves
      if (cur && cur.rv === String(crd.metadata.generation)) continue;
      if (cur) this.api.registry.remove(cur.t.group, cur.t.plural);
      const t = typeFromCrd(crd);
      this.api.registry.add(t);
      this.served.set(name, { rv: String(crd.metadata.generation), t });
    }
    for (const [name, { t }] of this.served) {
      if (present.has(name)) continue;
      this.api.registry.remove(t.group, t.plural);
      this.api.store.dropResource(`${t.group}/${t.plural}`);
      this.served.delete(name);
    }
  }

  private cleanup(name: string): void {
    const crd = this.api.store.get(CRD_RK, '', name);
    if (!crd) return;
    const crdType = this.api.registry.byGroupResource('apiextensions.k8s.io', 'customresourcedefinitions')!;
    if (!crd.metadata.deletionTimestamp) return;
    const t = this.served.get(name)?.t;
    let left = 0;
    if (t) {
      const version = (t.versions.find((v) => v.storage) ?? t.versions[0]!).name;
      for (const o of this.api.store.list(`${t.group}/${t.plural}`)) {
        left++;
        if (!o.metadata.deletionTimestamp)
          this.api.delete(t, o.metadata.namespace ?? '', o.metadata.name!, {
            version,
            propagationPolicy: 'Background',
          });
      }
      left = this.api.store.count(`${t.group}/${t.plural}`);
    }
    if (left > 0) throw new Error(`CRD ${name}: waiting for ${left} objects with finalizers to be deleted`);
    const finalizers = (crd.metadata.finalizers ?? []).filter((f) => f !== CLEANUP);
    this.api.patch(
      crdType,
      '',
      name,
      'merge',
      { metadata: { finalizers: finalizers.length ? finalizers : null } },
      { version: 'v1' },
    );
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }
}
