// startKube(): lab/kube, the Kubernetes API stand-in, on an ephemeral loopback port: HTTPS with a cluster CA
// (pki.ts), every request authenticated (authn.ts), authorised by RBAC (authz.ts, rbac/) and audited (audit.ts),
// with an admin kubeconfig (client certificate) kubectl, Helm and client-node use as they are. In-process hooks let
// the lab kubelet do what a kubelet does through its own channels — append container log lines, report pod status,
// project ServiceAccount tokens — and let fixtures use the REST layer directly; they are not authenticated.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api } from './api.js';
import { builtinTypes } from './builtin.js';
import { endpointSliceType } from './discovery.js';
import { CrdController } from './controllers/crd.js';
import { DeploymentController } from './controllers/deployment.js';
import { apiServerEndpoint, EndpointSliceController } from './controllers/endpointslice.js';
import { GarbageCollector } from './controllers/gc.js';
import { NamespaceController } from './controllers/namespace.js';
import { RootCaPublisher } from './controllers/root-ca-publisher.js';
import { admitPodServiceAccount } from './admission/service-account.js';
import { ClusterRoleAggregationController } from './controllers/clusterrole-aggregation.js';
import { AuditLog } from './audit.js';
import { Authenticator, type TokenReviewResult } from './authn.js';
import { Authorizer } from './authz.js';
import { KubeHttp } from './http/router.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { clusterPki } from './pki.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles, kubeadmAdminBinding } from './rbac/bootstrap.js';
import { TokenIssuer, type TokenRequestSpec } from './token-request.js';
import { loadSnapshot, Persister, restoreSnapshot } from './persistence.js';
import { PodLogs } from './pod-logs.js';
import { Registry } from './registry.js';
import { Store } from './store.js';
import { TokenAuthority } from './tokens.js';
import type { KObject, Obj } from './types.js';

export interface KubeOptions {
  /** Listen address (default 127.0.0.1); port 0 (default) picks a free one. */
  host?: string;
  port?: number;
  /** Directory for the kubeconfig and TLS files (default: a new temporary directory, removed by close()). */
  dir?: string;
  /** Keep state across restarts in this JSON file (default: memory only). */
  stateFile?: string;
  /** Events per resource kept for watches resuming from a resourceVersion; older ones get 410 Gone. */
  watchHistory?: number;
  /** Interval of BOOKMARK events on watches that allow them (the real server sends about one a minute). */
  bookmarkIntervalMs?: number;
  /** Run the Deployment/ReplicaSet controllers (default true). */
  workloadControllers?: boolean;
  /** Structured log sink (one object per call); default: JSON lines on stderr for warnings only. */
  log?: (entry: Record<string, unknown>) => void;
  /** Append an audit.k8s.io/v1 Event per request stage to this file (as --audit-log-path, level Metadata). */
  auditLogPath?: string;
}

export type { TokenRequestSpec };

export interface Kube {
  url: string;
  /** Admin kubeconfig: client certificate CN=kubernetes-admin, O=kubeadm:cluster-admins (bound to cluster-admin). */
  kubeconfigPath: string;
  /** PEM of the cluster CA: the CA a client must trust (e.g. Vault's kubernetes_ca_cert). */
  caPem: string;
  /** The admin's client certificate and key (what the kubeconfig carries), for clients built by hand. */
  adminCert: { certPem: string; keyPem: string };
  /** Where the audit log is written, when startKube was given auditLogPath. */
  auditLogPath?: string;
  api: Api;
  /** Appends one line to a container's log (what the lab kubelet reads from the process). */
  appendPodLog(namespace: string, pod: string, container: string, line: string, at?: Date): void;
  /** A container instance restarted: its log so far becomes `previous`, follow streams end. */
  restartContainer(namespace: string, pod: string, container: string): void;
  /** Replaces a pod's status (what the kubelet writes through pods/status); returns the stored pod. */
  setPodStatus(namespace: string, pod: string, status: Obj): KObject;
  /** Replaces the status of a core (v1) object, e.g. a Node or a Pod: the kubelet's own channel. */
  setStatus(namespace: string, resource: string, name: string, status: Obj): KObject;
  /** Reads an object (core group by default), e.g. a Secret for a volume; undefined when absent. The kubelet's channel. */
  getObject(namespace: string, resource: string, name: string, group?: string): KObject | undefined;
  /** TokenRequest for a ServiceAccount (as POST .../serviceaccounts/{name}/token does); returns the JWT. */
  mintServiceAccountToken(namespace: string, serviceAccount: string, spec?: TokenRequestSpec): string;
  /**
   * The kubelet's projected ServiceAccount token for a pod: exactly what TokenRequest with `boundObjectRef` to the
   * pod gives (refused once the pod or its ServiceAccount is gone, or once it expires).
   */
  projectServiceAccountToken(
    namespace: string,
    pod: string,
    opts?: { audience?: string; expirationSeconds?: number },
  ): { token: string; expirationTimestamp: string };
  /** TokenReview of a bearer token (as POST /apis/authentication.k8s.io/v1/tokenreviews does). */
  reviewToken(token: string, audiences?: string[]): TokenReviewResult;
  /** A kubeconfig (YAML) for this server that authenticates with a bearer token, e.g. a ServiceAccount's. */
  kubeconfigFor(token: string, namespace?: string): string;
  close(): Promise<void>;
}

