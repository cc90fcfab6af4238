// The plain data the NetworkPolicy renderer works on, and its extraction from API objects (pure).
import { isIPv4 } from '../ipv4.js';
import type { LabelSelector } from '../../kube/label-selector.js';

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol: string;
}

/** A pod on the pod network: what policies select and what peers resolve to. */
export interface PodInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ip: string;
  ports: ContainerPort[];
}

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
}

export interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: PolicyPort[];
}

/** networking.k8s.io/v1 NetworkPolicy, reduced to what enforcement reads. */
export interface PolicyInfo {
  namespace: string;
  name: string;
  spec: {
    podSelector?: LabelSelector;
    policyTypes?: string[];
    ingress?: PolicyRule[];
    egress?: PolicyRule[];
  };
}

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  creationTimestamp?: string | Date;
}

interface PodLike {
  metadata?: Meta;
  spec?: { hostNetwork?: boolean; containers?: Array<{ ports?: Array<Partial<ContainerPort>> }> };
  status?: { podIP?: string; phase?: string };
}

/**
 * The pods that are endpoints of the pod network: a pod IP, not host-network (those are not on the pod network and,
 * as with Calico, no selector picks them), not finished (Succeeded/Failed pods have given their IP back). When two
 * pods claim one IP (a finished pod's IP reused), the newest wins.
 */
export function podsFromApi(pods: PodLike[]): PodInfo[] {
  const byIp = new Map<string, { pod: PodInfo; created: string }>();
  for (const p of pods) {
    const ip = p.status?.podIP;
    if (!ip || !isIPv4(ip) || p.spec?.hostNetwork) continue;
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    const ts = p.metadata?.creationTimestamp;
    const created = ts ? new Date(ts).toISOString() : '';
    const info: PodInfo = {
      namespace: p.metadata?.namespace ?? 'default',
      name: p.metadata?.name ?? '',
      labels: { ...(p.metadata?.labels ?? {}) },
      ip,
      ports: (p.spec?.containers ?? []).flatMap((c) =>
        (c.ports ?? []).map((cp) => ({
          ...(cp.name ? { name: cp.name } : {}),
          containerPort: Number(cp.containerPort),
          protocol: cp.protocol ?? 'TCP',
        })),
      ),
    };
    const had = byIp.get(ip);
    if (!had || had.created < created) byIp.set(ip, { pod: info, created });
  }
  return [...byIp.values()].map((v) => v.pod).sort(byKey);
}

export function namespacesFromApi(nss: Array<{ metadata?: Meta }>): NamespaceInfo[] {
  return nss
    .map((n) => ({ name: n.metadata?.name ?? '', labels: { ...(n.metadata?.labels ?? {}) } }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function policiesFromApi(pols: Array<{ metadata?: Meta; spec?: PolicyInfo['spec'] }>): PolicyInfo[] {
  return pols
    .map((p) => ({
      namespace: p.metadata?.namespace ?? 'default',
      name: p.metadata?.name ?? '',
      spec: structuredClone(p.spec ?? {}),
    }))
    .sort(byKey);
}

function byKey(a: { namespace: string; name: string }, b: { namespace: string; name: string }): number {
  return a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}
