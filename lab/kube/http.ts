// The HTTP face of lab/kube: URL routing as the real API server lays it out
// (/api/v1/namespaces/{ns}/{resource}/{name}/{subresource}, /apis/{group}/{version}/...), bearer-token
// authentication, content negotiation (JSON, Table, PartialObjectMetadata), watch streams and pod log streams.
// https://kubernetes.io/docs/reference/using-api/api-concepts/
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { Api, PatchType, WriteOptions } from './api.js';
import { timestamp } from './api.js';
import {
  ApiError,
  badRequest,
  methodNotAllowed,
  notFound,
  statusObject,
  unauthorized,
  unsupportedMediaType,
  invalid,
} from './errors.js';
import { OpenApi } from './openapi.js';
import { decodeProtobuf } from './protobuf.js';
import { parseRfc3339, type LogLine, type PodLogs } from './pod-logs.js';
import { parseFieldSelector, parseLabelSelector, type FieldRequirement, type Requirement } from './selectors.js';
import type { StoreEvent } from './store.js';
import { toTable, type IncludeObject } from './table.js';
import { API_AUDIENCES, ADMIN_USER, serviceAccountUser, type TokenAuthority, type UserInfo } from './tokens.js';
import { groupVersion, resourceKey, type KObject, type Obj, type ResourceType } from './types.js';

export interface HttpOptions {
  api: Api;
  tokens: TokenAuthority;
  logs: PodLogs;
  /** host:port clients reach the server at (for /api serverAddressByClientCIDRs). */
  address: () => string;
  bookmarkIntervalMs: number;
  log: (entry: Record<string, unknown>) => void;
}

const MAX_BODY = 3 * 1024 * 1024;
const WATCH_BUFFER_LIMIT = 32 * 1024 * 1024;

interface Negotiated {
  kind: 'json' | 'table' | 'metadata';
  tableVersion?: string;
}

/** Reads `Accept` as the server's negotiator does: the first acceptable entry wins. */
function negotiate(accept: string | undefined): Negotiated {
  for (const entry of (accept ?? 'application/json').split(',')) {
    const [type, ...params] = entry.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim()) as [string, string]));
    if (type !== 'application/json' && type !== '*/*' && type !== 'application/*') continue;
    if (p.as === 'Table' && p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1'))
      return { kind: 'table', tableVersion: p.v };
    if ((p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') && p.g === 'meta.k8s.io')
      return { kind: 'metadata', tableVersion: p.v };
    if (!p.as) return { kind: 'json' };
  }
  if (/application\/(vnd\.kubernetes\.protobuf|yaml)/.test(accept ?? '') && !/json|\*\/\*/.test(accept ?? ''))
    throw new ApiError(406, 'NotAcceptable', `only the following media types are accepted: application/json`);
  return { kind: 'json' };
}

function wantsAggregated(accept: string | undefined): string | undefined {
  for (const entry of (accept ?? '').split(',')) {
    const p = entry.split(';').map((s) => s.trim());
    if (p.includes('as=APIGroupDiscoveryList') && p.includes('g=apidiscovery.k8s.io')) {
      if (p.includes('v=v2')) return 'v2';
      if (p.includes('v=v2beta1')) return 'v2beta1';
    }
    if (p[0] === 'application/json' && p.length === 1) return undefined;
  }
  return undefined;
}

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  contentType = 'application/json',
  warnings: string[] = [],
): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-cache, private',
  };
  if (warnings.length) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof ApiError) sendJson(res, err.code, err.toStatus());
  else
    sendJson(
      res,
      500,
      statusObject('Failure', 500, 'InternalError', `Internal error occurred: ${(err as Error).message}`),
    );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseBody(buf: Buffer, contentType: string | undefined): unknown {
  const ct = (contentType ?? 'application/json').split(';')[0]!.trim();
  if (ct === 'application/vnd.kubernetes.protobuf') return decodeProtobuf(buf);
  const text = buf.toString('utf8');
  if (!text.trim()) throw badRequest('the body of the request was empty');
  try {
    if (ct.endsWith('yaml')) return parseYaml(text);
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`the object provided is unrecognized: ${(e as Error).message}`);
  }
}

