// Auth methods: sys/auth (the table, enable, disable) and the kubernetes method's endpoints at its mount —
// config, role, login (https://developer.hashicorp.com/vault/api-docs/system/auth,
// …/api-docs/auth/kubernetes). JWT claims, bindings and the TokenReview call are kubernetes-auth.ts.
import type { Http1Response } from '../http1.js';
import {
  LoginError,
  checkBindings,
  parseConfig,
  parseRole,
  reviewToken,
  serviceAccountFromJwt,
  type KubeAuthConfig,
} from '../kubernetes-auth.js';
import { authBlock } from './tokens.js';
import {
  effect,
  fail,
  isWrite,
  ok,
  unsupported,
  type Area,
  type AuthMount,
  type Route,
  type VaultState,
} from './route.js';

export const authMethodRoutes: Area = (vault, { method, path }) => {
  if (path === 'sys/auth') {
    if (method !== 'GET') unsupported();
    return { aclPath: path, cap: 'read', run: () => ok(authTable(vault), authTable(vault)) };
  }
  const authEnable = /^sys\/auth\/(.+?)\/?$/.exec(path);
  if (authEnable) return authEnableRoute(vault, method, path, authEnable[1] as string);

  for (const [mountPath, m] of vault.auth) {
    if (m.type !== 'kubernetes' || !path.startsWith(`auth/${mountPath}/`)) continue;
    const rest = path.slice(`auth/${mountPath}/`.length);
    if (rest === 'login') {
      if (!isWrite(method)) unsupported();
      return { aclPath: path, run: (_t, b) => kubernetesLogin(vault, mountPath, m, b) };
    }
    if (rest === 'config') return kubeConfigRoute(method, path, m);
    if (rest === 'role/') {
      if (method !== 'LIST') unsupported();
      return {
        aclPath: path,
        cap: 'list',
        run: () => {
          const keys = [...m.roles.keys()].sort();
          if (keys.length === 0) fail(404, '');
          return ok({ keys });
        },
      };
    }
    const role = /^role\/([^/]+)$/.exec(rest);
    if (role) return kubeRoleRoute(method, path, m, role[1] as string);
  }
  return undefined;
};

/** Enables the kubernetes auth method at `path` and configures it (startVault's kubeUrl option). */
export function enableKubernetesAuth(vault: VaultState, path: string, config?: Partial<KubeAuthConfig>): void {
  const mount: AuthMount = vault.auth.get(path) ?? { type: 'kubernetes', roles: new Map() };
  if (config?.kubernetes_host) mount.config = parseConfig(config as Record<string, unknown>, mount.config);
  vault.auth.set(path, mount);
}

function authTable(vault: VaultState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, m] of vault.auth) {
    out[`${path}/`] = {
      type: m.type,
      description: m.type === 'token' ? 'token based credentials' : '',
      local: false,
    };
  }
  return out;
}

function authEnableRoute(vault: VaultState, method: string, path: string, mountPath: string): Route {
  if (isWrite(method)) {
    return effect(
      path,
      'update',
      (b) => {
        if (vault.auth.has(mountPath)) fail(400, `path is already in use at ${mountPath}/`);
        if (b.type !== 'kubernetes') {
          fail(400, `lab/vault supports the "kubernetes" auth method only, not "${String(b.type)}"`);
        }
        vault.auth.set(mountPath, { type: 'kubernetes', roles: new Map() });
      },
      { sudo: true },
    );
  }
  if (method === 'DELETE') {
    return effect(
      path,
      'delete',
      () => {
        if (mountPath === 'token') fail(400, 'token credential backend cannot be disabled');
        vault.auth.delete(mountPath);
      },
      { sudo: true },
    );
  }
  return unsupported();
}

function kubeConfigRoute(method: string, path: string, m: AuthMount): Route {
  if (method === 'GET') {
    return {
      aclPath: path,
      cap: 'read',
      run: () => {
        if (!m.config) fail(404, '');
        // token_reviewer_jwt is never returned, as in Vault.
        const { token_reviewer_jwt: hidden, ...shown } = m.config;
        return ok({ ...shown, token_reviewer_jwt_set: Boolean(hidden) });
      },
    };
  }
  if (isWrite(method)) {
    return effect(path, 'update', (b) => {
      try {
        m.config = parseConfig(b, m.config);
      } catch (err) {
        fail(400, (err as Error).message);
      }
    });
  }
  return unsupported();
}

function kubeRoleRoute(method: string, path: string, m: AuthMount, name: string): Route {
  if (method === 'GET') {
    return {
      aclPath: path,
      cap: 'read',
      run: () => {
        const r = m.roles.get(name);
        if (!r) fail(404, '');
        return ok({ ...r, policies: r.token_policies, ttl: r.token_ttl, max_ttl: r.token_max_ttl });
      },
    };
  }
  if (isWrite(method)) {
    return effect(path, m.roles.has(name) ? 'update' : 'create', (b) => {
      try {
        m.roles.set(name, parseRole(b, m.roles.get(name)));
      } catch (err) {
        fail(400, (err as Error).message);
      }
    });
  }
  if (method === 'DELETE') {
    return effect(path, 'delete', () => m.roles.delete(name));
  }
  return unsupported();
}

async function kubernetesLogin(
  vault: VaultState,
  mountPath: string,
  m: AuthMount,
  body: Record<string, unknown>,
): Promise<Http1Response> {
  const roleName = typeof body.role === 'string' ? body.role : '';
  if (!roleName) fail(400, 'missing role');
  const jwt = typeof body.jwt === 'string' ? body.jwt : '';
  if (!jwt) fail(400, 'missing jwt');
  const role = m.roles.get(roleName);
  if (!role) fail(400, `invalid role name "${roleName}"`);
  const config = m.config;
  if (!config) fail(500, 'could not load backend configuration');
  try {
    const sa = serviceAccountFromJwt(jwt, role.audience);
    checkBindings(role, sa);
    let reviewed: { name: string; namespace: string; uid: string };
    try {
      reviewed = await reviewToken(config, jwt, role.audience ? [role.audience] : sa.aud);
    } catch (err) {
      vault.log('info', 'login unauthorized', { role: roleName, error: (err as Error).message });
      throw new LoginError(403, 'permission denied');
    }
    if (reviewed.name !== sa.name || reviewed.namespace !== sa.namespace || (sa.uid && reviewed.uid !== sa.uid)) {
      vault.log('info', 'login unauthorized', { role: roleName, error: 'JWT claims do not match the TokenReview' });
      throw new LoginError(403, 'permission denied');
    }
    const policies = [...role.token_policies, ...(role.token_no_default_policy ? [] : ['default'])];
    const t = vault.tokens.issue({
      policies,
      ttl: role.token_ttl,
      maxTtl: role.token_max_ttl,
      path: `auth/${mountPath}/login`,
      displayName: `${mountPath}-${sa.namespace}-${sa.name}`,
      orphan: true,
      meta: {
        role: roleName,
        service_account_name: sa.name,
        service_account_namespace: sa.namespace,
        service_account_secret_name: sa.secretName,
        service_account_uid: reviewed.uid,
      },
      role: { mount: mountPath, name: roleName },
    });
    vault.log('info', 'login', { role: roleName, serviceAccount: `${sa.namespace}/${sa.name}`, ttl: t.creationTtl });
    return ok(null, { auth: authBlock(t, [...role.token_policies].sort(), t.creationTtl) });
  } catch (err) {
    if (err instanceof LoginError) fail(err.status, err.message);
    throw err;
  }
}
