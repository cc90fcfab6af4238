// lab/vault driven by the real node-vault client. Each case names the behaviour of real Vault it holds the stand-in
// to, with the documentation that states it. The Kubernetes auth method is in kubernetes-auth.test.ts.
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVault, type LabVault } from '../../lab/vault/server.js';

type Client = ReturnType<typeof nodeVault>;
interface ApiErr {
  response: { statusCode: number; body: { errors?: string[]; data?: any } }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Resolves to the error node-vault rejected with (it rejects every status but 200/204). */
async function failure(p: Promise<unknown>): Promise<ApiErr['response']> {
  try {
    await p;
  } catch (err) {
    const e = err as ApiErr;
    if (!e.response) throw err;
    return e.response;
  }
  throw new Error('expected Vault to refuse the request');
}

const PERMISSION_DENIED = '1 error occurred:\n\t* permission denied\n\n';
const INVALID_TOKEN = '2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n';

let vault: LabVault;
let root: Client;
let clockOffsetMs = 0;
const client = (token?: string): Client =>
  nodeVault({ endpoint: vault.url, ...(token !== undefined ? { token } : {}) });
/** auth/token/create from a root client of its own: node-vault adopts the created token on the client it used. */
const createToken = (opts: Record<string, unknown>): Promise<any> => client(vault.rootToken).tokenCreate(opts); // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  vault = await startVault({ now: () => Date.now() + clockOffsetMs });
  root = client(vault.rootToken);
});
afterAll(async () => {
  await vault?.close();
});

