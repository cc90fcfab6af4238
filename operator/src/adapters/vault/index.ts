// The operator's Vault adapter: typed KV v2 client with Kubernetes/token auth and renewal, and the hop pool layout.
export { VaultClient } from './client.js';
export type {
  KvReader,
  SecretVersion,
  TokenState,
  VaultAuth,
  VaultClientOptions,
  VaultLog,
  VaultRequestEvent,
} from './client.js';
export { VaultError, toVaultError } from './errors.js';
export type { VaultErrorKind, VaultOperation } from './errors.js';
export { hopPoolPath, parseEndpoint, parsePoolEntry } from './pool.js';
export type { HopRef, PoolServer } from './pool.js';
export { vaultClientFromEnv } from './from-env.js';
