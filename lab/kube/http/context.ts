// What the HTTP handlers share: the server's parts (HttpDeps) and one request being answered (Call).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Api } from '../api.js';
import type { AuditContext } from '../audit.js';
import type { Authenticator } from '../authn.js';
import type { Authorizer } from '../authz.js';
import type { PodLogs } from '../pod-logs.js';
import type { UserInfo } from '../rbac/types.js';
import type { TokenIssuer } from '../token-request.js';
import type { ResourceType } from '../types.js';

export interface HttpDeps {
  api: Api;
  logs: PodLogs;
  authn: Authenticator;
  authz: Authorizer;
  issuer: TokenIssuer;
  log: (entry: Record<string, unknown>) => void;
  bookmarkIntervalMs: number;
  /** Ends every open watch and log stream (server shutdown). */
  watchClosers: Set<() => void>;
}

/** A resource URL resolved against the registry. */
export interface Route {
  t: ResourceType;
  version: string;
  ns?: string;
  name?: string;
  sub?: string;
  watchPath: boolean;
}

export interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  route: Route;
  q: URLSearchParams;
  /** The user the request acts as (the impersonated one when impersonating). */
  user: UserInfo;
  audit: AuditContext;
}
