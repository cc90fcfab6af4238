// Renders the NetworkPolicy ruleset (the body of table `ip <stem>_policy`) from plain data, with the semantics of
// https://kubernetes.io/docs/concepts/services-networking/network-policies/ and the NetworkPolicy API reference:
// - a pod is isolated for a direction only when some policy selects it with that direction in its policyTypes
//   (defaulted, when absent, to Ingress plus Egress if the policy has egress rules); the allowed traffic of an
//   isolated pod is the union of the rules of all those policies; a policy with no rules for a direction allows
//   nothing; a rule allows traffic matching any of its peers (all, when it has none) on any of its ports (all, when it
//   has none);
// - peers: podSelector (in the policy's namespace), namespaceSelector (every pod of the selected namespaces), both
//   (pods matching podSelector in the selected namespaces), ipBlock (CIDR minus `except`, matched against the address,
//   pod or not); ports: protocol (TCP by default, UDP, SCTP), number, number..endPort, or a name resolved against the
//   container ports of the destination pod (the policy's pod for ingress, each peer pod for egress);
// - replies of allowed connections pass (conntrack established/related); a pod can always reach itself (hairpin
//   through a Service); traffic from the node's own processes to a pod is never policed (the API: traffic is allowed
//   "if the traffic source is the pod's local node"; Calico returns host→workload packets unpoliced), whereas a
//   pod's traffic to the node is subject to its egress policy, matched by the node's address;
// - egress is checked where a pod's packets enter the host (forward and input hooks, after Service DNAT, so policies
//   see the real endpoint as Calico does), ingress where packets leave toward a pod (forward hook). A packet between
//   two pods needs both. Packets of pod-network interfaces from or to an address no pod holds are dropped (Calico
//   drops traffic of unknown workload endpoints).
// Errors in a policy (a bad CIDR, an unknown selector operator) are reported per policy and field; the broken part
// allows nothing while the policy still isolates the pods it selects. Counters: `allow.<ns>/<policy>.<direction>`
// counts connections a policy admitted, `drop.<direction>.<ns>/<pod>` what an isolated pod refused.
import { createHash } from 'node:crypto';
import { cidrContains, ipToInt, parseCidr, type Cidr } from '../ipv4.js';
import { checkSelector, selectorMatches, type LabelSelector } from '../../kube/label-selector.js';
import type { NamespaceInfo, PodInfo, PolicyInfo, PolicyPeer, PolicyPort, PolicyRule } from './model.js';

export interface PolicyRenderInput {
  /** nftables wildcard of the host-side pod interfaces, e.g. `tcl-*`. */
  podIfWildcard: string;
  pods: PodInfo[];
  namespaces: NamespaceInfo[];
  policies: PolicyInfo[];
}

export interface PolicyRenderResult {
  body: string;
  /** Problems found in policies, each naming the policy and the field. */
  errors: string[];
  summary: { pods: number; policies: number; isolatedIngress: number; isolatedEgress: number };
}

type Direction = 'ingress' | 'egress';
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

/**
 * An nft identifier from a readable name: characters nft refuses become `_` (Kubernetes names never hold them), and a
 * name past nft's limits is shortened with a hash.
 */
export function ident(text: string): string {
  const safe = text.replace(/[^A-Za-z0-9_./-]/g, '_');
  if (safe.length <= 200) return safe;
  return `${safe.slice(0, 180)}_${createHash('sha256').update(text).digest('hex').slice(0, 10)}`;
}

const sortIps = (ips: string[]): string[] => [...ips].sort((a, b) => ipToInt(a) - ipToInt(b));

const quote = (s: string): string => `"${s.replace(/["\\]/g, '')}"`;

/** policyTypes as the API server defaults them. */
export function policyTypes(p: PolicyInfo): Direction[] {
  const given = p.spec.policyTypes;
  if (given && given.length)
    return (['ingress', 'egress'] as const).filter((d) => given.includes(d === 'ingress' ? 'Ingress' : 'Egress'));
  return (p.spec.egress?.length ?? 0) > 0 ? ['ingress', 'egress'] : ['ingress'];
}

