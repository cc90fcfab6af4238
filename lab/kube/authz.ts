// The API server's authorisation edge over the pure RBAC module (rbac/): a PolicySource read from the store (cached
// until an RBAC object changes), the check of each request (403 Forbidden with kube-apiserver's message), the
// impersonation filter (Impersonate-User/-Group/-Uid/-Extra-*, each checked with the `impersonate` verb), the RBAC
// API's escalation checks on Role/ClusterRole/(Cluster)RoleBinding writes, and SelfSubjectRulesReview.
// https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping
// https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation
import type { IncomingMessage } from 'node:http';
import { ApiError, badRequest, notFound, qualified } from './errors.js';
import { authorize, escalationError, forbiddenMessage, roleRefRules, rulesFor } from './rbac/authorizer.js';
import {
  ALL_AUTHENTICATED,
  ALL_UNAUTHENTICATED,
  ANONYMOUS,
  SYSTEM_MASTERS,
  type Attributes,
  type AuthorizationResult,
  type Binding,
  type PolicyRule,
  type PolicySource,
  type Role,
  type UserInfo,
} from './rbac/types.js';
import type { Store } from './store.js';
import type { KObject, Obj, ResourceType } from './types.js';

const RBAC = 'rbac.authorization.k8s.io';
const RK = {
  roles: `${RBAC}/roles`,
  clusterroles: `${RBAC}/clusterroles`,
  rolebindings: `${RBAC}/rolebindings`,
  clusterrolebindings: `${RBAC}/clusterrolebindings`,
};
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

export function toRole(o: KObject): Role {
  return { name: o.metadata.name!, namespace: o.metadata.namespace, rules: (o.rules as PolicyRule[] | null) ?? [] };
}

export function toBinding(o: KObject): Binding {
  return {
    kind: o.kind === 'RoleBinding' ? 'RoleBinding' : 'ClusterRoleBinding',
    name: o.metadata.name!,
    namespace: o.metadata.namespace,
    roleRef: (o.roleRef ?? { kind: '', name: '' }) as Binding['roleRef'],
    subjects: (o.subjects as Binding['subjects'] | null) ?? [],
  };
}

/** The RBAC objects of the store as the authoriser reads them, rebuilt only after an RBAC object changed. */
class StorePolicy implements PolicySource {
  private crb?: Binding[];
  private rb = new Map<string, Binding[]>();
  private cr = new Map<string, Role>();
  private r = new Map<string, Role>();
  private fresh = { cr: false, r: false };

  constructor(private readonly store: Store) {
    store.subscribe((ev) => {
      if (ev.rk === RK.clusterrolebindings) this.crb = undefined;
      else if (ev.rk === RK.rolebindings) this.rb.delete(ev.object.metadata.namespace ?? '');
      else if (ev.rk === RK.clusterroles) this.fresh.cr = false;
      else if (ev.rk === RK.roles) this.fresh.r = false;
    });
  }

  clusterRoleBindings(): Binding[] {
    return (this.crb ??= this.store.list(RK.clusterrolebindings).map(toBinding));
  }

  roleBindings(namespace: string): Binding[] {
    let b = this.rb.get(namespace);
    if (!b) this.rb.set(namespace, (b = this.store.list(RK.rolebindings, namespace).map(toBinding)));
    return b;
  }

  clusterRole(name: string): Role | undefined {
    if (!this.fresh.cr) {
      this.cr = new Map(this.store.list(RK.clusterroles).map((o) => [o.metadata.name!, toRole(o)]));
      this.fresh.cr = true;
    }
    return this.cr.get(name);
  }

  role(namespace: string, name: string): Role | undefined {
    if (!this.fresh.r) {
      this.r = new Map(this.store.list(RK.roles).map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, toRole(o)]));
      this.fresh.r = true;
    }
    return this.r.get(`${namespace}/${name}`);
  }
}

/** responsewriters.Forbidden + errors.NewForbidden: the 403 Status a denied request gets. */
export function forbidden(a: Attributes, reason: string): ApiError {
  const msg = forbiddenMessage(a) + (reason ? `: ${reason}` : '');
  if (!a.resourceRequest || !a.resource) return new ApiError(403, 'Forbidden', `forbidden: ${msg}`, {});
  const gr = qualified(a.resource, a.apiGroup ?? '');
  const message = a.name ? `${gr} ${JSON.stringify(a.name)} is forbidden: ${msg}` : `${gr} is forbidden: ${msg}`;
  return new ApiError(403, 'Forbidden', message, {
    ...(a.name ? { name: a.name } : {}),
    ...(a.apiGroup ? { group: a.apiGroup } : {}),
    kind: a.resource,
  });
}

const headerValues = (req: IncomingMessage, name: string): string[] =>
  (req.headersDistinct[name] ?? []).map((v) => v.trim()).filter((v) => v !== '');

export class Authorizer {
  readonly policy: PolicySource;

  constructor(store: Store) {
    this.policy = new StorePolicy(store);
  }

  authorize(a: Attributes): AuthorizationResult {
    return authorize(this.policy, a);
  }

