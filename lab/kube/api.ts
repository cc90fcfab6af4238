// The REST semantics of the Kubernetes API over the store: create/get/list/update/patch/delete with the rules a
// client can observe — uid, creationTimestamp, generateName, resourceVersion preconditions (409), metadata.generation
// moving only with the spec, the status subresource, finalizers and deletionTimestamp, CRD schema defaulting,
// pruning and validation (422), namespace existence and termination. The HTTP layer and the in-process controllers
// both go through this class, so the rules hold for everything that writes.
// https://kubernetes.io/docs/reference/using-api/api-concepts/
import { randomUUID } from 'node:crypto';
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  invalid,
  MODIFIED,
  notFound,
  unsupportedMediaType,
  type FieldProblem,
} from './errors.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import type { Registry } from './registry.js';
import { applyDefaults, dropNulls, prune } from './schema/ops.js';
import { matchFields, matchLabels, type FieldRequirement, type Requirement } from './selectors.js';
import type { Store } from './store.js';
import { groupVersion, resourceKey, type KObject, type Obj, type ObjectMeta, type ResourceType } from './types.js';
import { CRD_CLEANUP_FINALIZER, crdStatus, prepareCrd, validateCrd } from './crd.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** Resources whose names are DNS labels rather than subdomains. */
const LABEL_NAMED = new Set(['/namespaces', '/services']);
/** RBAC objects are named by path segment (ValidateRBACName = path.IsValidPathSegmentName): `system:…` is fine. */
const SEGMENT_NAMED = new Set(
  ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'].map((r) => `rbac.authorization.k8s.io/${r}`),
);
/** NamespaceLifecycle admission refuses to delete these. */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export type PatchType = 'merge' | 'json' | 'strategic';

export interface WriteOptions {
  subresource?: string;
  dryRun?: boolean;
  /** Version the client addressed (objects are returned in it). */
  version: string;
  fieldManager?: string;
  /** Unknown fields of a custom resource: refused (Strict), reported as warnings (Warn, the default) or ignored. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** Filled with warnings for the `Warning` response header. */
  warnings?: string[];
  /** Admission for the requesting user, called with the object about to be written (throws to refuse it). */
  admit?: (obj: KObject, old?: KObject) => void;
}

export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  gracePeriodSeconds?: number;
}

export interface ListOptions {
  labels: Requirement[];
  fields: FieldRequirement[];
  limit?: number;
  continueToken?: string;
}

export interface ListResult {
  items: KObject[];
  resourceVersion: string;
  continueToken?: string;
  remaining?: number;
}

