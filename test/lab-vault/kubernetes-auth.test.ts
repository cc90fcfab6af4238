// lab/vault's Kubernetes auth method driven by node-vault, against lab/kube: service account tokens come from
// lab/kube's TokenRequest API and lab/vault validates them with lab/kube's TokenReview over HTTPS. Behaviour per https://developer.hashicorp.com/vault/api-docs/auth/kubernetes and
// https://developer.hashicorp.com/vault/docs/auth/kubernetes (and the plugin's path_login.go).
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVault, type LabVault } from '../../lab/vault/server.js';
import { startKubeFixture } from './kube-fixture.js';
import type { KubeFixture } from './kube-fixture.js';

type Client = ReturnType<typeof nodeVault>;

async function failure(p: Promise<unknown>): Promise<{ statusCode: number; body: { errors?: string[] } }> {
  try {
    await p;
  } catch (err) {
    const e = err as { response?: { statusCode: number; body: { errors?: string[] } } };
    if (!e.response) throw err;
    return e.response;
  }
  throw new Error('expected Vault to refuse the request');
}

let kube: KubeFixture;
let vault: LabVault;
let clockOffsetMs = 0;
const client = (token?: string): Client =>
  nodeVault({ endpoint: vault.url, ...(token !== undefined ? { token } : {}) });
const admin = (): Client => client(vault.rootToken);

// node-vault 0.12's addKubernetesRole has a broken request schema (it throws before sending), so roles are written
// with write('auth/kubernetes/role/<name>'), the generic call every Vault client has.
beforeAll(async () => {
  kube = await startKubeFixture();
  vault = await startVault({ now: () => Date.now() + clockOffsetMs });
  // Configure it through the API as an administrator would (vault auth enable kubernetes; vault write auth/.../config).
  await admin().enableAuth({ mount_point: 'kubernetes', type: 'kubernetes' });
  await admin().write('auth/kubernetes/config', {
    kubernetes_host: kube.url,
    kubernetes_ca_cert: kube.caPem,
    token_reviewer_jwt: kube.reviewerToken,
  });
  await admin().write('sys/policies/acl/torchain-operator', {
    policy: `path "secret/data/torchain/*" { capabilities = ["read"] }
             path "secret/metadata/torchain/*" { capabilities = ["list"] }`,
  });
  await admin().write('auth/kubernetes/role/torchain-operator', {
    bound_service_account_names: ['torchain-operator'],
    bound_service_account_namespaces: ['torchain-system'],
    token_policies: ['torchain-operator'],
    token_ttl: '60s',
    token_max_ttl: '120s',
  });
  await admin().write('secret/data/torchain/ns/c/hop-1/a', { data: { config: 'x' } });
});
afterAll(async () => {
  await vault?.close();
  await kube?.close();
});

