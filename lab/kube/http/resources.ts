// The REST verbs on one resource: get/list/watch, create, update, patch, delete and deletecollection, with the
// scale and binding subresources and dry-run; the virtual resources (reviews, TokenRequest) go to reviews.ts.
// https://kubernetes.io/docs/reference/using-api/api-concepts/
import type { WriteOptions } from '../api.js';
import { ApiError, invalid, methodNotAllowed, statusObject } from '../errors.js';
import { jsonPatch, mergePatch } from '../patch.js';
import { toTable } from '../table.js';
import { groupVersion, type KObject, type Obj, type ResourceType } from '../types.js';
import type { Call, HttpDeps } from './context.js';
import { negotiate, parseBody, patchTypeOf, readBody, selectorsOf, sendJson, tableOptions } from './negotiation.js';
import { servePodLog } from './pod-log.js';
import { serveReview, serveTokenRequest } from './reviews.js';
import { serveWatch } from './watch.js';

export async function serveResource(d: HttpDeps, c: Call): Promise<void> {
  const { req, res, route: r, q, user } = c;
  const { api } = d;
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
    // the RBAC API's own admission: no granting of permissions one does not hold (escalate/bind aside)
    admit: d.authz.rbacAdmission(user, t, nsOf()),
  };
  if (t.namespaced && r.name !== undefined && r.ns === undefined)
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');

  if (method === 'GET') {
    if (r.name === undefined) {
      if (r.watchPath || q.get('watch') === 'true' || q.get('watch') === '1') return serveWatch(d, c);
      return list(d, c);
    }
    if (r.watchPath) return serveWatch(d, c, r.name);
    if (r.sub === 'log') return servePodLog(d, c);
    const obj = api.get(t, nsOf(), r.name);
    if (r.sub === 'scale') return sendJson(res, 200, scaleOf(obj));
    return sendObject(c, 200, t, r.version, api.present(t, obj, r.version));
  }
  if (method === 'POST') {
    if (r.sub === 'token') return serveTokenRequest(d, c);
    if (r.sub === 'binding') return bind(d, c);
    if (t.virtual) return serveReview(d, c);
    if (r.name !== undefined || (t.namespaced && r.ns === undefined)) throw methodNotAllowed();
    const body = parseBody(await readBody(req), req.headers['content-type']);
    const created = api.create(t, nsOf(), body, write);
    return sendJson(res, 201, created, 'application/json', warnings);
  }
  if (method === 'PUT') {
    if (r.name === undefined) throw methodNotAllowed();
    const body = parseBody(await readBody(req), req.headers['content-type']);
    if (r.sub === 'scale') return sendJson(res, 200, updateScale(d, t, nsOf(), r.name, body, write));
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
      const patched = type === 'json' ? jsonPatch(current, body) : mergePatch(current, body);
      return sendJson(res, 200, updateScale(d, t, nsOf(), r.name, patched, write));
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
      const { labels, fields } = selectorsOf(api, t, q);
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

function sendObject(c: Call, code: number, t: ResourceType, version: string, obj: KObject): void {
  const { req, res, q } = c;
  const n = negotiate(req.headers.accept);
  if (n.kind === 'table') {
    const table = toTable([obj], tableOptions(t, version, n, q, obj.metadata.resourceVersion));
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

function list(d: HttpDeps, c: Call): void {
  const { req, res, route: r, q } = c;
  const { api } = d;
  const { t } = r;
  const { labels, fields } = selectorsOf(api, t, q);
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
    const table = toTable(items, tableOptions(t, r.version, n, q, result.resourceVersion, result.continueToken));
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
 * POST pods/{name}/binding: what a scheduler does to place a pod on a node (the lab kubelet may act as one).
 * https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/binding-v1/
 */
async function bind(d: HttpDeps, c: Call): Promise<void> {
  const { req, res, route: r } = c;
  const body = parseBody(await readBody(req), req.headers['content-type']) as {
    target?: { kind?: string; name?: string };
  };
  const node = body.target?.name;
  if (!node || (body.target?.kind ?? 'Node') !== 'Node')
    throw invalid('Binding', '', r.name!, [{ field: 'target.name', message: 'Required value' }]);
  const { api } = d;
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

function updateScale(d: HttpDeps, t: ResourceType, ns: string, name: string, body: unknown, write: WriteOptions): Obj {
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
  const updated = d.api.patch(t, ns, name, 'merge', patch, { ...write, subresource: undefined });
  return scaleOf(updated);
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
