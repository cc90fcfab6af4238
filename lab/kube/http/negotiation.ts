// Content negotiation and bodies, as the API server's serializers and handlers do them: JSON, Table and
// PartialObjectMetadata by `Accept`, aggregated discovery, request bodies in JSON, YAML or protobuf (Helm's Secrets),
// patch types by Content-Type, and errors as `Status` objects.
// https://kubernetes.io/docs/reference/using-api/api-concepts/
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { PatchType } from '../api.js';
import { ApiError, badRequest, statusObject, unsupportedMediaType } from '../errors.js';
import { decodeProtobuf } from '../protobuf.js';
import { parseFieldSelector, parseLabelSelector, type FieldRequirement, type Requirement } from '../selectors.js';
import type { IncludeObject } from '../table.js';
import type { Api } from '../api.js';
import type { Obj, ResourceType } from '../types.js';

const MAX_BODY = 3 * 1024 * 1024;

export interface Negotiated {
  kind: 'json' | 'table' | 'metadata';
  tableVersion?: string;
}

/** Reads `Accept` as the server's negotiator does: the first acceptable entry wins. */
export function negotiate(accept: string | undefined): Negotiated {
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

export function wantsAggregated(accept: string | undefined): string | undefined {
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

export function sendError(res: ServerResponse, err: unknown): void {
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

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export function parseBody(buf: Buffer, contentType: string | undefined): unknown {
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

export function patchTypeOf(contentType: string | undefined): PatchType {
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

/** Table rendering options for a resource version and request. */
export function tableOptions(
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

/** labelSelector and fieldSelector of a list/watch/deletecollection; unknown fields are a 400. */
export function selectorsOf(
  api: Api,
  t: ResourceType,
  q: URLSearchParams,
): { labels: Requirement[]; fields: FieldRequirement[] } {
  const labels = parseLabelSelector(q.get('labelSelector') ?? '');
  const fields = parseFieldSelector(q.get('fieldSelector') ?? '');
  api.checkFieldSelector(t, fields);
  return { labels, fields };
}
