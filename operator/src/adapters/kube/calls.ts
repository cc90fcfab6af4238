// Every Kubernetes API call the operator makes, in one place: what it needs from RBAC (verb, group, resource) and
// where (its scope). KubeClient names its calls from here, a 403 names the missing rule from here, and the chart test
// checks the rendered RBAC against this list (test/chart/policy.test.ts): a call added here without its rule fails
// that test; a rule granted for no call here fails it too.

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch';

/**
 * Where a call is made:
 *   torchains — every namespace (ClusterRole), or TORCHAIN_WATCH_NAMESPACE alone (Role there);
 *   workloads — each workload namespace (a Role per namespace), or every namespace with clusterWideWorkloads;
 *   lease     — the operator's own namespace, on the Lease named TORCHAIN_LEASE_NAME when `named`.
 */
export type Scope = 'torchains' | 'workloads' | 'lease';

export interface KubeCall {
  verb: Verb;
  /** API group ("" for the core group). */
  group: string;
  resource: string;
  subresource?: string;
  scope: Scope;
  /** The call names its object (RBAC resourceNames can limit it); create and list never do. */
  named?: boolean;
}

export const KUBE_CALLS = {
  listTorChains: { verb: 'list', group: 'torchain.dev', resource: 'torchains', scope: 'torchains' },
  watchTorChains: { verb: 'watch', group: 'torchain.dev', resource: 'torchains', scope: 'torchains' },
  getTorChain: { verb: 'get', group: 'torchain.dev', resource: 'torchains', scope: 'torchains', named: true },
  patchTorChain: { verb: 'patch', group: 'torchain.dev', resource: 'torchains', scope: 'torchains', named: true },
  patchTorChainStatus: {
    verb: 'patch',
    group: 'torchain.dev',
    resource: 'torchains',
    subresource: 'status',
    scope: 'torchains',
    named: true,
  },
  listDeployments: { verb: 'list', group: 'apps', resource: 'deployments', scope: 'workloads' },
  watchDeployments: { verb: 'watch', group: 'apps', resource: 'deployments', scope: 'workloads' },
  createDeployment: { verb: 'create', group: 'apps', resource: 'deployments', scope: 'workloads' },
  replaceDeployment: { verb: 'update', group: 'apps', resource: 'deployments', scope: 'workloads', named: true },
  // Scale to 0 for spec.drop, and the spec digest recorded after each write.
  patchDeployment: { verb: 'patch', group: 'apps', resource: 'deployments', scope: 'workloads', named: true },
  listSecrets: { verb: 'list', group: '', resource: 'secrets', scope: 'workloads' },
  watchSecrets: { verb: 'watch', group: '', resource: 'secrets', scope: 'workloads' },
  createSecret: { verb: 'create', group: '', resource: 'secrets', scope: 'workloads' },
  replaceSecret: { verb: 'update', group: '', resource: 'secrets', scope: 'workloads', named: true },
  // Events about TorChains, in their namespace.
  createEvent: { verb: 'create', group: '', resource: 'events', scope: 'workloads' },
  getLease: { verb: 'get', group: 'coordination.k8s.io', resource: 'leases', scope: 'lease', named: true },
  createLease: { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', scope: 'lease' },
  replaceLease: { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', scope: 'lease', named: true },
} as const satisfies Record<string, KubeCall>;

export type KubeCallName = keyof typeof KUBE_CALLS;

/** The RBAC rule a denied call lacks, worded for a log line and /readyz. */
export function missingRule(call: KubeCall, namespace: string | undefined): string {
  const resource = call.subresource ? `${call.resource}/${call.subresource}` : call.resource;
  const where = namespace ? `in namespace ${namespace}` : 'cluster-wide (ClusterRole)';
  const hint =
    call.scope === 'workloads'
      ? namespace
        ? ': add the namespace to operator.rbac.extraNamespaces (a Role there) or set operator.rbac.clusterWideWorkloads'
        : ': set operator.rbac.clusterWideWorkloads, or list the namespaces in TORCHAIN_WORKLOAD_NAMESPACES'
      : '';
  return `apiGroups: ["${call.group}"], resources: [${resource}], verbs: [${call.verb}] ${where}${hint}`;
}
