// Vault's HTTP API for what torchain uses, request in, response out (no sockets here; server.ts listens).
// Shapes and status codes follow https://developer.hashicorp.com/vault/api-docs (index: "HTTP Status Codes",
// "Error Response"): errors are {"errors":[...]}, 400 invalid request, 403 permission denied or invalid token,
// 404 unknown path or missing secret (an empty LIST too), 405 unsupported operation, 500 internal error,
// 503 sealed. Tokens come in X-Vault-Token (or Authorization: Bearer).
import { randomBytes } from 'node:crypto';
import type { Http1Request, Http1Response } from './http1.js';
import { Acl, DEFAULT_POLICY, parsePolicy, type Capability, type PathRule } from './policy.js';
import { KvError, KvV2 } from './kv2.js';
import { SYSTEM_MAX_TTL, TokenStore, newRequestId, type Token } from './tokens.js';
import { parseDuration } from './durations.js';
import {
  LoginError,
  checkBindings,
  parseConfig,
  parseRole,
  reviewToken,
  serviceAccountFromJwt,
  type KubeAuthConfig,
  type KubeRole,
} from './kubernetes-auth.js';

export const VAULT_VERSION = '1.17.0';
const PERMISSION_DENIED = '1 error occurred:\n\t* permission denied\n\n';
const INVALID_TOKEN = '2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n';

