// kube-controller-manager's root-ca-cert-publisher: every namespace holds the ConfigMap `kube-root-ca.crt` with the
// cluster CA (`ca.crt`), which the projected ServiceAccount volume of every pod reads; edits are put back.
import type { Api } from '../api.js';
import { WorkQueue } from './queue.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

export class RootCaPublisher {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly api: Api,
    private readonly caPem: string,
    log: (e: Record<string, unknown>) => void,
  ) {
    this.queue = new WorkQueue('root-ca-cert-publisher', (ns) => this.process(ns), log);
    this.unsubscribe = api.store.subscribe((ev) => {
      if (ev.rk === '/namespaces' && ev.type !== 'DELETED') this.queue.add(ev.object.metadata.name!);
      if (ev.rk === '/configmaps' && ev.object.metadata.name === ROOT_CA_CONFIGMAP)
        this.queue.add(ev.object.metadata.namespace!);
    });
    for (const ns of api.store.list('/namespaces')) this.queue.add(ns.metadata.name!);
  }

  private process(ns: string): void {
    const nsObj = this.api.store.get('/namespaces', '', ns);
    if (!nsObj || nsObj.metadata.deletionTimestamp) return;
    const t = this.api.registry.byGroupResource('', 'configmaps')!;
    const data = { 'ca.crt': this.caPem };
    const current = this.api.store.get('/configmaps', ns, ROOT_CA_CONFIGMAP);
    if (!current) this.api.create(t, ns, { metadata: { name: ROOT_CA_CONFIGMAP }, data }, { version: 'v1' });
    else if (JSON.stringify(current.data) !== JSON.stringify(data))
      this.api.update(t, ns, ROOT_CA_CONFIGMAP, { ...current, data }, { version: 'v1' });
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }
}