function patchTypeOf(contentType: string | undefined): PatchType {
  const ct = (contentType ?? '').split(';')[0]!.trim();
  switch (ct) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/json-patch+json':
      return 'json';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+cbor':
      // Server-side apply needs field ownership (managedFields) that lab/kube does not track; refuse it plainly
      // rather than merge without removals and conflicts.
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        'lab/kube does not implement server-side apply (application/apply-patch+yaml); use client-side `kubectl apply` or a merge/strategic merge patch',
      );
    default:
      throw unsupportedMediaType(ct || '(none)');
  }
}

interface Route {
  t: ResourceType;
  version: string;
  ns?: string;
  name?: string;
  sub?: string;
  watchPath: boolean;
}

export class KubeHttp {
  private readonly openapi: OpenApi;

  constructor(private readonly o: HttpOptions) {
    this.openapi = new OpenApi(o.api.registry, () => o.api.registry.generation);
  }

  /** Entry point for node:http. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    res.on('finish', () => {
      if (req.url?.includes('watch=') || req.url?.includes('follow=true')) return;
      this.o.log({
        msg: 'request',
        verb: req.method,
        path: req.url?.split('?')[0],
        code: res.statusCode,
        ms: Date.now() - started,
      });
    });
    this.dispatch(req, res).catch((err: unknown) => {
      if (!(err instanceof ApiError))
        this.o.log({
          level: 'error',
          msg: 'internal error answering a request (a lab/kube bug: report it with this line)',
          verb: req.method,
          path: req.url?.split('?')[0],
          error: (err as Error).stack ?? String(err),
        });
      sendError(res, err);
    });
  };

  private authenticate(req: IncomingMessage): UserInfo | undefined {
    const h = req.headers.authorization;
    if (!h?.startsWith('Bearer ')) return undefined;
    const token = h.slice(7).trim();
    if (token === this.o.tokens.adminToken) return ADMIN_USER;
    const r = this.reviewToken(token, undefined);
    return r.authenticated ? r.user : undefined;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lab');
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
    const user = this.authenticate(req);
    if (!user) throw unauthorized();
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
    await this.resource(req, res, route, q, user);
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

  private async resource(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    q: URLSearchParams,
    user: UserInfo,
  ): Promise<void> {
    const { api } = this.o;
    const { t } = r;
    const method = req.method ?? 'GET';
    if (r.sub && !t.subresources.includes(r.sub))
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const nsOf = () => (t.namespaced ? (r.ns ?? '') : '');
    const dryRun = q.getAll('dryRun').includes('All');
    const fv = q.get('fieldValidation');
    const warnings: string[] = [];
    const write: WriteOptions = {
      version: r.version,
      dryRun,
      fieldManager: q.get('fieldManager') ?? undefined,
      fieldValidation: fv === 'Strict' || fv === 'Ignore' || fv === 'Warn' ? fv : undefined,
      warnings,
      subresource: r.sub,
    };
    if (t.namespaced && r.name !== undefined && r.ns === undefined)
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');

    if (method === 'GET') {
      if (r.name === undefined) {
        if (r.watchPath || q.get('watch') === 'true' || q.get('watch') === '1') return this.watch(req, res, r, q);
        return this.list(req, res, r, q);
      }
      if (r.watchPath) return this.watch(req, res, r, q, r.name);
      if (r.sub === 'log') return this.podLog(req, res, r, q);
      const obj = api.get(t, nsOf(), r.name);
      if (r.sub === 'scale') return sendJson(res, 200, scaleOf(obj));
      return this.sendObject(req, res, 200, t, r.version, api.present(t, obj, r.version), q);
    }
    if (method === 'POST') {
      if (r.sub === 'token') return this.tokenRequest(req, res, r);
      if (r.sub === 'binding') return this.bind(req, res, r);
      if (t.plural === 'selfsubjectreviews') {
        // `kubectl auth whoami`: who the server takes the caller for.
        // https://kubernetes.io/docs/reference/access-authn-authz/authentication/#self-subject-review
        await readBody(req);
        return sendJson(res, 201, {
          kind: 'SelfSubjectReview',
          apiVersion: `authentication.k8s.io/${r.version}`,
          metadata: { creationTimestamp: null },
          status: { userInfo: user },
        });
      }
      if (t.virtual) return this.tokenReview(req, res);
      if (r.name !== undefined || (t.namespaced && r.ns === undefined)) throw methodNotAllowed();
      const body = parseBody(await readBody(req), req.headers['content-type']);
      const created = api.create(t, nsOf(), body, write);
      return sendJson(res, 201, created, 'application/json', warnings);
    }
    if (method === 'PUT') {
      if (r.name === undefined) throw methodNotAllowed();
      const body = parseBody(await readBody(req), req.headers['content-type']);
      if (r.sub === 'scale') return sendJson(res, 200, this.updateScale(t, nsOf(), r.name, body, write));
      if (r.sub === 'finalize') write.subresource = undefined;
      const updated = api.update(t, nsOf(), r.name, body, write);
      return sendJson(res, 200, updated, 'application/json', warnings);
    }
    if (method === 'PATCH') {
      if (r.name === undefined) throw methodNotAllowed();
      const type = patchTypeOf(req.headers['content-type']);
      const raw = await readBody(req);
      const body = parseBody(raw, 'application/json');
      if (r.sub === 'scale') {
        const current = scaleOf(api.get(t, nsOf(), r.name));
        const { mergePatch, jsonPatch } = await import('./patch.js');
        const patched = type === 'json' ? jsonPatch(current, body) : mergePatch(current, body);
        return sendJson(res, 200, this.updateScale(t, nsOf(), r.name, patched, write));
      }
      const patched = api.patch(t, nsOf(), r.name, type, body, write);
      return sendJson(res, 200, patched, 'application/json', warnings);
    }
    if (method === 'DELETE') {
      const raw = await readBody(req);
      const opts = raw.length ? (parseBody(raw, req.headers['content-type']) as Obj) : {};
      const policy = (q.get('propagationPolicy') ??
        opts.propagationPolicy ??
        (q.get('orphanDependents') === 'true' || opts.orphanDependents === true ? 'Orphan' : undefined)) as
        'Foreground' | 'Background' | 'Orphan' | undefined;
      if (policy !== undefined && !['Foreground', 'Background', 'Orphan'].includes(policy))
        throw invalid('DeleteOptions', '', '', [
          {
            field: 'propagationPolicy',
            message: `Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan"`,
          },
        ]);
      const del = {
        version: r.version,
        propagationPolicy: policy,
        preconditions: opts.preconditions as { uid?: string; resourceVersion?: string } | undefined,
        dryRun: dryRun || (Array.isArray(opts.dryRun) && (opts.dryRun as string[]).includes('All')),
        gracePeriodSeconds:
          q.get('gracePeriodSeconds') !== null
            ? Number(q.get('gracePeriodSeconds'))
            : (opts.gracePeriodSeconds as number | undefined),
      };
      if (r.name === undefined) {
        if (t.namespaced && r.ns === undefined) throw methodNotAllowed();
        const { labels, fields } = this.selectors(t, q);
        const victims = api.list(t, r.ns, { labels, fields }).items;
        const items = victims.map((v) => api.delete(t, nsOf(), v.metadata.name!, del).obj);
        return sendJson(res, 200, {
          kind: t.listKind,
          apiVersion: groupVersion(t.group, r.version),
          metadata: { resourceVersion: String(api.store.resourceVersion) },
          items,
        });
      }
      const { obj, gone } = api.delete(t, nsOf(), r.name, del);
      return sendJson(res, gone ? 200 : 202, obj);
    }
    throw methodNotAllowed();
  }

  private selectors(t: ResourceType, q: URLSearchParams): { labels: Requirement[]; fields: FieldRequirement[] } {
    const labels = parseLabelSelector(q.get('labelSelector') ?? '');
    const fields = parseFieldSelector(q.get('fieldSelector') ?? '');
    this.o.api.checkFieldSelector(t, fields);
    return { labels, fields };
  }

  private sendObject(
    req: IncomingMessage,
    res: ServerResponse,
    code: number,
    t: ResourceType,
    version: string,
    obj: KObject,
    q: URLSearchParams,
  ): void {
    const n = negotiate(req.headers.accept);
    if (n.kind === 'table') {
      const table = toTable([obj], this.tableOptions(t, version, n, q, obj.metadata.resourceVersion));
      return sendJson(res, code, table, `application/json;as=Table;v=${n.tableVersion};g=meta.k8s.io`);
    }
    if (n.kind === 'metadata')
      return sendJson(res, code, {
        kind: 'PartialObjectMetadata',
        apiVersion: `meta.k8s.io/${n.tableVersion ?? 'v1'}`,
        metadata: obj.metadata,
      });
    sendJson(res, code, obj);
  }

  private tableOptions(
    t: ResourceType,
    version: string,
    n: Negotiated,
    q: URLSearchParams,
    rv?: string,
    cont?: string,
  ) {
    const v = t.versions.find((x) => x.name === version) ?? t.versions[0]!;
    const include = (q.get('includeObject') ?? 'Metadata') as IncludeObject;
    return {
      columns: v.columns,
      includeObject: include,
      withHeaders: true,
      resourceVersion: rv,
      continueToken: cont,
      cells: t.cells as ((o: Obj) => Record<string, unknown>) | undefined,
      tableVersion: n.tableVersion,
    };
  }

  private list(req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams): void {
    const { api } = this.o;
    const { t } = r;
    const { labels, fields } = this.selectors(t, q);
    const limit = q.get('limit') ? Number(q.get('limit')) : undefined;
    const result = api.list(t, r.ns, {
      labels,
      fields,
      limit: limit && limit > 0 ? limit : undefined,
      continueToken: q.get('continue') ?? undefined,
    });
    const n = negotiate(req.headers.accept);
    const items = result.items.map((o) => api.present(t, o, r.version));
    if (n.kind === 'table') {
      const table = toTable(items, this.tableOptions(t, r.version, n, q, result.resourceVersion, result.continueToken));
      return sendJson(res, 200, table, `application/json;as=Table;v=${n.tableVersion};g=meta.k8s.io`);
    }
    const metadata: Obj = { resourceVersion: result.resourceVersion };
    if (result.continueToken) metadata.continue = result.continueToken;
    if (result.remaining !== undefined) metadata.remainingItemCount = result.remaining;
    if (n.kind === 'metadata')
      return sendJson(res, 200, {
        kind: 'PartialObjectMetadataList',
        apiVersion: `meta.k8s.io/${n.tableVersion ?? 'v1'}`,
        metadata,
        items: items.map((o) => ({
          kind: 'PartialObjectMetadata',
          apiVersion: `meta.k8s.io/${n.tableVersion ?? 'v1'}`,
          metadata: o.metadata,
        })),
      });
    sendJson(res, 200, { kind: t.listKind, apiVersion: groupVersion(t.group, r.version), metadata, items });
  }

  /**
   * Watch: replays history after `resourceVersion` (410 Expired as an ERROR event when it is older than the history),
   * or sends the current state as ADDED events when no resourceVersion (or "0") is given; then live events.
   * Objects leaving or entering a selector arrive as DELETED/ADDED, as the watch cache sends them.
   * https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
   */
  private watch(req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams, name?: string): void {
    const { api } = this.o;
    const { t } = r;
    const { labels, fields } = this.selectors(t, q);
    if (name !== undefined) fields.push({ field: 'metadata.name', op: '=', value: name });
    const fieldSel = q.get('fieldSelector') ?? '';
    const nameFromSel = /^metadata\.name=([^,]+)$/.exec(fieldSel)?.[1];
    const n = negotiate(req.headers.accept);
    const rk = resourceKey(t);
    const rvParam = q.get('resourceVersion') ?? '';
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const initialEvents = q.get('sendInitialEvents') === 'true';
    const timeoutSeconds = q.get('timeoutSeconds')
      ? Number(q.get('timeoutSeconds'))
      : 1800 + Math.floor(Math.random() * 1800);
    const ns = t.namespaced ? r.ns : undefined;
    const gv = groupVersion(t.group, r.version);
    let replay: StoreEvent[] | 'expired' = [];
    if (rvParam !== '' && rvParam !== '0' && !initialEvents) {
      if (!/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
      replay = api.store.eventsSince(rk, Number(rvParam));
    }
    res.writeHead(200, {
      'Content-Type':
        n.kind === 'table' ? `application/json;as=Table;v=${n.tableVersion};g=meta.k8s.io` : 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    if (replay === 'expired') {
      const oldest = api.store.oldestRv(rk);
      res.end(
        JSON.stringify({
          type: 'ERROR',
          object: statusObject('Failure', 410, 'Expired', `too old resource version: ${rvParam} (${oldest})`),
        }) + '\n',
      );
      return;
    }
    let first = true;
    let closed = false;
    const encode = (type: string, obj: KObject, ev?: StoreEvent): string => {
      if (n.kind === 'table') {
        const table = toTable([obj.apiVersion === gv ? obj : { ...obj, apiVersion: gv }], {
          ...this.tableOptions(t, r.version, n, q, obj.metadata.resourceVersion),
          withHeaders: first,
        });
        first = false;
        return JSON.stringify({ type, object: table }) + '\n';
      }
      if (n.kind === 'metadata')
        return (
          JSON.stringify({
            type,
            object: {
              kind: 'PartialObjectMetadata',
              apiVersion: `meta.k8s.io/${n.tableVersion ?? 'v1'}`,
              metadata: obj.metadata,
            },
          }) + '\n'
        );
      const key = `${type}|${gv}`;
      const cached = ev?.encoded?.get(key);
      if (cached) return cached;
      const text = JSON.stringify({ type, object: obj.apiVersion === gv ? obj : { ...obj, apiVersion: gv } }) + '\n';
      if (ev) (ev.encoded ??= new Map()).set(key, text);
      return text;
    };
    const write = (text: string) => {
      if (closed) return;
      res.write(text);
      if (res.writableLength > WATCH_BUFFER_LIMIT) {
        this.o.log({ msg: 'watch closed: client too slow', resource: rk, buffered: res.writableLength });
        stop();
        res.destroy();
      }
    };
    const matches = (o: KObject | undefined) =>
      o !== undefined &&
      (nameFromSel === undefined || o.metadata.name === nameFromSel) &&
      api.matches(t, o, labels, fields);
    const deliver = (ev: StoreEvent) => {
      const now = matches(ev.object);
      const before = ev.type !== 'ADDED' && matches(ev.prev);
      if (ev.type === 'ADDED') {
        if (now) write(encode('ADDED', ev.object, ev));
      } else if (ev.type === 'MODIFIED') {
        if (now && before) write(encode('MODIFIED', ev.object, ev));
        else if (now) write(encode('ADDED', ev.object, ev));
        else if (before) write(encode('DELETED', ev.object, ev));
      } else if (before || now) write(encode('DELETED', ev.object, ev));
    };
    if (rvParam === '' || rvParam === '0' || initialEvents) {
      const objs = ns !== undefined ? api.store.list(rk, ns) : api.store.list(rk);
      for (const o of objs) if (matches(o)) write(encode('ADDED', o));
      if (initialEvents)
        write(
          JSON.stringify({
            type: 'BOOKMARK',
            object: {
              kind: t.kind,
              apiVersion: gv,
              metadata: {
                resourceVersion: String(api.store.resourceVersion),
                creationTimestamp: null,
                annotations: { 'k8s.io/initial-events-end': 'true' },
              },
            },
          }) + '\n',
        );
    } else for (const ev of replay) deliver(ev);
    const unwatch = api.store.watch(rk, { namespace: ns, deliver });
    const bookmarkTimer = bookmarks
      ? setInterval(
          () =>
            write(
              JSON.stringify({
                type: 'BOOKMARK',
                object: {
                  kind: t.kind,
                  apiVersion: gv,
                  metadata: { resourceVersion: String(api.store.resourceVersion), creationTimestamp: null },
                },
              }) + '\n',
            ),
          this.o.bookmarkIntervalMs,
        )
      : undefined;
    const timeout = setTimeout(() => {
      stop();
      res.end();
    }, timeoutSeconds * 1000);
    const closer = () => {
      stop();
      res.end();
    };
    const stop = () => {
      if (closed) return;
      closed = true;
      unwatch();
      if (bookmarkTimer) clearInterval(bookmarkTimer);
      clearTimeout(timeout);
      this.watchClosers.delete(closer);
    };
    req.on('close', stop);
    res.on('close', stop);
    this.watchClosers.add(closer);
  }

  /** Ends every open watch (server shutdown). */
  readonly watchClosers = new Set<() => void>();

  /** GET pods/{name}/log: container choice and errors as the kubelet/apiserver word them. */
  private podLog(req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams): void {
    const { api, logs } = this.o;
    const pod = api.get(r.t, r.ns!, r.name!);
    const spec = (pod.spec ?? {}) as Obj;
    const containers = ((spec.containers as Obj[] | undefined) ?? []).map((c) => String(c.name));
    const inits = ((spec.initContainers as Obj[] | undefined) ?? []).map((c) => String(c.name));
    let container = q.get('container') ?? '';
    const podName = pod.metadata.name!;
    if (!container) {
      if (containers.length === 1 && inits.length === 0) container = containers[0]!;
      else
        throw badRequest(
          `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]${inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''}`,
        );
    }
    if (!containers.includes(container) && !inits.includes(container))
      throw badRequest(`container ${container} is not valid for pod ${podName}`);
    const previous = q.get('previous') === 'true';
    const follow = q.get('follow') === 'true' && !previous;
    const stored = logs.read(r.ns!, podName, pod.metadata.uid!, container, previous);
    if (!stored) {
      if (previous) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
      const statuses = [
        ...(((pod.status as Obj | undefined)?.containerStatuses as Obj[] | undefined) ?? []),
        ...(((pod.status as Obj | undefined)?.initContainerStatuses as Obj[] | undefined) ?? []),
      ];
      const st = statuses.find((s) => s.name === container)?.state as Obj | undefined;
      if (!st || (!st.running && !st.terminated)) {
        const reason = ((st?.waiting as Obj | undefined)?.reason as string | undefined) ?? 'ContainerCreating';
        throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
      }
    }
    const timestamps = q.get('timestamps') === 'true';
    let since = -Infinity;
    if (q.get('sinceTime')) {
      since = parseRfc3339(q.get('sinceTime')!);
      if (Number.isNaN(since))
        throw badRequest(`parsing time "${q.get('sinceTime')}" as "2006-01-02T15:04:05Z07:00": cannot parse`);
    } else if (q.get('sinceSeconds')) since = Date.now() - Number(q.get('sinceSeconds')) * 1000;
    let lines = (stored ?? []).filter((l) => l.ms >= since);
    const tail = q.get('tailLines');
    if (tail !== null && Number(tail) >= 0) lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail));
    let budget = q.get('limitBytes') ? Number(q.get('limitBytes')) : Infinity;
    const fmt = (l: LogLine) => (timestamps ? `${l.time} ${l.text}\n` : `${l.text}\n`);
    res.writeHead(200, {
      'Content-Type': 'text/plain',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    const emit = (l: LogLine): boolean => {
      const text = fmt(l);
      if (Buffer.byteLength(text) > budget) {
        res.write(Buffer.from(text).subarray(0, budget));
        budget = 0;
        return false;
      }
      budget -= Buffer.byteLength(text);
      res.write(text);
      return true;
    };
    for (const l of lines) if (!emit(l)) return void res.end();
    if (!follow) return void res.end();
    res.flushHeaders();
    let done = false;
    const stop = () => {
      if (done) return;
      done = true;
      off();
      this.watchClosers.delete(stop);
      res.end();
    };
    const off = logs.follow(r.ns!, podName, pod.metadata.uid!, container, {
      line: (l) => {
        if (done) return;
        if (!emit(l)) stop();
      },
      end: stop,
    });
    req.on('close', stop);
    this.watchClosers.add(stop);
  }

  /**
   * POST pods/{name}/binding: what a scheduler does to place a pod on a node (the lab kubelet may act as one).
   * https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/binding-v1/
   */
  private async bind(req: IncomingMessage, res: ServerResponse, r: Route): Promise<void> {
    const body = parseBody(await readBody(req), req.headers['content-type']) as {
      target?: { kind?: string; name?: string };
    };
    const node = body.target?.name;
    if (!node || (body.target?.kind ?? 'Node') !== 'Node')
      throw invalid('Binding', '', r.name!, [{ field: 'target.name', message: 'Required value' }]);
    const { api } = this.o;
    const pod = api.get(r.t, r.ns!, r.name!);
    const current = (pod.spec as Obj | undefined)?.nodeName;
    if (current)
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on pods/binding "${r.name}": pod ${r.name} is already assigned to node "${String(current)}"`,
        { name: r.name, kind: 'pods/binding' },
      );
    if (pod.metadata.deletionTimestamp)
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on pods/binding "${r.name}": pod ${r.name} is being deleted, cannot be assigned to a host`,
        { name: r.name, kind: 'pods/binding' },
      );
    const stored = api.store.get('/pods', r.ns!, r.name!)!;
    const bound: KObject = {
      ...stored,
      spec: { ...(stored.spec as Obj), nodeName: node },
      metadata: { ...stored.metadata, resourceVersion: String(api.store.nextRv()) },
    };
    api.store.put('/pods', bound, 'MODIFIED');
    sendJson(res, 201, statusObject('Success', 201, undefined, undefined));
  }

  /** Result of validating a bearer token, in TokenReview status form. */
  reviewToken(
    token: string,
    audiences: string[] | undefined,
  ): { authenticated: boolean; user?: UserInfo; audiences?: string[]; error?: string } {
    const wanted = audiences?.length ? audiences : API_AUDIENCES;
    if (token === this.o.tokens.adminToken) return { authenticated: true, user: ADMIN_USER, audiences: wanted };
    const v = this.o.tokens.verify(token, Math.floor(Date.now() / 1000));
    if ('error' in v) return { authenticated: false, error: v.error };
    const c = v.claims;
    const aud = wanted.filter((a) => c.aud.includes(a));
    if (!aud.length)
      return {
        authenticated: false,
        error: `[invalid bearer token, token audiences ${JSON.stringify(c.aud)} is invalid for the target audiences ${JSON.stringify(wanted)}]`,
      };
    const k = c['kubernetes.io'];
    const sa = this.o.api.store.get('/serviceaccounts', k.namespace, k.serviceaccount.name);
    if (!sa)
      return {
        authenticated: false,
        error: `[invalid bearer token, service account ${k.namespace}/${k.serviceaccount.name} has been deleted]`,
      };
    if (sa.metadata.uid !== k.serviceaccount.uid)
      return {
        authenticated: false,
        error: `[invalid bearer token, service account UID (${k.serviceaccount.uid}) does not match claim (${sa.metadata.uid})]`,
      };
    if (k.pod) {
      const pod = this.o.api.store.get('/pods', k.namespace, k.pod.name);
      if (!pod || pod.metadata.deletionTimestamp)
        return { authenticated: false, error: `[invalid bearer token, pod "${k.pod.name}" not found]` };
      if (pod.metadata.uid !== k.pod.uid)
        return {
          authenticated: false,
          error: `[invalid bearer token, pod UID (${pod.metadata.uid}) does not match claim (${k.pod.uid})]`,
        };
    }
    if (k.secret && !this.o.api.store.get('/secrets', k.namespace, k.secret.name))
      return { authenticated: false, error: `[invalid bearer token, secret "${k.secret.name}" not found]` };
    return { authenticated: true, user: serviceAccountUser(c), audiences: aud };
  }

  /** POST /apis/authentication.k8s.io/v1/tokenreviews */
  private async tokenReview(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseBody(await readBody(req), req.headers['content-type']) as Obj;
    const spec = (body.spec ?? {}) as { token?: string; audiences?: string[] };
    if (!spec.token)
      throw invalid('TokenReview', 'authentication.k8s.io', '', [{ field: 'spec.token', message: 'Required value' }]);
    const r = this.reviewToken(spec.token, spec.audiences);
    const status: Obj = r.authenticated
      ? { authenticated: true, user: r.user, audiences: r.audiences }
      : { user: {}, error: r.error };
    sendJson(res, 201, {
      kind: 'TokenReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status,
    });
  }

  /** POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token (TokenRequest). */
  private async tokenRequest(req: IncomingMessage, res: ServerResponse, r: Route): Promise<void> {
    const body = parseBody(await readBody(req), req.headers['content-type']) as Obj;
    const result = this.mintServiceAccountToken(r.ns!, r.name!, (body.spec ?? {}) as TokenRequestSpec);
    sendJson(res, 201, result);
  }

  /** Mints a bound service-account token (TokenRequest semantics); throws the API errors a client would see. */
  mintServiceAccountToken(ns: string, name: string, spec: TokenRequestSpec): Obj {
    const { api } = this.o;
    const saType = api.registry.byGroupResource('', 'serviceaccounts')!;
    const sa = api.get(saType, ns, name);
    const expirationSeconds = spec.expirationSeconds ?? 3600;
    if (expirationSeconds < 600)
      throw invalid('TokenRequest', 'authentication.k8s.io', name, [
        {
          field: 'spec.expirationSeconds',
          message: `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`,
        },
      ]);
    if (expirationSeconds > 2 ** 32)
      throw invalid('TokenRequest', 'authentication.k8s.io', name, [
        {
          field: 'spec.expirationSeconds',
          message: `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds`,
        },
      ]);
    const audiences = spec.audiences?.length ? spec.audiences : API_AUDIENCES;
    const claims: { pod?: { name: string; uid: string }; secret?: { name: string; uid: string } } = {};
    const ref = spec.boundObjectRef;
    if (ref) {
      const kind = ref.kind === 'Pod' ? 'pods' : ref.kind === 'Secret' ? 'secrets' : undefined;
      if (!kind)
        throw invalid('TokenRequest', 'authentication.k8s.io', name, [
          {
            field: 'spec.boundObjectRef.kind',
            message: `Unsupported value: ${JSON.stringify(ref.kind)}: supported values: "Pod", "Secret"`,
          },
        ]);
      const obj = api.get(api.registry.byGroupResource('', kind)!, ns, ref.name ?? '');
      if (ref.uid && ref.uid !== obj.metadata.uid)
        throw new ApiError(
          409,
          'Conflict',
          `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
        );
      claims[ref.kind === 'Pod' ? 'pod' : 'secret'] = { name: obj.metadata.name!, uid: obj.metadata.uid! };
    }
    const now = Math.floor(Date.now() / 1000);
    const exp = now + expirationSeconds;
    const token = this.o.tokens.mint(
      {
        aud: audiences,
        exp,
        sub: `system:serviceaccount:${ns}:${name}`,
        'kubernetes.io': { namespace: ns, serviceaccount: { name, uid: sa.metadata.uid! }, ...claims },
      },
      now,
    );
    return {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace: ns, creationTimestamp: null },
      spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
      status: { token, expirationTimestamp: timestamp(new Date(exp * 1000)) },
    };
  }

  private updateScale(t: ResourceType, ns: string, name: string, body: unknown, write: WriteOptions): Obj {
    const scale = body as { spec?: { replicas?: number }; metadata?: { resourceVersion?: string } };
    const replicas = scale.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
      throw invalid('Scale', 'autoscaling', name, [
        {
          field: 'spec.replicas',
          message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
        },
      ]);
    const patch: Obj = { spec: { replicas } };
    if (scale.metadata?.resourceVersion) patch.metadata = { resourceVersion: scale.metadata.resourceVersion };
    const updated = this.o.api.patch(t, ns, name, 'merge', patch, { ...write, subresource: undefined });
    return scaleOf(updated);
  }
}

export interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
}

function scaleOf(obj: KObject): Obj {
  const spec = (obj.spec ?? {}) as Obj;
  const status = (obj.status ?? {}) as Obj;
  const sel = (spec.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {};
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: {
      replicas: status.replicas ?? 0,
      selector: Object.entries(sel)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  };
}
