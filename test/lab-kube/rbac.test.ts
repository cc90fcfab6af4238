// The RBAC authoriser, request attributes and the escalation check as pure functions, table-tested without HTTP.
// Expected values follow k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac (rbac.go, rbac_test.go),
// pkg/registry/rbac/validation (rule.go, policy_compact.go), k8s.io/apiserver/pkg/endpoints/request/requestinfo.go
// and the RBAC documentation: https://kubernetes.io/docs/reference/access-authn-authz/rbac/
import { describe, expect, it } from 'vitest';
import { aggregateRules } from '../../lab/kube/rbac/aggregation.js';
import { authorize, escalationError, forbiddenMessage, rulesFor } from '../../lab/kube/rbac/authorizer.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from '../../lab/kube/rbac/bootstrap.js';
import { covers } from '../../lab/kube/rbac/rules.js';
import type { Attributes, Binding, PolicyRule, PolicySource, Role, UserInfo } from '../../lab/kube/rbac/types.js';
import { requestInfo } from '../../lab/kube/request-info.js';
import { toBinding, toRole } from '../../lab/kube/authz.js';

function policy(roles: Role[], bindings: Binding[]): PolicySource {
  return {
    clusterRoleBindings: () => bindings.filter((b) => b.kind === 'ClusterRoleBinding'),
    roleBindings: (ns) => bindings.filter((b) => b.kind === 'RoleBinding' && b.namespace === ns),
    clusterRole: (name) => roles.find((r) => !r.namespace && r.name === name),
    role: (ns, name) => roles.find((r) => r.namespace === ns && r.name === name),
  };
}

