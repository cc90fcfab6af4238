// sys/: health, seal status, seal and unseal, and the secrets engine mounts (KV version 2 only)
// (https://developer.hashicorp.com/vault/api-docs/system/health, …/seal-status, …/seal, …/unseal, …/mounts).
import type { Http1Response } from '../http1.js';
import { KvV2 } from '../kv2.js';
import { effect, fail, isWrite, ok, unsupported, type Area, type Route, type VaultState } from './route.js';

export const VAULT_VERSION = '1.17.0';

/** Paths a sealed Vault still answers; everything else is 503 "Vault is sealed". */
export const OPEN_WHEN_SEALED = new Set(['sys/health', 'sys/seal-status', 'sys/unseal']);

export const sysRoutes: Area = (vault, { method, path, query }) => {
  if (path === 'sys/health') {
    if (method !== 'GET') unsupported();
    return { aclPath: path, run: () => health(vault, query) };
  }
  if (path === 'sys/seal-status') {
    if (method !== 'GET') unsupported();
    return { aclPath: path, run: () => ({ status: 200, body: sealStatus(vault) }) };
  }
  if (path === 'sys/unseal') {
    if (!isWrite(method)) unsupported();
    return { aclPath: path, run: (_t, b) => unseal(vault, b) };
  }
  if (path === 'sys/seal') {
    if (!isWrite(method)) unsupported();
    return effect(path, 'update', () => (vault.sealed = true), { sudo: true });
  }
  if (path === 'sys/mounts') {
    if (method !== 'GET') unsupported();
    return { aclPath: path, cap: 'read', run: () => ok(mountTable(vault), mountTable(vault)) };
  }
  const mount = /^sys\/mounts\/(.+?)\/?$/.exec(path);
  if (mount) return mountRoute(vault, method, path, mount[1] as string);
  return undefined;
};

function health(vault: VaultState, query: URLSearchParams): Http1Response {
  const code = (name: string, dflt: number): number => {
    const v = Number(query.get(name));
    return query.has(name) && Number.isInteger(v) ? v : dflt;
  };
  const body = {
    initialized: true,
    sealed: vault.sealed,
    standby: false,
    performance_standby: false,
    replication_performance_mode: 'disabled',
    replication_dr_mode: 'disabled',
    server_time_utc: Math.floor(vault.now() / 1000),
    version: VAULT_VERSION,
    cluster_name: 'lab-vault',
    cluster_id: 'lab-vault',
  };
  return { status: vault.sealed ? code('sealedcode', 503) : code('activecode', 200), body };
}

function sealStatus(vault: VaultState): Record<string, unknown> {
  return {
    type: 'shamir',
    initialized: true,
    sealed: vault.sealed,
    t: 1,
    n: 1,
    progress: 0,
    nonce: '',
    version: VAULT_VERSION,
    migration: false,
    recovery_seal: false,
    storage_type: 'inmem',
  };
}

function unseal(vault: VaultState, body: Record<string, unknown>): Http1Response {
  if (body.reset === true) return { status: 200, body: sealStatus(vault) };
  if (typeof body.key !== 'string' || body.key === '') fail(400, 'missing required parameter: key');
  if (body.key !== vault.unsealKey) fail(400, 'Unseal failed, invalid key');
  vault.sealed = false;
  return { status: 200, body: sealStatus(vault) };
}

function mountTable(vault: VaultState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of vault.kv.keys()) out[`${path}/`] = { type: 'kv', options: { version: '2' }, local: false };
  return out;
}

function mountRoute(vault: VaultState, method: string, path: string, mountPath: string): Route {
  if (isWrite(method)) {
    return effect(
      path,
      'update',
      (b) => {
        if (vault.kv.has(mountPath)) fail(400, `path is already in use at ${mountPath}/`);
        const version = (b.options as { version?: unknown } | undefined)?.version;
        if (!(b.type === 'kv-v2' || (b.type === 'kv' && String(version) === '2'))) {
          fail(400, 'lab/vault mounts KV version 2 engines only: {"type":"kv","options":{"version":"2"}}');
        }
        vault.kv.set(mountPath, new KvV2(vault.now));
      },
      { sudo: true },
    );
  }
  if (method === 'DELETE') {
    return effect(path, 'delete', () => vault.kv.delete(mountPath), { sudo: true });
  }
  return unsupported();
}
