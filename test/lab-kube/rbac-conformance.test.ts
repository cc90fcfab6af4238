// lab/kube enforces what kube-apiserver enforces — authentication, RBAC, impersonation, the escalation check and
// the audit log — checked with the real kubectl 1.31, helm 3 and @kubernetes/client-node 1.4. Each case cites the
// Kubernetes documentation it follows; messages are kube-apiserver's
// (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go forbiddenMessage).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiException, AuthorizationV1Api, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { HELM, KUBECTL } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';

const run = promisify(execFile);
const NS = 'tka-rbac';
const READER = `system:serviceaccount:${NS}:reader`;

describe.skipIf(skipUnless({ binaries: [KUBECTL, HELM] }))('lab/kube authentication, RBAC and audit', () => {
  let kube: Kube;
  let home: string;
  let auditLog: string;
  const sh = async (bin: string, args: string[], kubeconfig = kube.kubeconfigPath) => {
    const env = {
      ...process.env,
      KUBECONFIG: kubeconfig,
      HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    };
    try {
      const r = await run(bin, args, { env });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };
  const kubectl = (...args: string[]) => sh(KUBECTL, args);
  /** A kubeconfig that authenticates as a ServiceAccount token (TokenRequest through kubectl). */
  const saKubeconfig = async (ns: string, sa: string): Promise<string> => {
    const token = (await kubectl('create', 'token', sa, '-n', ns)).stdout.trim();
    const path = join(home, `kubeconfig-${ns}-${sa}`);
    writeFileSync(path, kube.kubeconfigFor(token, ns));
    return path;
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'lab-kube-rbac-'));
    auditLog = join(home, 'audit.log');
    kube = await startKube({ dir: home, auditLogPath: auditLog });
    expect((await kubectl('create', 'namespace', NS)).code).toBe(0);
    expect((await kubectl('create', 'serviceaccount', 'reader', '-n', NS)).code).toBe(0);
    expect((await kubectl('create', 'secret', 'generic', 'vpn', '-n', NS, '--from-literal=k=s3cr3t')).code).toBe(0);
  });
  afterAll(async () => {
    await kube?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('kubectl auth can-i --as a ServiceAccount: no, then yes once a Role and RoleBinding grant it', async () => {
    // https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access
    const before = await kubectl('auth', 'can-i', 'list', 'secrets', '-n', NS, `--as=${READER}`);
    expect(before.stdout.trim()).toBe('no');
    expect(before.code).toBe(1);
    expect(
      (await kubectl('create', 'role', 'secret-reader', '--verb=get,list,watch', '--resource=secrets', '-n', NS))
        .stdout,
    ).toContain('role.rbac.authorization.k8s.io/secret-reader created');
    expect(
      (
        await kubectl(
          'create',
          'rolebinding',
          'reader',
          '--role=secret-reader',
          `--serviceaccount=${NS}:reader`,
          '-n',
          NS,
        )
      ).code,
    ).toBe(0);
    expect((await kubectl('auth', 'can-i', 'list', 'secrets', '-n', NS, `--as=${READER}`)).stdout.trim()).toBe('yes');
    expect((await kubectl('auth', 'can-i', 'delete', 'secrets', '-n', NS, `--as=${READER}`)).stdout.trim()).toBe('no');
    expect((await kubectl('auth', 'can-i', 'list', 'secrets', '-n', 'default', `--as=${READER}`)).stdout.trim()).toBe(
      'no',
    );
    // the admin (kubeadm:cluster-admins → cluster-admin) may do anything
    expect((await kubectl('auth', 'can-i', '*', '*')).stdout.trim()).toBe('yes');
  });

  it('kubectl auth can-i --list shows the rules that apply (SelfSubjectRulesReview)', async () => {
    const r = await kubectl('auth', 'can-i', '--list', '-n', NS, `--as=${READER}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^secrets\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    expect(r.stdout).toMatch(/^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    expect(r.stdout).toMatch(/^\s+\[\/healthz\]\s+\[\]\s+\[get\]$/m);
  });

  it('denies get, patch and list with kube-apiserver’s exact message, as the ServiceAccount itself', async () => {
    const sa = await saKubeconfig(NS, 'reader');
    const get = await sh(KUBECTL, ['get', 'secret', 'vpn', '-o', 'name'], sa);
    expect(get.stdout.trim()).toBe('secret/vpn');
    const patch = await sh(KUBECTL, ['patch', 'secret', 'vpn', '-p', '{"metadata":{"labels":{"x":"y"}}}'], sa);
    expect(patch.stderr.trim()).toBe(
      `Error from server (Forbidden): secrets "vpn" is forbidden: User "${READER}" cannot patch resource "secrets" in API group "" in the namespace "${NS}"`,
    );
    const list = await sh(KUBECTL, ['get', 'pods'], sa);
    expect(list.stderr.trim()).toBe(
      `Error from server (Forbidden): pods is forbidden: User "${READER}" cannot list resource "pods" in API group "" in the namespace "${NS}"`,
    );
    const logs = await sh(KUBECTL, ['get', '--raw', `/api/v1/namespaces/${NS}/pods/p/log`], sa);
    expect(logs.stderr).toContain(
      `pods "p" is forbidden: User "${READER}" cannot get resource "pods/log" in API group "" in the namespace "${NS}"`,
    );
    const cluster = await sh(KUBECTL, ['get', 'secrets', '-A'], sa);
    expect(cluster.stderr.trim()).toBe(
      `Error from server (Forbidden): secrets is forbidden: User "${READER}" cannot list resource "secrets" in API group "" at the cluster scope`,
    );
    // impersonating someone else needs the impersonate verb
    const imp = await sh(KUBECTL, ['get', 'secrets', '--as=kubernetes-admin'], sa);
    expect(imp.stderr.trim()).toBe(
      `Error from server (Forbidden): users "kubernetes-admin" is forbidden: User "${READER}" cannot impersonate resource "users" in API group "" at the cluster scope`,
    );
  });

  it('refuses to let a user grant permissions they do not hold (escalation), unless they may escalate or bind', async () => {
    // https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping
    await kubectl('create', 'serviceaccount', 'deployer', '-n', NS);
    await kubectl('create', 'role', 'rbac-writer', '--verb=create,get', '--resource=roles,rolebindings', '-n', NS);
    await kubectl(
      'create',
      'rolebinding',
      'deployer',
      '--role=rbac-writer',
      `--serviceaccount=${NS}:deployer`,
      '-n',
      NS,
    );
    const as = `--as=system:serviceaccount:${NS}:deployer`;
    const esc = await kubectl('create', 'role', 'too-much', '--verb=delete', '--resource=secrets', '-n', NS, as);
    expect(esc.stderr).toContain(
      `roles.rbac.authorization.k8s.io "too-much" is forbidden: user "system:serviceaccount:${NS}:deployer" (groups=["system:serviceaccounts" "system:serviceaccounts:${NS}" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["delete"]}`,
    );
    const bind = await kubectl('create', 'rolebinding', 'grab', '--clusterrole=admin', `--user=me`, '-n', NS, as);
    expect(bind.stderr).toContain('rolebindings.rbac.authorization.k8s.io "grab" is forbidden: user');
    // granting a subset of its own rules is allowed; with `bind` on a role it may bind it without holding it
    expect((await kubectl('create', 'role', 'subset', '--verb=get', '--resource=roles', '-n', NS, as)).code).toBe(0);
    await kubectl(
      'create',
      'role',
      'binder',
      '--verb=bind',
      '--resource=clusterroles',
      '--resource-name=admin',
      '-n',
      NS,
    );
    await kubectl('create', 'rolebinding', 'binder', '--role=binder', `--serviceaccount=${NS}:deployer`, '-n', NS);
    expect(
      (await kubectl('create', 'rolebinding', 'grab', '--clusterrole=admin', `--user=me`, '-n', NS, as)).code,
    ).toBe(0);
  });

  it('aggregates ClusterRoles: a labelled role’s rules show up in view (and so in edit and admin)', async () => {
    // https://kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles
    const role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'torchain-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [{ apiGroups: ['torchain.dev'], resources: ['torchains'], verbs: ['get', 'list', 'watch'] }],
    };
    writeFileSync(join(home, 'torchain-view.json'), JSON.stringify(role));
    expect((await kubectl('apply', '-f', join(home, 'torchain-view.json'))).code).toBe(0);
    for (let i = 0; i < 50; i++) {
      const rules = (await kubectl('get', 'clusterrole', 'admin', '-o', 'jsonpath={.rules[*].apiGroups}')).stdout;
      if (rules.includes('torchain.dev')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const role of ['view', 'edit', 'admin'])
      expect((await kubectl('get', 'clusterrole', role, '-o', 'jsonpath={.rules[*].apiGroups}')).stdout).toContain(
        'torchain.dev',
      );
    expect((await kubectl('get', 'clusterrole', 'view', '-o', 'json')).stdout).not.toContain('"secrets"');
  });

  it('anonymous requests: /healthz and /version yes (system:public-info-viewer), the API no', async () => {
    // https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests
    const url = new URL(kube.url);
    const { request } = await import('node:https');
    const get = (path: string) =>
      new Promise<{ code: number; body: string }>((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port, path, ca: kube.caPem }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get('/healthz')).toEqual({ code: 200, body: 'ok' });
    expect((await get('/version')).code).toBe(200);
    const api = await get('/api');
    expect(api.code).toBe(403);
    expect(JSON.parse(api.body)).toMatchObject({
      reason: 'Forbidden',
      message: 'forbidden: User "system:anonymous" cannot get path "/api"',
    });
    const jwks = await get('/openid/v1/jwks');
    expect(jwks.code).toBe(403);
  });

  it('helm install as a ServiceAccount without a permission fails with the 403 text; as admin it works', async () => {
    const chart = join(home, 'chart');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: rbac-probe\nversion: 0.1.0\n');
    writeFileSync(
      join(chart, 'templates', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rbac-probe\ndata:\n  k: v\n',
    );
    await kubectl('create', 'serviceaccount', 'viewer', '-n', NS);
    await kubectl('create', 'rolebinding', 'viewer', '--clusterrole=view', `--serviceaccount=${NS}:viewer`, '-n', NS);
    const sa = await saKubeconfig(NS, 'viewer');
    const denied = await sh(HELM, ['install', 'probe', chart, '-n', NS], sa);
    expect(denied.code).not.toBe(0);
    // Helm stores the release as a Secret, which view does not grant
    expect(denied.stderr.trim()).toBe(
      `Error: INSTALLATION FAILED: create: failed to create: secrets is forbidden: User "system:serviceaccount:${NS}:viewer" cannot create resource "secrets" in API group "" in the namespace "${NS}"`,
    );
    const ok = await sh(HELM, ['install', 'probe', chart, '-n', NS]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain('STATUS: deployed');
  });

  it('client-node: ApiException 403, watch refused, and a bound token refused once its pod is deleted', async () => {
    // https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-tokens
    const admin = new KubeConfig();
    admin.loadFromFile(kube.kubeconfigPath);
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'hop' } } });
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'hop-1' },
        spec: { serviceAccountName: 'hop', containers: [{ name: 'vpn', image: 'vpn:1' }] },
      },
    });
    await kubectl('create', 'role', 'cm-reader', '--verb=list', '--resource=configmaps', '-n', NS);
    await kubectl('create', 'rolebinding', 'hop', '--role=cm-reader', `--serviceaccount=${NS}:hop`, '-n', NS);
    const projected = kube.projectServiceAccountToken(NS, 'hop-1');
    const claims = JSON.parse(Buffer.from(projected.token.split('.')[1]!, 'base64url').toString()) as {
      'kubernetes.io': { pod: { name: string } };
    };
    expect(claims['kubernetes.io'].pod.name).toBe('hop-1');
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfigFor(projected.token, NS));
    const hopCore = kc.makeApiClient(CoreV1Api);
    expect((await hopCore.listNamespacedConfigMap({ namespace: NS })).kind).toBe('ConfigMapList');
    const denied = await hopCore.listNamespacedSecret({ namespace: NS }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ApiException);
    expect((denied as ApiException<string>).code).toBe(403);
    expect(JSON.parse((denied as ApiException<string>).body)).toMatchObject({
      reason: 'Forbidden',
      details: { kind: 'secrets' },
      message: `secrets is forbidden: User "system:serviceaccount:${NS}:hop" cannot list resource "secrets" in API group "" in the namespace "${NS}"`,
    });
    const watchErr = await new Promise<{ statusCode?: number }>((resolve) => {
      void new Watch(kc)
        .watch(
          `/api/v1/namespaces/${NS}/configmaps`,
          {},
          () => undefined,
          (err) => resolve(err as { statusCode?: number }),
        )
        .catch((err: { statusCode?: number }) => resolve(err));
    });
    expect(watchErr.statusCode).toBe(403);
    // a token for another audience is not an API credential
    const vaultToken = kube.mintServiceAccountToken(NS, 'hop', { audiences: ['vault'] });
    const other = new KubeConfig();
    other.loadFromString(kube.kubeconfigFor(vaultToken, NS));
    await expect(other.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: NS })).rejects.toMatchObject({
      code: 401,
    });
    // expiry (TokenRequest's 10-minute minimum, an hour later)
    vi.useFakeTimers({ now: Date.now() + 3601_000, toFake: ['Date'] });
    try {
      expect(kube.reviewToken(projected.token)).toMatchObject({
        authenticated: false,
        error: expect.stringContaining('expired'),
      });
    } finally {
      vi.useRealTimers();
    }
    await core.deleteNamespacedPod({ namespace: NS, name: 'hop-1' });
    await expect(hopCore.listNamespacedConfigMap({ namespace: NS })).rejects.toMatchObject({ code: 401 });
    expect(kube.reviewToken(projected.token).error).toBe('[invalid bearer token, pod "hop-1" not found]');
  });

  it('SubjectAccessReview and LocalSubjectAccessReview for a delegating ServiceAccount; a Secret-bound token', async () => {
    // https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access
    const admin = new KubeConfig();
    admin.loadFromFile(kube.kubeconfigPath);
    await admin
      .makeApiClient(CoreV1Api)
      .createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'delegate' } } });
    const token = kube.mintServiceAccountToken(NS, 'delegate');
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfigFor(token, NS));
    const authz = kc.makeApiClient(AuthorizationV1Api);
    const ask = () =>
      authz.createSubjectAccessReview({
        body: {
          spec: {
            user: READER,
            groups: ['system:serviceaccounts'],
            resourceAttributes: { namespace: NS, verb: 'list', resource: 'secrets' },
          },
        },
      });
    await expect(ask()).rejects.toMatchObject({ code: 403 });
    await kubectl(
      'create',
      'clusterrolebinding',
      'delegate',
      '--clusterrole=system:auth-delegator',
      `--serviceaccount=${NS}:delegate`,
    );
    expect((await ask()).status).toEqual({
      allowed: true,
      reason: `RBAC: allowed by RoleBinding "reader/${NS}" of Role "secret-reader" to ServiceAccount "reader/${NS}"`,
    });
    const local = await admin.makeApiClient(AuthorizationV1Api).createNamespacedLocalSubjectAccessReview({
      namespace: NS,
      body: {
        metadata: { namespace: NS },
        spec: { user: READER, resourceAttributes: { namespace: NS, verb: 'delete', resource: 'secrets' } },
      },
    });
    expect(local.status).toEqual({ allowed: false });
    // impersonating groups needs a user, and the impersonate verb on each group
    const onlyGroup = await kubectl('get', 'pods', '-n', NS, '--as-group=system:masters');
    expect(onlyGroup.stderr).toContain('without impersonating a user');
    const asGroup = await kubectl(
      'auth',
      'can-i',
      'list',
      'secrets',
      '-n',
      NS,
      '--as=someone',
      `--as-group=system:serviceaccounts:${NS}`,
    );
    expect(asGroup.stdout.trim()).toBe('no');
    // a token bound to a Secret lives as long as that Secret
    const secret = await admin
      .makeApiClient(CoreV1Api)
      .createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'anchor' } } });
    const bound = kube.mintServiceAccountToken(NS, 'delegate', {
      boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'anchor', uid: secret.metadata!.uid },
    });
    expect(kube.reviewToken(bound).authenticated).toBe(true);
    await admin.makeApiClient(CoreV1Api).deleteNamespacedSecret({ namespace: NS, name: 'anchor' });
    expect(kube.reviewToken(bound)).toMatchObject({
      authenticated: false,
      error: '[invalid bearer token, secret "anchor" not found]',
    });
  });

  it('writes an audit.k8s.io/v1 Event per request: who, what, the decision and why; never a secret', async () => {
    // https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/
    const sa = await saKubeconfig(NS, 'reader');
    await sh(KUBECTL, ['get', 'secrets', '--watch', '--request-timeout=1s'], sa);
    await new Promise((r) => setTimeout(r, 300));
    const lines = readFileSync(auditLog, 'utf8').trim().split('\n');
    const events = lines.map((l) => JSON.parse(l) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const e of events) {
      expect(e).toMatchObject({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata' });
      expect(e.auditID).toMatch(/^[0-9a-f-]{36}$/);
      expect(e.requestReceivedTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(e.stageTimestamp >= e.requestReceivedTimestamp).toBe(true);
      expect(e.sourceIPs).toEqual(['127.0.0.1']);
    }
    const denied = events.find(
      (e) => e.verb === 'patch' && e.objectRef?.resource === 'secrets' && e.user.username === READER,
    )!;
    expect(denied).toMatchObject({
      stage: 'ResponseComplete',
      requestURI: expect.stringContaining(`/api/v1/namespaces/${NS}/secrets/vpn`),
      user: { username: READER, groups: expect.arrayContaining(['system:serviceaccounts', 'system:authenticated']) },
      objectRef: { resource: 'secrets', namespace: NS, name: 'vpn', apiVersion: 'v1' },
      responseStatus: { code: 403, reason: 'Forbidden', status: 'Failure' },
      annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
    });
    expect(denied.userAgent).toMatch(/^kubectl/);
    const allowed = events.find((e) => e.verb === 'get' && e.objectRef?.name === 'vpn' && e.user.username === READER)!;
    expect(allowed.annotations).toEqual({
      'authorization.k8s.io/decision': 'allow',
      'authorization.k8s.io/reason': `RBAC: allowed by RoleBinding "reader/${NS}" of Role "secret-reader" to ServiceAccount "reader/${NS}"`,
    });
    const impersonated = events.find((e) => e.impersonatedUser?.username === READER)!;
    expect(impersonated.user.username).toBe('kubernetes-admin');
    const watch = events.filter(
      (e) => e.verb === 'watch' && e.user.username === READER && e.objectRef?.resource === 'secrets',
    );
    expect(watch.map((e) => e.stage)).toEqual(['ResponseStarted', 'ResponseComplete']);
    expect(new Set(watch.map((e) => e.auditID)).size).toBe(1);
    expect(events.some((e) => e.verb === 'create' && e.objectRef?.subresource === 'token')).toBe(true);
    const text = readFileSync(auditLog, 'utf8');
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain(Buffer.from('s3cr3t').toString('base64'));
    expect(text).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT
  });
});