const sa = (ns: string, name: string): UserInfo => ({
  username: `system:serviceaccount:${ns}:${name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
});
const OPERATOR = sa('torchain-system', 'torchain-operator');
const res = (user: UserInfo, verb: string, resource: string, more: Partial<Attributes> = {}): Attributes => ({
  user,
  verb,
  resourceRequest: true,
  apiGroup: '',
  resource,
  ...more,
});

const secretsReader: Role = {
  name: 'secret-reader',
  namespace: 'vpn',
  rules: [{ verbs: ['get', 'watch', 'list'], apiGroups: [''], resources: ['secrets'] }],
};
const named: Role = {
  name: 'one-secret',
  namespace: 'vpn',
  rules: [
    { verbs: ['get', 'list', 'watch', 'update'], apiGroups: [''], resources: ['secrets'], resourceNames: ['hop-1'] },
  ],
};
const tcStatus: Role = {
  name: 'torchain-status',
  rules: [{ verbs: ['patch'], apiGroups: ['torchain.dev'], resources: ['torchains/status'] }],
};
const bindings: Binding[] = [
  {
    kind: 'RoleBinding',
    name: 'read-secrets',
    namespace: 'vpn',
    roleRef: { kind: 'Role', name: 'secret-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'torchain-operator', namespace: 'torchain-system' }],
  },
  {
    kind: 'RoleBinding',
    name: 'one',
    namespace: 'vpn',
    roleRef: { kind: 'Role', name: 'one-secret' },
    subjects: [{ kind: 'ServiceAccount', name: 'hop' }],
  },
  {
    kind: 'ClusterRoleBinding',
    name: 'status',
    roleRef: { kind: 'ClusterRole', name: 'torchain-status' },
    subjects: [{ kind: 'Group', name: 'system:serviceaccounts:torchain-system' }],
  },
  {
    kind: 'RoleBinding',
    name: 'dangling',
    namespace: 'other',
    roleRef: { kind: 'ClusterRole', name: 'gone' },
    subjects: [{ kind: 'Group', name: 'system:authenticated' }],
  },
];
const src = policy([secretsReader, named, tcStatus], bindings);

describe('RBAC authoriser (plugin/pkg/auth/authorizer/rbac)', () => {
  it('allows through a RoleBinding only in its namespace, with the binding as the reason', () => {
    expect(authorize(src, res(OPERATOR, 'list', 'secrets', { namespace: 'vpn' }))).toEqual({
      decision: 'allow',
      reason:
        'RBAC: allowed by RoleBinding "read-secrets/vpn" of Role "secret-reader" to ServiceAccount "torchain-operator/torchain-system"',
    });
    expect(authorize(src, res(OPERATOR, 'list', 'secrets', { namespace: 'default' })).decision).toBe('noopinion');
    expect(authorize(src, res(OPERATOR, 'list', 'secrets')).decision).toBe('noopinion');
  });

  it('matches subresources exactly (torchains/status is not torchains) and groups by name', () => {
    const status = { apiGroup: 'torchain.dev', namespace: 'vpn', name: 'hop-1' };
    expect(authorize(src, res(OPERATOR, 'patch', 'torchains', { ...status, subresource: 'status' })).reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "status" of ClusterRole "torchain-status" to Group "system:serviceaccounts:torchain-system"',
    );
    expect(authorize(src, res(OPERATOR, 'patch', 'torchains', status)).decision).toBe('noopinion');
  });

  it('resourceNames: a named get/watch matches; list/watch without a name and create never do', () => {
    const hop = sa('vpn', 'hop');
    const at = { namespace: 'vpn' };
    expect(authorize(src, res(hop, 'get', 'secrets', { ...at, name: 'hop-1' })).decision).toBe('allow');
    expect(authorize(src, res(hop, 'get', 'secrets', { ...at, name: 'hop-2' })).decision).toBe('noopinion');
    expect(authorize(src, res(hop, 'list', 'secrets', at)).decision).toBe('noopinion');
    expect(authorize(src, res(hop, 'watch', 'secrets', at)).decision).toBe('noopinion');
    // a list or watch narrowed by fieldSelector=metadata.name carries that name (RequestInfoFactory)
    const info = requestInfo(
      'GET',
      '/api/v1/namespaces/vpn/secrets',
      new URLSearchParams('fieldSelector=metadata.name%3Dhop-1&watch=1'),
    );
    expect(info).toMatchObject({ verb: 'watch', name: 'hop-1' });
    expect(authorize(src, res(hop, 'watch', 'secrets', { ...at, name: info.name })).decision).toBe('allow');
  });

  it('nonResourceURLs with the trailing * form; the bootstrap policy lets anonymous read /healthz only', () => {
    const boot = policy(bootstrapClusterRoles().map(toRole), bootstrapClusterRoleBindings().map(toBinding));
    const anon: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
    const path = (user: UserInfo, p: string): Attributes => ({ user, verb: 'get', resourceRequest: false, path: p });
    expect(authorize(boot, path(anon, '/healthz')).reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"',
    );
    expect(authorize(boot, path(anon, '/version')).decision).toBe('allow');
    expect(authorize(boot, path(anon, '/api')).decision).toBe('noopinion');
    expect(authorize(boot, path(OPERATOR, '/apis/torchain.dev/v1alpha1')).decision).toBe('allow');
    expect(authorize(boot, path(OPERATOR, '/openid/v1/jwks')).decision).toBe('allow');
    expect(authorize(boot, path(anon, '/openid/v1/jwks')).decision).toBe('noopinion');
    expect(authorize(boot, path(OPERATOR, '/metrics')).decision).toBe('noopinion');
    expect(forbiddenMessage(path(anon, '/api'))).toBe('User "system:anonymous" cannot get path "/api"');
  });

  it('system:masters is allowed before RBAC; a missing role is a resolution error in the reason', () => {
    const admin: UserInfo = { username: 'root', groups: ['system:masters', 'system:authenticated'] };
    expect(authorize(src, res(admin, 'delete', 'nodes'))).toEqual({ decision: 'allow', reason: '' });
    expect(authorize(src, res(OPERATOR, 'get', 'pods', { namespace: 'other' }))).toEqual({
      decision: 'noopinion',
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found',
    });
  });

  it('words denials as kube-apiserver does (namespaced, cluster scope, subresource)', () => {
    expect(forbiddenMessage(res(OPERATOR, 'list', 'secrets'))).toBe(
      'User "system:serviceaccount:torchain-system:torchain-operator" cannot list resource "secrets" in API group "" at the cluster scope',
    );
    expect(forbiddenMessage(res(OPERATOR, 'get', 'pods', { namespace: 'vpn', subresource: 'log' }))).toBe(
      'User "system:serviceaccount:torchain-system:torchain-operator" cannot get resource "pods/log" in API group "" in the namespace "vpn"',
    );
  });
});

describe('ClusterRole aggregation (clusterroleaggregation controller)', () => {
  it('admin ⊇ edit ⊇ view from the bootstrap labels; a labelled custom role joins; duplicates are dropped', () => {
    const roles = bootstrapClusterRoles().map((o) => ({
      name: o.metadata.name!,
      labels: o.metadata.labels ?? {},
      rules: (o.rules as PolicyRule[]) ?? [],
    }));
    roles.push({
      name: 'torchain-view',
      labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
      rules: [
        { verbs: ['get', 'list', 'watch'], apiGroups: ['torchain.dev'], resources: ['torchains'] },
        { verbs: ['get', 'list', 'watch'], apiGroups: ['torchain.dev'], resources: ['torchains'] },
      ],
    });
    const sel = (to: string) => [{ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${to}`]: 'true' } }];
    const view = aggregateRules('view', sel('view'), roles);
    expect(view.filter((r) => r.apiGroups?.[0] === 'torchain.dev')).toHaveLength(1);
    expect(covers(view, [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]).ok).toBe(false);
    roles.find((r) => r.name === 'view')!.rules = view;
    const edit = aggregateRules('edit', sel('edit'), roles);
    roles.find((r) => r.name === 'edit')!.rules = edit;
    const admin = aggregateRules('admin', sel('admin'), roles);
    expect(covers(edit, view).ok).toBe(true);
    expect(covers(admin, edit).ok).toBe(true);
    expect(
      covers(edit, [{ verbs: ['create'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'] }]).ok,
    ).toBe(false);
    expect(
      covers(admin, [{ verbs: ['create'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'] }]).ok,
    ).toBe(true);
    expect(covers(view, [{ verbs: ['list'], apiGroups: ['torchain.dev'], resources: ['torchains'] }]).ok).toBe(true);
  });
});

describe('escalation check (pkg/registry/rbac/validation.ConfirmNoEscalation)', () => {
  it('allows granting what one holds, refuses more with the compacted missing rules', () => {
    expect(
      escalationError(src, OPERATOR, 'vpn', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]),
    ).toBeUndefined();
    expect(
      escalationError(src, OPERATOR, 'vpn', [
        { verbs: ['get', 'delete', 'create'], apiGroups: ['', 'apps'], resources: ['secrets'] },
      ]),
    ).toBe(
      'user "system:serviceaccount:torchain-system:torchain-operator" (groups=["system:serviceaccounts" "system:serviceaccounts:torchain-system" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["secrets"], Verbs:["delete" "create"]}\n' +
        '{APIGroups:["apps"], Resources:["secrets"], Verbs:["get" "delete" "create"]}',
    );
    // a named rule is covered by an unnamed one, never the other way round
    const hop = sa('vpn', 'hop');
    expect(
      escalationError(src, hop, 'vpn', [
        { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['hop-1'] },
      ]),
    ).toBeUndefined();
    expect(escalationError(src, hop, 'vpn', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }])).toMatch(
      /not currently held/,
    );
  });

  it('*/subresource and url* rules cover what they name', () => {
    const owner: PolicyRule[] = [
      { verbs: ['get'], apiGroups: ['*'], resources: ['*/status'] },
      { verbs: ['get'], nonResourceURLs: ['/apis/*'] },
    ];
    expect(covers(owner, [{ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments/status'] }]).ok).toBe(true);
    expect(covers(owner, [{ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'] }]).ok).toBe(false);
    expect(covers(owner, [{ verbs: ['get'], nonResourceURLs: ['/apis/torchain.dev'] }]).ok).toBe(true);
    expect(covers(owner, [{ verbs: ['get'], nonResourceURLs: ['/api'] }]).ok).toBe(false);
  });

  it('rulesFor: cluster-wide rules first, then the namespace’s', () => {
    const { rules, errors } = rulesFor(src, OPERATOR, 'vpn');
    expect(rules.map((r) => r.resources?.[0])).toEqual(['torchains/status', 'secrets']);
    expect(errors).toEqual([]);
  });
});

describe('request attributes (RequestInfoFactory)', () => {
  const q = (s = '') => new URLSearchParams(s);
  it.each([
    ['GET', '/api/v1/namespaces/vpn/pods', '', { verb: 'list', resource: 'pods', namespace: 'vpn' }],
    ['GET', '/api/v1/namespaces/vpn/pods', 'watch=true', { verb: 'watch', resource: 'pods' }],
    ['GET', '/api/v1/watch/namespaces/vpn/pods/p', '', { verb: 'watch', resource: 'pods', name: 'p' }],
    ['GET', '/api/v1/namespaces/vpn/pods/p/log', '', { verb: 'get', resource: 'pods', name: 'p', subresource: 'log' }],
    ['DELETE', '/api/v1/namespaces/vpn/secrets', '', { verb: 'deletecollection', resource: 'secrets' }],
    [
      'POST',
      '/api/v1/namespaces/vpn/serviceaccounts/sa/token',
      '',
      { verb: 'create', resource: 'serviceaccounts', subresource: 'token' },
    ],
    [
      'PATCH',
      '/apis/apps/v1/namespaces/vpn/deployments/d/scale',
      '',
      { verb: 'patch', apiGroup: 'apps', subresource: 'scale' },
    ],
    [
      'PUT',
      '/apis/torchain.dev/v1alpha1/namespaces/vpn/torchains/h/status',
      '',
      { verb: 'update', apiGroup: 'torchain.dev', subresource: 'status' },
    ],
    ['GET', '/api/v1/namespaces/vpn', '', { verb: 'get', resource: 'namespaces', name: 'vpn', namespace: 'vpn' }],
    [
      'PUT',
      '/api/v1/namespaces/vpn/finalize',
      '',
      { verb: 'update', resource: 'namespaces', name: 'vpn', subresource: 'finalize' },
    ],
    ['GET', '/api/v1/nodes', '', { verb: 'list', resource: 'nodes', namespace: '' }],
  ])('%s %s?%s', (method, path, query, want) => {
    expect(requestInfo(method, path, q(query))).toMatchObject({ resourceRequest: true, ...want });
  });
  it.each([
    ['GET', '/api', 'get'],
    ['GET', '/apis/torchain.dev/v1alpha1', 'get'],
    ['GET', '/healthz', 'get'],
    ['POST', '/version', 'post'],
  ])('%s %s is a non-resource request', (method, path, verb) => {
    expect(requestInfo(method, path, q())).toMatchObject({ resourceRequest: false, verb, path });
  });
});