describe('Kubernetes auth (https://developer.hashicorp.com/vault/api-docs/auth/kubernetes)', () => {
  it('"Login" with a bound service account token returns a token with the role\'s policies, TTL and SA metadata', async () => {
    const jwt = await kube.mintToken('torchain-system', 'torchain-operator');
    const c = client();
    const res = await c.kubernetesLogin({ mount_point: 'kubernetes', role: 'torchain-operator', jwt });
    expect(res.auth).toMatchObject({
      policies: ['default', 'torchain-operator'],
      token_policies: ['torchain-operator'],
      lease_duration: 60,
      renewable: true,
      metadata: {
        role: 'torchain-operator',
        service_account_name: 'torchain-operator',
        service_account_namespace: 'torchain-system',
      },
    });
    expect(res.auth.metadata.service_account_uid).toMatch(/\S/);
    // node-vault adopts the returned token; it reads what the policy allows and nothing else.
    expect((await c.read('secret/data/torchain/ns/c/hop-1/a')).data.data).toEqual({ config: 'x' });
    expect((await failure(c.read('secret/data/elsewhere'))).statusCode).toBe(403);
  });

  it('a service account outside bound_service_account_names is 403 "service account name not authorized"', async () => {
    const jwt = await kube.mintToken('torchain-system', 'default');
    const res = await failure(client().kubernetesLogin({ mount_point: 'kubernetes', role: 'torchain-operator', jwt }));
    expect(res.statusCode).toBe(403);
    expect(res.body.errors).toEqual(['service account name not authorized']);
  });

  it('a namespace outside bound_service_account_namespaces is 403 "namespace not authorized"', async () => {
    const jwt = await kube.mintToken('other', 'torchain-operator');
    const res = await failure(client().kubernetesLogin({ mount_point: 'kubernetes', role: 'torchain-operator', jwt }));
    expect(res.statusCode).toBe(403);
    expect(res.body.errors).toEqual(['namespace not authorized']);
  });

  it('"*" binds every name and namespace', async () => {
    await admin().write('auth/kubernetes/role/anyone', {
      bound_service_account_names: '*',
      bound_service_account_namespaces: '*',
    });
    const jwt = await kube.mintToken('some-ns', 'some-sa');
    const res = await client().kubernetesLogin({ mount_point: 'kubernetes', role: 'anyone', jwt });
    expect(res.auth.policies).toEqual(['default']);
  });

  it('a token TokenReview does not authenticate (forged signature) is 403 "permission denied"', async () => {
    const good = await kube.mintToken('torchain-system', 'torchain-operator');
    const [h, p] = good.split('.');
    const forged = `${h}.${p}.${Buffer.from('not-the-signature').toString('base64url')}`;
    const res = await failure(
      client().kubernetesLogin({ mount_point: 'kubernetes', role: 'torchain-operator', jwt: forged }),
    );
    expect(res.statusCode).toBe(403);
    expect(res.body.errors).toEqual(['permission denied']);
  });

  it('a token of a deleted service account fails TokenReview: 403 "permission denied"', async () => {
    const jwt = await kube.mintToken('torchain-system', 'torchain-operator');
    await client().kubernetesLogin({ mount_point: 'kubernetes', role: 'torchain-operator', jwt });
    await kube.deleteServiceAccount('torchain-system', 'torchain-operator');
    const res = await failure(client().kubernetesLogin({ mount_point: 'kubernetes', role: 'torchain-operator', jwt }));
    expect(res.statusCode).toBe(403);
    expect(res.body.errors).toEqual(['permission denied']);
  });

  it('a TokenReview Vault cannot complete (wrong CA for lab/kube\'s certificate) is 403 "permission denied"', async () => {
    await admin().write('auth/kubernetes/config', { kubernetes_ca_cert: '' });
    try {
      const jwt = await kube.mintToken('torchain-system', 'torchain-operator');
      const res = await failure(
        client().kubernetesLogin({ mount_point: 'kubernetes', role: 'torchain-operator', jwt }),
      );
      expect(res.statusCode).toBe(403);
      expect(res.body.errors).toEqual(['permission denied']);
    } finally {
      await admin().write('auth/kubernetes/config', { kubernetes_ca_cert: kube.caPem });
    }
  });

  it('an unknown role is 400 invalid role name; a missing jwt is 400 "missing jwt"', async () => {
    const jwt = await kube.mintToken('torchain-system', 'torchain-operator');
    const res = await failure(client().kubernetesLogin({ mount_point: 'kubernetes', role: 'nope', jwt }));
    expect(res.statusCode).toBe(400);
    expect(res.body.errors).toEqual(['invalid role name "nope"']);
    const res2 = await failure(client().write('auth/kubernetes/login', { role: 'torchain-operator' }));
    expect(res2.statusCode).toBe(400);
    expect(res2.body.errors).toEqual(['missing jwt']);
  });

  it('the login token renews up to the role\'s token_max_ttl, then expires: 403 "invalid token"', async () => {
    const jwt = await kube.mintToken('torchain-system', 'torchain-operator');
    const c = client();
    await c.kubernetesLogin({ mount_point: 'kubernetes', role: 'torchain-operator', jwt });
    clockOffsetMs += 50_000;
    try {
      // renew-self without increment resets to the role's token_ttl (60s)...
      expect((await c.tokenRenewSelf()).auth.lease_duration).toBe(60);
      clockOffsetMs += 50_000;
      // ...but never past token_max_ttl (120s after login): about 20s are left.
      const capped = await c.tokenRenewSelf();
      expect(capped.auth.lease_duration).toBeLessThanOrEqual(20);
      expect(capped.warnings?.[0]).toMatch(/exceeded the effective max_ttl/);
      clockOffsetMs += 21_000;
      const res = await failure(c.read('secret/data/torchain/ns/c/hop-1/a'));
      expect(res.statusCode).toBe(403);
      expect(res.body.errors).toEqual(['2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n']);
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('role restrictions lab/vault does not implement (bound CIDRs, use counts, periods) are refused, not ignored', async () => {
    const res = await failure(
      admin().write('auth/kubernetes/role/cidr-bound', {
        bound_service_account_names: ['a'],
        bound_service_account_namespaces: ['b'],
        token_bound_cidrs: ['10.0.0.0/8'],
      }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.body.errors?.[0]).toMatch(/token_bound_cidrs/);
    expect((await failure(admin().read('auth/kubernetes/role/cidr-bound'))).statusCode).toBe(404);
  });

  it('roles and config are readable back, without the reviewer JWT; sys/auth lists the method', async () => {
    const role = await admin().getKubernetesRole({ mount_point: 'kubernetes', role_name: 'torchain-operator' });
    expect(role.data).toMatchObject({
      bound_service_account_names: ['torchain-operator'],
      bound_service_account_namespaces: ['torchain-system'],
      token_policies: ['torchain-operator'],
      token_ttl: 60,
      token_max_ttl: 120,
    });
    const config = await admin().read('auth/kubernetes/config');
    expect(config.data.kubernetes_host).toBe(kube.url);
    expect(JSON.stringify(config)).not.toContain(kube.reviewerToken);
    expect((await admin().auths())['kubernetes/']).toMatchObject({ type: 'kubernetes' });
  });

  it('login is unauthenticated but a role write needs a policy: a login token cannot change roles', async () => {
    const jwt = await kube.mintToken('torchain-system', 'torchain-operator');
    const c = client();
    await c.kubernetesLogin({ mount_point: 'kubernetes', role: 'torchain-operator', jwt });
    const res = await failure(
      c.write('auth/kubernetes/role/torchain-operator', {
        bound_service_account_names: '*',
        bound_service_account_namespaces: '*',
      }),
    );
    expect(res.statusCode).toBe(403);
  });
});