/** Drops CIDRs contained in others, so an anonymous interval set never overlaps. */
function disjoint(cidrs: Cidr[]): Cidr[] {
  const sorted = [...cidrs].sort((a, b) => a.bits - b.bits);
  const out: Cidr[] = [];
  for (const c of sorted) if (!out.some((o) => cidrContains(o, c.base))) out.push(c);
  return out.sort((a, b) => a.base - b.base);
}

interface Match {
  /** nft match text for the peer, or undefined for any address. */
  addr?: string;
  /** Addresses this peer admits, for named-port resolution: a predicate over pod IPs. */
  admits: (ip: string) => boolean;
}

class Renderer {
  readonly errors: string[] = [];
  private readonly nsLabels: Map<string, Record<string, string>>;

  constructor(private readonly input: PolicyRenderInput) {
    this.nsLabels = new Map(input.namespaces.map((n) => [n.name, n.labels]));
  }

  private err(p: PolicyInfo, field: string, message: string): void {
    this.errors.push(`NetworkPolicy ${p.namespace}/${p.name}: ${field}: ${message}`);
  }

  private selector(p: PolicyInfo, field: string, sel: LabelSelector | undefined): LabelSelector | undefined {
    if (!sel) return undefined;
    try {
      checkSelector(sel);
      return sel;
    } catch (e) {
      this.err(p, field, `${(e as Error).message}; it selects nothing`);
      return { matchExpressions: [{ key: '', operator: 'SelectsNothing' }] };
    }
  }

  /** The pods a policy applies to. */
  selected(p: PolicyInfo): PodInfo[] {
    const sel = this.selector(p, 'spec.podSelector', p.spec.podSelector) ?? {};
    return this.input.pods.filter((pod) => pod.namespace === p.namespace && selectorMatches(sel, pod.labels));
  }

