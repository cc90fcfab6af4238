// The EndpointSlice and Endpoints controllers of kube-controller-manager, for Services with a selector:
// - one `discovery.k8s.io/v1` EndpointSlice per distinct set of resolved ports (named targetPorts resolve per pod,
//   so pods may differ), labelled `kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by:
//   endpointslice-controller.k8s.io`, owned by the Service (controller reference), named `<service>-<random>`;
// - each endpoint is a pod the selector matches in the Service's namespace with a `status.podIP` and not Succeeded or
//   Failed: `conditions.ready` is the pod's Ready condition (always true with `publishNotReadyAddresses`), a
//   terminating pod stays with `ready: false`, `serving` = its Ready condition and `terminating: true`;
// - the v1 Endpoints object of the same name (what kubectl and older Prometheus discovery read): ready pods under
//   `addresses`, not-ready ones under `notReadyAddresses`, terminating ones left out, labelled
//   `endpointslice.kubernetes.io/skip-mirror: "true"` as upstream does;
// - Services without a selector are left alone: their EndpointSlices are written by hand (a Service pointing outside
//   the cluster). Removing a selector deletes the managed slices; deleting the Service deletes its Endpoints, and the
//   garbage collector its slices.
// - optionally, the API server's own endpoint (what kube-apiserver's endpoint reconciler keeps): `default/kubernetes`
//   Endpoints and EndpointSlice at `apiServerEndpoint`.
// https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/
// https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoint-slice-v1/
import type { Api } from '../api.js';
import type { StoreEvent } from '../store.js';
import type { KObject, Obj, ResourceType } from '../types.js';
import { WorkQueue } from './queue.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
const SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';
const SLICES = 'discovery.k8s.io/endpointslices';

export interface EndpointSliceControllerOptions {
  /** Publish the API server's address as `default/kubernetes` Endpoints and EndpointSlice (the node IP in the lab). */
  apiServerEndpoint?: { ip: string; port: number };
}

interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

const conditionTrue = (pod: KObject, type: string): boolean =>
  (((pod.status as Obj | undefined)?.conditions as Obj[] | undefined) ?? []).some(
    (c) => c.type === type && c.status === 'True',
  );

/** The container port a Service port's targetPort names on this pod (FindPort), or undefined. */
export function resolveTargetPort(pod: KObject, servicePort: Obj): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(String(target))) return Number(target);
  const protocol = String(servicePort.protocol ?? 'TCP');
  for (const c of ((pod.spec as Obj | undefined)?.containers as Obj[] | undefined) ?? [])
    for (const p of (c.ports as Obj[] | undefined) ?? [])
      if (p.name === target && String(p.protocol ?? 'TCP') === protocol) return Number(p.containerPort);
  return undefined;
}