describe('KV version 2 (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2)', () => {
  it('"Create/Update Secret" returns the new version; "Read Secret Version" returns data.data and its metadata', async () => {
    const w = await root.write('secret/data/conf/a', { data: { config: 'one', endpoint: '192.0.2.1:1194' } });
    expect(w.data).toMatchObject({ version: 1, destroyed: false, deletion_time: '' });
    const r = await root.read('secret/data/conf/a');
    expect(r.data.data).toEqual({ config: 'one', endpoint: '192.0.2.1:1194' });
    expect(r.data.metadata).toMatchObject({ version: 1, destroyed: false, deletion_time: '' });
    expect(Date.parse(r.data.metadata.created_time)).not.toBeNaN();
  });

  it('each write makes a new version; "?version=" reads an older one; metadata lists them', async () => {
    await root.write('secret/data/conf/v', { data: { n: 1 } });
    const w2 = await root.write('secret/data/conf/v', { data: { n: 2 } });
    expect(w2.data.version).toBe(2);
    expect((await root.read('secret/data/conf/v')).data.data).toEqual({ n: 2 });
    expect((await root.read('secret/data/conf/v?version=1')).data.data).toEqual({ n: 1 });
    const meta = await root.read('secret/metadata/conf/v');
    expect(meta.data).toMatchObject({ current_version: 2, oldest_version: 1 });
    expect(Object.keys(meta.data.versions)).toEqual(['1', '2']);
  });

  it('check-and-set: "cas" must equal the current version (0 = only if absent), else 400', async () => {
    await root.write('secret/data/conf/cas', { data: { x: 1 }, options: { cas: 0 } });
    const refused = await failure(root.write('secret/data/conf/cas', { data: { x: 2 }, options: { cas: 0 } }));
    expect(refused.statusCode).toBe(400);
    expect(refused.body.errors).toEqual(['check-and-set parameter did not match the current version']);
    const ok = await root.write('secret/data/conf/cas', { data: { x: 2 }, options: { cas: 1 } });
    expect(ok.data.version).toBe(2);
    expect((await root.read('secret/data/conf/cas')).data.data).toEqual({ x: 2 });
  });

  it('"cas_required" set in metadata refuses a write without "cas"', async () => {
    await root.write('secret/metadata/conf/strict', { cas_required: true });
    const refused = await failure(root.write('secret/data/conf/strict', { data: { x: 1 } }));
    expect(refused.statusCode).toBe(400);
    expect(refused.body.errors).toEqual(['check-and-set parameter required for this call']);
  });

  it('a missing secret is 404 with an empty errors list', async () => {
    const res = await failure(root.read('secret/data/conf/nothing-here'));
    expect(res.statusCode).toBe(404);
    expect(res.body).toEqual({ errors: [] });
  });

  it('"List Secrets" (LIST metadata/<path>) gives keys, folders with a trailing slash; also as GET ?list=true', async () => {
    await root.write('secret/data/conf/list/b', { data: { k: 1 } });
    await root.write('secret/data/conf/list/a', { data: { k: 1 } });
    await root.write('secret/data/conf/list/sub/c', { data: { k: 1 } });
    expect((await root.list('secret/metadata/conf/list')).data.keys).toEqual(['a', 'b', 'sub/']);
    const viaGet = nodeVault({ endpoint: vault.url, token: vault.rootToken, noCustomHTTPVerbs: true });
    expect((await viaGet.list('secret/metadata/conf/list/')).data.keys).toEqual(['a', 'b', 'sub/']);
  });

  it('LIST on an empty or absent folder is 404 (node-vault rejects it: callers must treat it as empty)', async () => {
    const res = await failure(root.list('secret/metadata/conf/empty-pool'));
    expect(res.statusCode).toBe(404);
    expect(res.body).toEqual({ errors: [] });
  });

  it('soft delete hides the latest version (404 carrying its deletion_time), undelete restores it', async () => {
    await root.write('secret/data/conf/del', { data: { v: 1 } });
    await root.delete('secret/data/conf/del');
    const gone = await failure(root.read('secret/data/conf/del'));
    expect(gone.statusCode).toBe(404);
    expect(gone.body.data.data).toBeNull();
    expect(gone.body.data.metadata.deletion_time).not.toBe('');
    // The key is still listed: only "Delete Metadata and All Versions" removes it.
    expect((await root.list('secret/metadata/conf')).data.keys).toContain('del');
    await root.write('secret/undelete/conf/del', { versions: [1] });
    expect((await root.read('secret/data/conf/del')).data.data).toEqual({ v: 1 });
  });

  it('destroy removes a version for good; deleting the metadata removes the key', async () => {
    await root.write('secret/data/conf/destroy', { data: { v: 1 } });
    await root.write('secret/destroy/conf/destroy', { versions: [1] });
    const gone = await failure(root.read('secret/data/conf/destroy'));
    expect(gone.statusCode).toBe(404);
    expect(gone.body.data.metadata.destroyed).toBe(true);
    await root.write('secret/undelete/conf/destroy', { versions: [1] });
    expect((await failure(root.read('secret/data/conf/destroy'))).statusCode).toBe(404);
    await root.delete('secret/metadata/conf/destroy');
    expect((await root.list('secret/metadata/conf')).data.keys).not.toContain('destroy');
  });

  it('a write without "data" is 400; a path under no mount is 404 "no handler for route"', async () => {
    const bad = await failure(root.write('secret/data/conf/x', { options: {} }));
    expect(bad.statusCode).toBe(400);
    expect(bad.body.errors).toEqual(['no data provided']);
    const nomount = await failure(root.read('nomount/data/x'));
    expect(nomount.statusCode).toBe(404);
    expect(nomount.body.errors).toEqual(['no handler for route "nomount/data/x". route entry not found.']);
  });

  it('a second KV v2 engine can be mounted through sys/mounts (https://developer.hashicorp.com/vault/api-docs/system/mounts)', async () => {
    await root.mount({ mount_point: 'kv-lab', type: 'kv', options: { version: '2' } });
    await root.write('kv-lab/data/x', { data: { a: 'b' } });
    expect((await root.read('kv-lab/data/x')).data.data).toEqual({ a: 'b' });
    const dup = await failure(root.mount({ mount_point: 'kv-lab', type: 'kv', options: { version: '2' } }));
    expect(dup.statusCode).toBe(400);
  });
});

