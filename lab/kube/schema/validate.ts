// Validation of a custom object against its CRD version's structural openAPIV3Schema, as kube-apiserver does it
// (k8s.io/apiextensions-apiserver/pkg/apiserver/validation: kube-openapi's validator, its errors turned into field
// errors by kubeOpenAPIResultToFieldErrors): types, formats, RE2 patterns, enum, bounds, required, int-or-string,
// preserve-unknown-fields, embedded resources, allOf/anyOf/oneOf/not, then the x-kubernetes-validations CEL rules.
// Messages and field paths are worded as the real server words them.
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation
import { RE2JS } from '@bufbuild/re2';
import type { FieldProblem } from '../errors.js';
import { celRules, type CompiledRule } from './cel.js';
import { FORMATS } from './formats.js';

export type Schema = Record<string, unknown>;
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON type go-openapi names for a value. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** reflect.Kind of the decoded Go value, which TypeInvalid errors print as the invalid value. */
function goKind(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return 'slice';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'map' : 'string';
}

const show = (v: unknown): string => JSON.stringify(v) ?? 'null';

/** A compiled validator for one CRD version; throws at compile time for patterns RE2 refuses. */
export interface CompiledSchema {
  validate(obj: unknown, old?: unknown): FieldProblem[];
}

export function compileSchema(root: Schema): CompiledSchema {
  const patterns = new Map<string, RE2JS>();
  const rules = new Map<Schema, CompiledRule[]>();
  const prepare = (s: Schema, path: string) => {
    if (typeof s.pattern === 'string' && !patterns.has(s.pattern)) {
      try {
        patterns.set(s.pattern, new RE2JS(s.pattern));
      } catch (err) {
        throw new Error(`${path}.pattern: Invalid value: ${show(s.pattern)}: ${(err as Error).message}`);
      }
    }
    if (Array.isArray(s['x-kubernetes-validations'])) rules.set(s, celRules(s, path));
    const props = isObj(s.properties) ? (s.properties as Record<string, Schema>) : {};
    for (const [k, sub] of Object.entries(props)) prepare(sub, `${path}.properties[${k}]`);
    if (isObj(s.items)) prepare(s.items as Schema, `${path}.items`);
    if (isObj(s.additionalProperties)) prepare(s.additionalProperties as Schema, `${path}.additionalProperties`);
    for (const j of ['allOf', 'anyOf', 'oneOf'])
      ((s[j] as Schema[] | undefined) ?? []).forEach((sub, i) => prepare(sub, `${path}.${j}[${i}]`));
    if (isObj(s.not)) prepare(s.not as Schema, `${path}.not`);
  };
  prepare(root, 'openAPIV3Schema');

  const walk = (
    v: unknown,
    s: Schema,
    path: string,
    out: FieldProblem[],
    old: unknown,
    hasOld: boolean,
    root = false,
  ) => {
    const at = path || '<root>';
    const inv = (value: unknown, msg: string) =>
      out.push({ field: path, message: `Invalid value: ${show(value)}: ${msg}` });
    if (v === null && s.nullable === true) return;
    const intOrString = s['x-kubernetes-int-or-string'] === true;
    const type = s.type as string | undefined;
    if (intOrString) {
      if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) {
        out.push({
          field: path,
          reason: 'FieldValueTypeInvalid',
          message: `Invalid value: ${show(goKind(v))}: ${at} in body must be of type integer,string: ${show(jsonType(v))}`,
        });
        return;
      }
    } else if (type) {
      const actual = jsonType(v);
      const ok = type === actual || (type === 'number' && actual === 'integer');
      if (!ok) {
        out.push({
          field: path,
          reason: 'FieldValueTypeInvalid',
          message: `Invalid value: ${show(goKind(v))}: ${at} in body must be of type ${type}: ${show(actual)}`,
        });
        return;
      }
    }
    if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v)))
      out.push({
        field: path,
        message: `Unsupported value: ${show(v)}: supported values: ${s.enum.map(show).join(', ')}`,
      });
    if (typeof v === 'number') {
      const n = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : undefined);
      const min = n('minimum');
      const max = n('maximum');
      if (min !== undefined && (s.exclusiveMinimum === true ? v <= min : v < min))
        inv(v, `${at} in body should be greater than ${s.exclusiveMinimum === true ? '' : 'or equal to '}${min}`);
      if (max !== undefined && (s.exclusiveMaximum === true ? v >= max : v > max))
        inv(v, `${at} in body should be less than ${s.exclusiveMaximum === true ? '' : 'or equal to '}${max}`);
      const mult = n('multipleOf');
      if (mult && Math.abs(v / mult - Math.round(v / mult)) > 1e-9)
        inv(v, `${at} in body should be a multiple of ${mult}`);
    }
    if (typeof v === 'string') {
      const len = [...v].length;
      if (typeof s.maxLength === 'number' && len > s.maxLength)
        out.push({ field: path, message: `Too long: may not be longer than ${s.maxLength}` });
      if (typeof s.minLength === 'number' && len < s.minLength)
        inv(v, `${at} in body should be at least ${s.minLength} chars long`);
      if (typeof s.pattern === 'string' && !patterns.get(s.pattern)!.test(v))
        inv(v, `${at} in body should match '${s.pattern}'`);
      if (typeof s.format === 'string' && FORMATS[s.format] && !FORMATS[s.format]!(v))
        inv(v, `${at} in body must be of type ${s.format}: ${show(v)}`);
    }
    if (Array.isArray(v)) {
      if (typeof s.maxItems === 'number' && v.length > s.maxItems)
        out.push({ field: path, message: `Too many: ${v.length}: must have at most ${s.maxItems} items` });
      if (typeof s.minItems === 'number' && v.length < s.minItems)
        inv(v.length, `${at} in body should have at least ${s.minItems} items`);
      if (isObj(s.items)) {
        const oldItems = listMapCorrelation(s, v, old);
        v.forEach((item, i) => {
          const o = oldItems?.get(i);
          walk(item, s.items as Schema, `${path}[${i}]`, out, o, o !== undefined);
        });
      }
    }
    if (isObj(v)) {
      const keys = Object.keys(v).filter((k) => !(root && ['apiVersion', 'kind', 'metadata'].includes(k)));
      if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties)
        out.push({ field: path, message: `Too many: ${keys.length}: must have at most ${s.maxProperties} items` });
      if (typeof s.minProperties === 'number' && keys.length < s.minProperties)
        inv(keys.length, `${at} in body should have at least ${s.minProperties} properties`);
      for (const r of (s.required as string[] | undefined) ?? [])
        if (!(r in v)) out.push({ field: join(path, r), message: 'Required value' });
      if (s['x-kubernetes-embedded-resource'] === true) {
        for (const k of ['apiVersion', 'kind'])
          if (typeof v[k] !== 'string' || !v[k])
            out.push({ field: join(path, k), message: 'Required value: must not be empty' });
      }
      const props = isObj(s.properties) ? (s.properties as Record<string, Schema>) : {};
      const oldObj = hasOld && isObj(old) ? old : undefined;
      for (const [k, val] of Object.entries(v)) {
        if (root && k === 'metadata') continue;
        const sub = props[k] ?? (isObj(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined);
        if (sub) walk(val, sub, join(path, k), out, oldObj?.[k], !!oldObj && k in oldObj);
      }
    }
    for (const sub of (s.allOf as Schema[] | undefined) ?? []) walk(v, sub, path, out, old, hasOld);
    const branch = (sub: Schema) => {
      const errs: FieldProblem[] = [];
      walk(v, sub, path, errs, old, hasOld);
      return errs;
    };
    if (Array.isArray(s.anyOf)) {
      const results = (s.anyOf as Schema[]).map(branch);
      if (!results.some((e) => e.length === 0)) {
        out.push(...results[0]!);
        inv(v, `${at} in body must validate at least one schema (anyOf)`);
      }
    }
    if (Array.isArray(s.oneOf)) {
      const passing = (s.oneOf as Schema[]).map(branch).filter((e) => e.length === 0).length;
      if (passing !== 1) inv(v, `${at} in body must validate one and only one schema (oneOf)`);
    }
    if (isObj(s.not) && branch(s.not as Schema).length === 0)
      inv(v, `${at} in body must not validate the schema (not)`);
    // CEL rules run only on values that passed the schema (the real server evaluates them after OpenAPI validation)
    const compiled = rules.get(s);
    if (
      compiled &&
      !out.some((p) => p.field === path || p.field.startsWith(`${path}.`) || p.field.startsWith(`${path}[`))
    )
      for (const r of compiled) out.push(...r.check(v, s, path, old, hasOld));
  };

  return {
    validate(obj, old) {
      const out: FieldProblem[] = [];
      walk(obj, root, '', out, old, old !== undefined, true);
      return out;
    },
  };
}

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** Old items correlate with new ones only in `x-kubernetes-list-type: map` lists, by their map keys. */
function listMapCorrelation(s: Schema, v: unknown[], old: unknown): Map<number, unknown> | undefined {
  if (s['x-kubernetes-list-type'] !== 'map' || !Array.isArray(old)) return undefined;
  const keys = (s['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
  const id = (item: unknown) => (isObj(item) ? JSON.stringify(keys.map((k) => item[k])) : undefined);
  const byKey = new Map(old.map((o) => [id(o), o]));
  const out = new Map<number, unknown>();
  v.forEach((item, i) => {
    const o = byKey.get(id(item));
    if (o !== undefined) out.set(i, o);
  });
  return out;
}
