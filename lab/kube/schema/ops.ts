// What the API server does with a custom object before validating it against a structural schema:
// defaulting (`default` of missing fields, and of null fields that are not nullable) and pruning (dropping fields the
// schema does not declare, unless `x-kubernetes-preserve-unknown-fields`).
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#defaulting
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#field-pruning
// Both work in place on a fresh copy the caller owns.

export type Schema = Record<string, unknown>;
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Drops undeclared fields and returns their paths (for `fieldValidation`: Strict refuses them, Warn reports them).
 * The root's apiVersion/kind/metadata are kept (metadata is ObjectMeta, checked apart).
 */
export function prune(value: unknown, schema: Schema, root = true, path = '', dropped: string[] = []): string[] {
  if (
    schema['x-kubernetes-preserve-unknown-fields'] === true &&
    !schema.properties &&
    !schema.additionalProperties &&
    !schema.items
  )
    return dropped;
  if (isObj(value)) {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const additional = schema.additionalProperties;
    const embedded = schema['x-kubernetes-embedded-resource'] === true;
    for (const key of Object.keys(value)) {
      if ((root || embedded) && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) {
        if (props[key] && key !== 'metadata') prune(value[key], props[key]!, false, join(path, key), dropped);
        continue;
      }
      const sub = props[key] ?? (isObj(additional) ? (additional as Schema) : undefined);
      if (sub) prune(value[key], sub, false, join(path, key), dropped);
      else if (additional === true || schema['x-kubernetes-preserve-unknown-fields'] === true) continue;
      else {
        delete value[key];
        dropped.push(join(path, key));
      }
    }
  } else if (Array.isArray(value) && isObj(schema.items)) {
    value.forEach((item, i) => prune(item, schema.items as Schema, false, `${path}[${i}]`, dropped));
  }
  return dropped;
}

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** Applies `default`s top-down, as the structural defaulting algorithm does. */
export function applyDefaults(value: unknown, schema: Schema): void {
  if (isObj(value)) {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const [key, sub] of Object.entries(props)) {
      if (value[key] === null && sub.nullable !== true && 'default' in sub) delete value[key];
      if (!(key in value) && sub.default !== undefined) value[key] = structuredClone(sub.default);
      if (key in value) applyDefaults(value[key], sub);
    }
    if (isObj(schema.additionalProperties))
      for (const key of Object.keys(value))
        if (!(key in props)) applyDefaults(value[key], schema.additionalProperties as Schema);
  } else if (Array.isArray(value) && isObj(schema.items)) {
    for (const item of value) applyDefaults(item, schema.items as Schema);
  }
}

/** Drops nulls the schema does not allow (nullable: false) — the server prunes them before validation. */
export function dropNulls(value: unknown, schema: Schema): void {
  if (isObj(value)) {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of Object.keys(value)) {
      const sub =
        props[key] ?? (isObj(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined);
      if (!sub) continue;
      if (value[key] === null && sub.nullable !== true) delete value[key];
      else dropNulls(value[key], sub);
    }
  } else if (Array.isArray(value) && isObj(schema.items)) {
    for (const item of value) dropNulls(item, schema.items as Schema);
  }
}