export type Clock = () => Date;

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class Api {
  /** Hooks run after a CRD is stored or removed (the HTTP layer registers/unregisters its resource). */
  onCrdChange?: () => void;
  /** Mutating admission plugins run on create, before validation (e.g. the ServiceAccount plugin on pods). */
  readonly admissionOnCreate: Array<(t: ResourceType, ns: string, obj: KObject) => void> = [];

  constructor(
    readonly store: Store,
    readonly registry: Registry,
    private readonly clock: Clock = () => new Date(),
  ) {}

  now(): string {
    return timestamp(this.clock());
  }

  /** The object as the client's version sees it (conversion strategy None: only apiVersion differs). */
  present(t: ResourceType, obj: KObject, version: string): KObject {
    const gv = groupVersion(t.group, version);
    return obj.apiVersion === gv ? obj : { ...obj, apiVersion: gv };
  }

  get(t: ResourceType, ns: string, name: string): KObject {
    const obj = this.store.get(resourceKey(t), t.namespaced ? ns : '', name);
    if (!obj) throw notFound(t.plural, t.group, name);
    return obj;
  }

  fieldsOf(t: ResourceType, obj: KObject): Record<string, string> {
    const base = { 'metadata.name': obj.metadata.name ?? '', 'metadata.namespace': obj.metadata.namespace ?? '' };
    return t.fields ? { ...base, ...t.fields(obj) } : base;
  }

  checkFieldSelector(t: ResourceType, fields: FieldRequirement[]): void {
    if (!fields.length) return;
    const probe = this.fieldsOf(t, { apiVersion: '', kind: t.kind, metadata: {} });
    for (const f of fields) if (!(f.field in probe)) throw badRequest(`field label not supported: ${f.field}`);
  }

  matches(t: ResourceType, obj: KObject, labels: Requirement[], fields: FieldRequirement[]): boolean {
    if (labels.length && !matchLabels(labels, obj.metadata.labels)) return false;
    if (fields.length && !matchFields(fields, this.fieldsOf(t, obj))) return false;
    return true;
  }

  list(t: ResourceType, ns: string | undefined, opts: ListOptions): ListResult {
    this.checkFieldSelector(t, opts.fields);
    const all = this.store.list(resourceKey(t), t.namespaced ? ns : undefined);
    const rv = String(this.store.resourceVersion);
    let start = 0;
    if (opts.continueToken) {
      let key: string;
      try {
        const tok = JSON.parse(Buffer.from(opts.continueToken, 'base64url').toString()) as { start: string };
        key = tok.start;
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data');
      }
      start = all.findIndex((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > key);
      if (start < 0) start = all.length;
    }
    const items: KObject[] = [];
    let i = start;
    for (; i < all.length; i++) {
      const o = all[i]!;
      if (!this.matches(t, o, opts.labels, opts.fields)) continue;
      if (opts.limit && items.length >= opts.limit) break;
      items.push(o);
    }
    if (opts.limit && i < all.length && items.length) {
      const last = items[items.length - 1]!;
      const tok = Buffer.from(
        JSON.stringify({ rv: Number(rv), start: `${last.metadata.namespace ?? ''}/${last.metadata.name}` }),
      ).toString('base64url');
      const remaining = opts.labels.length || opts.fields.length ? undefined : all.length - i;
      return { items, resourceVersion: rv, continueToken: tok, remaining };
    }
    return { items, resourceVersion: rv };
  }

  /** Validates identity/metadata of an incoming object against the URL; fills apiVersion/kind. */
  private checkIdentity(t: ResourceType, body: unknown, ns: string, version: string, urlName?: string): KObject {
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badRequest(`the body of the request was not a JSON object for ${t.kind}`);
    const obj = body as KObject;
    const gv = groupVersion(t.group, version);
    if (obj.apiVersion !== undefined && obj.apiVersion !== gv)
      throw badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`,
      );
    if (obj.kind !== undefined && obj.kind !== t.kind)
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${t.kind})`);
    obj.apiVersion = gv;
    obj.kind = t.kind;
    if (!obj.metadata || typeof obj.metadata !== 'object') obj.metadata = {};
    const meta = obj.metadata;
    if (urlName !== undefined && meta.name !== undefined && meta.name !== urlName)
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${urlName})`);
    if (urlName !== undefined) meta.name = urlName;
    if (t.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== ns)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = ns;
    } else delete meta.namespace;
    return obj;
  }

  private validateMeta(t: ResourceType, obj: KObject): FieldProblem[] {
    const out: FieldProblem[] = [];
    const meta = obj.metadata;
    const name = meta.name ?? '';
    const label = LABEL_NAMED.has(resourceKey(t));
    if (!name) out.push({ field: 'metadata.name', message: 'Required value: name or generateName is required' });
    else if (SEGMENT_NAMED.has(resourceKey(t))) {
      if (name === '.' || name === '..')
        out.push({ field: 'metadata.name', message: `Invalid value: "${name}": may not be '${name}'` });
      for (const bad of ['/', '%'])
        if (name.includes(bad))
          out.push({ field: 'metadata.name', message: `Invalid value: "${name}": may not contain '${bad}'` });
    } else if (label ? !DNS_LABEL.test(name) || name.length > 63 : !DNS_SUBDOMAIN.test(name) || name.length > 253)
      out.push({
        field: 'metadata.name',
        message: label
          ? `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`
          : `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      });
    for (const [k, v] of Object.entries(meta.labels ?? {})) {
      if (!QUALIFIED_NAME.test(k) || k.split('/').pop()!.length > 63)
        out.push({
          field: 'metadata.labels',
          message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
        });
      if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v))
        out.push({
          field: 'metadata.labels',
          message: `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
        });
    }
    for (const [k, v] of Object.entries(meta.annotations ?? {})) {
      if (!QUALIFIED_NAME.test(k))
        out.push({
          field: 'metadata.annotations',
          message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'`,
        });
      if (typeof v !== 'string')
        out.push({ field: `metadata.annotations`, message: `Invalid value: ${JSON.stringify(v)}: must be a string` });
    }
    (meta.ownerReferences ?? []).forEach((r, i) => {
      for (const f of ['apiVersion', 'kind', 'name', 'uid'] as const)
        if (!r[f]) out.push({ field: `metadata.ownerReferences[${i}].${f}`, message: 'Required value' });
    });
    if ((meta.ownerReferences ?? []).filter((r) => r.controller === true).length > 1)
      out.push({
        field: 'metadata.ownerReferences',
        message: 'Invalid value: only one reference can have Controller set to true',
      });
    return out;
  }

  /** Defaulting, pruning and schema validation of a custom resource in the request's version. */
  private customResource(t: ResourceType, obj: KObject, opts: WriteOptions, old?: KObject): FieldProblem[] {
    const v = t.versions.find((x) => x.name === opts.version);
    if (!v?.schema || !v.validate) return [];
    dropNulls(obj, v.schema);
    applyDefaults(obj, v.schema);
    const dropped = prune(obj, v.schema);
    if (dropped.length && opts.fieldValidation === 'Strict')
      throw badRequest(`strict decoding error: ${dropped.map((d) => `unknown field "${d}"`).join(', ')}`);
    if (dropped.length && opts.fieldValidation !== 'Ignore')
      opts.warnings?.push(...dropped.map((d) => `unknown field "${d}"`));
    return v.validate(obj, old).filter((p) => !p.field.startsWith('metadata'));
  }

  private namespaceCheck(t: ResourceType, ns: string, creating: boolean): void {
    if (!t.namespaced) return;
    const nsObj = this.store.get('/namespaces', '', ns);
    if (!nsObj) throw notFound('namespaces', '', ns);
    if (creating && nsObj.metadata.deletionTimestamp)
      throw new ApiError(
        403,
        'Forbidden',
        `unable to create new content in namespace ${ns} because it is being terminated`,
        {
          name: ns,
          kind: 'namespaces',
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: `namespace ${ns} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      );
  }

  private generation(t: ResourceType, obj: KObject, old: KObject): number | undefined {
    if (!t.generation) return old.metadata.generation;
    const strip = (o: KObject) => {
      const { metadata: _m, status: _s, ...rest } = o;
      return JSON.stringify(t.subresources.includes('status') ? rest : { ...rest, status: o.status });
    };
    const g = old.metadata.generation ?? 1;
    return strip(obj) === strip(old) ? g : g + 1;
  }

  create(t: ResourceType, ns: string, body: unknown, opts: WriteOptions): KObject {
    const obj = this.checkIdentity(t, body, ns, opts.version);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = this.generateName(t, ns, meta.generateName);
    this.namespaceCheck(t, ns, true);
    if (t.subresources.includes('status')) delete obj.status;
    if (resourceKey(t) === 'apiextensions.k8s.io/customresourcedefinitions') prepareCrd(obj);
    t.prepare?.(obj, undefined);
    for (const plugin of this.admissionOnCreate) plugin(t, ns, obj);
    opts.admit?.(obj);
    const problems = [
      ...this.validateMeta(t, obj),
      ...this.customResource(t, obj, opts),
      ...(t.validate?.(obj, undefined) ?? []),
    ];
    if (resourceKey(t) === 'apiextensions.k8s.io/customresourcedefinitions')
      problems.push(...validateCrd(obj, undefined));
    if (problems.length) throw invalid(t.kind, t.group, meta.name || meta.generateName || '', problems);
    const existing = this.store.get(resourceKey(t), t.namespaced ? ns : '', meta.name!);
    if (existing) throw alreadyExists(t.plural, t.group, meta.name!);
    const stored: KObject = {
      ...obj,
      apiVersion: groupVersion(t.group, this.storageVersion(t)),
      metadata: {
        ...meta,
        uid: randomUUID(),
        creationTimestamp: this.now(),
        ...(t.generation ? { generation: 1 } : {}),
        resourceVersion: '0',
      },
    };
    delete stored.metadata.deletionTimestamp;
    delete stored.metadata.deletionGracePeriodSeconds;
    if (resourceKey(t) === 'apiextensions.k8s.io/customresourcedefinitions') {
      stored.status = crdStatus(stored, this.now());
      const finalizers = stored.metadata.finalizers ?? [];
      if (!finalizers.includes(CRD_CLEANUP_FINALIZER))
        stored.metadata.finalizers = [...finalizers, CRD_CLEANUP_FINALIZER];
    }
    if (opts.dryRun) return this.present(t, stored, opts.version);
    stored.metadata.resourceVersion = String(this.store.nextRv());
    this.store.put(resourceKey(t), stored, 'ADDED');
    if (resourceKey(t) === 'apiextensions.k8s.io/customresourcedefinitions') this.onCrdChange?.();
    return this.present(t, stored, opts.version);
  }

  private storageVersion(t: ResourceType): string {
    return (t.versions.find((v) => v.storage) ?? t.versions[0]!).name;
  }

  private generateName(t: ResourceType, ns: string, prefix: string): string {
    const base = prefix.length > 58 ? prefix.slice(0, 58) : prefix;
    for (;;) {
      let s = '';
      for (let i = 0; i < 5; i++) s += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
      if (!this.store.get(resourceKey(t), t.namespaced ? ns : '', base + s)) return base + s;
    }
  }

  /** PUT semantics. `body` is the client's full object; the subresource decides which part of it counts. */
  update(t: ResourceType, ns: string, name: string, body: unknown, opts: WriteOptions): KObject {
    const obj = this.checkIdentity(t, body, ns, opts.version, name);
    const old = this.store.get(resourceKey(t), t.namespaced ? ns : '', name);
    if (!old) throw notFound(t.plural, t.group, name);
    const rv = obj.metadata.resourceVersion;
    if (rv === undefined || rv === '') {
      if (!t.unconditionalUpdate)
        throw invalid(t.kind, t.group, name, [
          { field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' },
        ]);
    } else if (rv !== old.metadata.resourceVersion) throw conflict(t.plural, t.group, name, MODIFIED);
    return this.write(t, old, obj, opts);
  }

  /** Common tail of update and patch: merges server-owned fields, validates, bumps generation, stores. */
  private write(t: ResourceType, old: KObject, incoming: KObject, opts: WriteOptions): KObject {
    const sub = opts.subresource;
    let obj: KObject;
    if (sub === 'status') {
      // stored objects are shared and immutable: defaulting/pruning below must work on a copy
      obj = { ...structuredClone(old), status: incoming.status };
      if (incoming.status === undefined) delete obj.status;
      if (!t.crd)
        obj = {
          ...obj,
          metadata: { ...old.metadata, labels: incoming.metadata.labels, annotations: incoming.metadata.annotations },
        };
    } else {
      obj = incoming;
      if (t.subresources.includes('status')) {
        if (old.status === undefined) delete obj.status;
        else obj.status = structuredClone(old.status);
      }
    }
    const meta: ObjectMeta = {
      ...obj.metadata,
      name: old.metadata.name,
      uid: old.metadata.uid,
      creationTimestamp: old.metadata.creationTimestamp,
      resourceVersion: old.metadata.resourceVersion,
    };
    if (t.namespaced) meta.namespace = old.metadata.namespace;
    delete meta.generateName;
    if (old.metadata.generateName) meta.generateName = old.metadata.generateName;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (old.metadata.deletionTimestamp) {
      meta.deletionTimestamp = old.metadata.deletionTimestamp;
      if (old.metadata.deletionGracePeriodSeconds !== undefined)
        meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
      const added = (meta.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
      if (added.length)
        throw invalid(t.kind, t.group, old.metadata.name!, [
          {
            field: 'metadata.finalizers',
            message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
          },
        ]);
    }
    if (meta.generation !== undefined || old.metadata.generation !== undefined)
      meta.generation = old.metadata.generation;
    if (!meta.finalizers?.length) delete meta.finalizers;
    if (!meta.ownerReferences?.length) delete meta.ownerReferences;
    obj = { ...obj, apiVersion: old.apiVersion, kind: old.kind, metadata: meta };
    const isCrd = resourceKey(t) === 'apiextensions.k8s.io/customresourcedefinitions';
    if (isCrd && sub !== 'status') prepareCrd(obj);
    if (sub !== 'status') t.prepare?.(obj, old);
    opts.admit?.(obj, old);
    const problems = [
      ...this.validateMeta(t, obj),
      ...this.customResource(t, obj, opts, old),
      ...(t.validate?.(obj, old) ?? []),
    ];
    if (isCrd && sub !== 'status') problems.push(...validateCrd(obj, old));
    if (problems.length) throw invalid(t.kind, t.group, old.metadata.name!, problems);
    if (isCrd && sub !== 'status') obj.status = crdStatus(obj, this.now(), old.status as Obj | undefined);
    const generation = this.generation(t, obj, old);
    if (generation !== undefined) obj.metadata.generation = generation;
    if (sameContent(obj, old)) return this.present(t, old, opts.version);
    if (opts.dryRun) return this.present(t, obj, opts.version);
    if (obj.metadata.deletionTimestamp && !obj.metadata.finalizers?.length) {
      // The last finalizer is gone: the update completes the deletion (one DELETED event, as the real store does).
      const gone = this.store.remove(resourceKey(t), obj.metadata.namespace ?? '', obj.metadata.name!, obj);
      if (isCrd) this.onCrdChange?.();
      return this.present(t, gone!, opts.version);
    }
    obj.metadata.resourceVersion = String(this.store.nextRv());
    this.store.put(resourceKey(t), obj, 'MODIFIED');
    if (isCrd) this.onCrdChange?.();
    return this.present(t, obj, opts.version);
  }

  patch(t: ResourceType, ns: string, name: string, type: PatchType, patch: unknown, opts: WriteOptions): KObject {
    if (type === 'strategic' && t.crd) throw unsupportedMediaType('application/strategic-merge-patch+json');
    const old = this.store.get(resourceKey(t), t.namespaced ? ns : '', name);
    if (!old) {
      throw notFound(t.plural, t.group, name);
    }
    const current = this.present(t, old, opts.version);
    let patched: unknown;
    switch (type) {
      case 'merge':
        if (!patch || typeof patch !== 'object' || Array.isArray(patch))
          throw badRequest('merge patch must be a JSON object');
        patched = mergePatch(current, patch);
        break;
      case 'json':
        patched = jsonPatch(current, patch);
        break;
      case 'strategic':
        patched = strategicMergePatch(current, patch);
        break;
    }
    const obj = this.checkIdentity(t, structuredClone(patched), ns, opts.version, name);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== old.metadata.resourceVersion) throw conflict(t.plural, t.group, name, MODIFIED);
    if (obj.metadata.uid !== undefined && obj.metadata.uid !== old.metadata.uid)
      throw conflict(
        t.plural,
        t.group,
        name,
        `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    return this.write(t, old, obj, opts);
  }

  /**
   * DELETE. Objects with finalizers (or a Foreground/Orphan policy, which adds one) get a deletionTimestamp and stay
   * until their finalizers are removed; the garbage collector handles dependents. Returns the object and whether it
   * is gone already (200) or only marked (202).
   */
  delete(
    t: ResourceType,
    ns: string,
    name: string,
    opts: DeleteOptions & { version: string },
  ): { obj: KObject; gone: boolean } {
    const old = this.store.get(resourceKey(t), t.namespaced ? ns : '', name);
    if (!old) throw notFound(t.plural, t.group, name);
    if (resourceKey(t) === '/namespaces' && IMMORTAL_NAMESPACES.has(name))
      throw new ApiError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, {
        name,
        kind: 'namespaces',
      });
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== old.metadata.uid)
      throw conflict(
        t.plural,
        t.group,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion)
      throw conflict(
        t.plural,
        t.group,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    const finalizers = [...(old.metadata.finalizers ?? [])];
    if (opts.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) {
      finalizers.push('foregroundDeletion');
      const i = finalizers.indexOf('orphan');
      if (i >= 0) finalizers.splice(i, 1);
    }
    if (opts.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) {
      finalizers.push('orphan');
      const i = finalizers.indexOf('foregroundDeletion');
      if (i >= 0) finalizers.splice(i, 1);
    }
    if (opts.propagationPolicy === 'Background') {
      for (const f of ['orphan', 'foregroundDeletion']) {
        const i = finalizers.indexOf(f);
        if (i >= 0 && !old.metadata.deletionTimestamp) finalizers.splice(i, 1);
      }
    }
    const grace = podGracePeriod(t, old, opts.gracePeriodSeconds);
    if (grace > 0) {
      // Graceful pod deletion: the pod stays (Terminating) until its kubelet has stopped it and deletes it with
      // gracePeriodSeconds=0. A later delete may only shorten the period.
      const current = old.metadata.deletionGracePeriodSeconds;
      if (current !== undefined && current <= grace) return { obj: this.present(t, old, opts.version), gone: false };
      const marked: KObject = {
        ...old,
        metadata: {
          ...old.metadata,
          deletionTimestamp: timestamp(new Date(this.clock().getTime() + grace * 1000)),
          deletionGracePeriodSeconds: grace,
          ...(finalizers.length ? { finalizers } : {}),
        },
      };
      if (opts.dryRun) return { obj: this.present(t, marked, opts.version), gone: false };
      marked.metadata.resourceVersion = String(this.store.nextRv());
      this.store.put(resourceKey(t), marked, 'MODIFIED');
      return { obj: this.present(t, marked, opts.version), gone: false };
    }
    const isNamespace = resourceKey(t) === '/namespaces';
    const nsFinalizers = isNamespace ? (((old.spec as Obj | undefined)?.finalizers as string[] | undefined) ?? []) : [];
    if (finalizers.length || nsFinalizers.length) {
      if (
        old.metadata.deletionTimestamp &&
        old.metadata.deletionGracePeriodSeconds === 0 &&
        JSON.stringify(finalizers) === JSON.stringify(old.metadata.finalizers ?? [])
      )
        return { obj: this.present(t, old, opts.version), gone: false };
      const marked: KObject = {
        ...old,
        metadata: {
          ...old.metadata,
          deletionTimestamp: old.metadata.deletionGracePeriodSeconds
            ? this.now()
            : (old.metadata.deletionTimestamp ?? this.now()),
          deletionGracePeriodSeconds: 0,
          ...(finalizers.length ? { finalizers } : {}),
        },
      };
      if (isNamespace) marked.status = { ...((old.status as Obj) ?? {}), phase: 'Terminating' };
      if (opts.dryRun) return { obj: this.present(t, marked, opts.version), gone: false };
      marked.metadata.resourceVersion = String(this.store.nextRv());
      this.store.put(resourceKey(t), marked, 'MODIFIED');
      return { obj: this.present(t, marked, opts.version), gone: false };
    }
    if (opts.dryRun) return { obj: this.present(t, old, opts.version), gone: true };
    const gone = this.store.remove(resourceKey(t), old.metadata.namespace ?? '', name)!;
    if (resourceKey(t) === 'apiextensions.k8s.io/customresourcedefinitions') this.onCrdChange?.();
    return { obj: this.present(t, gone, opts.version), gone: true };
  }
}

/**
 * Grace period of a pod deletion, as the pod strategy computes it: the request's gracePeriodSeconds, else the pod's
 * terminationGracePeriodSeconds; 0 (immediate) for pods no node has taken (spec.nodeName empty) or that have finished.
 * Other resources are always deleted at once. https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination
 */
function podGracePeriod(t: ResourceType, pod: KObject, requested: number | undefined): number {
  if (resourceKey(t) !== '/pods') return 0;
  const spec = (pod.spec ?? {}) as Obj;
  const phase = (pod.status as Obj | undefined)?.phase;
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  const grace = requested ?? (spec.terminationGracePeriodSeconds as number | undefined) ?? 30;
  return Math.max(0, Math.floor(grace));
}

function sameContent(a: KObject, b: KObject): boolean {
  const strip = (o: KObject) => JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return strip(a) === strip(b);
}
