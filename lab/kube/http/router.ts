// The HTTP face of lab/kube, in the order of kube-apiserver's handler chain: audit context, authentication (401),
// impersonation, authorisation (403), then the non-resource endpoints, discovery and the resource handlers of
// resources.ts. URLs are laid out as the real server lays them out
// (/api/v1/namespaces/{ns}/{resource}/{name}/{subresource}, /apis/{group}/{version}/...).
// https://kubernetes.io/docs/reference/access-authn-authz/controlling-access/
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuditContext, type AuditLog } from '../audit.js';
import { forbidden } from '../authz.js';
import { ApiError, notFound, unauthorized } from '../errors.js';
import { OpenApi } from '../openapi.js';
import type { UserInfo } from '../rbac/types.js';
import { requestInfo } from '../request-info.js';
import type { TokenAuthority } from '../tokens.js';
import type { HttpDeps, Route } from './context.js';
import { sendError, sendJson, wantsAggregated } from './negotiation.js';
import { serveResource } from './resources.js';

export interface RouterOptions extends HttpDeps {
  tokens: TokenAuthority;
  /** host:port clients reach the server at (for /api serverAddressByClientCIDRs). */
  address: () => string;
  audit?: AuditLog;
}

/** Requests that stream until the client or the server ends them (audited with a ResponseStarted stage too). */
const longRunning = (q: URLSearchParams, path: string): boolean =>
  q.get('watch') === 'true' || q.get('watch') === '1' || q.get('follow') === 'true' || /\/watch\//.test(path);

export class KubeHttp {
  private readonly openapi: OpenApi;
  readonly deps: HttpDeps;

  constructor(private readonly o: RouterOptions) {
    this.openapi = new OpenApi(o.api.registry, () => o.api.registry.generation);
    this.deps = o;
  }