describe('policies (https://developer.hashicorp.com/vault/docs/concepts/policies)', () => {
  let reader: Client;
  beforeAll(async () => {
    // sys/policies/acl/:name (https://developer.hashicorp.com/vault/api-docs/system/policies) takes HCL in "policy".
    await root.write('sys/policies/acl/pool-reader', {
      policy: `
        # the operator reads the pools and nothing else
        path "secret/data/torchain/*" { capabilities = ["read"] }
        path "secret/metadata/torchain/*" { capabilities = ["list"] }
        path "secret/data/torchain/ns/secret-chain/*" { capabilities = ["deny"] }
        path "secret/data/torchain/+/plus-chain/*" { capabilities = ["deny"] }
      `,
    });
    await root.write('secret/data/torchain/ns/c/hop-1/a', { data: { config: 'x' } });
    await root.write('secret/data/torchain/ns/secret-chain/hop-1/a', { data: { config: 'x' } });
    await root.write('secret/data/torchain/ns/plus-chain/hop-1/a', { data: { config: 'x' } });
    await root.write('secret/data/elsewhere/a', { data: { config: 'x' } });
    const created = await createToken({ policies: ['pool-reader'], ttl: '1h' });
    reader = client(created.auth.client_token);
  });

  it('a path glob grants exactly its capabilities', async () => {
    expect((await reader.read('secret/data/torchain/ns/c/hop-1/a')).data.data).toEqual({ config: 'x' });
    expect((await reader.list('secret/metadata/torchain/ns/c/hop-1')).data.keys).toEqual(['a']);
  });

  it('anything not granted is 403 "permission denied" in Vault\'s multierror text', async () => {
    for (const attempt of [
      reader.read('secret/data/elsewhere/a'),
      reader.write('secret/data/torchain/ns/c/hop-1/a', { data: { config: 'y' } }),
      reader.read('secret/metadata/torchain/ns/c/hop-1/a'),
      reader.list('secret/metadata/elsewhere'),
      reader.write('sys/policies/acl/pool-reader', { policy: 'path "*" { capabilities = ["sudo"] }' }),
    ]) {
      const res = await failure(attempt);
      expect(res.statusCode).toBe(403);
      expect(res.body.errors).toEqual([PERMISSION_DENIED]);
    }
  });

  it('priority: a pattern whose first wildcard comes later wins (deny on the narrower path beats the broad read)', async () => {
    const res = await failure(reader.read('secret/data/torchain/ns/secret-chain/hop-1/a'));
    expect(res.statusCode).toBe(403);
    expect(res.body.errors).toEqual([PERMISSION_DENIED]);
  });

  it('priority: at an equal first wildcard, the pattern with more "+" segments loses (Vault\'s rule 3)', async () => {
    // "secret/data/torchain/+/plus-chain/*" (deny) loses to "secret/data/torchain/*" (read): the read is allowed.
    expect((await reader.read('secret/data/torchain/ns/plus-chain/hop-1/a')).data.data).toEqual({ config: 'x' });
  });

  it('"+" matches exactly one path segment', async () => {
    await root.write('sys/policies/acl/plus', { policy: 'path "secret/data/plus/+/x" { capabilities = ["read"] }' });
    await root.write('secret/data/plus/a/x', { data: { v: 1 } });
    await root.write('secret/data/plus/a/b/x', { data: { v: 2 } });
    const t = client((await createToken({ policies: ['plus'] })).auth.client_token);
    expect((await t.read('secret/data/plus/a/x')).data.data).toEqual({ v: 1 });
    expect((await failure(t.read('secret/data/plus/a/b/x'))).statusCode).toBe(403);
  });

  it('sys/capabilities-self reports what the token may do on a path', async () => {
    const res = await reader.write('sys/capabilities-self', { paths: ['secret/data/torchain/x', 'secret/data/other'] });
    expect(res.data['secret/data/torchain/x']).toEqual(['read']);
    expect(res.data['secret/data/other']).toEqual(['deny']);
  });

  it('create and update are distinct: "create" alone cannot overwrite', async () => {
    await root.write('sys/policies/acl/creator', { policy: 'path "secret/data/new/*" { capabilities = ["create"] }' });
    const creator = client((await createToken({ policies: ['creator'] })).auth.client_token);
    await creator.write('secret/data/new/one', { data: { a: 1 } });
    const res = await failure(creator.write('secret/data/new/one', { data: { a: 2 } }));
    expect(res.statusCode).toBe(403);
  });

  it('a policy that does not parse is 400 and is not stored; the legacy sys/policy endpoint (node-vault addPolicy) works too', async () => {
    const bad = await failure(root.write('sys/policies/acl/broken', { policy: 'path "x" { capabilities = ["fly"] }' }));
    expect(bad.statusCode).toBe(400);
    expect(bad.body.errors?.[0]).toMatch(/failed to parse policy: .*invalid capability "fly"/);
    expect((await failure(root.read('sys/policies/acl/broken'))).statusCode).toBe(404);
    await root.addPolicy({ name: 'legacy', rules: 'path "secret/data/legacy" { capabilities = ["read"] }' });
    expect((await root.getPolicy({ name: 'legacy' })).rules).toContain('secret/data/legacy');
    expect((await root.policies()).policies).toEqual(expect.arrayContaining(['default', 'legacy', 'root']));
  });
});