/** ClusterIP of the `default/kubernetes` Service (the first address of the service CIDR, as on every cluster). */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/**
 * The `default/kubernetes` Service and Endpoints every cluster has (the API server's own address), which charts look
 * up, e.g. to allow egress to the API server in a NetworkPolicy.
 */
function publishApiEndpoint(api: Api, port: number): void {
  const svc = api.registry.byGroupResource('', 'services')!;
  const ep = api.registry.byGroupResource('', 'endpoints')!;
  const subsets = [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port, protocol: 'TCP' }] }];
  if (!api.store.get('/services', 'default', 'kubernetes'))
    api.create(
      svc,
      'default',
      {
        metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: {
          type: 'ClusterIP',
          clusterIP: KUBERNETES_SERVICE_IP,
          clusterIPs: [KUBERNETES_SERVICE_IP],
          ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }],
        },
      },
      { version: 'v1' },
    );
  const current = api.store.get('/endpoints', 'default', 'kubernetes');
  if (!current)
    api.create(
      ep,
      'default',
      { metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets },
      { version: 'v1' },
    );
  else api.update(ep, 'default', 'kubernetes', { ...current, subsets }, { version: 'v1' });
}

export async function startKube(opts: KubeOptions = {}): Promise<Kube> {
  const log =
    opts.log ??
    ((e: Record<string, unknown>) => {
      if (e.level === 'warn' || e.level === 'error')
        process.stderr.write(JSON.stringify({ time: new Date().toISOString(), component: 'lab-kube', ...e }) + '\n');
    });
  const snap = opts.stateFile ? loadSnapshot(opts.stateFile) : undefined;
  const store = new Store(opts.watchHistory ?? 10_000);
  const registry = new Registry();
  // ClusterIPs in use, from the stored Services (what the real allocator's repair loop reconciles its bitmap with).
  const clusterIpsInUse = () =>
    new Set(
      store.list('/services').flatMap((s) => {
        const spec = (s.spec ?? {}) as { clusterIP?: string; clusterIPs?: string[] };
        return spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : []);
      }),
    );
  for (const t of builtinTypes(clusterIpsInUse)) registry.add(t);
  registry.add(endpointSliceType());
  const api = new Api(store, registry);
  const tokens = new TokenAuthority(snap?.keys);
  if (snap) restoreSnapshot(store, snap);
  const logs = new PodLogs();
  const crds = new CrdController(api, log);
  const authn = new Authenticator(store, tokens);
  const authz = new Authorizer(store);
  const issuer = new TokenIssuer(api, tokens);
  const audit = opts.auditLogPath
    ? new AuditLog(opts.auditLogPath, (err) =>
        log({
          level: 'error',
          msg: 'audit log write failed; auditing stops',
          path: opts.auditLogPath,
          error: err.message,
        }),
      )
    : undefined;
  let address = '';
  const http = new KubeHttp({
    api,
    tokens,
    logs,
    authn,
    authz,
    issuer,
    audit,
    address: () => address,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
    log,
    watchClosers: new Set(),
  });
  const nsType = registry.byGroupResource('', 'namespaces')!;
  for (const ns of DEFAULT_NAMESPACES)
    if (!store.get('/namespaces', '', ns)) api.create(nsType, '', { metadata: { name: ns } }, { version: 'v1' });
  // the bootstrap policy the real server reconciles at start (created when missing), and kubeadm's admin binding
  const crType = registry.byGroupResource('rbac.authorization.k8s.io', 'clusterroles')!;
  const crbType = registry.byGroupResource('rbac.authorization.k8s.io', 'clusterrolebindings')!;
  for (const [t, objs] of [
    [crType, bootstrapClusterRoles()],
    [crbType, [...bootstrapClusterRoleBindings(), kubeadmAdminBinding()]],
  ] as const)
    for (const o of objs)
      if (!store.get(`rbac.authorization.k8s.io/${t.plural}`, '', o.metadata.name!))
        api.create(t, '', o, { version: 'v1' });
  api.admissionOnCreate.push((t, ns, obj) => {
    if (t.group === '' && t.plural === 'pods') admitPodServiceAccount(store, ns, obj);
  });
  const controllers: Array<{ stop(): void }> = [
    crds,
    new NamespaceController(api, log),
    new GarbageCollector(api, log),
    new ClusterRoleAggregationController(api, log),
  ];
  if (opts.workloadControllers !== false) controllers.push(new DeploymentController(api, log));
  // a pod's logs go with the pod; a terminated container's follow streams end
  const unsubscribeLogs = store.subscribe((ev) => {
    if (ev.rk !== '/pods') return;
    const m = ev.object.metadata;
    if (ev.type === 'DELETED') logs.dropPod(m.namespace!, m.name!, m.uid!);
    else
      for (const s of ((ev.object.status as Obj | undefined)?.containerStatuses as Obj[] | undefined) ?? [])
        if ((s.state as Obj | undefined)?.terminated) logs.terminate(m.namespace!, m.name!, String(s.name));
  });
  const persister = opts.stateFile ? new Persister(opts.stateFile, store, tokens.exportKeys()) : undefined;

  // a directory made here is removed by close(); a caller's --dir is kept (restarts reuse its cert and kubeconfig)
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'lab-kube-'));
  mkdirSync(dir, { recursive: true });
  const host = opts.host ?? '127.0.0.1';
  // 10.96.0.1: the `kubernetes` Service's ClusterIP, where pods' in-cluster clients reach the API (KUBERNETES_SERVICE_HOST).
  const pki = clusterPki(dir, [...new Set(['127.0.0.1', '::1', KUBERNETES_SERVICE_IP, host].filter((h) => isIP(h)))]);
  controllers.push(new RootCaPublisher(api, pki.caPem, log));
  // client certificates are requested, not required: ServiceAccount tokens and anonymous requests come without one
  const server: Server = createServer(
    { cert: pki.servingCertPem, key: pki.servingKeyPem, ca: [pki.caPem], requestCert: true, rejectUnauthorized: false },
    http.handle,
  );
  server.keepAliveTimeout = 65_000;
  // answer small requests at once: without it, Nagle + delayed ACK add ~40 ms to every request/response pair
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  address = `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  const url = `https://${address}`;
  const kubeconfigPath = join(dir, 'kubeconfig');
  const adminCert = { certPem: pki.adminCertPem, keyPem: pki.adminKeyPem };
  writeFileSync(kubeconfigPath, kubeconfigYaml(url, pki.caPem, adminCert), { mode: 0o600 });
  log({ level: 'info', msg: 'lab/kube listening', url, kubeconfig: kubeconfigPath });

  publishApiEndpoint(api, addr.port);
  controllers.push(new EndpointSliceController(api, log, { apiServerEndpoint: apiServerEndpoint(host, addr.port) }));

  const podType = registry.byGroupResource('', 'pods')!;
  const pod = (ns: string, name: string) => api.get(podType, ns, name);
  return {
    url,
    kubeconfigPath,
    caPem: pki.caPem,
    adminCert,
    auditLogPath: opts.auditLogPath,
    api,
    appendPodLog(namespace, name, container, line, at) {
      const p = pod(namespace, name);
      logs.append(namespace, name, p.metadata.uid!, container, line, at);
    },
    restartContainer(namespace, name, container) {
      const p = pod(namespace, name);
      logs.restart(namespace, name, p.metadata.uid!, container);
    },
    setPodStatus(namespace, name, status) {
      const p = pod(namespace, name);
      return api.update(podType, namespace, name, { ...p, status }, { version: 'v1', subresource: 'status' });
    },
    setStatus(namespace, resource, name, status) {
      const t = registry.byGroupResource('', resource);
      if (!t) throw new Error(`lab/kube: no core resource ${resource}`);
      const obj = api.get(t, t.namespaced ? namespace : '', name);
      return api.update(
        t,
        t.namespaced ? namespace : '',
        name,
        { ...obj, status },
        { version: 'v1', subresource: 'status' },
      );
    },
    getObject(namespace, resource, name, group = '') {
      const t = registry.byGroupResource(group, resource);
      if (!t) return undefined;
      return store.get(`${group}/${resource}`, t.namespaced ? namespace : '', name);
    },
    mintServiceAccountToken(namespace, serviceAccount, spec = {}) {
      const r = issuer.request(namespace, serviceAccount, spec);
      return (r.status as { token: string }).token;
    },
    projectServiceAccountToken: (namespace, name, projection) => issuer.projectForPod(pod(namespace, name), projection),
    reviewToken: (token, audiences) => authn.reviewToken(token, audiences),
    kubeconfigFor: (token, namespace) => kubeconfigYaml(url, pki.caPem, { token }, namespace),
    async close() {
      for (const c of controllers) c.stop();
      unsubscribeLogs();
      for (const close of http.deps.watchClosers) close();
      persister?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await audit?.close();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