  /** A peer as an address match, or undefined when it matches nothing. */
  peer(p: PolicyInfo, field: string, peer: PolicyPeer, dir: Direction): Match | undefined {
    const key = dir === 'ingress' ? 'saddr' : 'daddr';
    if (peer.ipBlock) {
      if (peer.podSelector || peer.namespaceSelector) {
        this.err(
          p,
          field,
          'ipBlock cannot be combined with podSelector or namespaceSelector; this peer matches nothing',
        );
        return undefined;
      }
      if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(peer.ipBlock.cidr ?? '')) {
        if (!String(peer.ipBlock.cidr ?? '').includes(':'))
          this.err(
            p,
            `${field}.ipBlock.cidr`,
            `${JSON.stringify(peer.ipBlock.cidr)} is not a CIDR; this peer matches nothing`,
          );
        return undefined; // IPv6 blocks never match this IPv4 pod network
      }
      let cidr: Cidr;
      const except: Cidr[] = [];
      try {
        cidr = parseCidr(peer.ipBlock.cidr, true);
        for (const e of peer.ipBlock.except ?? []) {
          if (e.includes(':')) continue;
          const c = parseCidr(e, true);
          if (!cidrContains(cidr, c.base) || c.bits < cidr.bits)
            throw new Error(`except ${e} is not inside ${peer.ipBlock.cidr}`);
          except.push(c);
        }
      } catch (e) {
        this.err(p, `${field}.ipBlock`, `${(e as Error).message}; this peer matches nothing`);
        return undefined;
      }
      const ex = disjoint(except);
      return {
        addr: `ip ${key} ${cidr.text}` + (ex.length ? ` ip ${key} != { ${ex.map((c) => c.text).join(', ')} }` : ''),
        admits: (ip) => cidrContains(cidr, ip) && !ex.some((c) => cidrContains(c, ip)),
      };
    }
    if (!peer.podSelector && !peer.namespaceSelector) {
      this.err(p, field, 'a peer needs podSelector, namespaceSelector or ipBlock; this peer matches nothing');
      return undefined;
    }
    const podSel = this.selector(p, `${field}.podSelector`, peer.podSelector) ?? {};
    const nsSel = this.selector(p, `${field}.namespaceSelector`, peer.namespaceSelector);
    const ips = this.input.pods
      .filter((pod) =>
        nsSel ? selectorMatches(nsSel, this.nsLabels.get(pod.namespace)) : pod.namespace === p.namespace,
      )
      .filter((pod) => selectorMatches(podSel, pod.labels))
      .map((pod) => pod.ip);
    if (ips.length === 0) return undefined;
    const set = new Set(ips);
    return { addr: `ip ${key} { ${sortIps([...set]).join(', ')} }`, admits: (ip) => set.has(ip) };
  }

  /** Port matches of one port entry: named ports resolve on `targets` (ingress) or on each pod `peer` admits (egress). */
  port(p: PolicyInfo, field: string, port: PolicyPort, dir: Direction, targets: PodInfo[], peer: Match): string[] {
    const protocol = port.protocol ?? 'TCP';
    if (!PROTOCOLS.includes(protocol)) {
      this.err(
        p,
        `${field}.protocol`,
        `${JSON.stringify(protocol)} is not TCP, UDP or SCTP; this port matches nothing`,
      );
      return [];
    }
    const l4 = `meta l4proto ${protocol.toLowerCase()}`;
    if (port.port === undefined || port.port === null) return [l4];
    if (typeof port.port === 'number' || /^\d+$/.test(String(port.port))) {
      const n = Number(port.port);
      if (port.endPort !== undefined && port.endPort !== null) {
        if (!(port.endPort >= n) || port.endPort > 65535) {
          this.err(
            p,
            `${field}.endPort`,
            `${port.endPort} must be between port ${n} and 65535; this port matches nothing`,
          );
          return [];
        }
        return [`${l4} th dport ${n}-${port.endPort}`];
      }
      if (n < 1 || n > 65535) {
        this.err(p, `${field}.port`, `${n} is not a port number; this port matches nothing`);
        return [];
      }
      return [`${l4} th dport ${n}`];
    }
    const name = String(port.port);
    const numbersOf = (pod: PodInfo) =>
      pod.ports.filter((cp) => cp.name === name && cp.protocol === protocol).map((cp) => cp.containerPort);
    // ingress: the name resolves on each pod the policy selects (the destination); egress: on each peer pod
    const dests = dir === 'ingress' ? targets : this.input.pods.filter((pod) => peer.admits(pod.ip));
    const pairs = dests.flatMap((pod) => numbersOf(pod).map((n) => `${pod.ip} . ${n}`));

    if (!pairs.length) return [];
    return [`${l4} ip daddr . th dport { ${[...new Set(pairs)].join(', ')} }`];
  }

  rules(p: PolicyInfo, dir: Direction, targets: PodInfo[]): string[] {
    const list: PolicyRule[] = (dir === 'ingress' ? p.spec.ingress : p.spec.egress) ?? [];
    const counter = `counter name ${ident(`allow.${p.namespace}/${p.name}.${dir}`)}`;
    const out: string[] = [];
    list.forEach((rule, i) => {
      const field = `spec.${dir}[${i}]`;
      const peersList = (dir === 'ingress' ? rule.from : rule.to) ?? [];
      const peers: Match[] = peersList.length
        ? peersList.flatMap(
            (peer, j) => this.peer(p, `${field}.${dir === 'ingress' ? 'from' : 'to'}[${j}]`, peer, dir) ?? [],
          )
        : [{ admits: () => true }];
      for (const peer of peers) {
        const ports = rule.ports?.length
          ? rule.ports.flatMap((port, k) => this.port(p, `${field}.ports[${k}]`, port, dir, targets, peer))
          : [''];
        for (const port of ports) {
          const parts = [
            peer.addr,
            port,
            counter,
            'accept',
            `comment ${quote(`${p.namespace}/${p.name} ${dir}[${i}]`)}`,
          ];
          out.push(parts.filter(Boolean).join(' '));
        }
      }
    });
    return out;
  }
}

