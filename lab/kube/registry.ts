// Which resources exist (built-ins plus every established CRD) and the discovery documents describing them:
// legacy discovery (/api, /apis, /apis/<g>/<v>) and aggregated discovery (apidiscovery.k8s.io/v2), which kubectl
// 1.31 asks for first. https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api
import type { Obj, ResourceType } from './types.js';

/** Kubernetes version priority: GA > beta > alpha, higher numbers first (apimachinery version.CompareKubeAwareVersionStrings). */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return { rank: 0, major: 0, minor: 0, text: v };
    return {
      rank: m[2] === 'alpha' ? 1 : m[2] === 'beta' ? 2 : 3,
      major: Number(m[1]),
      minor: Number(m[3] ?? 0),
      text: v,
    };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.rank !== y.rank) return y.rank - x.rank;
  if (x.rank === 0) return x.text.localeCompare(y.text);
  if (x.major !== y.major) return y.major - x.major;
  return y.minor - x.minor;
}

export class Registry {
  /** group → plural → type */
  private readonly groups = new Map<string, Map<string, ResourceType>>();
  /** Moves on every change, so cached discovery documents know when to rebuild. */
  generation = 0;

  add(t: ResourceType): void {
    this.generation++;
    let g = this.groups.get(t.group);
    if (!g) this.groups.set(t.group, (g = new Map()));
    g.set(t.plural, t);
  }

  remove(group: string, plural: string): void {
    this.generation++;
    const g = this.groups.get(group);
    g?.delete(plural);
    if (g && g.size === 0) this.groups.delete(group);
  }

  /** The type serving `group/version/plural`, or undefined when that version is not served. */
  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    const t = this.groups.get(group)?.get(plural);
    return t && t.versions.some((v) => v.name === version && v.served) ? t : undefined;
  }

  byGroupResource(group: string, plural: string): ResourceType | undefined {
    return this.groups.get(group)?.get(plural);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    for (const t of this.groups.get(group!)?.values() ?? [])
      if (t.kind === kind && t.versions.some((v) => v.name === version && v.served)) return t;
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.groups.values()].flatMap((g) => [...g.values()]);
  }

  /** Served versions of a group, preferred first. */
  groupVersions(group: string): string[] {
    const versions = new Set<string>();
    for (const t of this.groups.get(group)?.values() ?? [])
      for (const v of t.versions) if (v.served) versions.add(v.name);
    return [...versions].sort(compareKubeVersions);
  }

  groupNames(): string[] {
    return [...this.groups.keys()].filter((g) => g !== '' && this.groupVersions(g).length > 0);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.groupVersions(group).includes(version);
  }

  apiVersions(serverAddress: string): Obj {
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
    };
  }

  apiGroup(group: string): Obj {
    const versions = this.groupVersions(group).map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
    return { name: group, versions, preferredVersion: versions[0] };
  }

  apiGroupList(): Obj {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: this.groupNames().map((g) => this.apiGroup(g)) };
  }

  apiResourceList(group: string, version: string): Obj {
    const resources: Obj[] = [];
    for (const t of this.groups.get(group)?.values() ?? []) {
      if (!t.versions.some((v) => v.name === version && v.served)) continue;
      resources.push({
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: t.verbs,
        ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
        ...(t.categories.length ? { categories: t.categories } : {}),
      });
      for (const sub of t.subresources) {
        const s = subresource(t, sub);
        resources.push({
          name: `${t.plural}/${sub}`,
          singularName: '',
          namespaced: t.namespaced,
          ...(s.group !== undefined ? { group: s.group, version: s.version } : {}),
          kind: s.kind,
          verbs: s.verbs,
        });
      }
    }
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources,
    };
  }

  /** apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api (legacy=true) or /apis. */
  aggregated(legacy: boolean, apiVersion = 'apidiscovery.k8s.io/v2'): Obj {
    const groups = legacy ? [''] : this.groupNames();
    return {
      kind: 'APIGroupDiscoveryList',
      apiVersion,
      metadata: {},
      items: groups.map((group) => ({
        metadata: group ? { name: group } : {},
        versions: this.groupVersions(group).map((version) => ({
          version,
          resources: [...(this.groups.get(group)?.values() ?? [])]
            .filter((t) => t.versions.some((v) => v.name === version && v.served))
            .map((t) => ({
              resource: t.plural,
              responseKind: { group: t.group, version, kind: t.kind },
              scope: t.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: t.singular,
              verbs: t.verbs,
              ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
              ...(t.categories.length ? { categories: t.categories } : {}),
              ...(t.subresources.length
                ? {
                    subresources: t.subresources.map((sub) => {
                      const s = subresource(t, sub);
                      return {
                        subresource: sub,
                        responseKind: { group: s.group ?? t.group, version: s.version ?? version, kind: s.kind },
                        verbs: s.verbs,
                      };
                    }),
                  }
                : {}),
            })),
          freshness: 'Current',
        })),
      })),
    };
  }
}

function subresource(
  t: ResourceType,
  sub: string,
): { kind: string; verbs: string[]; group?: string; version?: string } {
  switch (sub) {
    case 'status':
      return { kind: t.kind, verbs: ['get', 'patch', 'update'] };
    case 'scale':
      return { kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' };
    case 'log':
      return { kind: 'Pod', verbs: ['get'] };
    case 'token':
      return { kind: 'TokenRequest', verbs: ['create'], group: 'authentication.k8s.io', version: 'v1' };
    case 'binding':
      return { kind: 'Binding', verbs: ['create'] };
    case 'finalize':
      return { kind: t.kind, verbs: ['update'] };
    default:
      return { kind: t.kind, verbs: ['get'] };
  }
}
