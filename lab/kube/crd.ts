// CustomResourceDefinitions: validating an applied CRD (the structural-schema rules of schema/structural.ts, RE2
// patterns and CEL rules that compile) and turning it into the resource type lab/kube serves, each version validated
// with its own openAPIV3Schema (schema/validate.ts) — never with the operator's code, so a bug there shows here.
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/
import type { FieldProblem } from './errors.js';
import { structuralErrors } from './schema/structural.js';
import { compileSchema } from './schema/validate.js';
import { AGE_COLUMN, type PrinterColumn } from './table.js';
import type { KObject, Obj, ResourceType, VersionSpec } from './types.js';
import { compareKubeVersions } from './registry.js';

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface CrdVersion {
  name?: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: Obj };
  subresources?: { status?: Obj; scale?: Obj };
  additionalPrinterColumns?: Array<Obj>;
}

/** Server-side defaults of a CRD (listKind, singular, scope...), applied before validation. */
export function prepareCrd(o: KObject): void {
  const spec = (o.spec ??= {}) as Obj;
  const names = (spec.names ??= {}) as Obj;
  if (typeof names.kind === 'string') {
    names.listKind ??= `${names.kind}List`;
    names.singular ??= names.kind.toLowerCase();
  }
  for (const v of (spec.versions as CrdVersion[] | undefined) ?? []) {
    for (const c of v.additionalPrinterColumns ?? []) {
      if (c.priority === undefined) delete c.priority;
    }
  }
  spec.conversion ??= { strategy: 'None' };
}

/** The finalizer the real server puts on every CRD so its objects are deleted before it goes. */
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

/** The checks of apiextensions validation.go that a torchain CRD or a chart's CRD could trip over. */
export function validateCrd(o: KObject, old: KObject | undefined): FieldProblem[] {
  const out: FieldProblem[] = [];
  const spec = (o.spec ?? {}) as Obj;
  const group = spec.group;
  const names = (spec.names ?? {}) as Obj;
  const plural = names.plural;
  if (typeof group !== 'string' || !group) out.push({ field: 'spec.group', message: 'Required value' });
  else if (!group.includes('.'))
    out.push({ field: 'spec.group', message: `Invalid value: "${group}": should be a domain with at least one dot` });
  if (typeof plural !== 'string' || !plural) out.push({ field: 'spec.names.plural', message: 'Required value' });
  else if (!DNS_LABEL.test(plural))
    out.push({
      field: 'spec.names.plural',
      message: `Invalid value: "${plural}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`,
    });
  if (typeof names.kind !== 'string' || !names.kind) out.push({ field: 'spec.names.kind', message: 'Required value' });
  if (typeof plural === 'string' && typeof group === 'string' && o.metadata.name !== `${plural}.${group}`)
    out.push({
      field: 'metadata.name',
      message: `Invalid value: "${o.metadata.name}": must be spec.names.plural+"."+spec.group`,
    });
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster')
    out.push({
      field: 'spec.scope',
      message:
        spec.scope === undefined
          ? 'Required value'
          : `Unsupported value: ${JSON.stringify(spec.scope)}: supported values: "Cluster", "Namespaced"`,
    });
  for (const sn of (names.shortNames as unknown[] | undefined) ?? [])
    if (typeof sn !== 'string' || !DNS_LABEL.test(sn))
      out.push({
        field: 'spec.names.shortNames',
        message: `Invalid value: ${JSON.stringify(sn)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`,
      });
  const versions = (spec.versions as CrdVersion[] | undefined) ?? [];
  if (!versions.length)
    out.push({
      field: 'spec.versions',
      message: 'Required value: must have exactly one version marked as storage version',
    });
  const storage = versions.filter((v) => v.storage === true).length;
  if (versions.length && storage !== 1)
    out.push({
      field: 'spec.versions',
      message: `Invalid value: ${JSON.stringify(versions.map((v) => v.name))}: must have exactly one version marked as storage version`,
    });
  versions.forEach((v, i) => {
    const at = `spec.versions[${i}]`;
    if (!v.name || !/^v\d+((alpha|beta)\d+)?$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v.name))
      out.push({
        field: `${at}.name`,
        message: v.name ? `Invalid value: "${v.name}": must be a DNS-1035 label` : 'Required value',
      });
    if (typeof v.served !== 'boolean') out.push({ field: `${at}.served`, message: 'Required value' });
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) out.push({ field: `${at}.schema.openAPIV3Schema`, message: 'Required value: schemas are required' });
    else {
      for (const e of structuralErrors(schema)) {
        const colon = e.indexOf(': ');
        out.push({ field: `${at}.schema.${e.slice(0, colon)}`, message: e.slice(colon + 2) });
      }
      if (!out.length) {
        try {
          compileSchema(schema);
        } catch (err) {
          const e = (err as Error).message;
          const colon = e.indexOf(': ');
          out.push({ field: `${at}.schema.${e.slice(0, colon)}`, message: e.slice(colon + 2) });
        }
      }
    }
    (v.additionalPrinterColumns ?? []).forEach((c, j) => {
      const cat = `${at}.additionalPrinterColumns[${j}]`;
      if (!c.name) out.push({ field: `${cat}.name`, message: 'Required value' });
      if (!['integer', 'number', 'string', 'boolean', 'date'].includes(String(c.type)))
        out.push({
          field: `${cat}.type`,
          message: `Unsupported value: ${JSON.stringify(c.type)}: supported values: "integer", "number", "string", "boolean", "date"`,
        });
      if (typeof c.jsonPath !== 'string' || !c.jsonPath.startsWith('.'))
        out.push({
          field: `${cat}.jsonPath`,
          message: `Invalid value: ${JSON.stringify(c.jsonPath)}: must be a simple json path starting with .`,
        });
    });
  });
  if (old) {
    const oldSpec = (old.spec ?? {}) as Obj;
    if (oldSpec.scope !== spec.scope)
      out.push({ field: 'spec.scope', message: `Invalid value: ${JSON.stringify(spec.scope)}: field is immutable` });
    if (oldSpec.group !== spec.group)
      out.push({ field: 'spec.group', message: `Invalid value: ${JSON.stringify(spec.group)}: field is immutable` });
  }
  return out;
}

