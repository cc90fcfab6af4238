// Vault's HTTP API for what torchain uses, request in, response out (no sockets here; server.ts listens). This file
// is the front door every request passes: the `/v1/` prefix, `GET ?list=true` as LIST, the seal, the JSON body,
// the token (X-Vault-Token or Authorization: Bearer) and the ACL check of the route's capability. The endpoints live
// by area in routes/ (sys, policies, auth methods, tokens, KV v2), each over the engines beside this file.
// Shapes and status codes follow https://developer.hashicorp.com/vault/api-docs ("HTTP Status Codes", "Error
// Response"): 400 invalid request, 403 permission denied or invalid token, 404 unknown path or missing secret (an
// empty LIST too), 405 unsupported operation, 500 internal error, 503 sealed.
import { randomBytes } from 'node:crypto';
import type { Http1Request, Http1Response } from './http1.js';
import type { KubeAuthConfig } from './kubernetes-auth.js';
import { KvError, KvV2 } from './kv2.js';
import { DEFAULT_POLICY, parsePolicy } from './policy.js';
import { authMethodRoutes, enableKubernetesAuth } from './routes/auth-methods.js';
import { kv2Routes } from './routes/kv2.js';
import { aclFor, policyRoutes } from './routes/policies.js';
import {
  ApiError,
  envelope,
  fail,
  type Area,
  type AuthMount,
  type LogFn,
  type Route,
  type RouteRequest,
  type StoredPolicy,
  type VaultState,
} from './routes/route.js';
import { OPEN_WHEN_SEALED, sysRoutes } from './routes/sys.js';
import { tokenRoutes } from './routes/tokens.js';
import { TokenStore, type Token } from './tokens.js';

export type { LogFn } from './routes/route.js';
export { VAULT_VERSION } from './routes/sys.js';

const PERMISSION_DENIED = '1 error occurred:\n\t* permission denied\n\n';
const INVALID_TOKEN = '2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n';

/** Every area, asked in turn; their paths do not overlap, and KV mounts come last (a mount may be named anything). */
const AREAS: Area[] = [sysRoutes, policyRoutes, authMethodRoutes, tokenRoutes, kv2Routes];

export interface VaultOptions {
  now?: () => number;
  log?: LogFn;
}

export class VaultApi implements VaultState {
  readonly now: () => number;
  readonly log: LogFn;
  readonly tokens: TokenStore;
  readonly rootToken: string;
  readonly unsealKey = randomBytes(32).toString('base64');
  sealed = false;
  readonly kv = new Map<string, KvV2>();
  readonly auth = new Map<string, AuthMount>([['token', { type: 'token', roles: new Map() }]]);
  readonly policies = new Map<string, StoredPolicy>();

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
    enableKubernetesAuth(this, path, config);
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

    if (this.sealed && !OPEN_WHEN_SEALED.has(path)) fail(503, 'Vault is sealed');

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

    const route = this.route({ method, path, query: req.query });
    if (route.cap === undefined) return route.run(undefined, body);

    const header = req.headers['x-vault-token'] ?? req.headers['authorization']?.replace(/^Bearer\s+/i, '');
    if (!header) fail(403, 'permission denied');
    const token = this.tokens.lookup(header);
    if (!token) fail(403, INVALID_TOKEN);
    const acl = aclFor(this, token as Token);
    if (!acl.allows(route.aclPath, route.cap) || (route.sudo && !acl.allows(route.aclPath, 'sudo'))) {
      this.log('info', 'permission denied', { path: route.aclPath, capability: route.cap });
      fail(403, PERMISSION_DENIED);
    }
    return route.run(token, body);
  }

  private route(req: RouteRequest): Route {
    for (const area of AREAS) {
      const route = area(this, req);
      if (route) return route;
    }
    return fail(404, `no handler for route "${req.path}". route entry not found.`);
  }
}