  /** Entry point for node:https. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const audit = new AuditContext(this.o.audit, req);
    res.setHeader('Audit-Id', audit.auditID);
    const url = new URL(req.url ?? '/', 'http://lab');
    res.on('close', () => {
      audit.complete(res.statusCode);
      if (longRunning(url.searchParams, url.pathname)) return;
      this.o.log({
        msg: 'request',
        verb: req.method,
        path: url.pathname,
        code: res.statusCode,
        user: audit.user.username,
        ms: Date.now() - audit.received,
      });
    });
    this.serve(req, res, url, audit).catch((err: unknown) => {
      if (!(err instanceof ApiError))
        this.o.log({
          level: 'error',
          msg: 'internal error answering a request (a lab/kube bug: report it with this line)',
          verb: req.method,
          path: url.pathname,
          error: (err as Error).stack ?? String(err),
        });
      if (err instanceof ApiError) audit.failure = { status: 'Failure', reason: err.reason, message: err.message };
      sendError(res, err);
    });
  };

  private async serve(req: IncomingMessage, res: ServerResponse, url: URL, audit: AuditContext): Promise<void> {
    const info = requestInfo(req.method ?? 'GET', url.pathname, url.searchParams);
    audit.info = info;
    const authn = this.o.authn.authenticate(req);
    if ('error' in authn) {
      // the real server audits a failed authentication at ResponseStarted, with the methods it tried
      audit.failure = { status: 'Failure', reason: 'Unauthorized', message: 'Authentication failed' };
      this.o.log({ level: 'info', msg: 'authentication failed', path: url.pathname, error: authn.error });
      throw unauthorized();
    }
    audit.user = authn.user;
    const user = this.o.authz.impersonate(req, authn.user) ?? authn.user;
    if (user !== authn.user) audit.impersonatedUser = user;
    const { resourceRequest, verb, path, namespace, apiGroup, apiVersion, resource, subresource, name } = info;
    const attrs = { user, resourceRequest, verb, path, namespace, apiGroup, apiVersion, resource, subresource, name };
    const decision = this.o.authz.authorize(attrs);
    audit.annotations['authorization.k8s.io/decision'] = decision.decision === 'allow' ? 'allow' : 'forbid';
    audit.annotations['authorization.k8s.io/reason'] = decision.reason;
    if (decision.decision !== 'allow') throw forbidden(attrs, decision.reason);
    await this.dispatch(req, res, url, user, audit);
  }

  /** Everything after authentication and authorisation: non-resource endpoints, discovery, then resources. */
  private async dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    user: UserInfo,
    audit: AuditContext,
  ): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (path === '/version') {
      sendJson(res, 200, {
        major: '1',
        minor: '31',
        gitVersion: 'v1.31.0-torchain-lab',
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2026-01-01T00:00:00Z',
        goVersion: 'go1.22.0',
        compiler: 'gc',
        platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
      });
      return;
    }
    if (path === '/.well-known/openid-configuration') {
      sendJson(res, 200, {
        issuer: 'https://kubernetes.default.svc.cluster.local',
        jwks_uri: `https://${this.o.address()}/openid/v1/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
      return;
    }
    if (path === '/openid/v1/jwks') {
      sendJson(res, 200, this.o.tokens.jwks(), 'application/jwk-set+json');
      return;
    }
    const accept = req.headers.accept;
    const reg = this.o.api.registry;
    if (path === '/openapi/v2') {
      // Schemas are published through /openapi/v3 only. An empty v2 document makes kubectl/Helm's client-side
      // fallback validation skip kinds it has no schema for, as it does for schema-less kinds on a real server.
      if (/protobuf/.test(accept ?? '')) {
        res.writeHead(200, {
          'Content-Type': 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf',
          'Content-Length': '0',
        });
        return void res.end();
      }
      return sendJson(res, 200, {
        swagger: '2.0',
        info: { title: 'Kubernetes', version: 'v1.31.0' },
        paths: {},
        definitions: {},
      });
    }
    if (path === '/openapi/v3') return sendJson(res, 200, this.openapi.root());
    if (path.startsWith('/openapi/v3/')) {
      const doc = this.openapi.groupVersion(path.slice('/openapi/v3/'.length));
      if (!doc) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(doc)),
        'Cache-Control': url.searchParams.has('hash') ? 'public, immutable' : 'no-cache, private',
      });
      res.end(doc);
      return;
    }
    if (path === '/api') {
      const agg = wantsAggregated(accept);
      if (agg)
        return sendJson(
          res,
          200,
          reg.aggregated(true, `apidiscovery.k8s.io/${agg}`),
          `application/json;g=apidiscovery.k8s.io;v=${agg};as=APIGroupDiscoveryList`,
        );
      return sendJson(res, 200, reg.apiVersions(this.o.address()));
    }
    if (path === '/apis') {
      const agg = wantsAggregated(accept);
      if (agg)
        return sendJson(
          res,
          200,
          reg.aggregated(false, `apidiscovery.k8s.io/${agg}`),
          `application/json;g=apidiscovery.k8s.io;v=${agg};as=APIGroupDiscoveryList`,
        );
      return sendJson(res, 200, reg.apiGroupList());
    }
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api') {
      group = '';
      version = segs[1] ?? '';
      rest = segs.slice(2);
      if (version !== 'v1') throw notFound('', '', path);
    } else if (segs[0] === 'apis') {
      group = segs[1] ?? '';
      if (segs.length === 2) {
        if (!reg.groupVersions(group).length)
          throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
        return sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...reg.apiGroup(group) });
      }
      version = segs[2] ?? '';
      rest = segs.slice(3);
    } else throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (!reg.hasGroupVersion(group, version))
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (rest.length === 0) return sendJson(res, 200, reg.apiResourceList(group, version));
    const route = this.route(group, version, rest);
    await serveResource(this.deps, { req, res, route, q, user, audit });
  }

  private route(group: string, version: string, rest: string[]): Route {
    const reg = this.o.api.registry;
    let watchPath = false;
    if (rest[0] === 'watch') {
      watchPath = true;
      rest = rest.slice(1);
    }
    const nf = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const t = reg.lookup(group, version, rest[2]!);
      if (t && t.namespaced) {
        if (rest.length > 5) throw nf();
        return { t, version, ns: rest[1], name: rest[3], sub: rest[4], watchPath };
      }
      if (group !== '' || !['status', 'finalize'].includes(rest[2]!) || rest.length > 3) throw nf();
    }
    const t = reg.lookup(group, version, rest[0]!);
    if (!t || rest.length > 3) throw nf();
    if (t.namespaced && rest.length > 1) throw nf();
    return { t, version, name: rest[1], sub: rest[2], watchPath };
  }
}
