// Sets lab/vault up for torchain the way an administrator sets up a real Vault, through the HTTP API only: the
// operator's least-privilege policy, the kubernetes auth method bound to the operator's service account, and pool
// entries. Works against any Vault (it only uses documented endpoints), so the lab and the tests share one recipe.

export interface VaultAdmin {
  url: string;
  /** A token allowed to write policies, auth config and secrets (the root token in the lab). */
  token: string;
}

/** The operator reads pool entries and lists pool folders under <mount>/<prefix>/, and nothing else. */
export function operatorPolicy(mount = 'secret', prefix = 'torchain'): string {
  return [
    `path "${mount}/data/${prefix}/*" {`,
    `  capabilities = ["read"]`,
    `}`,
    `path "${mount}/metadata/${prefix}/*" {`,
    `  capabilities = ["list"]`,
    `}`,
    '',
  ].join('\n');
}

async function call(admin: VaultAdmin, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${admin.url}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': admin.token, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`Vault ${method} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export interface OperatorAccess {
  /** Kubernetes API Vault reviews tokens with (kubernetes_host), its CA and the reviewer token. */
  kubernetesHost: string;
  kubernetesCaCert?: string;
  tokenReviewerJwt?: string;
  /** Auth mount path (TORCHAIN_VAULT_AUTH_PATH), default "kubernetes". */
  authPath?: string;
  /** Role name (TORCHAIN_VAULT_ROLE), default "torchain-operator". */
  role?: string;
  serviceAccount: string;
  namespace: string;
  /** Token TTL and max TTL, e.g. "1h" / "24h". */
  ttl?: string;
  maxTtl?: string;
  mount?: string;
  prefix?: string;
}

/** Enables kubernetes auth (if needed), configures it, writes the operator policy and role. */
export async function grantOperatorAccess(admin: VaultAdmin, o: OperatorAccess): Promise<void> {
  const authPath = o.authPath ?? 'kubernetes';
  const auths = (await call(admin, 'GET', 'sys/auth')) as { data?: Record<string, unknown> };
  if (!auths.data?.[`${authPath}/`]) await call(admin, 'POST', `sys/auth/${authPath}`, { type: 'kubernetes' });
  await call(admin, 'POST', `auth/${authPath}/config`, {
    kubernetes_host: o.kubernetesHost,
    ...(o.kubernetesCaCert ? { kubernetes_ca_cert: o.kubernetesCaCert } : {}),
    ...(o.tokenReviewerJwt ? { token_reviewer_jwt: o.tokenReviewerJwt } : {}),
  });
  await call(admin, 'PUT', 'sys/policies/acl/torchain-operator', { policy: operatorPolicy(o.mount, o.prefix) });
  await call(admin, 'POST', `auth/${authPath}/role/${o.role ?? 'torchain-operator'}`, {
    bound_service_account_names: [o.serviceAccount],
    bound_service_account_namespaces: [o.namespace],
    token_policies: ['torchain-operator'],
    token_ttl: o.ttl ?? '1h',
    token_max_ttl: o.maxTtl ?? '24h',
  });
}

export interface PoolEntry {
  config: string;
  endpoint?: string;
  /** IPv4 host:port the hop's log-exporter probes through the tunnel. */
  probe?: string;
}

/** Writes pool entries of one hop: <mount>/<prefix>/<namespace>/<chain>/hop-<hop>/<name>. */
export async function writePool(
  admin: VaultAdmin,
  where: { namespace: string; chain: string; hop: number; mount?: string; prefix?: string },
  entries: Record<string, PoolEntry>,
): Promise<void> {
  const base = `${where.mount ?? 'secret'}/data/${where.prefix ?? 'torchain'}/${where.namespace}/${where.chain}/hop-${where.hop}`;
  for (const [name, entry] of Object.entries(entries)) {
    await call(admin, 'POST', `${base}/${name}`, { data: { ...entry } });
  }
}
