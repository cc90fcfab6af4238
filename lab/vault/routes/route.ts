// What every area of lab/vault's API shares: the state the areas act on, a route (the ACL path and capability a
// request needs, and what it does), and Vault's response shapes (https://developer.hashicorp.com/vault/api-docs,
// "HTTP Status Codes", "Error Response"): errors are {"errors":[...]}, successes carry Vault's response envelope.
import type { Http1Response } from '../http1.js';
import type { KubeAuthConfig, KubeRole } from '../kubernetes-auth.js';
import type { KvV2 } from '../kv2.js';
import type { Capability, PathRule } from '../policy.js';
import { newRequestId, type Token, type TokenStore } from '../tokens.js';

export type LogFn = (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;

export interface AuthMount {
  type: 'token' | 'kubernetes';
  config?: KubeAuthConfig;
  roles: Map<string, KubeRole>;
}

export interface StoredPolicy {
  text: string;
  rules: PathRule[];
}

/** The state of one Vault: what the areas read and change (VaultApi holds it). */
export interface VaultState {
  readonly now: () => number;
  readonly log: LogFn;
  readonly tokens: TokenStore;
  readonly unsealKey: string;
  sealed: boolean;
  /** KV v2 engines by mount path (no slashes around it). */
  readonly kv: Map<string, KvV2>;
  /** Auth methods by mount path: `token` always, kubernetes ones as enabled. */
  readonly auth: Map<string, AuthMount>;
  readonly policies: Map<string, StoredPolicy>;
}

/** A request as the routes see it: the method (`LIST` for `GET ?list=true`) and the path after `/v1/`. */
export interface RouteRequest {
  method: string;
  path: string;
  query: URLSearchParams;
}

export interface Route {
  /** Path the ACL is checked against. */
  aclPath: string;
  /** Capability the request needs; undefined = unauthenticated endpoint. */
  cap?: Capability;
  sudo?: boolean;
  run: (token: Token | undefined, body: Record<string, unknown>) => Promise<Http1Response> | Http1Response;
}

/** The routes of one area: the route for a request, or undefined when the request is not the area's. */
export type Area = (vault: VaultState, req: RouteRequest) => Route | undefined;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export function fail(status: number, message: string): never {
  throw new ApiError(status, message);
}

/** 405, as Vault answers a method a path does not take. */
export function unsupported(): never {
  return fail(405, '1 error occurred:\n\t* unsupported operation\n\n');
}

export const isWrite = (method: string): boolean => method === 'POST' || method === 'PUT';

export function envelope(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
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

export const ok = (data: unknown, extra?: Record<string, unknown>): Http1Response => ({
  status: 200,
  body: envelope(data, extra),
});

export const noContent: Http1Response = { status: 204 };

/** A route that changes state and answers 204 No Content, as Vault's writes without a response body do. */
export function effect(
  aclPath: string,
  cap: Capability,
  change: (body: Record<string, unknown>, token: Token | undefined) => void,
  opts: { sudo?: boolean } = {},
): Route {
  return {
    aclPath,
    cap,
    ...(opts.sudo ? { sudo: true } : {}),
    run: (token, body) => {
      change(body, token);
      return noContent;
    },
  };
}
