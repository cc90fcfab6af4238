// What a request asks for, derived from its method and URL exactly as the API server's RequestInfoFactory does
// (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go): resource requests under /api and /apis get a verb from
// the method (GET on a collection is list, or watch with ?watch; DELETE on a collection is deletecollection), a
// namespace, resource, name and subresource; everything else is a non-resource request with the lowercase method.
// A list/watch with `fieldSelector=metadata.name=X` names X, so resourceNames rules can grant it.

export interface RequestInfo {
  resourceRequest: boolean;
  path: string;
  verb: string;
  apiPrefix?: string;
  apiGroup?: string;
  apiVersion?: string;
  namespace?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  /** The parts after the namespace, as the real RequestInfo keeps them. */
  parts?: string[];
}

const API_PREFIXES = new Set(['api', 'apis']);
const GROUPLESS = new Set(['api']);
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** path.IsValidPathSegmentName: a name usable in a URL segment. */
const validSegment = (name: string): boolean => name !== '.' && name !== '..' && !/[/%]/.test(name);

function nameFromFieldSelector(sel: string | null): string | undefined {
  if (!sel) return undefined;
  // RequiresExactMatch: the selector must be exactly one `metadata.name=` (or `==`) term
  const m = /^metadata\.name==?(.*)$/.exec(sel.trim());
  if (!m || /(^|[^\\]),/.test(m[1]!)) return undefined;
  const value = m[1]!.replace(/\\(.)/g, '$1');
  return value && validSegment(value) ? value : undefined;
}

export function requestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const info: RequestInfo = { resourceRequest: false, path, verb: method.toLowerCase() };
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  let parts = trimmed ? trimmed.split('/') : [];
  if (parts.length < 3 || !API_PREFIXES.has(parts[0]!)) return info;
  const apiPrefix = parts[0]!;
  parts = parts.slice(1);
  let apiGroup = '';
  if (!GROUPLESS.has(apiPrefix)) {
    if (parts.length < 3) return info;
    apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  const r: RequestInfo = { ...info, resourceRequest: true, apiPrefix, apiGroup, apiVersion: parts[0] };
  parts = parts.slice(1);
  if (SPECIAL_VERBS.has(parts[0]!)) {
    if (parts.length < 2) return { ...info };
    r.verb = parts[0]!;
    parts = parts.slice(1);
  } else {
    r.verb = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method] ?? '';
  }
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      r.namespace = parts[1];
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  } else r.namespace = '';
  r.parts = parts;
  if (parts.length >= 3 && r.verb !== 'proxy') r.subresource = parts[2];
  if (parts.length >= 2) r.name = parts[1];
  if (parts.length >= 1) r.resource = parts[0];
  if (!r.name && r.verb === 'get') {
    const watch = query.getAll('watch')[0];
    r.verb = watch !== undefined && !['false', '0'].includes(watch.toLowerCase()) ? 'watch' : 'list';
    const byName = nameFromFieldSelector(query.get('fieldSelector'));
    if (byName) r.name = byName;
  }
  if (!r.name && r.verb === 'delete') r.verb = 'deletecollection';
  return r;
}
