// The lab's Multus stand-in: a pod's `k8s.v1.cni.cncf.io/networks` annotation names NetworkAttachmentDefinitions;
// each one's CNI config is applied the way its plugin would — `bridge` (a veth whose node end joins the named bridge,
// created if missing) and `macvlan` (a child of the node's master interface moved into the pod), with `static` IPAM
// or none. The node's side of every attachment lives in the lab's node namespace (the "fabric"), where the chart's
// bridges and the LAN parent interface are. A config this stand-in cannot apply fails the pod loudly, as a missing
// CNI plugin would (FailedCreatePodSandBox); it is never half-applied and forgotten.
// https://github.com/k8snetworkplumbingwg/multi-net-spec (selection annotation) and the CNI plugins' docs.
import { createHash } from 'node:crypto';

export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';

export interface NetworkSelection {
  name: string;
  namespace: string;
  interface: string;
}

export interface StaticAddress {
  address: string;
  gateway?: string;
}

export interface CniConfig {
  cniVersion?: string;
  name?: string;
  type: string;
  bridge?: string;
  master?: string;
  mode?: string;
  mtu?: number;
  ipam?: { type?: string; addresses?: StaticAddress[]; routes?: Array<{ dst: string; gw?: string }> };
  [k: string]: unknown;
}

/** The selection elements of a pod (JSON list form, or the short `ns/name@iface` comma-separated form). */
export function parseNetworks(value: string, podNamespace: string): NetworkSelection[] {
  const trimmed = value.trim();
  if (!trimmed) return [];
  const out: NetworkSelection[] = [];
  if (trimmed.startsWith('[')) {
    const list = JSON.parse(trimmed) as Array<Record<string, unknown>>;
    list.forEach((e, i) => {
      for (const k of Object.keys(e))
        if (!['name', 'namespace', 'interface'].includes(k))
          throw new Error(`${NETWORKS_ANNOTATION}[${i}].${k} is not supported by the lab's Multus stand-in`);
      if (typeof e.name !== 'string' || !e.name) throw new Error(`${NETWORKS_ANNOTATION}[${i}] has no name`);
      out.push({
        name: e.name,
        namespace: typeof e.namespace === 'string' && e.namespace ? e.namespace : podNamespace,
        interface: typeof e.interface === 'string' && e.interface ? e.interface : `net${i + 1}`,
      });
    });
    return out;
  }
  trimmed.split(',').forEach((raw, i) => {
    const m = /^(?:([^/@]+)\/)?([^/@]+)(?:@(.+))?$/.exec(raw.trim());
    if (!m) throw new Error(`${NETWORKS_ANNOTATION}: cannot parse "${raw}"`);
    out.push({ namespace: m[1] ?? podNamespace, name: m[2]!, interface: m[3] ?? `net${i + 1}` });
  });
  return out;
}

/** Linux allows 15 bytes: a stable node-side name per pod and interface. */
export function nodeSideName(prefix: string, podUid: string, iface: string): string {
  return `${prefix}m${createHash('sha256').update(`${podUid}/${iface}`).digest('hex').slice(0, 8)}`;
}

/** `ip -batch` lines for the node namespace and for the pod namespace that make one attachment. */
export interface AttachmentPlan {
  node: string[];
  pod: string[];
}

export function planAttachment(
  sel: NetworkSelection,
  config: CniConfig,
  o: { podNetns: string; podUid: string; prefix: string },
): AttachmentPlan {
  const what = `NetworkAttachmentDefinition ${sel.namespace}/${sel.name}`;
  const known = new Set(['cniVersion', 'name', 'type', 'bridge', 'master', 'mode', 'mtu', 'ipam']);
  for (const k of Object.keys(config))
    if (!known.has(k)) throw new Error(`${what}: CNI config key "${k}" is not supported by the lab's Multus stand-in`);
  const tmp = nodeSideName(o.prefix, o.podUid, sel.interface);
  const node: string[] = [];
  const pod: string[] = [];
  const mtu = config.mtu ? ` mtu ${config.mtu}` : '';
  if (config.type === 'bridge') {
    const bridge = config.bridge ?? 'cni0';
    // The bridge plugin creates its bridge when missing; `ip link add` of an existing one would fail the batch.
    node.push(`link add ${tmp} type veth peer name ${tmp}p${mtu}`);
    node.push(`link set ${tmp} master ${bridge} up`);
    node.push(`link set ${tmp}p netns ${o.podNetns}`);
    pod.push(`link set ${tmp}p name ${sel.interface}`);
  } else if (config.type === 'macvlan') {
    if (!config.master) throw new Error(`${what}: macvlan needs "master"`);
    node.push(`link add ${tmp} link ${config.master} type macvlan mode ${config.mode ?? 'bridge'}`);
    if (config.mtu) node.push(`link set ${tmp} mtu ${config.mtu}`);
    node.push(`link set ${tmp} netns ${o.podNetns}`);
    pod.push(`link set ${tmp} name ${sel.interface}`);
  } else throw new Error(`${what}: CNI plugin type "${config.type}" is not supported by the lab's Multus stand-in`);
  const ipam = config.ipam ?? {};
  const ipamType = ipam.type ?? (ipam.addresses?.length ? 'static' : '');
  if (ipamType && ipamType !== 'static')
    throw new Error(`${what}: IPAM type "${ipamType}" is not supported by the lab's Multus stand-in (static or none)`);
  for (const a of ipam.addresses ?? []) pod.push(`addr add ${a.address} dev ${sel.interface}`);
  pod.push(`link set ${sel.interface} up`);
  for (const r of ipam.routes ?? []) {
    const gw = r.gw ?? ipam.addresses?.find((a) => a.gateway)?.gateway;
    pod.push(`route add ${r.dst}${gw ? ` via ${gw}` : ''} dev ${sel.interface}`);
  }
  return { node, pod };
}

/** The bridges a set of configs needs that the node namespace does not have yet (the bridge plugin makes them). */
export function missingBridges(configs: CniConfig[], existing: Set<string>): string[] {
  return [...new Set(configs.filter((c) => c.type === 'bridge').map((c) => c.bridge ?? 'cni0'))].filter(
    (b) => !existing.has(b),
  );
}
