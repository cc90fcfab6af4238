// A small RBAC authoriser over rendered manifests, for static checks of the chart: the rules of the Roles and
// ClusterRoles bound to a ServiceAccount, and whether they allow one request. It follows the Kubernetes RBAC
// authoriser (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac, docs: https://kubernetes.io/docs/reference/access-authn-authz/rbac/):
// verbs, API groups and resources match exactly or by `*`; a subresource is `resource/subresource` and is not covered
// by its resource; resourceNames never match a request without a name (list, watch, create); a RoleBinding grants
// in its own namespace only, a ClusterRoleBinding everywhere and at the cluster scope.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = Record<string, any>;

export interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface Request {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** undefined: a cluster-scope request (e.g. list across every namespace). */
  namespace?: string;
  name?: string;
}

/** Rules granted to a subject and where: namespace `*` means every namespace and the cluster scope. */
export interface Grant {
  namespace: string;
  rule: Rule;
  /** "Kind namespace/name" of the role, for messages. */
  from: string;
}

export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

function subjectMatches(subject: Manifest, sa: ServiceAccountRef): boolean {
  if (subject.kind === 'ServiceAccount') return subject.name === sa.name && subject.namespace === sa.namespace;
  if (subject.kind === 'Group')
    return ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`, 'system:authenticated'].includes(
      subject.name,
    );
  if (subject.kind === 'User') return subject.name === `system:serviceaccount:${sa.namespace}:${sa.name}`;
  return false;
}

export function grantsFor(objects: readonly Manifest[], sa: ServiceAccountRef): Grant[] {
  const role = (kind: string, name: string, namespace?: string) =>
    objects.find(
      (o) =>
        o.kind === kind && o.metadata?.name === name && (kind === 'ClusterRole' || o.metadata?.namespace === namespace),
    );
  const out: Grant[] = [];
  for (const b of objects) {
    if (b.kind !== 'RoleBinding' && b.kind !== 'ClusterRoleBinding') continue;
    if (!(b.subjects ?? []).some((s: Manifest) => subjectMatches(s, sa))) continue;
    const namespace = b.kind === 'ClusterRoleBinding' ? '*' : String(b.metadata.namespace);
    const r = role(b.roleRef.kind, b.roleRef.name, b.metadata.namespace);
    if (!r) continue; // a binding to a missing role grants nothing
    const from = `${String(r.kind)} ${String(r.metadata.namespace ?? '')}/${String(r.metadata.name)}`;
    for (const rule of (r.rules ?? []) as Rule[]) out.push({ namespace, rule, from });
  }
  return out;
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes(v) || list.includes('*'));

export function ruleAllows(rule: Rule, req: Request): boolean {
  if (!has(rule.verbs, req.verb) || !has(rule.apiGroups, req.group)) return false;
  const combined = req.subresource ? `${req.resource}/${req.subresource}` : req.resource;
  const resources = rule.resources ?? [];
  const resourceOk =
    resources.includes('*') ||
    resources.includes(combined) ||
    (!!req.subresource && resources.includes(`*/${req.subresource}`));
  if (!resourceOk) return false;
  if (rule.resourceNames?.length) return !!req.name && rule.resourceNames.includes(req.name);
  return true;
}

export function grantAllows(g: Grant, req: Request): boolean {
  const scopeOk = g.namespace === '*' || (req.namespace !== undefined && g.namespace === req.namespace);
  return scopeOk && ruleAllows(g.rule, req);
}

export function allows(grants: readonly Grant[], req: Request): boolean {
  return grants.some((g) => grantAllows(g, req));
}

/** Each (verb, group, resource, resourceNames) a grant holds, one by one: to find permissions nothing needs. */
export function expand(g: Grant): Array<{ grant: Grant; one: Rule }> {
  const out: Array<{ grant: Grant; one: Rule }> = [];
  for (const verb of g.rule.verbs)
    for (const group of g.rule.apiGroups ?? [])
      for (const resource of g.rule.resources ?? [])
        out.push({
          grant: g,
          one: {
            verbs: [verb],
            apiGroups: [group],
            resources: [resource],
            ...(g.rule.resourceNames ? { resourceNames: g.rule.resourceNames } : {}),
          },
        });
  return out;
}

export function describeRequest(r: Request): string {
  const res = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  return `${r.verb} ${r.group || 'core'}/${res}${r.name ? ` ${r.name}` : ''} ${r.namespace ? `in ${r.namespace}` : 'at the cluster scope'}`;
}
