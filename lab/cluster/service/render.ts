// Renders the service proxy's ruleset (the body of table `ip <stem>_svc`), the nftables mode of kube-proxy reduced to
// ClusterIPs: a verdict map from ClusterIP . protocol . port to one chain per Service port, which picks an endpoint at
// random (`numgen random`) and DNATs to it, hooked at prerouting (pods) and output (host processes). Endpoints are the
// ready ones of the Service's EndpointSlices; with none ready, the serving terminating ones (kube-proxy's fallback);
// with none at all, traffic to the ClusterIP is rejected at once, as is traffic to a ClusterIP port no Service
// defines. A pod reaching itself through its Service (hairpin) is SNATed to the node IP, or its own replies would
// bypass the DNAT. Session affinity, NodePorts, externalIPs and load balancers are not rendered.
import { ident } from '../policy/render.js';
import type { ServiceInfo, ServicePort, SliceEndpoint, SliceInfo } from './model.js';

export interface ServiceRenderInput {
  services: ServiceInfo[];
  slices: SliceInfo[];
  /** Source address for hairpin traffic (the node IP). */
  hairpinSnatIP: string;
}

export interface ServiceTarget {
  service: string;
  clusterIP: string;
  port: ServicePort;
  /** `ip:port` of each endpoint in use. */
  endpoints: string[];
}

export interface ServiceRenderResult {
  body: string;
  targets: ServiceTarget[];
  /** Conflicts (two Services on one ClusterIP and port): the first Service in name order keeps it. */
  errors: string[];
}

/** The endpoints a Service port sends to: ready ones, else serving-and-terminating ones. */
export function endpointsFor(svc: ServiceInfo, sp: ServicePort, slices: SliceInfo[]): string[] {
  const candidates: Array<SliceEndpoint & { port: number }> = [];
  for (const s of slices) {
    if (s.namespace !== svc.namespace || s.service !== svc.name) continue;
    const port = s.ports.find((p) => p.name === sp.name && p.protocol === sp.protocol);
    if (!port || !(port.port > 0)) continue;
    for (const e of s.endpoints) candidates.push({ ...e, port: port.port });
  }
  let use = candidates.filter((e) => e.ready);
  if (!use.length) use = candidates.filter((e) => e.serving && e.terminating);
  return [...new Set(use.map((e) => `${e.ip}:${e.port}`))].sort();
}

export function renderServiceTable(input: ServiceRenderInput): ServiceRenderResult {
  const targets: ServiceTarget[] = [];
  const chains: string[] = [];
  const mapElems: string[] = [];
  const hairpin = new Set<string>();
  const clusterIPs = new Set<string>();
  const owners = new Map<string, string>();
  const errors: string[] = [];
  for (const svc of input.services) {
    clusterIPs.add(svc.clusterIP);
    for (const sp of svc.ports) {
      const key = `${svc.namespace}/${svc.name}`;
      const slot = `${svc.clusterIP}:${sp.port}/${sp.protocol}`;
      const owner = owners.get(slot);
      if (owner) {
        errors.push(
          `Service ${key} port ${slot} is also Service ${owner}'s: ${key} gets no traffic there; give it another ClusterIP`,
        );
        continue;
      }
      owners.set(slot, key);
      const endpoints = endpointsFor(svc, sp, input.slices);
      targets.push({ service: key, clusterIP: svc.clusterIP, port: sp, endpoints });
      if (!endpoints.length) continue;
      const proto = sp.protocol.toLowerCase();
      const svcChain = ident(`svc.${key}.${sp.name || sp.port}.${proto}`);
      const epChains = endpoints.map((ep) => ident(`ep.${key}.${sp.name || sp.port}.${proto}.${ep.replace(':', '.')}`));
      const pick =
        epChains.length === 1
          ? `goto ${epChains[0]}`
          : `numgen random mod ${epChains.length} vmap { ${epChains.map((c, i) => `${i} : goto ${c}`).join(', ')} }`;
      chains.push(
        `  chain ${svcChain} {\n    comment "${key} port ${sp.name || sp.port}/${sp.protocol}"\n    ${pick}\n  }`,
      );
      endpoints.forEach((ep, i) => {
        const ip = ep.split(':')[0]!;
        hairpin.add(`${ip} . ${ip}`);
        chains.push(`  chain ${epChains[i]} {\n    meta l4proto ${proto} dnat ip to ${ep}\n  }`);
      });
      mapElems.push(`${svc.clusterIP} . ${proto} . ${sp.port} : goto ${svcChain}`);
    }
  }
  const set = (name: string, type: string, elems: string[]) =>
    `  set ${name} {\n    type ${type}\n` +
    (elems.length ? `    elements = {\n${elems.map((e) => `      ${e}`).join(',\n')}\n    }\n` : '') +
    '  }';
  const map = (name: string, type: string, elems: string[]) =>
    `  map ${name} {\n    type ${type}\n` +
    (elems.length ? `    elements = {\n${elems.map((e) => `      ${e}`).join(',\n')}\n    }\n` : '') +
    '  }';
  const body = [
    '  comment "lab service proxy: ClusterIP DNAT (kube-proxy stand-in)"',
    '  counter no-endpoints {\n    comment "traffic to a ClusterIP port without endpoints, rejected"\n  }',
    set('cluster-ips', 'ipv4_addr', [...clusterIPs].sort()),
    set('hairpin', 'ipv4_addr . ipv4_addr', [...hairpin].sort()),
    map('services', 'ipv4_addr . inet_proto . inet_service : verdict', mapElems),
    ...chains,
    '  chain dnat-pods {\n    type nat hook prerouting priority dstnat; policy accept;\n    ip daddr . meta l4proto . th dport vmap @services\n  }',
    '  chain dnat-host {\n    type nat hook output priority -100; policy accept;\n    ip daddr . meta l4proto . th dport vmap @services\n  }',
    `  chain hairpin-snat {\n    type nat hook postrouting priority srcnat; policy accept;\n    ct status dnat ip saddr . ip daddr @hairpin snat ip to ${input.hairpinSnatIP}\n  }`,
    '  chain reject-pods {\n    type filter hook forward priority filter - 10; policy accept;\n    ip daddr @cluster-ips counter name no-endpoints reject\n  }',
    '  chain reject-host {\n    type filter hook output priority filter - 10; policy accept;\n    ip daddr @cluster-ips counter name no-endpoints reject\n  }',
  ].join('\n');
  return { body: body + '\n', targets, errors };
}
