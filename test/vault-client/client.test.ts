// The operator's Vault adapter against lab/vault over HTTP: Kubernetes-auth login, pool reads, empty pools, forbidden
// paths, renewal before expiry, re-login past the max TTL, Vault down or sealed, token auth.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodeVault from 'node-vault';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startVault, type LabVault } from '../../lab/vault/server.js';
import { grantOperatorAccess, writePool } from '../../lab/vault/seed.js';
import {
  VaultClient,
  VaultError,
  hopPoolPath,
  parsePoolEntry,
  vaultClientFromEnv,
  type VaultRequestEvent,
} from '../../operator/src/adapters/vault/index.js';
import { startKubeFixture, type KubeFixture } from '../lab-vault/kube-fixture.js';

let kube: KubeFixture;
let vault: LabVault;
let dir: string;
let clockOffsetMs = 0;
const clients: VaultClient[] = [];
const admin = (): ReturnType<typeof nodeVault> => nodeVault({ endpoint: vault.url, token: vault.rootToken });

async function rejection(p: Promise<unknown>): Promise<VaultError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(VaultError);
    return err as VaultError;
  }
  throw new Error('expected a VaultError');
}

/** A client logging in as torchain-system/torchain-operator with `role`, recording its requests. */
async function operatorClient(
  role = 'torchain-operator',
): Promise<{ client: VaultClient; events: VaultRequestEvent[] }> {
  const jwtFile = join(dir, `sa-token-${clients.length}`);
  writeFileSync(jwtFile, await kube.mintToken('torchain-system', 'torchain-operator'));
  const events: VaultRequestEvent[] = [];
  const client = vaultClientFromEnv(
    {
      TORCHAIN_VAULT_ADDR: vault.url,
      TORCHAIN_VAULT_AUTH: 'kubernetes',
      TORCHAIN_VAULT_ROLE: role,
      TORCHAIN_VAULT_SA_TOKEN_FILE: jwtFile,
    },
    { onRequest: (e) => events.push(e) },
  );
  clients.push(client);
  return { client, events };
}

const count = (events: VaultRequestEvent[], operation: string, result = 'success'): number =>
  events.filter((e) => e.operation === operation && e.result === result).length;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'torchain-vault-client-'));
  kube = await startKubeFixture();
  vault = await startVault({ now: () => Date.now() + clockOffsetMs });
  const a = admin();
  await a.enableAuth({ mount_point: 'kubernetes', type: 'kubernetes' });
  await a.write('auth/kubernetes/config', {
    kubernetes_host: kube.url,
    kubernetes_ca_cert: kube.caPem,
    token_reviewer_jwt: kube.reviewerToken,
  });
  // The policy the chart gives the operator: read and list the pools, nothing else.
  await a.write('sys/policies/acl/torchain-operator', {
    policy: `path "secret/data/torchain/*" { capabilities = ["read"] }
             path "secret/metadata/torchain/*" { capabilities = ["list"] }`,
  });
  const role = (ttl: string, maxTtl: string) => ({
    bound_service_account_names: ['torchain-operator'],
    bound_service_account_namespaces: ['torchain-system'],
    token_policies: ['torchain-operator'],
    token_ttl: ttl,
    token_max_ttl: maxTtl,
  });
  await a.write('auth/kubernetes/role/torchain-operator', role('1h', '2h'));
  await a.write('auth/kubernetes/role/short-ttl', role('3s', '1h'));
  await a.write('auth/kubernetes/role/short-max', role('2s', '3s'));

  const pool = 'secret/data/torchain/lab/chain-a/hop-1';
  await a.write(`${pool}/srv-c`, { data: { config: 'client\nremote 192.0.2.3 1194\n' } });
  await a.write(`${pool}/srv-a`, { data: { config: 'client\nremote 192.0.2.1 1194\n', endpoint: '192.0.2.1:1194' } });
  await a.write(`${pool}/srv-b`, { data: { config: '[Interface]\n', endpoint: '[2001:db8::2]:51820' } });
  await a.write(`${pool}/srv-bad`, { data: { endpoint: '192.0.2.9:1194' } });
  await a.write(`${pool}/srv-deleted`, { data: { config: 'gone' } });
  await a.delete(`${pool}/srv-deleted`);
  await a.write(`${pool}/nested/ignored`, { data: { config: 'x' } });
  await a.write('secret/data/other/secret', { data: { password: 'not for the operator' } });
});