function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export class EndpointSliceController {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;
  private readonly sliceType: ResourceType;
  private readonly epType: ResourceType;

  constructor(
    private readonly api: Api,
    log: (e: Record<string, unknown>) => void,
    private readonly opts: EndpointSliceControllerOptions = {},
  ) {
    this.sliceType = api.registry.byGroupResource('discovery.k8s.io', 'endpointslices')!;
    this.epType = api.registry.byGroupResource('', 'endpoints')!;
    this.queue = new WorkQueue('endpointslice', (k) => this.sync(k), log);
    this.unsubscribe = api.store.subscribe((ev) => this.onEvent(ev));
    for (const s of api.store.list('/services')) this.queue.add(`${s.metadata.namespace}/${s.metadata.name}`);
    if (opts.apiServerEndpoint) this.publishApiServer(opts.apiServerEndpoint);
  }

  private onEvent(ev: StoreEvent): void {
    const m = ev.object.metadata;
    if (ev.rk === '/services') this.queue.add(`${m.namespace}/${m.name}`);
    else if (ev.rk === '/pods')
      for (const s of this.api.store.list('/services', m.namespace))
        this.queue.add(`${m.namespace}/${s.metadata.name}`);
    else if (ev.rk === SLICES && ev.type !== 'ADDED') {
      // a managed slice edited or deleted by someone else is put back
      const svc = m.labels?.[SERVICE_NAME_LABEL];
      if (svc && m.labels?.[MANAGED_BY_LABEL] === CONTROLLER_NAME) this.queue.add(`${m.namespace}/${svc}`);
    }
  }

  private managedSlices(ns: string, service: string): KObject[] {
    return this.api.store
      .list(SLICES, ns)
      .filter(
        (s) =>
          s.metadata.labels?.[SERVICE_NAME_LABEL] === service &&
          s.metadata.labels?.[MANAGED_BY_LABEL] === CONTROLLER_NAME,
      );
  }

  private sync(key: string): void {
    const [ns, name] = key.split('/') as [string, string];
    const svc = this.api.store.get('/services', ns, name);
    const spec = (svc?.spec ?? {}) as Obj;
    const selector = spec.selector as Record<string, string> | undefined;
    if (!svc || svc.metadata.deletionTimestamp || !selector || spec.type === 'ExternalName') {
      for (const s of this.managedSlices(ns, name))
        this.api.delete(this.sliceType, ns, s.metadata.name!, { version: 'v1' });
      const ep = this.api.store.get('/endpoints', ns, name);
      if (!svc && ep && ep.metadata.labels?.[SKIP_MIRROR] === 'true' && !(ns === 'default' && name === 'kubernetes'))
        this.api.delete(this.epType, ns, name, { version: 'v1' });
      return;
    }
    const publishNotReady = spec.publishNotReadyAddresses === true;
    const servicePorts = (spec.ports as Obj[] | undefined) ?? [];
    const pods = this.api.store
      .list('/pods', ns)
      .filter((p) => selects(selector, p.metadata.labels))
      .filter((p) => (p.status as Obj | undefined)?.podIP)
      .filter((p) => !['Succeeded', 'Failed'].includes(String((p.status as Obj | undefined)?.phase)))
      .sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));

    // group endpoints by their resolved ports, as upstream does
    const groups = new Map<string, { ports: SlicePort[]; endpoints: Obj[] }>();
    const epSubsets = new Map<string, { ports: SlicePort[]; addresses: Obj[]; notReadyAddresses: Obj[] }>();
    for (const pod of pods) {
      const ports: SlicePort[] = [];
      for (const sp of servicePorts) {
        const port = resolveTargetPort(pod, sp);
        if (port === undefined) continue;
        ports.push({
          name: String(sp.name ?? ''),
          port,
          protocol: String(sp.protocol ?? 'TCP'),
          ...(sp.appProtocol ? { appProtocol: String(sp.appProtocol) } : {}),
        });
      }
      const portsKey = JSON.stringify(ports);
      const terminating = !!pod.metadata.deletionTimestamp;
      const podReady = conditionTrue(pod, 'Ready');
      const ip = String((pod.status as Obj).podIP);
      const podSpec = (pod.spec ?? {}) as Obj;
      const targetRef = { kind: 'Pod', namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid };
      const group = groups.get(portsKey) ?? { ports, endpoints: [] };
      group.endpoints.push({
        addresses: [ip],
        conditions: {
          ready: publishNotReady || (podReady && !terminating),
          serving: publishNotReady || podReady,
          terminating,
        },
        ...(podSpec.hostname && podSpec.subdomain === name ? { hostname: podSpec.hostname } : {}),
        ...(podSpec.nodeName ? { nodeName: podSpec.nodeName } : {}),
        targetRef,
      });
      groups.set(portsKey, group);
      if (terminating && !publishNotReady) continue;
      const subset = epSubsets.get(portsKey) ?? { ports, addresses: [], notReadyAddresses: [] };
      const address = { ip, ...(podSpec.nodeName ? { nodeName: podSpec.nodeName } : {}), targetRef };
      (publishNotReady || podReady ? subset.addresses : subset.notReadyAddresses).push(address);
      epSubsets.set(portsKey, subset);
    }
    // a Service whose selector matches nothing still has one slice, with no endpoints
    if (groups.size === 0)
      groups.set('none', {
        ports: servicePorts.map((sp) => ({
          name: String(sp.name ?? ''),
          port: typeof sp.targetPort === 'number' ? sp.targetPort : Number(sp.port),
          protocol: String(sp.protocol ?? 'TCP'),
        })),
        endpoints: [],
      });
    this.writeSlices(svc, [...groups.values()]);
    this.writeEndpoints(svc, [...epSubsets.values()]);
  }

  private writeSlices(svc: KObject, groups: Array<{ ports: SlicePort[]; endpoints: Obj[] }>): void {
    const ns = svc.metadata.namespace!;
    const name = svc.metadata.name!;
    const existing = this.managedSlices(ns, name);
    const labels: Record<string, string> = {
      ...(svc.metadata.labels ?? {}),
      [SERVICE_NAME_LABEL]: name,
      [MANAGED_BY_LABEL]: CONTROLLER_NAME,
    };
    const owner = {
      apiVersion: 'v1',
      kind: 'Service',
      name,
      uid: svc.metadata.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };
    const unused = [...existing];
    for (const g of groups) {
      const want = { addressType: 'IPv4', endpoints: g.endpoints, ports: g.ports };
      // reuse the slice with the same ports, else any spare one
      const idx = Math.max(
        unused.findIndex((s) => JSON.stringify(s.ports ?? []) === JSON.stringify(g.ports)),
        unused.length ? 0 : -1,
      );
      const cur = idx >= 0 ? unused.splice(idx, 1)[0] : undefined;
      if (!cur) {
        this.api.create(
          this.sliceType,
          ns,
          { metadata: { generateName: `${name}-`, labels, ownerReferences: [owner] }, ...want },
          { version: 'v1' },
        );
        continue;
      }
      const same =
        JSON.stringify({ e: cur.endpoints ?? [], p: cur.ports ?? [], l: cur.metadata.labels }) ===
        JSON.stringify({ e: want.endpoints, p: want.ports, l: labels });
      if (!same)
        this.api.update(
          this.sliceType,
          ns,
          cur.metadata.name!,
          { ...cur, metadata: { ...cur.metadata, labels }, ...want },
          { version: 'v1' },
        );
    }
    for (const s of unused) this.api.delete(this.sliceType, ns, s.metadata.name!, { version: 'v1' });
  }

  private writeEndpoints(
    svc: KObject,
    subsets: Array<{ ports: SlicePort[]; addresses: Obj[]; notReadyAddresses: Obj[] }>,
  ): void {
    const ns = svc.metadata.namespace!;
    const name = svc.metadata.name!;
    const want = subsets.map((s) => ({
      ...(s.addresses.length ? { addresses: s.addresses } : {}),
      ...(s.notReadyAddresses.length ? { notReadyAddresses: s.notReadyAddresses } : {}),
      ports: s.ports.map((p) => ({ name: p.name || undefined, port: p.port, protocol: p.protocol })),
    }));
    const normalized = JSON.parse(JSON.stringify(want)) as Obj[];
    const labels = { ...(svc.metadata.labels ?? {}), [SKIP_MIRROR]: 'true' };
    const cur = this.api.store.get('/endpoints', ns, name);
    if (!cur) {
      this.api.create(this.epType, ns, { metadata: { name, labels }, subsets: normalized }, { version: 'v1' });
      return;
    }
    if (
      JSON.stringify({ s: cur.subsets ?? [], l: cur.metadata.labels }) === JSON.stringify({ s: normalized, l: labels })
    )
      return;
    this.api.update(
      this.epType,
      ns,
      name,
      { ...cur, metadata: { ...cur.metadata, labels }, subsets: normalized },
      { version: 'v1' },
    );
  }

  /** kube-apiserver's endpoint reconciler: `default/kubernetes` points at the API server's advertised address. */
  private publishApiServer(at: { ip: string; port: number }): void {
    const ports = [{ name: 'https', port: at.port, protocol: 'TCP' }];
    const ep = this.api.store.get('/endpoints', 'default', 'kubernetes');
    const subsets = [{ addresses: [{ ip: at.ip }], ports }];
    if (ep) this.api.update(this.epType, 'default', 'kubernetes', { ...ep, subsets }, { version: 'v1' });
    else
      this.api.create(
        this.epType,
        'default',
        { metadata: { name: 'kubernetes', labels: { [SKIP_MIRROR]: 'true' } }, subsets },
        { version: 'v1' },
      );
    const slice = {
      addressType: 'IPv4',
      endpoints: [{ addresses: [at.ip], conditions: { ready: true } }],
      ports,
    };
    const cur = this.api.store.get(SLICES, 'default', 'kubernetes');
    if (cur) this.api.update(this.sliceType, 'default', 'kubernetes', { ...cur, ...slice }, { version: 'v1' });
    else
      this.api.create(
        this.sliceType,
        'default',
        { metadata: { name: 'kubernetes', labels: { [SERVICE_NAME_LABEL]: 'kubernetes' } }, ...slice },
        { version: 'v1' },
      );
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }
}

/** The address kube-apiserver would advertise for a listen host: the host itself, or loopback for a wildcard. */
export function apiServerEndpoint(host: string, port: number): { ip: string; port: number } {
  return { ip: /^\d+\.\d+\.\d+\.\d+$/.test(host) && host !== '0.0.0.0' ? host : '127.0.0.1', port };
}
