// Plain data for the service proxy, and its extraction from Services and EndpointSlices (pure).
import { isIPv4 } from '../ipv4.js';

export interface ServicePort {
  name: string;
  port: number;
  protocol: string;
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  clusterIP: string;
  ports: ServicePort[];
}

export interface SliceEndpoint {
  ip: string;
  /** `hostname` of the endpoint (a pod with spec.hostname and subdomain = the Service). */
  hostname?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export interface SliceInfo {
  namespace: string;
  service: string;
  ports: ServicePort[];
  endpoints: SliceEndpoint[];
}

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}

/** Services with a ClusterIP (ClusterIP, NodePort and LoadBalancer types); headless and ExternalName have none. */
export function servicesFromApi(
  svcs: Array<{
    metadata?: Meta;
    spec?: { type?: string; clusterIP?: string; ports?: Array<{ name?: string; port?: number; protocol?: string }> };
  }>,
): ServiceInfo[] {
  return svcs
    .filter((s) => s.spec?.type !== 'ExternalName' && isIPv4(s.spec?.clusterIP ?? ''))
    .map((s) => ({
      namespace: s.metadata?.namespace ?? 'default',
      name: s.metadata?.name ?? '',
      clusterIP: s.spec!.clusterIP!,
      ports: (s.spec?.ports ?? []).map((p) => ({
        name: p.name ?? '',
        port: Number(p.port),
        protocol: p.protocol ?? 'TCP',
      })),
    }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** IPv4 EndpointSlices labelled with their Service; `ready` unset means ready (the API's advice to consumers). */
export function slicesFromApi(
  slices: Array<{
    metadata?: Meta;
    addressType?: string;
    ports?: Array<{ name?: string; port?: number; protocol?: string }> | null;
    endpoints?: Array<{
      addresses?: string[];
      hostname?: string;
      conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
    }>;
  }>,
): SliceInfo[] {
  return slices
    .filter((s) => s.addressType === 'IPv4' && s.metadata?.labels?.['kubernetes.io/service-name'])
    .map((s) => ({
      namespace: s.metadata?.namespace ?? 'default',
      service: s.metadata!.labels!['kubernetes.io/service-name']!,
      ports: (s.ports ?? []).map((p) => ({ name: p.name ?? '', port: Number(p.port), protocol: p.protocol ?? 'TCP' })),
      endpoints: (s.endpoints ?? []).flatMap((e) =>
        (e.addresses ?? []).filter(isIPv4).map((ip) => {
          const ready = e.conditions?.ready ?? true;
          return {
            ip,
            ...(e.hostname ? { hostname: e.hostname } : {}),
            ready: ready !== false,
            serving: (e.conditions?.serving ?? ready) !== false,
            terminating: e.conditions?.terminating === true,
          };
        }),
      ),
    }));
}