export function renderPolicyTable(input: PolicyRenderInput): PolicyRenderResult {
  const r = new Renderer(input);
  const w = quote(input.podIfWildcard);
  const policies = [...input.policies].sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );
  const pods = [...input.pods].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  // which policies apply to which pod, per direction
  const applying = new Map<string, { ingress: PolicyInfo[]; egress: PolicyInfo[] }>();
  for (const pod of pods) applying.set(pod.ip, { ingress: [], egress: [] });
  for (const p of policies) {
    const types = policyTypes(p);
    for (const pod of r.selected(p)) for (const d of types) applying.get(pod.ip)?.[d].push(p);
  }

  const counters: string[] = [];
  const chains: string[] = [];
  // one chain per policy and direction, shared by the pods it selects (as Calico's policy chains)
  const policyChain = (p: PolicyInfo, d: Direction) => ident(`policy.${p.namespace}/${p.name}.${d}`);
  for (const p of policies) {
    const selected = r.selected(p);
    if (!selected.length) continue;
    for (const d of policyTypes(p)) {
      const body = [`comment ${quote(`NetworkPolicy ${p.namespace}/${p.name} (${d})`)}`, ...r.rules(p, d, selected)];
      chains.push(`  chain ${policyChain(p, d)} {\n${body.map((l) => `    ${l}`).join('\n')}\n  }`);
    }
  }
  const maps: Record<Direction, string[]> = { ingress: [], egress: [] };
  const seen = new Set<string>();
  let isolatedIngress = 0;
  let isolatedEgress = 0;
  for (const pod of pods) {
    if (seen.has(pod.ip)) continue;
    seen.add(pod.ip);
    const key = `${pod.namespace}/${pod.name}`;
    for (const d of ['ingress', 'egress'] as const) {
      const ps = applying.get(pod.ip)![d];
      if (!ps.length) {
        maps[d].push(`${pod.ip} : accept`);
        continue;
      }
      if (d === 'ingress') isolatedIngress++;
      else isolatedEgress++;
      const chain = ident(`${d === 'ingress' ? 'in' : 'eg'}.${key}`);
      const drop = ident(`drop.${d}.${key}`);
      counters.push(`  counter ${drop} {\n    comment ${quote(`${d} refused by pod ${key} (${pod.ip})`)}\n  }`);
      const self = d === 'ingress' ? `ip saddr ${pod.ip}` : `ip daddr ${pod.ip}`;
      const body = [
        `comment ${quote(`${d} of pod ${key} (${pod.ip})`)}`,
        `${self} accept comment "a pod can always reach itself"`,
        ...ps.map((p) => `jump ${policyChain(p, d)}`),
        `counter name ${drop} drop`,
      ];
      chains.push(`  chain ${chain} {\n${body.map((l) => `    ${l}`).join('\n')}\n  }`);
      maps[d].push(`${pod.ip} : goto ${chain}`);
    }
  }
  for (const p of policies)
    for (const d of policyTypes(p))
      counters.push(
        `  counter ${ident(`allow.${p.namespace}/${p.name}.${d}`)} {\n    comment ${quote(`connections ${p.namespace}/${p.name} admitted (${d})`)}\n  }`,
      );
  counters.push('  counter drop.unknown-endpoint {\n    comment "pod-network traffic of an address no pod holds"\n  }');

  const map = (d: Direction) =>
    `  map ${d} {\n    type ipv4_addr : verdict\n` +
    (maps[d].length ? `    elements = {\n${maps[d].map((e) => `      ${e}`).join(',\n')}\n    }\n` : '') +
    '  }';
  const base = (name: string, hook: string, prio: string, dev: string, addr: string, d: Direction) =>
    `  chain ${name} {\n` +
    `    type filter hook ${hook} priority ${prio}; policy accept;\n` +
    `    ${dev} != ${w} accept\n` +
    `    ct state established,related accept\n` +
    `    ct state invalid drop\n` +
    `    ${addr} vmap @${d}\n` +
    `    counter name drop.unknown-endpoint drop\n` +
    `  }`;
  const body = [
    `  comment ${quote(`NetworkPolicy of the lab pod network (${input.podIfWildcard})`)}`,
    ...counters,
    map('ingress'),
    map('egress'),
    ...chains,
    base('from-pods', 'forward', 'filter + 10', 'iifname', 'ip saddr', 'egress'),
    base('from-pods-to-host', 'input', 'filter + 10', 'iifname', 'ip saddr', 'egress'),
    base('to-pods', 'forward', 'filter + 11', 'oifname', 'ip daddr', 'ingress'),
  ].join('\n');
  return {
    body: body + '\n',
    errors: [...new Set(r.errors)],
    summary: { pods: seen.size, policies: policies.length, isolatedIngress, isolatedEgress },
  };
}