  /**
   * The impersonation filter: returns the user to act as (or the requester when no Impersonate-* header is sent);
   * every impersonated attribute needs the `impersonate` verb on users/serviceaccounts, groups, uids or userextras.
   */
  impersonate(req: IncomingMessage, requester: UserInfo): UserInfo | undefined {
    const username = headerValues(req, 'impersonate-user')[0];
    const groups = headerValues(req, 'impersonate-group');
    const uid = headerValues(req, 'impersonate-uid')[0];
    const extra: Record<string, string[]> = {};
    for (const h of Object.keys(req.headersDistinct))
      if (h.startsWith('impersonate-extra-'))
        extra[decodeURIComponent(h.slice('impersonate-extra-'.length))] = headerValues(req, h);
    if (username === undefined) {
      if (groups.length || uid !== undefined || Object.keys(extra).length)
        throw badRequest(
          `requested ${[...groups.map((g) => `{Group  ${g}   }`), ...(uid ? [`{UID  ${uid}   }`] : [])].join(' ') || 'impersonation'} without impersonating a user`,
        );
      return undefined;
    }
    const check = (a: Omit<Attributes, 'user' | 'verb' | 'resourceRequest'>) => {
      const attrs: Attributes = { user: requester, verb: 'impersonate', resourceRequest: true, ...a };
      const r = this.authorize(attrs);
      if (r.decision !== 'allow') throw forbidden(attrs, r.reason);
    };
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
    const outGroups = [...groups];
    if (sa) {
      check({ apiGroup: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] });
      outGroups.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
    } else check({ apiGroup: '', resource: 'users', name: username });
    for (const g of groups) check({ apiGroup: '', resource: 'groups', name: g });
    for (const [k, vs] of Object.entries(extra))
      for (const v of vs) check({ apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: k, name: v });
    if (uid !== undefined) check({ apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid });
    if (username !== ANONYMOUS) {
      if (!outGroups.includes(ALL_AUTHENTICATED) && !outGroups.includes(ALL_UNAUTHENTICATED))
        outGroups.push(ALL_AUTHENTICATED);
    } else if (!outGroups.includes(ALL_UNAUTHENTICATED)) outGroups.push(ALL_UNAUTHENTICATED);
    return {
      username,
      ...(uid !== undefined ? { uid } : {}),
      groups: outGroups,
      ...(Object.keys(extra).length ? { extra } : {}),
    };
  }

  /**
   * The RBAC registry's escalation checks for writes by `user` to a Role/ClusterRole (the user holds every rule, or
   * may `escalate`) or a binding (the user may `bind` the role, or holds its rules); undefined for other resources.
   */
  rbacAdmission(
    user: UserInfo,
    t: ResourceType,
    namespace: string,
  ): ((obj: KObject, old?: KObject) => void) | undefined {
    if (t.group !== RBAC || user.groups.includes(SYSTEM_MASTERS)) return undefined;
    const check = (verb: string, resource: string, name: string) =>
      this.authorize({ user, verb, resourceRequest: true, apiGroup: RBAC, resource, namespace, name }).decision ===
      'allow';
    const gr = { resource: t.plural, group: RBAC };
    if (t.plural === 'roles' || t.plural === 'clusterroles')
      return (obj) => {
        const name = obj.metadata.name ?? '';
        if (check('escalate', t.plural, name)) return;
        const rules = (obj.rules as PolicyRule[] | null) ?? [];
        const err = escalationError(this.policy, user, namespace, rules);
        if (err) throw forbiddenWrite(gr, name, err);
        if (
          t.plural === 'clusterroles' &&
          obj.aggregationRule &&
          escalationError(this.policy, user, '', FULL_AUTHORITY)
        )
          throw forbiddenWrite(gr, name, 'must have cluster-admin privileges to use the aggregationRule');
      };
    if (t.plural === 'rolebindings' || t.plural === 'clusterrolebindings')
      return (obj) => {
        const name = obj.metadata.name ?? '';
        const ref = (obj.roleRef ?? {}) as { kind?: string; name?: string };
        const refResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
        if (check('bind', refResource, ref.name ?? '')) return;
        const rules = roleRefRules(this.policy, { kind: ref.kind ?? '', name: ref.name ?? '' }, namespace);
        if (rules instanceof Error)
          throw notFound(ref.kind === 'Role' ? 'roles' : 'clusterroles', RBAC, ref.name ?? '');
        const err = escalationError(this.policy, user, namespace, rules);
        if (err) throw forbiddenWrite(gr, name, err);
      };
    return undefined;
  }

  /** SelfSubjectRulesReview status: the rules that apply to the user in a namespace. */
  rulesReview(user: UserInfo, namespace: string): Obj {
    const { rules, errors } = rulesFor(this.policy, user, namespace);
    const resourceRules = rules
      .filter((r) => !r.nonResourceURLs?.length)
      .map((r) => ({
        verbs: r.verbs,
        apiGroups: r.apiGroups ?? [],
        resources: r.resources ?? [],
        ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
      }));
    const nonResourceRules = rules
      .filter((r) => r.nonResourceURLs?.length)
      .map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
    return {
      resourceRules,
      nonResourceRules,
      incomplete: errors.length > 0,
      ...(errors.length ? { evaluationError: [...new Set(errors)].join(', ') } : {}),
    };
  }
}

function forbiddenWrite(gr: { resource: string; group: string }, name: string, why: string): ApiError {
  const q = qualified(gr.resource, gr.group);
  return new ApiError(
    403,
    'Forbidden',
    name ? `${q} ${JSON.stringify(name)} is forbidden: ${why}` : `${q} is forbidden: ${why}`,
    {
      ...(name ? { name } : {}),
      group: gr.group,
      kind: gr.resource,
    },
  );
}