export type LogFn = (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;

interface AuthMount {
  type: 'token' | 'kubernetes';
  config?: KubeAuthConfig;
  roles: Map<string, KubeRole>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

function fail(status: number, message: string): never {
  throw new ApiError(status, message);
}

function envelope(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    request_id: newRequestId(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
    ...extra,
  };
}

const ok = (data: unknown, extra?: Record<string, unknown>): Http1Response => ({
  status: 200,
  body: envelope(data, extra),
});
const noContent: Http1Response = { status: 204 };

interface Route {
  /** Path the ACL is checked against. */
  aclPath: string;
  /** Capability the request needs; undefined = unauthenticated endpoint. */
  cap?: Capability;
  sudo?: boolean;
  run: (token: Token | undefined, body: Record<string, unknown>) => Promise<Http1Response> | Http1Response;
}

export interface VaultOptions {
  now?: () => number;
  log?: LogFn;
}

export class VaultApi {
  readonly now: () => number;
  readonly tokens: TokenStore;
  readonly rootToken: string;
  readonly unsealKey = randomBytes(32).toString('base64');
  sealed = false;
  private readonly kv = new Map<string, KvV2>();
  private readonly auth = new Map<string, AuthMount>([['token', { type: 'token', roles: new Map() }]]);
  private readonly policies = new Map<string, { text: string; rules: PathRule[] }>();
  private readonly log: LogFn;

  constructor(opts: VaultOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => undefined);
    this.tokens = new TokenStore(this.now);
    this.rootToken = this.tokens.createRoot().id;
    this.policies.set('default', { text: DEFAULT_POLICY, rules: parsePolicy(DEFAULT_POLICY) });
    // Like `vault server -dev`: a KV v2 engine at secret/.
    this.kv.set('secret', new KvV2(this.now));
  }

  /** Enables the kubernetes auth method at `path` and configures it (used by startVault's kubeUrl option). */
  enableKubernetesAuth(path: string, config?: Partial<KubeAuthConfig>): void {
    const mount: AuthMount = this.auth.get(path) ?? { type: 'kubernetes', roles: new Map() };
    if (config?.kubernetes_host) mount.config = parseConfig(config as Record<string, unknown>, mount.config);
    this.auth.set(path, mount);
  }

  async handle(req: Http1Request): Promise<Http1Response> {
    try {
      return await this.dispatch(req);
    } catch (err) {
      if (err instanceof ApiError) {
        return { status: err.status, body: err.body ?? { errors: err.message === '' ? [] : [err.message] } };
      }
      if (err instanceof KvError) {
        if (err.body) return { status: err.status, body: envelope(err.body) };
        return { status: err.status, body: { errors: err.message === '' ? [] : [err.message] } };
      }
      this.log('warn', 'internal error', { path: req.path, error: (err as Error).message });
      return { status: 500, body: { errors: [(err as Error).message] } };
    }
  }

  private async dispatch(req: Http1Request): Promise<Http1Response> {
    if (!req.path.startsWith('/v1/')) return { status: 404, body: { errors: [] } };
    let method = req.method.toUpperCase();
    if (method === 'GET' && ['true', '1', 't', 'TRUE', 'True'].includes(req.query.get('list') ?? '')) method = 'LIST';
    if (method === 'HEAD') method = 'GET';
    let path = req.path.slice('/v1/'.length).replace(/^\/+/, '');
    // Vault checks list requests against the path with a trailing slash.
    if (method === 'LIST' && !path.endsWith('/')) path += '/';

    const open = new Set(['sys/health', 'sys/seal-status', 'sys/unseal']);
    if (this.sealed && !open.has(path)) fail(503, 'Vault is sealed');

    let body: Record<string, unknown> = {};
    if (req.body.length > 0 && ['POST', 'PUT', 'PATCH'].includes(method)) {
      try {
        const parsed: unknown = JSON.parse(req.body.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          fail(400, 'failed to parse JSON input: expected a JSON object');
        }
        body = parsed as Record<string, unknown>;
      } catch (err) {
        if (err instanceof ApiError) throw err;
        fail(400, `failed to parse JSON input: ${(err as Error).message}`);
      }
    }

    const route = this.route(method, path, req.query);
    if (route.cap === undefined) return route.run(undefined, body);

    const header = req.headers['x-vault-token'] ?? req.headers['authorization']?.replace(/^Bearer\s+/i, '');
    if (!header) fail(403, 'permission denied');
    const token = this.tokens.lookup(header);
    if (!token) fail(403, INVALID_TOKEN);
    const acl = this.aclFor(token as Token);
    if (!acl.allows(route.aclPath, route.cap) || (route.sudo && !acl.allows(route.aclPath, 'sudo'))) {
      this.log('info', 'permission denied', { path: route.aclPath, capability: route.cap });
      fail(403, PERMISSION_DENIED);
    }
    return route.run(token, body);
  }

  private aclFor(token: Token): Acl {
    if (token.policies.includes('root')) return new Acl([], true);
    return new Acl(token.policies.flatMap((p) => (this.policies.has(p) ? [this.policies.get(p)!.rules] : [])));
  }

  private route(method: string, path: string, query: URLSearchParams): Route {
    const unsupported = (): never => fail(405, '1 error occurred:\n\t* unsupported operation\n\n');
    const write = method === 'POST' || method === 'PUT';

    // --- sys ---
    if (path === 'sys/health') {
      if (method !== 'GET') unsupported();
      return { aclPath: path, run: () => this.health(query) };
    }
    if (path === 'sys/seal-status') {
      if (method !== 'GET') unsupported();
      return { aclPath: path, run: () => ({ status: 200, body: this.sealStatus() }) };
    }
    if (path === 'sys/unseal') {
      if (!write) unsupported();
      return { aclPath: path, run: (_t, b) => this.unseal(b) };
    }
    if (path === 'sys/seal') {
      if (!write) unsupported();
      return {
        aclPath: path,
        cap: 'update',
        sudo: true,
        run: () => {
          this.sealed = true;
          return noContent;
        },
      };
    }
    if (path === 'sys/policy' || path === 'sys/policies/acl/' || path === 'sys/policy/') {
      if (method !== 'GET' && method !== 'LIST') unsupported();
      return {
        aclPath: path,
        cap: method === 'LIST' ? 'list' : 'read',
        run: () => {
          const keys = ['root', ...[...this.policies.keys()].sort()];
          return ok({ keys, policies: keys }, { keys, policies: keys });
        },
      };
    }
    const pol = /^sys\/(?:policy|policies\/acl)\/([^/]+)$/.exec(path);
    if (pol) return this.policyRoute(method, path, pol[1] as string, path.startsWith('sys/policy/'));
    if (path === 'sys/auth') {
      if (method !== 'GET') unsupported();
      return { aclPath: path, cap: 'read', run: () => ok(this.authTable(), this.authTable()) };
    }
    const authEnable = /^sys\/auth\/(.+?)\/?$/.exec(path);
    if (authEnable) return this.authEnableRoute(method, path, authEnable[1] as string);
    if (path === 'sys/mounts') {
      if (method !== 'GET') unsupported();
      return { aclPath: path, cap: 'read', run: () => ok(this.mountTable(), this.mountTable()) };
    }
    const mount = /^sys\/mounts\/(.+?)\/?$/.exec(path);
    if (mount) return this.mountRoute(method, path, mount[1] as string);
    if (path === 'sys/capabilities-self') {
      if (!write) unsupported();
      return { aclPath: path, cap: 'update', run: (t, b) => this.capabilitiesSelf(t as Token, b) };
    }

    // --- auth/token ---
    if (path === 'auth/token/lookup-self') {
      if (method !== 'GET' && !write) unsupported();
      return { aclPath: path, cap: 'read', run: (t) => ok(this.tokens.describe(t as Token)) };
    }
    if (path === 'auth/token/renew-self') {
      if (!write) unsupported();
      return { aclPath: path, cap: 'update', run: (t, b) => this.renewSelf(t as Token, b) };
    }
    if (path === 'auth/token/revoke-self') {
      if (!write) unsupported();
      return {
        aclPath: path,
        cap: 'update',
        run: (t) => {
          this.tokens.revoke((t as Token).id);
          return noContent;
        },
      };
    }
    if (path === 'auth/token/create') {
      if (!write) unsupported();
      return { aclPath: path, cap: 'update', run: (t, b) => this.createToken(t as Token, b) };
    }

    // --- auth/<kubernetes mount> ---
    for (const [mountPath, m] of this.auth) {
      if (m.type !== 'kubernetes' || !path.startsWith(`auth/${mountPath}/`)) continue;
      const rest = path.slice(`auth/${mountPath}/`.length);
      if (rest === 'login') {
        if (!write) unsupported();
        return { aclPath: path, run: (_t, b) => this.kubernetesLogin(mountPath, m, b) };
      }
      if (rest === 'config') return this.kubeConfigRoute(method, path, m);
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
      if (role) return this.kubeRoleRoute(method, path, m, role[1] as string);
    }

    // --- KV v2 mounts (longest mount prefix wins) ---
    const kvMount = [...this.kv.keys()]
      .filter((k) => path === `${k}/` || path.startsWith(`${k}/`))
      .sort((a, b) => b.length - a.length)[0];
    if (kvMount !== undefined) {
      const route = this.kvRoute(method, path, kvMount, this.kv.get(kvMount) as KvV2, query);
      if (route) return route;
    }
    return fail(404, `no handler for route "${path}". route entry not found.`);
  }

  // ---------------------------------------------------------------- sys

  private health(query: URLSearchParams): Http1Response {
    const code = (name: string, dflt: number): number => {
      const v = Number(query.get(name));
      return query.has(name) && Number.isInteger(v) ? v : dflt;
    };
    const body = {
      initialized: true,
      sealed: this.sealed,
      standby: false,
      performance_standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
      server_time_utc: Math.floor(this.now() / 1000),
      version: VAULT_VERSION,
      cluster_name: 'lab-vault',
      cluster_id: 'lab-vault',
    };
    return { status: this.sealed ? code('sealedcode', 503) : code('activecode', 200), body };
  }

  private sealStatus(): Record<string, unknown> {
    return {
      type: 'shamir',
      initialized: true,
      sealed: this.sealed,
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

  private unseal(body: Record<string, unknown>): Http1Response {
    if (body.reset === true) return { status: 200, body: this.sealStatus() };
    if (typeof body.key !== 'string' || body.key === '') fail(400, 'missing required parameter: key');
    if (body.key !== this.unsealKey) fail(400, 'Unseal failed, invalid key');
    this.sealed = false;
    return { status: 200, body: this.sealStatus() };
  }

  private policyRoute(method: string, path: string, name: string, legacy: boolean): Route {
    const lname = name.toLowerCase();
    if (method === 'GET') {
      return {
        aclPath: path,
        cap: 'read',
        run: () => {
          const p = this.policies.get(lname);
          if (!p) fail(404, '');
          const data = legacy ? { name: lname, rules: p!.text } : { name: lname, policy: p!.text };
          return ok(data, legacy ? data : {});
        },
      };
    }
    if (method === 'POST' || method === 'PUT') {
      return {
        aclPath: path,
        cap: this.policies.has(lname) ? 'update' : 'create',
        run: (_t, b) => {
          if (lname === 'root') fail(400, 'cannot update "root" policy');
          const text = typeof b.policy === 'string' ? b.policy : typeof b.rules === 'string' ? b.rules : undefined;
          if (text === undefined) fail(400, "'policy' parameter not supplied or empty");
          let rules: PathRule[] = [];
          try {
            rules = parsePolicy(text as string);
          } catch (err) {
            fail(400, `failed to parse policy: ${(err as Error).message}`);
          }
          this.policies.set(lname, { text: text as string, rules });
          return noContent;
        },
      };
    }
    if (method === 'DELETE') {
      return {
        aclPath: path,
        cap: 'delete',
        run: () => {
          if (lname === 'root' || lname === 'default') fail(400, `cannot delete "${lname}" policy`);
          this.policies.delete(lname);
          return noContent;
        },
      };
    }
    return fail(405, '1 error occurred:\n\t* unsupported operation\n\n');
  }

  private authTable(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [path, m] of this.auth) {
      out[`${path}/`] = {
        type: m.type,
        description: m.type === 'token' ? 'token based credentials' : '',
        local: false,
      };
    }
    return out;
  }

  private authEnableRoute(method: string, path: string, mountPath: string): Route {
    if (method === 'POST' || method === 'PUT') {
      return {
        aclPath: path,
        cap: 'update',
        sudo: true,
        run: (_t, b) => {
          if (this.auth.has(mountPath)) fail(400, `path is already in use at ${mountPath}/`);
          if (b.type !== 'kubernetes') {
            fail(400, `lab/vault supports the "kubernetes" auth method only, not "${String(b.type)}"`);
          }
          this.auth.set(mountPath, { type: 'kubernetes', roles: new Map() });
          return noContent;
        },
      };
    }
    if (method === 'DELETE') {
      return {
        aclPath: path,
        cap: 'delete',
        sudo: true,
        run: () => {
          if (mountPath === 'token') fail(400, 'token credential backend cannot be disabled');
          this.auth.delete(mountPath);
          return noContent;
        },
      };
    }
    return fail(405, '1 error occurred:\n\t* unsupported operation\n\n');
  }

  private mountTable(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const path of this.kv.keys()) out[`${path}/`] = { type: 'kv', options: { version: '2' }, local: false };
    return out;
  }

  private mountRoute(method: string, path: string, mountPath: string): Route {
    if (method === 'POST' || method === 'PUT') {
      return {
        aclPath: path,
        cap: 'update',
        sudo: true,
        run: (_t, b) => {
          if (this.kv.has(mountPath)) fail(400, `path is already in use at ${mountPath}/`);
          const version = (b.options as { version?: unknown } | undefined)?.version;
          if (!(b.type === 'kv-v2' || (b.type === 'kv' && String(version) === '2'))) {
            fail(400, 'lab/vault mounts KV version 2 engines only: {"type":"kv","options":{"version":"2"}}');
          }
          this.kv.set(mountPath, new KvV2(this.now));
          return noContent;
        },
      };
    }
    if (method === 'DELETE') {
      return {
        aclPath: path,
        cap: 'delete',
        sudo: true,
        run: () => {
          this.kv.delete(mountPath);
          return noContent;
        },
      };
    }
    return fail(405, '1 error occurred:\n\t* unsupported operation\n\n');
  }

  private capabilitiesSelf(token: Token, body: Record<string, unknown>): Http1Response {
    const paths = Array.isArray(body.paths) ? body.paths.map(String) : typeof body.path === 'string' ? [body.path] : [];
    if (paths.length === 0) fail(400, '"paths" must be provided');
    const acl = this.aclFor(token);
    const data: Record<string, string[]> = {};
    for (const p of paths) {
      const caps = [...acl.capabilities(p)];
      data[p] = acl.root ? ['root'] : caps.length ? caps.sort() : ['deny'];
    }
    if (paths.length === 1) data.capabilities = data[paths[0] as string] as string[];
    return ok(data, data);
  }

  // ---------------------------------------------------------------- tokens

  /** The `auth` block of a login, create or renew answer; lease_duration is the TTL just granted. */
  private authBlock(t: Token, tokenPolicies: string[], lease: number): Record<string, unknown> {
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

  private renewSelf(t: Token, body: Record<string, unknown>): Http1Response {
    if (t.expiresAt === undefined) return ok(null, { auth: this.authBlock(t, t.policies, 0) });
    if (!t.renewable) fail(400, 'lease is not renewable');
    let increment: number | undefined;
    try {
      increment = parseDuration(body.increment, 'increment');
    } catch (err) {
      fail(400, (err as Error).message);
    }
    let base = t.creationTtl;
    if (t.role) {
      const role = this.auth.get(t.role.mount)?.roles.get(t.role.name);
      if (!role) fail(500, `role ${t.role.name} does not exist during renewal`);
      base = role!.token_ttl || SYSTEM_MAX_TTL;
    }
    const { ttl, warnings } = this.tokens.renew(t, increment || base || SYSTEM_MAX_TTL);
    return ok(null, { auth: this.authBlock(t, t.policies, ttl), warnings: warnings.length ? warnings : null });
  }

  private createToken(parent: Token, body: Record<string, unknown>): Http1Response {
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
    const parentMax = parent.maxExpiresAt === undefined ? 0 : Math.floor((parent.maxExpiresAt - this.now()) / 1000);
    const t = this.tokens.issue({
      policies,
      ttl: ttl ?? 0,
      maxTtl: parentMax > 0 ? parentMax : SYSTEM_MAX_TTL,
      explicitMaxTtl: explicitMax ?? 0,
      renewable: body.renewable !== false,
      path: 'auth/token/create',
      displayName: `token${typeof body.display_name === 'string' ? `-${body.display_name}` : ''}`,
      meta: (body.meta as Record<string, string> | undefined) ?? null,
    });
    return ok(null, { auth: this.authBlock(t, policies, t.creationTtl) });
  }

  // ---------------------------------------------------------------- kubernetes auth

  private kubeConfigRoute(method: string, path: string, m: AuthMount): Route {
    if (method === 'GET') {
      return {
        aclPath: path,
        cap: 'read',
        run: () => {
          if (!m.config) fail(404, '');
          // token_reviewer_jwt is never returned, as in Vault.
          const { token_reviewer_jwt: _hidden, ...shown } = m.config as KubeAuthConfig;
          return ok({ ...shown, token_reviewer_jwt_set: Boolean(_hidden) });
        },
      };
    }
    if (method === 'POST' || method === 'PUT') {
      return {
        aclPath: path,
        cap: 'update',
        run: (_t, b) => {
          try {
            m.config = parseConfig(b, m.config);
          } catch (err) {
            fail(400, (err as Error).message);
          }
          return noContent;
        },
      };
    }
    return fail(405, '1 error occurred:\n\t* unsupported operation\n\n');
  }

  private kubeRoleRoute(method: string, path: string, m: AuthMount, name: string): Route {
    if (method === 'GET') {
      return {
        aclPath: path,
        cap: 'read',
        run: () => {
          const r = m.roles.get(name);
          if (!r) fail(404, '');
          return ok({ ...r, policies: r!.token_policies, ttl: r!.token_ttl, max_ttl: r!.token_max_ttl });
        },
      };
    }
    if (method === 'POST' || method === 'PUT') {
      return {
        aclPath: path,
        cap: m.roles.has(name) ? 'update' : 'create',
        run: (_t, b) => {
          try {
            m.roles.set(name, parseRole(b, m.roles.get(name)));
          } catch (err) {
            fail(400, (err as Error).message);
          }
          return noContent;
        },
      };
    }
    if (method === 'DELETE') {
      return {
        aclPath: path,
        cap: 'delete',
        run: () => {
          m.roles.delete(name);
          return noContent;
        },
      };
    }
    return fail(405, '1 error occurred:\n\t* unsupported operation\n\n');
  }

  private async kubernetesLogin(
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
    if (!m.config) fail(500, 'could not load backend configuration');
    try {
      const sa = serviceAccountFromJwt(jwt, role!.audience);
      checkBindings(role!, sa);
      let reviewed: { name: string; namespace: string; uid: string };
      try {
        reviewed = await reviewToken(m.config as KubeAuthConfig, jwt, role!.audience ? [role!.audience] : sa.aud);
      } catch (err) {
        this.log('info', 'login unauthorized', { role: roleName, error: (err as Error).message });
        throw new LoginError(403, 'permission denied');
      }
      if (reviewed.name !== sa.name || reviewed.namespace !== sa.namespace || (sa.uid && reviewed.uid !== sa.uid)) {
        this.log('info', 'login unauthorized', { role: roleName, error: 'JWT claims do not match the TokenReview' });
        throw new LoginError(403, 'permission denied');
      }
      const policies = [...role!.token_policies, ...(role!.token_no_default_policy ? [] : ['default'])];
      const t = this.tokens.issue({
        policies,
        ttl: role!.token_ttl,
        maxTtl: role!.token_max_ttl,
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
      this.log('info', 'login', { role: roleName, serviceAccount: `${sa.namespace}/${sa.name}`, ttl: t.creationTtl });
      return ok(null, { auth: this.authBlock(t, [...role!.token_policies].sort(), t.creationTtl) });
    } catch (err) {
      if (err instanceof LoginError) fail(err.status, err.message);
      throw err;
    }
  }

  // ---------------------------------------------------------------- KV v2

  private kvRoute(method: string, path: string, mount: string, kv: KvV2, query: URLSearchParams): Route | undefined {
    const rest = path.slice(mount.length + 1);
    const slash = rest.indexOf('/');
    const kind = slash < 0 ? rest : rest.slice(0, slash);
    const sub = slash < 0 ? '' : rest.slice(slash + 1);
    const key = sub.replace(/\/+$/, '');
    const unsupported = (): never => fail(405, '1 error occurred:\n\t* unsupported operation\n\n');
    const versionsBody = (b: Record<string, unknown>): unknown => b.versions;

    if (kind === 'data') {
      if (key === '') return undefined;
      switch (method) {
        case 'GET':
          return {
            aclPath: path,
            cap: 'read',
            run: () => {
              const raw = query.get('version');
              const version = raw === null ? undefined : Number(raw);
              if (version !== undefined && (!Number.isInteger(version) || version < 0)) {
                fail(400, `invalid version "${raw}"`);
              }
              return ok(kv.read(key, version), { mount_type: 'kv' });
            },
          };
        case 'POST':
        case 'PUT':
          return {
            aclPath: path,
            cap: kv.exists(key) ? 'update' : 'create',
            run: (_t, b) => ok(kv.write(key, b.data, b.options as { cas?: unknown } | undefined), { mount_type: 'kv' }),
          };
        case 'PATCH':
          return {
            aclPath: path,
            cap: 'patch',
            run: (_t, b) => {
              const current = kv.read(key).data;
              const patch = (b.data ?? {}) as Record<string, unknown>;
              for (const [k, v] of Object.entries(patch)) {
                if (v === null) delete current[k];
                else current[k] = v;
              }
              return ok(kv.write(key, current, b.options as { cas?: unknown } | undefined), { mount_type: 'kv' });
            },
          };
        case 'DELETE':
          return {
            aclPath: path,
            cap: 'delete',
            run: () => {
              kv.deleteLatest(key);
              return noContent;
            },
          };
        default:
          return unsupported();
      }
    }
    if (kind === 'metadata') {
      switch (method) {
        case 'LIST':
          return {
            aclPath: path,
            cap: 'list',
            run: () => {
              const keys = kv.list(sub);
              // An empty listing is a 404 with no error text, as in Vault.
              if (keys.length === 0) fail(404, '');
              return ok({ keys }, { mount_type: 'kv' });
            },
          };
        case 'GET':
          if (key === '') return undefined;
          return { aclPath: path, cap: 'read', run: () => ok(kv.readMetadata(key), { mount_type: 'kv' }) };
        case 'POST':
        case 'PUT':
          if (key === '') return undefined;
          return {
            aclPath: path,
            cap: kv.exists(key) ? 'update' : 'create',
            run: (_t, b) => {
              kv.writeMetadata(key, b);
              return noContent;
            },
          };
        case 'DELETE':
          if (key === '') return undefined;
          return {
            aclPath: path,
            cap: 'delete',
            run: () => {
              kv.deleteMetadata(key);
              return noContent;
            },
          };
        default:
          return unsupported();
      }
    }
    const versionOps: Record<string, (k: string, v: unknown) => void> = {
      delete: (k, v) => kv.deleteVersions(k, v),
      undelete: (k, v) => kv.undeleteVersions(k, v),
      destroy: (k, v) => kv.destroyVersions(k, v),
    };
    const op = versionOps[kind];
    if (op && key !== '') {
      if (method !== 'POST' && method !== 'PUT') unsupported();
      return {
        aclPath: path,
        cap: 'update',
        run: (_t, b) => {
          op(key, versionsBody(b));
          return noContent;
        },
      };
    }
    return undefined;
  }
}
