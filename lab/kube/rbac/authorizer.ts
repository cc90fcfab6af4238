// The RBAC authoriser as a pure function over plain policy data, after
// k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac/rbac.go and pkg/registry/rbac/validation/rule.go:
// ClusterRoleBindings are visited first, then the RoleBindings of the request's namespace; the first rule that
// allows the request decides, with the binding it came from as the reason. Members of system:masters are allowed
// before RBAC is asked (the API server's privileged-group authoriser).
import { compactRules, compactString, covers, ruleAllows } from './rules.js';
import {
  SYSTEM_MASTERS,
  type Attributes,
  type AuthorizationResult,
  type Binding,
  type PolicyRule,
  type PolicySource,
  type Subject,
  type UserInfo,
} from './types.js';

const SA_PREFIX = 'system:serviceaccount:';

function appliesTo(user: UserInfo, s: Subject, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return user.username === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return !!ns && user.username === `${SA_PREFIX}${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

function describeBinding(b: Binding, s: Subject): string {
  const name = b.kind === 'RoleBinding' ? `${b.name}/${b.namespace ?? ''}` : b.name;
  return `${b.kind} ${JSON.stringify(name)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(s, b.namespace ?? '')}`;
}

/** The rules a role reference grants, or the resolution error the real resolver reports. */
export function roleRefRules(src: PolicySource, ref: Binding['roleRef'], namespace: string): PolicyRule[] | Error {
  if (ref.kind === 'ClusterRole') {
    const r = src.clusterRole(ref.name);
    return r ? r.rules : new Error(`clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`);
  }
  if (ref.kind === 'Role') {
    const r = namespace ? src.role(namespace, ref.name) : undefined;
    return r ? r.rules : new Error(`role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`);
  }
  return new Error(`unsupported role reference kind: ${JSON.stringify(ref.kind)}`);
}

/** Visits every rule that applies to `user` in `namespace` (cluster-wide first); stop by returning false. */
function visitRules(
  src: PolicySource,
  user: UserInfo,
  namespace: string,
  visit: (source: () => string, rule: PolicyRule) => boolean,
  errors: string[],
): void {
  const scan = (b: Binding, bindingNs: string): boolean => {
    const subject = b.subjects.find((s) => appliesTo(user, s, bindingNs));
    if (!subject) return true;
    const rules = roleRefRules(src, b.roleRef, bindingNs);
    if (rules instanceof Error) {
      errors.push(rules.message);
      return true;
    }
    for (const rule of rules) if (!visit(() => describeBinding(b, subject), rule)) return false;
    return true;
  };
  for (const b of src.clusterRoleBindings()) if (!scan(b, '')) return;
  if (namespace) for (const b of src.roleBindings(namespace)) if (!scan(b, namespace)) return;
}

/** utilerrors.NewAggregate(...).Error(): one message as it is, several as `[a, b]`. */
function aggregate(errors: string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

export function authorize(src: PolicySource, a: Attributes): AuthorizationResult {
  if (a.user.groups.includes(SYSTEM_MASTERS)) return { decision: 'allow', reason: '' };
  let reason = '';
  let allowed = false;
  const errors: string[] = [];
  visitRules(
    src,
    a.user,
    a.namespace ?? '',
    (source, rule) => {
      if (!ruleAllows(a, rule)) return true;
      allowed = true;
      reason = `RBAC: allowed by ${source()}`;
      return false;
    },
    errors,
  );
  if (allowed) return { decision: 'allow', reason };
  return { decision: 'noopinion', reason: errors.length ? `RBAC: ${aggregate(errors)}` : '' };
}

/** Every rule that applies to the user in a namespace ("" = cluster-wide only), and the resolution errors. */
export function rulesFor(
  src: PolicySource,
  user: UserInfo,
  namespace: string,
): { rules: PolicyRule[]; errors: string[] } {
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  visitRules(
    src,
    user,
    namespace,
    (_s, rule) => {
      rules.push(rule);
      return true;
    },
    errors,
  );
  return { rules, errors };
}

/**
 * ConfirmNoEscalation: the user must already hold every permission they grant. Returns the real server's message
 * when they do not, undefined when they do.
 */
export function escalationError(
  src: PolicySource,
  user: UserInfo,
  namespace: string,
  granted: PolicyRule[],
): string | undefined {
  const owner = rulesFor(src, user, namespace);
  const { ok, missing } = covers(owner.rules, granted);
  if (ok) return undefined;
  const lines = [...new Set(compactRules(missing).map(compactString))].sort();
  let msg = `user ${JSON.stringify(user.username)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
  if (owner.errors.length) msg += `; resolution errors: [${[...new Set(owner.errors)].join(' ')}]`;
  return msg;
}

const goQuoteList = (xs: string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

/** responsewriters.forbiddenMessage: what a denied request is told. */
export function forbiddenMessage(a: Attributes): string {
  const user = JSON.stringify(a.user.username);
  if (!a.resourceRequest) return `User ${user} cannot ${a.verb} path ${JSON.stringify(a.path ?? '')}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : (a.resource ?? '');
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${user} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup ?? '')} ${where}`;
}