/** The status the apiextensions controllers set once a CRD's names are accepted: Established. */
export function crdStatus(o: KObject, now: string, prev?: Obj): Obj {
  const spec = (o.spec ?? {}) as Obj;
  const names = spec.names as Obj;
  const cond = (type: string, reason: string, message: string) => {
    const before = ((prev?.conditions as Obj[] | undefined) ?? []).find((c) => c.type === type && c.status === 'True');
    return { type, status: 'True', lastTransitionTime: before?.lastTransitionTime ?? now, reason, message };
  };
  const stored = new Set<string>((prev?.storedVersions as string[] | undefined) ?? []);
  for (const v of (spec.versions as CrdVersion[]) ?? []) if (v.storage) stored.add(v.name!);
  return {
    conditions: [
      cond('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    acceptedNames: { ...names },
    storedVersions: [...stored],
  };
}

/** The resource type a valid CRD defines. Versions are ordered by Kubernetes version priority. */
export function typeFromCrd(o: KObject): ResourceType {
  const spec = o.spec as Obj;
  const names = spec.names as Obj;
  const raw = [...((spec.versions as CrdVersion[]) ?? [])].sort((a, b) => compareKubeVersions(a.name!, b.name!));
  const versions: VersionSpec[] = raw.map((v) => {
    const schema = v.schema!.openAPIV3Schema!;
    const check = compileSchema(schema);
    const columns: PrinterColumn[] = v.additionalPrinterColumns
      ? v.additionalPrinterColumns.map((c) => ({
          name: String(c.name),
          type: String(c.type),
          format: c.format as string | undefined,
          description: c.description as string | undefined,
          priority: c.priority as number | undefined,
          jsonPath: String(c.jsonPath),
        }))
      : [AGE_COLUMN];
    return {
      name: v.name!,
      served: v.served === true,
      storage: v.storage === true,
      columns,
      schema,
      validate: (obj: unknown, old?: unknown) => check.validate(obj, old),
    };
  });
  const subresources: string[] = [];
  const anyStatus = raw.some((v) => v.subresources?.status);
  if (anyStatus) subresources.push('status');
  if (raw.some((v) => v.subresources?.scale)) subresources.push('scale');
  return {
    group: String(spec.group),
    versions,
    kind: String(names.kind),
    listKind: String(names.listKind ?? `${String(names.kind)}List`),
    plural: String(names.plural),
    singular: String(names.singular ?? String(names.kind).toLowerCase()),
    shortNames: (names.shortNames as string[] | undefined) ?? [],
    categories: (names.categories as string[] | undefined) ?? [],
    namespaced: spec.scope === 'Namespaced',
    verbs: CRUD,
    subresources,
    generation: true,
    unconditionalUpdate: false,
    crd: o.metadata.name,
  };
}
