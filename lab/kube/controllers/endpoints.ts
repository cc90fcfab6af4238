// The Endpoints of every Service with a selector, as kube-controller-manager's endpoints controller keeps them
// (pkg/controller/endpoint): the Service's name and labels; one subset per set of resolved ports, holding the
// selected pods that have an IP and are not terminating, ready ones under `addresses`, the others under
// `notReadyAddresses`, each with its targetRef and nodeName; a numeric targetPort is used as it is, a named one is
// looked up among the pod's container ports (a pod without that port is left out). Prometheus' `role: endpoints`
// discovery (a ServiceMonitor's targets, kube-prometheus-stack's Alertmanagers) reads these. Services without a
// selector keep the Endpoints written by hand; when a Service is deleted, its Endpoints go with it.
import type { Api } from '../api.js';
import type { StoreEvent } from '../store.js';
import type { KObject, Obj } from '../types.js';
import { WorkQueue } from './queue.js';

type Address = { ip: string; nodeName?: string; targetRef: Obj };
type Port = { name?: string; port: number; protocol: string; appProtocol?: string };

const labelsMatch = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

function podReady(pod: KObject): boolean {
  const conditions = ((pod.status as Obj | undefined)?.conditions as Obj[] | undefined) ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The container port a service port's targetPort names in this pod, or undefined when the pod has none. */
function resolvePort(pod: KObject, sp: Obj): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(String(target))) return Number(target);
  for (const c of ((pod.spec as Obj | undefined)?.containers as Obj[] | undefined) ?? [])
    for (const p of (c.ports as Obj[] | undefined) ?? [])
      if (p.name === target && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP')) return Number(p.containerPort);
  return undefined;
}

/** The desired subsets (pure): pods grouped by their resolved ports, addresses sorted for a stable object. */
export function endpointSubsets(service: KObject, pods: KObject[]): Obj[] {
  const spec = (service.spec ?? {}) as Obj;
  const selector = spec.selector as Record<string, string>;
  const bySignature = new Map<string, { ports: Port[]; addresses: Address[]; notReady: Address[] }>();
  for (const pod of pods) {
    const status = (pod.status ?? {}) as Obj;
    if (!labelsMatch(selector, pod.metadata.labels) || pod.metadata.deletionTimestamp) continue;
    if (!status.podIP || status.phase === 'Succeeded' || status.phase === 'Failed') continue;
    const ports: Port[] = [];
    let complete = true;
    for (const sp of (spec.ports as Obj[] | undefined) ?? []) {
      const port = resolvePort(pod, sp);
      if (port === undefined) {
        complete = false;
        break;
      }
      ports.push({
        ...(sp.name ? { name: String(sp.name) } : {}),
        port,
        protocol: String(sp.protocol ?? 'TCP'),
        ...(sp.appProtocol ? { appProtocol: String(sp.appProtocol) } : {}),
      });
    }
    if (!complete) continue;
    const address: Address = {
      ip: String(status.podIP),
      ...((pod.spec as Obj | undefined)?.nodeName ? { nodeName: String((pod.spec as Obj).nodeName) } : {}),
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
    };
    const key = JSON.stringify(ports);
    const subset = bySignature.get(key) ?? { ports, addresses: [], notReady: [] };
    (podReady(pod) || spec.publishNotReadyAddresses === true ? subset.addresses : subset.notReady).push(address);
    bySignature.set(key, subset);
  }
  const byIp = (a: Address, b: Address) => a.ip.localeCompare(b.ip);
  return [...bySignature.keys()].sort().map((k) => {
    const s = bySignature.get(k)!;
    return {
      ...(s.addresses.length ? { addresses: s.addresses.sort(byIp) } : {}),
      ...(s.notReady.length ? { notReadyAddresses: s.notReady.sort(byIp) } : {}),
      ports: s.ports,
    };
  });
}

export class EndpointsController {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly api: Api,
    log: (e: Record<string, unknown>) => void,
  ) {
    this.queue = new WorkQueue('endpoints', (key) => this.sync(key), log);
    this.unsubscribe = api.store.subscribe((ev) => this.onEvent(ev));
    for (const s of api.store.list('/services')) this.queue.add(`${s.metadata.namespace}/${s.metadata.name}`);
  }

  private onEvent(ev: StoreEvent): void {
    const ns = ev.object.metadata.namespace ?? '';
    if (ev.rk === '/services') this.queue.add(`${ns}/${ev.object.metadata.name}`);
    // A pod change may concern any Service of its namespace (its labels may have moved it in or out of one).
    if (ev.rk === '/pods')
      for (const s of this.api.store.list('/services', ns)) this.queue.add(`${ns}/${s.metadata.name}`);
  }

  private sync(key: string): void {
    const [ns, name] = key.split('/') as [string, string];
    const epType = this.api.registry.byGroupResource('', 'endpoints')!;
    const service = this.api.store.get('/services', ns, name);
    const current = this.api.store.get('/endpoints', ns, name);
    const selector = (service?.spec as Obj | undefined)?.selector as Record<string, string> | undefined;
    if (!service) {
      if (current) this.api.delete(epType, ns, name, { version: 'v1' });
      return;
    }
    if (!selector || Object.keys(selector).length === 0) return; // Endpoints maintained by hand
    const subsets = endpointSubsets(service, this.api.store.list('/pods', ns));
    const headless = (service.spec as Obj).clusterIP === 'None';
    const labels = {
      ...(service.metadata.labels ?? {}),
      ...(headless ? { 'service.kubernetes.io/headless': '' } : {}),
    };
    if (!current) {
      this.api.create(epType, ns, { metadata: { name, labels }, subsets }, { version: 'v1' });
      return;
    }
    if (
      JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets) &&
      JSON.stringify(current.metadata.labels) === JSON.stringify(labels)
    )
      return;
    this.api.update(
      epType,
      ns,
      name,
      { ...current, metadata: { ...current.metadata, labels }, subsets },
      { version: 'v1' },
    );
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }
}
