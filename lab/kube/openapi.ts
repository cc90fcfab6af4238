// A minimal OpenAPI v3 discovery (/openapi/v3 and /openapi/v3/<api|apis/g>/<v>): every resource's paths with their
// operations, `x-kubernetes-group-version-kind`, and the query parameters the server supports (fieldValidation,
// dryRun, fieldManager). kubectl reads it to decide that validation happens server-side (`fieldValidation=Strict`);
// CRD schemas are published under components.schemas as the real server publishes them (kubectl explain).
// Built-in types carry no schema here: kubectl then uses its compiled-in types (with their patch merge keys) for
// strategic merge patches.
// https://kubernetes.io/docs/concepts/overview/kubernetes-api/#openapi-v3
import { createHash } from 'node:crypto';
import type { Registry } from './registry.js';
import type { Obj, ResourceType } from './types.js';

const q = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
const WRITE_PARAMS = [q('dryRun'), q('fieldManager'), q('fieldValidation')];
const LIST_PARAMS = [
  'allowWatchBookmarks',
  'continue',
  'fieldSelector',
  'labelSelector',
  'limit',
  'resourceVersion',
  'resourceVersionMatch',
  'sendInitialEvents',
  'timeoutSeconds',
  'watch',
].map(q);

function schemaId(t: ResourceType, version: string): string {
  const reversed = (t.group || 'io.k8s.api.core').split('.').reverse().join('.');
  return `${reversed}.${version}.${t.kind}`;
}

function gvDoc(reg: Registry, group: string, version: string): Obj {
  const paths: Record<string, Obj> = {};
  const schemas: Record<string, Obj> = {};
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  for (const t of reg.all()) {
    if (t.group !== group) continue;
    const v = t.versions.find((x) => x.name === version && x.served);
    if (!v) continue;
    const id = schemaId(t, version);
    const gvk = { group, version, kind: t.kind };
    const ref = v.schema ? { content: { 'application/json': { schema: { $ref: `#/components/schemas/${id}` } } } } : {};
    const op = (action: string, params: Obj[] = []) => ({
      operationId: `${action}${t.kind}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: params,
      responses: { '200': { description: 'OK', ...ref } },
    });
    const base = t.namespaced ? `${prefix}/namespaces/{namespace}/${t.plural}` : `${prefix}/${t.plural}`;
    if (t.virtual) {
      paths[base] = { post: op('post', WRITE_PARAMS) };
    } else {
      paths[base] = {
        get: op('list', LIST_PARAMS),
        post: op('post', WRITE_PARAMS),
        delete: op('deletecollection', [q('dryRun'), q('propagationPolicy')]),
      };
      paths[`${base}/{name}`] = {
        get: op('get'),
        put: op('put', WRITE_PARAMS),
        patch: op('patch', WRITE_PARAMS),
        delete: op('delete', [q('dryRun'), q('propagationPolicy'), q('gracePeriodSeconds')]),
      };
      if (t.subresources.includes('status'))
        paths[`${base}/{name}/status`] = {
          get: op('get'),
          put: op('put', WRITE_PARAMS),
          patch: op('patch', WRITE_PARAMS),
        };
    }
    // Built-in kinds get no schema: a placeholder would make kubectl compute strategic merge patches without the
    // patch merge keys (every list atomic); without one it uses its compiled-in types, as intended.
    if (v.schema) schemas[id] = { ...v.schema, 'x-kubernetes-group-version-kind': [gvk] };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.31.0' }, paths, components: { schemas } };
}

export class OpenApi {
  private cache = new Map<string, { text: string; hash: string }>();
  private generation = -1;

  constructor(
    private readonly reg: Registry,
    private readonly registryGeneration: () => number,
  ) {}

  private doc(key: string): { text: string; hash: string } {
    if (this.generation !== this.registryGeneration()) {
      this.cache.clear();
      this.generation = this.registryGeneration();
    }
    let c = this.cache.get(key);
    if (!c) {
      const [kind, a, b] = key.split('/');
      const d = kind === 'api' ? gvDoc(this.reg, '', a!) : gvDoc(this.reg, a!, b!);
      const text = JSON.stringify(d);
      c = { text, hash: createHash('sha512').update(text).digest('hex').slice(0, 128).toUpperCase() };
      this.cache.set(key, c);
    }
    return c;
  }

  root(): Obj {
    const paths: Record<string, Obj> = {};
    const add = (key: string) => {
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${this.doc(key).hash}` };
    };
    add('api/v1');
    for (const g of this.reg.groupNames()) for (const v of this.reg.groupVersions(g)) add(`apis/${g}/${v}`);
    return { paths };
  }

  /** The document for `api/v1` or `apis/<g>/<v>`, or undefined when that group version is not served. */
  groupVersion(key: string): string | undefined {
    const parts = key.split('/');
    if (parts[0] === 'api' && parts.length === 2 && parts[1] === 'v1') return this.doc(key).text;
    if (parts[0] === 'apis' && parts.length === 3 && this.reg.hasGroupVersion(parts[1]!, parts[2]!))
      return this.doc(key).text;
    return undefined;
  }
}
