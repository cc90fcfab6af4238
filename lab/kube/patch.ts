// The three patch formats of PATCH requests (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/):
// JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch (built-in kinds only; lists with a
// patch merge key merge by that key, `$patch`, `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…`
// directives as k8s.io/apimachinery/pkg/util/strategicpatch applies them). Pure functions over plain JSON.
import { badRequest, ApiError } from './errors.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386: objects merge recursively, null deletes, everything else (arrays included) replaces. */
export function mergePatch(target: unknown, patch: unknown): Json {
  if (!isObj(patch)) return patch as Json;
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/'))
    throw badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** RFC 6902. Errors are 422 like the real server's "the server rejected our request due to an error in our request". */
export function jsonPatch(target: unknown, ops: unknown): Json {
  if (!Array.isArray(ops)) throw badRequest('json patch must be a JSON array of operations');
  let doc = clone(target) as Json;
  for (const raw of ops as JsonPatchOp[]) {
    if (!isObj(raw as unknown) || typeof raw.op !== 'string' || typeof raw.path !== 'string')
      throw failed(`invalid operation ${JSON.stringify(raw)}`);
    const path = pointer(raw.path);
    switch (raw.op) {
      case 'add':
        doc = add(doc, path, clone(raw.value) as Json);
        break;
      case 'remove':
        doc = remove(doc, path).doc;
        break;
      case 'replace':
        get(doc, path, raw.path);
        doc = add(remove(doc, path).doc, path, clone(raw.value) as Json);
        break;
      case 'move': {
        const from = pointer(raw.from ?? '');
        const r = remove(doc, from);
        doc = add(r.doc, path, r.value);
        break;
      }
      case 'copy':
        doc = add(doc, path, clone(get(doc, pointer(raw.from ?? ''), raw.from ?? '')));
        break;
      case 'test':
        if (JSON.stringify(canonical(get(doc, path, raw.path))) !== JSON.stringify(canonical(raw.value as Json)))
          throw failed(`testing value ${raw.path} failed`);
        break;
      default:
        throw failed(`Unexpected kind: ${raw.op}`);
    }
  }
  return doc;
}

function failed(msg: string): ApiError {
  return new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${msg}`);
}

function canonical(v: Json): Json {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObj(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k]!)]),
    );
  return v;
}

function get(doc: Json, path: string[], text: string): Json {
  let cur: Json = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) {
      const i = Number(seg);
      if (!/^\d+$/.test(seg) || i >= cur.length) throw failed(`unable to find value at ${text}`);
      cur = cur[i]!;
    } else if (isObj(cur) && seg in cur) cur = cur[seg]!;
    else throw failed(`doc is missing path: "${text}": missing value`);
  }
  return cur;
}

function add(doc: Json, path: string[], value: Json): Json {
  if (path.length === 0) return value;
  const parent = get(doc, path.slice(0, -1), '/' + path.slice(0, -1).join('/'));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) throw failed(`add operation index out of bounds: ${last}`);
    parent.splice(i, 0, value);
  } else if (isObj(parent)) parent[last] = value;
  else throw failed(`doc is missing path: "/${path.join('/')}"`);
  return doc;
}

function remove(doc: Json, path: string[]): { doc: Json; value: Json } {
  if (path.length === 0) throw failed('cannot remove the root');
  const parent = get(doc, path.slice(0, -1), '/' + path.slice(0, -1).join('/'));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length)
      throw failed(`remove operation index out of bounds: ${last}`);
    return { doc, value: parent.splice(i, 1)[0]! };
  }
  if (isObj(parent) && last in parent) {
    const value = parent[last]!;
    delete parent[last];
    return { doc, value };
  }
  throw failed(`unable to remove nonexistent key: ${last}: missing value`);
}

/**
 * Patch merge keys of the built-in types torchain, kubectl and the chart touch (from the `patchMergeKey` struct tags
 * of k8s.io/api). A list field not named here is replaced whole, as for fields without a patch strategy.
 */
function mergeKeyFor(field: string, items: Json[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
    case 'secrets':
    case 'readinessGates':
      return field === 'readinessGates' ? 'conditionType' : 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'conditions':
      return 'type';
    case 'ownerReferences':
      return 'uid';
    case 'hostAliases':
      return 'ip';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    case 'ports': {
      // container ports merge by containerPort, service ports by port
      const sample = items.find(isObj);
      if (sample && 'containerPort' in sample) return 'containerPort';
      return 'port';
    }
    default:
      return undefined;
  }
}

/** Primitive lists with `patchStrategy: merge` (union of values) rather than replace. */
const PRIMITIVE_MERGE = new Set(['finalizers']);

/** Strategic merge patch over plain JSON: the patch body as kubectl and clients send it. */
export function strategicMergePatch(target: unknown, patch: unknown): Json {
  if (!isObj(patch)) throw badRequest('strategic merge patch must be a JSON object');
  return smpObject(isObj(target) ? target : {}, patch);
}

function smpObject(target: Obj, patch: Obj): Json {
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return null;
  const out: Obj = { ...target };
  const retain = Array.isArray(patch.$retainKeys) ? new Set(patch.$retainKeys as string[]) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const drop = new Set((v as Json[]).map((x) => JSON.stringify(x)));
      if (Array.isArray(out[field])) out[field] = (out[field] as Json[]).filter((x) => !drop.has(JSON.stringify(x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v)) {
      out[k] = smpList(k, Array.isArray(cur) ? cur : [], v, patch[`$setElementOrder/${k}`] as Json[] | undefined);
    } else if (isObj(v)) {
      const merged = smpObject(isObj(cur) ? cur : {}, v);
      if (merged === null) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.has(k)) delete out[k];
  return out;
}

function smpList(field: string, cur: Json[], patch: Json[], order: Json[] | undefined): Json[] {
  if (patch.some((p) => isObj(p) && p.$patch === 'replace'))
    return stripDirectives(patch.filter((p) => !(isObj(p) && p.$patch === 'replace'))) as Json[];
  if (PRIMITIVE_MERGE.has(field)) {
    const out = [...cur];
    for (const p of patch) if (!out.some((x) => JSON.stringify(x) === JSON.stringify(p))) out.push(p);
    return sortBy(out, order, undefined);
  }
  const key = mergeKeyFor(field, [...patch, ...cur]);
  if (!key) return stripDirectives(patch) as Json[];
  const out = [...cur];
  for (const p of patch) {
    if (!isObj(p)) continue;
    const idx = out.findIndex((x) => isObj(x) && JSON.stringify(x[key]) === JSON.stringify(p[key]));
    if (p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = smpObject(out[idx] as Obj, p);
    else out.push(stripDirectives(p));
  }
  return sortBy(out, order, key);
}

/** Applies `$setElementOrder`: listed elements first in that order, the others after in their current order. */
function sortBy(list: Json[], order: Json[] | undefined, key: string | undefined): Json[] {
  if (!order) return list;
  const id = (x: Json) => JSON.stringify(key && isObj(x) ? x[key] : x);
  const rank = new Map(order.map((o, i) => [id(o), i]));
  return list
    .map((x, i) => ({ x, i, r: rank.get(id(x)) ?? Number.MAX_SAFE_INTEGER }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((e) => e.x);
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}
