// The Kubernetes side of Vault's kubernetes auth for these tests: lab/kube, driven over its HTTPS API as a cluster
// would be — namespaces and ServiceAccounts created with POST, service account tokens minted with TokenRequest
// (POST .../serviceaccounts/<name>/token), and TokenReview answered by lab/kube itself when Vault asks.
import https from 'node:https';
import { startKube } from '../../lab/kube/server.js';

export interface KubeFixture {
  url: string;
  /** PEM CA of lab/kube's serving certificate (Vault's kubernetes_ca_cert). */
  caPem: string;
  /** Token of the "vault" ServiceAccount, which Vault presents to TokenReview (token_reviewer_jwt). */
  reviewerToken: string;
  /** A TokenRequest token for namespace/name (both created when missing), as a pod would have it mounted. */
  mintToken(namespace: string, name: string): Promise<string>;
  deleteServiceAccount(namespace: string, name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startKubeFixture(): Promise<KubeFixture> {
  const kube = await startKube();
  type Answer = { status: number; body: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const request = (method: string, path: string, body?: unknown): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        new URL(path, kube.url),
        {
          method,
          ca: kube.caPem,
          // the admin's client certificate, as kubectl with the admin kubeconfig authenticates
          cert: kube.adminCert.certPem,
          key: kube.adminCert.keyPem,
          headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json',
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const ensure = async (path: string, body: unknown): Promise<void> => {
    const res = await request('POST', path, body);
    if (res.status !== 201 && res.status !== 409)
      throw new Error(`lab/kube POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  const mintToken = async (namespace: string, name: string): Promise<string> => {
    await ensure('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await ensure(`/api/v1/namespaces/${namespace}/serviceaccounts`, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name },
    });
    const res = await request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    if (res.status !== 201)
      throw new Error(`TokenRequest ${namespace}/${name}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.status.token as string;
  };
  // Vault calls TokenReview with its own ServiceAccount's token; on a cluster with RBAC that ServiceAccount needs
  // system:auth-delegator, which the official Vault chart grants with server.authDelegator.enabled (docs/vault.md).
  const reviewerToken = await mintToken('vault', 'vault');
  await ensure('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'vault-server-binding' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
    subjects: [{ kind: 'ServiceAccount', name: 'vault', namespace: 'vault' }],
  });
  return {
    url: kube.url,
    caPem: kube.caPem,
    reviewerToken,
    mintToken,
    async deleteServiceAccount(namespace, name) {
      const res = await request('DELETE', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}`);
      if (res.status !== 200) throw new Error(`DELETE serviceaccount ${namespace}/${name}: ${res.status}`);
    },
    close: () => kube.close(),
  };
}
