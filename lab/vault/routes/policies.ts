// ACL policies: sys/policy and sys/policies/acl (read, write, delete, list), sys/capabilities-self, and the ACL a
// token's policies grant (https://developer.hashicorp.com/vault/api-docs/system/policies,
// …/system/capabilities-self). Parsing and matching are policy.ts.
import type { Http1Response } from '../http1.js';
import { Acl, parsePolicy, type PathRule } from '../policy.js';
import type { Token } from '../tokens.js';
import { effect, fail, isWrite, ok, unsupported, type Area, type Route, type VaultState } from './route.js';

/** The ACL of a token: root allows everything; policies the token names but Vault no longer has grant nothing. */
export function aclFor(vault: VaultState, token: Token): Acl {
  if (token.policies.includes('root')) return new Acl([], true);
  return new Acl(token.policies.flatMap((p) => (vault.policies.has(p) ? [vault.policies.get(p)!.rules] : [])));
}

export const policyRoutes: Area = (vault, { method, path }) => {
  if (path === 'sys/policy' || path === 'sys/policies/acl/' || path === 'sys/policy/') {
    if (method !== 'GET' && method !== 'LIST') unsupported();
    return {
      aclPath: path,
      cap: method === 'LIST' ? 'list' : 'read',
      run: () => {
        const keys = ['root', ...[...vault.policies.keys()].sort()];
        return ok({ keys, policies: keys }, { keys, policies: keys });
      },
    };
  }
  const pol = /^sys\/(?:policy|policies\/acl)\/([^/]+)$/.exec(path);
  if (pol) return policyRoute(vault, method, path, pol[1] as string, path.startsWith('sys/policy/'));
  if (path === 'sys/capabilities-self') {
    if (!isWrite(method)) unsupported();
    return { aclPath: path, cap: 'update', run: (t, b) => capabilitiesSelf(vault, t as Token, b) };
  }
  return undefined;
};

function policyRoute(vault: VaultState, method: string, path: string, name: string, legacy: boolean): Route {
  const lname = name.toLowerCase();
  if (method === 'GET') {
    return {
      aclPath: path,
      cap: 'read',
      run: () => {
        const p = vault.policies.get(lname);
        if (!p) fail(404, '');
        const data = legacy ? { name: lname, rules: p.text } : { name: lname, policy: p.text };
        return ok(data, legacy ? data : {});
      },
    };
  }
  if (isWrite(method)) {
    return effect(path, vault.policies.has(lname) ? 'update' : 'create', (b) => {
      if (lname === 'root') fail(400, 'cannot update "root" policy');
      const text = typeof b.policy === 'string' ? b.policy : typeof b.rules === 'string' ? b.rules : undefined;
      if (text === undefined) fail(400, "'policy' parameter not supplied or empty");
      let rules: PathRule[] = [];
      try {
        rules = parsePolicy(text);
      } catch (err) {
        fail(400, `failed to parse policy: ${(err as Error).message}`);
      }
      vault.policies.set(lname, { text, rules });
    });
  }
  if (method === 'DELETE') {
    return effect(path, 'delete', () => {
      if (lname === 'root' || lname === 'default') fail(400, `cannot delete "${lname}" policy`);
      vault.policies.delete(lname);
    });
  }
  return unsupported();
}

function capabilitiesSelf(vault: VaultState, token: Token, body: Record<string, unknown>): Http1Response {
  const paths = Array.isArray(body.paths) ? body.paths.map(String) : typeof body.path === 'string' ? [body.path] : [];
  if (paths.length === 0) fail(400, '"paths" must be provided');
  const acl = aclFor(vault, token);
  const data: Record<string, string[]> = {};
  for (const p of paths) {
    const caps = [...acl.capabilities(p)];
    data[p] = acl.root ? ['root'] : caps.length ? caps.sort() : ['deny'];
  }
  if (paths.length === 1) data.capabilities = data[paths[0] as string] as string[];
  return ok(data, data);
}
