// auth/token/: create, lookup-self, renew-self, revoke-self (https://developer.hashicorp.com/vault/api-docs/auth/token),
// and the `auth` block every login, create or renew answers with. TTL bookkeeping is tokens.ts.
import type { Http1Response } from '../http1.js';
import { parseDuration } from '../durations.js';
import { SYSTEM_MAX_TTL, type Token } from '../tokens.js';
import { effect, fail, isWrite, ok, unsupported, type Area, type VaultState } from './route.js';

/** The `auth` block of a login, create or renew answer; lease_duration is the TTL just granted. */
export function authBlock(t: Token, tokenPolicies: string[], lease: number): Record<string, unknown> {
  return {
    client_token: t.id,
    accessor: t.accessor,
    policies: t.policies,
    token_policies: tokenPolicies,
    metadata: t.meta,
    lease_duration: lease,
    renewable: t.renewable,
    entity_id: '',
    token_type: 'service',
    orphan: t.orphan,
    mfa_requirement: null,
    num_uses: 0,
  };
}

export const tokenRoutes: Area = (vault, { method, path }) => {
  const write = isWrite(method);
  if (path === 'auth/token/lookup-self') {
    if (method !== 'GET' && !write) unsupported();
    return { aclPath: path, cap: 'read', run: (t) => ok(vault.tokens.describe(t as Token)) };
  }
  if (path === 'auth/token/renew-self') {
    if (!write) unsupported();
    return { aclPath: path, cap: 'update', run: (t, b) => renewSelf(vault, t as Token, b) };
  }
  if (path === 'auth/token/revoke-self') {
    if (!write) unsupported();
    return effect(path, 'update', (_b, t) => vault.tokens.revoke((t as Token).id));
  }
  if (path === 'auth/token/create') {
    if (!write) unsupported();
    return { aclPath: path, cap: 'update', run: (t, b) => createToken(vault, t as Token, b) };
  }
  return undefined;
};

function renewSelf(vault: VaultState, t: Token, body: Record<string, unknown>): Http1Response {
  if (t.expiresAt === undefined) return ok(null, { auth: authBlock(t, t.policies, 0) });
  if (!t.renewable) fail(400, 'lease is not renewable');
  let increment: number | undefined;
  try {
    increment = parseDuration(body.increment, 'increment');
  } catch (err) {
    fail(400, (err as Error).message);
  }
  let base = t.creationTtl;
  // A login token renews against its role's current TTL (the role may have changed since the login).
  if (t.role) {
    const role = vault.auth.get(t.role.mount)?.roles.get(t.role.name);
    if (!role) fail(500, `role ${t.role.name} does not exist during renewal`);
    base = role.token_ttl || SYSTEM_MAX_TTL;
  }
  const { ttl, warnings } = vault.tokens.renew(t, increment || base || SYSTEM_MAX_TTL);
  return ok(null, { auth: authBlock(t, t.policies, ttl), warnings: warnings.length ? warnings : null });
}

function createToken(vault: VaultState, parent: Token, body: Record<string, unknown>): Http1Response {
  // Restrictions lab/vault does not implement are refused rather than silently dropped.
  for (const f of ['num_uses', 'period', 'bound_cidrs', 'entity_alias', 'role_name']) {
    if (body[f] !== undefined && body[f] !== 0 && body[f] !== '') fail(400, `lab/vault does not implement "${f}"`);
  }
  const isRoot = parent.policies.includes('root');
  let policies: string[];
  if (body.policies === undefined) policies = parent.policies.filter((p) => p !== 'default');
  else if (Array.isArray(body.policies) && body.policies.every((p) => typeof p === 'string')) {
    policies = body.policies as string[];
  } else if (typeof body.policies === 'string') policies = body.policies.split(',').map((s) => s.trim());
  else return fail(400, 'invalid value for "policies": expected a list of strings');
  policies = policies.filter(Boolean).map((p) => p.toLowerCase());
  if (!isRoot && !policies.filter((p) => p !== 'default').every((p) => parent.policies.includes(p))) {
    fail(400, 'child policies must be subset of parent');
  }
  if (body.no_default_policy !== true && !policies.includes('root')) policies.push('default');
  let ttl: number | undefined;
  let explicitMax: number | undefined;
  try {
    ttl = parseDuration(body.ttl, 'ttl');
    explicitMax = parseDuration(body.explicit_max_ttl, 'explicit_max_ttl');
  } catch (err) {
    fail(400, (err as Error).message);
  }
  const parentMax = parent.maxExpiresAt === undefined ? 0 : Math.floor((parent.maxExpiresAt - vault.now()) / 1000);
  const t = vault.tokens.issue({
    policies,
    ttl: ttl ?? 0,
    maxTtl: parentMax > 0 ? parentMax : SYSTEM_MAX_TTL,
    explicitMaxTtl: explicitMax ?? 0,
    renewable: body.renewable !== false,
    path: 'auth/token/create',
    displayName: `token${typeof body.display_name === 'string' ? `-${body.display_name}` : ''}`,
    meta: (body.meta as Record<string, string> | undefined) ?? null,
  });
  return ok(null, { auth: authBlock(t, policies, t.creationTtl) });
}