afterEach(() => {
  clockOffsetMs = 0;
});

afterAll(async () => {
  for (const c of clients) c.stop();
  await vault?.close();
  await kube?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('VaultClient against lab/vault', () => {
  it('logs in with the service account token and reads a KV v2 secret', async () => {
    const { client, events } = await operatorClient();
    const st = await client.login();
    expect(st).toMatchObject({ leaseSeconds: 3600, renewable: true, policies: ['default', 'torchain-operator'] });
    const secret = await client.readSecret('torchain/lab/chain-a/hop-1/srv-a');
    expect(secret.data).toEqual({ config: 'client\nremote 192.0.2.1 1194\n', endpoint: '192.0.2.1:1194' });
    expect(secret.version).toBe(1);
    expect(events.map((e) => `${e.operation}:${e.result}`)).toEqual(['login:success', 'read:success']);
  });

  it('reads a hop pool as the reconciler does: list, read each entry, parse it; bad and deleted entries tell why', async () => {
    const { client } = await operatorClient();
    const path = hopPoolPath({ namespace: 'lab', chain: 'chain-a', hop: 1 });
    expect(path).toBe('torchain/lab/chain-a/hop-1');
    // A sub-folder is listed with its trailing slash; the reconciler leaves it out.
    const names = (await client.list(path)).filter((n) => !n.endsWith('/')).sort();
    expect(names).toEqual(['srv-a', 'srv-b', 'srv-bad', 'srv-c', 'srv-deleted']);
    const parsed = [];
    for (const name of names.filter((n) => n !== 'srv-deleted')) {
      const entry = await client.readSecret(`${path}/${name}`);
      parsed.push(parsePoolEntry(name, entry.data, entry.version));
    }
    expect(parsed.map((p) => ('server' in p ? [p.server.name, p.server.endpoint] : p.reason))).toEqual([
      ['srv-a', '192.0.2.1:1194'],
      ['srv-b', '[2001:db8::2]:51820'],
      expect.stringContaining('"config" is missing'),
      ['srv-c', undefined],
    ]);
    expect('server' in parsed[0]! && parsed[0].server.config).toBe('client\nremote 192.0.2.1 1194\n');
    // Listed, but its latest version is deleted: a "not_found" read the reconciler skips.
    expect(await rejection(client.readSecret(`${path}/srv-deleted`))).toMatchObject({ kind: 'not_found' });
  });

  it('an empty or absent pool is no servers, not an error (Vault answers the LIST with 404)', async () => {
    const { client } = await operatorClient();
    expect(await client.list('torchain/lab/chain-a/hop-9')).toEqual([]);
    expect(await client.list(hopPoolPath({ namespace: 'lab', chain: 'no-such-chain', hop: 2 }))).toEqual([]);
  });

  it('a path outside the policy is a "forbidden" VaultError naming the path', async () => {
    const { client } = await operatorClient();
    const err = await rejection(client.readSecret('other/secret'));
    expect(err).toMatchObject({ kind: 'forbidden', status: 403, path: 'secret/data/other/secret', retryable: false });
    expect(err.message).toContain('secret/data/other/secret');
    expect(err.message).toMatch(/policy/);
    expect(err.message).not.toContain('not for the operator');
    const listErr = await rejection(client.list('other'));
    expect(listErr).toMatchObject({ kind: 'forbidden', path: 'secret/metadata/other/' });
  });

  it('a missing secret is "not_found"; a role that does not exist is "login_denied" naming the login path', async () => {
    const { client } = await operatorClient();
    expect(await rejection(client.readSecret('torchain/lab/chain-a/hop-1/none'))).toMatchObject({
      kind: 'not_found',
      status: 404,
    });
    const { client: wrong } = await operatorClient('no-such-role');
    const err = await rejection(wrong.login());
    expect(err).toMatchObject({ kind: 'login_denied', status: 400, path: 'auth/kubernetes/login' });
    expect(err.message).toContain('invalid role name "no-such-role"');
  });

  it('renews the token before it expires (3 s TTL: reads keep working well past it)', async () => {
    const { client, events } = await operatorClient('short-ttl');
    await client.startRenewal();
    expect(client.tokenState?.leaseSeconds).toBe(3);
    await new Promise((r) => setTimeout(r, 5_000));
    expect(count(events, 'renew')).toBeGreaterThanOrEqual(2);
    expect(count(events, 'login')).toBe(1);
    await client.readSecret('torchain/lab/chain-a/hop-1/srv-a');
    expect(events.filter((e) => e.result !== 'success')).toEqual([]);
    client.stop();
  });

  it('logs in again when renewals are capped by the max TTL (2 s TTL, 3 s max)', async () => {
    const { client, events } = await operatorClient('short-max');
    await client.startRenewal();
    await new Promise((r) => setTimeout(r, 5_000));
    expect(count(events, 'login')).toBeGreaterThanOrEqual(2);
    await client.readSecret('torchain/lab/chain-a/hop-1/srv-a');
    expect(events.filter((e) => e.result !== 'success')).toEqual([]);
    client.stop();
  });

  it('a token Vault no longer accepts is replaced by one login and the read retried', async () => {
    const { client, events } = await operatorClient();
    await client.login();
    clockOffsetMs = 2 * 3600_000 + 1000; // past the role's max TTL, server side
    const secret = await client.readSecret('torchain/lab/chain-a/hop-1/srv-b');
    expect(secret.data.endpoint).toBe('[2001:db8::2]:51820');
    expect(events.map((e) => `${e.operation}:${e.result}`)).toEqual([
      'login:success',
      'read:token_invalid',
      'login:success',
      'read:success',
    ]);
  });

  it('Vault down is "unavailable" (retryable, names the path); sealed is "sealed"; both recover', async () => {
    const { client } = await operatorClient();
    await client.login();
    await vault.stop();
    try {
      await new Promise((r) => setTimeout(r, 100));
      const down = await rejection(client.readSecret('torchain/lab/chain-a/hop-1/srv-a'));
      expect(down).toMatchObject({ kind: 'unavailable', status: undefined, retryable: true });
      expect(down.message).toContain('secret/data/torchain/lab/chain-a/hop-1/srv-a');
      const poolDown = await rejection(client.list(hopPoolPath({ namespace: 'lab', chain: 'chain-a', hop: 1 })));
      expect(poolDown).toMatchObject({ kind: 'unavailable', path: 'secret/metadata/torchain/lab/chain-a/hop-1/' });
    } finally {
      await vault.start();
    }
    vault.seal();
    try {
      const sealed = await rejection(client.list('torchain/lab/chain-a/hop-1'));
      expect(sealed).toMatchObject({ kind: 'sealed', status: 503, retryable: true });
      expect(await client.health()).toMatchObject({ sealed: true });
    } finally {
      vault.unseal();
    }
    expect(await client.list(hopPoolPath({ namespace: 'lab', chain: 'chain-a', hop: 1 }))).toHaveLength(6);
  });

  it('token auth (development): adopts the token from its file; a revoked token is "token_invalid"', async () => {
    const created = await admin().tokenCreate({ policies: ['torchain-operator'], ttl: '1h' });
    const tokenFile = join(dir, 'vault-token');
    writeFileSync(tokenFile, `${created.auth.client_token}\n`);
    const client = vaultClientFromEnv({
      TORCHAIN_VAULT_ADDR: vault.url,
      TORCHAIN_VAULT_AUTH: 'token',
      TORCHAIN_VAULT_TOKEN_FILE: tokenFile,
    });
    clients.push(client);
    expect((await client.login()).policies).toEqual(['default', 'torchain-operator']);
    expect(await client.list('torchain/lab/chain-a/hop-1')).toEqual([
      'nested/',
      'srv-a',
      'srv-b',
      'srv-bad',
      'srv-c',
      'srv-deleted',
    ]);
    await nodeVault({ endpoint: vault.url, token: created.auth.client_token }).tokenRevokeSelf();
    const err = await rejection(client.readSecret('torchain/lab/chain-a/hop-1/srv-a'));
    expect(err.kind).toBe('token_invalid');
  });

  it('a Vault that accepts but never answers is "unavailable" after the request timeout', async () => {
    const client = new VaultClient({
      address: vault.url,
      auth: { method: 'token', token: vault.rootToken },
      requestTimeoutMs: 300,
    });
    await client.login();
    vault.pause();
    try {
      const err = await rejection(client.readSecret('torchain/lab/chain-a/hop-1/srv-a'));
      expect(err).toMatchObject({ kind: 'unavailable', retryable: true });
      expect(err.message).toMatch(/secret\/data\/torchain\/lab\/chain-a\/hop-1\/srv-a failed: ECONNABORTED/);
    } finally {
      vault.resume();
    }
    expect((await client.readSecret('torchain/lab/chain-a/hop-1/srv-a')).version).toBe(1);
  });

  it('configuration mistakes are refused up front, naming the variable', () => {
    expect(() => vaultClientFromEnv({})).toThrow(/TORCHAIN_VAULT_ADDR/);
    expect(() => vaultClientFromEnv({ TORCHAIN_VAULT_ADDR: vault.url })).toThrow(/TORCHAIN_VAULT_ROLE/);
    expect(() => vaultClientFromEnv({ TORCHAIN_VAULT_ADDR: vault.url, TORCHAIN_VAULT_AUTH: 'ldap' })).toThrow(
      /TORCHAIN_VAULT_AUTH must be "kubernetes" or "token"/,
    );
    expect(() => vaultClientFromEnv({ TORCHAIN_VAULT_ADDR: 'not a url', TORCHAIN_VAULT_ROLE: 'r' })).toThrow(
      /invalid Vault address/,
    );
  });

  it('an unreadable service account token file fails the login with the variable named', async () => {
    const client = vaultClientFromEnv({
      TORCHAIN_VAULT_ADDR: vault.url,
      TORCHAIN_VAULT_ROLE: 'torchain-operator',
      TORCHAIN_VAULT_SA_TOKEN_FILE: join(dir, 'missing-token'),
    });
    const err = await rejection(client.login());
    expect(err).toMatchObject({ kind: 'login_denied' });
    expect(err.message).toMatch(/TORCHAIN_VAULT_SA_TOKEN_FILE/);
  });
});

describe('lab/vault set up with startVault({kubeUrl}) and the seed recipe', () => {
  it('the operator logs in through the pre-configured kubernetes auth and reads the seeded pool', async () => {
    const v = await startVault({ kubeUrl: kube.url, kubeToken: kube.reviewerToken, kubeCaCert: kube.caPem });
    try {
      await grantOperatorAccess(
        { url: v.url, token: v.rootToken },
        { kubernetesHost: kube.url, kubernetesCaCert: kube.caPem, serviceAccount: 'op', namespace: 'torchain-system' },
      );
      await writePool(
        { url: v.url, token: v.rootToken },
        { namespace: 'lab', chain: 'c1', hop: 2 },
        {
          'wg-b': { config: '[Interface]\n', endpoint: '192.0.2.20:51820' },
          'wg-a': { config: '[Interface]\n' },
        },
      );
      const jwtFile = join(dir, 'op-token');
      writeFileSync(jwtFile, await kube.mintToken('torchain-system', 'op'));
      const client = vaultClientFromEnv({
        TORCHAIN_VAULT_ADDR: v.url,
        TORCHAIN_VAULT_ROLE: 'torchain-operator',
        TORCHAIN_VAULT_SA_TOKEN_FILE: jwtFile,
      });
      const names = await client.list(hopPoolPath({ namespace: 'lab', chain: 'c1', hop: 2 }));
      expect(names.sort()).toEqual(['wg-a', 'wg-b']);
      expect((await client.readSecret('torchain/lab/c1/hop-2/wg-b')).data).toMatchObject({
        endpoint: '192.0.2.20:51820',
      });
      expect(client.tokenState?.policies).toEqual(['default', 'torchain-operator']);
      // Least privilege: the operator's policy does not reach outside the pools.
      expect(await rejection(client.readSecret('elsewhere/x'))).toMatchObject({ kind: 'forbidden' });
    } finally {
      await v.close();
    }
  });
});