describe('tokens (https://developer.hashicorp.com/vault/api-docs/auth/token)', () => {
  it('lookup-self shows policies (with "default") and the remaining TTL; renew-self extends it', async () => {
    const created = await createToken({ policies: ['pool-reader'], ttl: '60s', explicit_max_ttl: '300s' });
    expect(created.auth).toMatchObject({ lease_duration: 60, renewable: true, policies: ['default', 'pool-reader'] });
    const t = client(created.auth.client_token);
    const look = await t.tokenLookupSelf();
    expect(look.data).toMatchObject({ creation_ttl: 60, renewable: true, policies: ['default', 'pool-reader'] });
    // TTLs are whole seconds, truncated: a few milliseconds later 60 reads as 59, as in Vault.
    expect(look.data.ttl).toBeGreaterThanOrEqual(59);
    expect(look.data.ttl).toBeLessThanOrEqual(60);
    const renewed = await t.tokenRenewSelf({ increment: '120s' });
    expect(renewed.auth.lease_duration).toBe(120);
    expect((await t.tokenLookupSelf()).data.ttl).toBeGreaterThanOrEqual(119);
  });

  it("a renewal past the max TTL is capped, with Vault's warning", async () => {
    const created = await createToken({ ttl: '60s', explicit_max_ttl: '90s' });
    const t = client(created.auth.client_token);
    const renewed = await t.tokenRenewSelf({ increment: '1h' });
    expect([89, 90]).toContain(renewed.auth.lease_duration);
    expect(renewed.warnings).toHaveLength(1);
    expect(renewed.warnings[0]).toMatch(
      /^TTL of "1h0m0s" exceeded the effective max_ttl of "1m(29|30)s"; TTL value is capped accordingly$/,
    );
  });

  it('an expired token is refused with 403 "permission denied" + "invalid token", and stays dead after renew', async () => {
    const created = await createToken({ policies: ['pool-reader'], ttl: '30s' });
    const t = client(created.auth.client_token);
    await t.read('secret/data/torchain/ns/c/hop-1/a');
    clockOffsetMs += 31_000;
    try {
      const res = await failure(t.read('secret/data/torchain/ns/c/hop-1/a'));
      expect(res.statusCode).toBe(403);
      expect(res.body.errors).toEqual([INVALID_TOKEN]);
      expect((await failure(t.tokenRenewSelf())).statusCode).toBe(403);
    } finally {
      clockOffsetMs -= 31_000;
    }
  });

  it('a request without a token is 403 "permission denied"; a revoked token is "invalid token"', async () => {
    const res = await failure(client().read('secret/data/conf/a'));
    expect(res.statusCode).toBe(403);
    expect(res.body.errors).toEqual(['permission denied']);
    const created = await createToken({ ttl: '1h' });
    const t = client(created.auth.client_token);
    await t.tokenRevokeSelf();
    expect((await failure(t.tokenLookupSelf())).body.errors).toEqual([INVALID_TOKEN]);
  });

  it('a child token cannot hold policies its parent lacks', async () => {
    const parent = client((await createToken({ policies: ['pool-reader'] })).auth.client_token);
    await root.write('sys/policies/acl/token-maker', {
      policy: 'path "auth/token/create" { capabilities = ["update"] }',
    });
    const maker = client((await createToken({ policies: ['pool-reader', 'token-maker'] })).auth.client_token);
    expect((await failure(parent.tokenCreate({ policies: ['pool-reader'] }))).statusCode).toBe(403);
    const res = await failure(maker.tokenCreate({ policies: ['legacy'] }));
    expect(res.statusCode).toBe(400);
    expect(res.body.errors).toEqual(['child policies must be subset of parent']);
  });
});

describe('seal and health (https://developer.hashicorp.com/vault/api-docs/system/health, /system/seal, /system/unseal)', () => {
  it('sys/health is 200 when unsealed; sealed it is 503 with sealed=true, and every other request is 503', async () => {
    expect(await root.health()).toMatchObject({ initialized: true, sealed: false, standby: false });
    vault.seal();
    try {
      // node-vault passes sys/health bodies through whatever the status.
      expect(await root.health()).toMatchObject({ sealed: true });
      const res = await failure(root.read('secret/data/conf/a'));
      expect(res.statusCode).toBe(503);
      expect(res.body.errors).toEqual(['Vault is sealed']);
      expect((await root.status()).sealed).toBe(true);
    } finally {
      vault.unseal();
    }
    expect((await root.read('secret/data/conf/a')).data.data.config).toBe('one');
  });

  it('PUT sys/seal (root) seals; PUT sys/unseal with the key unseals; a wrong key is refused', async () => {
    await root.seal();
    expect((await root.status()).sealed).toBe(true);
    expect((await failure(root.unseal({ key: 'wrong' }))).statusCode).toBe(400);
    const st = await root.unseal({ key: vault.unsealKey });
    expect(st.sealed).toBe(false);
  });

  it('stop() refuses connections and start() serves the same state on the same URL', async () => {
    await vault.stop();
    // Let pooled keep-alive connections see their close; then a new connection is refused.
    await new Promise((r) => setTimeout(r, 100));
    await expect(root.read('secret/data/conf/a')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await vault.start();
    expect((await root.read('secret/data/conf/a')).data.data.config).toBe('one');
  });
});
