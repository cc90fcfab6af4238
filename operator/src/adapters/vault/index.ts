// The operator's Vault adapter: typed KV v2 client with Kubernetes/token auth and renewal, and the hop pool reader.
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
export { byName, hopPoolPath, parseEndpoint, parsePoolEntry, readHopPool } from './pool.js';
export type { HopPool, HopRef, PoolServer } from './pool.js';
export { vaultClientFromEnv } from './from-env.js';
