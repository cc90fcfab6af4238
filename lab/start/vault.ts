// Start-up step: Vault. lab/vault runs outside the cluster on the node IP (how many run Vault: the chart's
// `networkPolicy.vault.cidrs` case), with the Kubernetes auth method set up exactly as docs/vault.md tells an admin:
// a reviewer ServiceAccount bound to system:auth-delegator, the operator's role bound to the chart's operator
// ServiceAccount, the operator's policy; then every chain's server pools, keyed by names that are not label values.
import { RbacAuthorizationV1Api, KubeConfig } from '@kubernetes/client-node';
import { startVault, type LabVault } from '../vault/server.js';
import { grantOperatorAccess, writePool } from '../vault/seed.js';
import type { LabCluster } from './cluster.js';
import type { LabContext } from './context.js';
import { vaultKey, type LabNode } from './nodes.js';
import { ignoreExists } from '../runtime/already-exists.js';

export const VAULT_PORT = 8200;

export interface VaultStep {
  vault: LabVault;
  /** As the operator reaches it. */
  url: string;
}

export async function startVaultStep(
  ctx: LabContext,
  cluster: LabCluster,
  nodes: LabNode[],
  operator: { namespace: string; serviceAccount: string },
): Promise<VaultStep> {
  ctx.progress('starting lab/vault (Kubernetes auth against lab/kube) and loading every chain’s server pools');
  const vault = await startVault({
    host: cluster.nodeIP,
    port: VAULT_PORT,
    log: (level, msg, fields) => ctx.log({ component: 'lab-vault', level, msg, ...fields }),
  });
  ctx.onClose('lab/vault', () => vault.close());
  const reviewer = { namespace: 'vault', name: 'vault-auth' };
  await cluster.core.createNamespace({ body: { metadata: { name: reviewer.namespace } } }).catch(ignoreExists);
  await cluster.identity(reviewer.namespace, reviewer.name);
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.adminKubeconfig);
  await kc
    .makeApiClient(RbacAuthorizationV1Api)
    .createClusterRoleBinding({
      body: {
        metadata: { name: 'vault-auth-delegator' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
        subjects: [{ kind: 'ServiceAccount', ...reviewer }],
      },
    })
    .catch(ignoreExists);
  const admin = { url: vault.url, token: vault.rootToken };
  await grantOperatorAccess(admin, {
    kubernetesHost: cluster.kube.url,
    kubernetesCaCert: cluster.kube.caPem,
    tokenReviewerJwt: cluster.kube.mintServiceAccountToken(reviewer.namespace, reviewer.name, {
      expirationSeconds: 7 * 86400,
    }),
    serviceAccount: operator.serviceAccount,
    namespace: operator.namespace,
  });
  for (const node of nodes)
    for (const pool of node.world.pools) {
      // probe: the server's tunnel address on a closed TCP port; its RST proves the tunnel carries traffic.
      const entries: Record<string, { config: string; endpoint: string; probe: string }> = {};
      pool.servers.forEach((s, j) => {
        entries[vaultKey(node.chain, pool.number, j)] = {
          config: s.clientConfig,
          endpoint: s.endpoint,
          probe: `${s.serverTunnelAddress}:53`,
        };
      });
      await writePool(admin, { namespace: node.chain.namespace, chain: node.chain.name, hop: pool.number }, entries);
    }
  return { vault, url: vault.url };
}
