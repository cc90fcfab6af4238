// Builds the VaultClient from the operator's environment contract (TORCHAIN_VAULT_*). Token files are read at each
// login, not once: Kubernetes rotates projected service account tokens, and a development token file can be replaced.
import { readFile } from 'node:fs/promises';
import { VaultClient, type VaultClientOptions } from './client.js';

export const DEFAULT_SA_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

async function readTokenFile(path: string, variable: string): Promise<string> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (!text) throw new Error('file is empty');
    return text;
  } catch (err) {
    throw new Error(`cannot read ${variable}=${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads TORCHAIN_VAULT_ADDR, _MOUNT, _AUTH, _ROLE, _AUTH_PATH, _TOKEN_FILE, _SA_TOKEN_FILE; throws naming the variable. */
export function vaultClientFromEnv(
  env: Record<string, string | undefined>,
  extra: Pick<VaultClientOptions, 'onRequest' | 'log' | 'requestTimeoutMs'> = {},
): VaultClient {
  const address = env.TORCHAIN_VAULT_ADDR;
  if (!address)
    throw new Error('TORCHAIN_VAULT_ADDR is not set: give the Vault address, e.g. https://vault.vault.svc:8200');
  const method = env.TORCHAIN_VAULT_AUTH || 'kubernetes';
  const mount = env.TORCHAIN_VAULT_MOUNT || 'secret';
  if (method === 'kubernetes') {
    const role = env.TORCHAIN_VAULT_ROLE;
    if (!role) throw new Error('TORCHAIN_VAULT_ROLE is not set: name the Vault kubernetes auth role of the operator');
    const file = env.TORCHAIN_VAULT_SA_TOKEN_FILE || DEFAULT_SA_TOKEN_FILE;
    return new VaultClient({
      address,
      mount,
      auth: {
        method: 'kubernetes',
        role,
        authPath: env.TORCHAIN_VAULT_AUTH_PATH || 'kubernetes',
        jwt: () => readTokenFile(file, 'TORCHAIN_VAULT_SA_TOKEN_FILE'),
      },
      ...extra,
    });
  }
  if (method === 'token') {
    const file = env.TORCHAIN_VAULT_TOKEN_FILE;
    if (!file) throw new Error('TORCHAIN_VAULT_AUTH=token needs TORCHAIN_VAULT_TOKEN_FILE (a file holding the token)');
    return new VaultClient({
      address,
      mount,
      auth: { method: 'token', token: () => readTokenFile(file, 'TORCHAIN_VAULT_TOKEN_FILE') },
      ...extra,
    });
  }
  throw new Error(`TORCHAIN_VAULT_AUTH must be "kubernetes" or "token", got "${method}"`);
}
