// The rules the Kubernetes API server enforces on a CRD's openAPIV3Schema (apiextensions.k8s.io/v1 demands a
// structural schema): https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema
// and k8s.io/apiextensions-apiserver/pkg/apiserver/schema/validation.go. lab/kube rejects a CRD that breaks them, and
// the chart's CRD is tested against them.

/** Keywords of apiextensions.k8s.io/v1 JSONSchemaProps; anything else (const, $schema, ...) is unknown to the server. */
const KNOWN = new Set([
  'id',
  '$ref',
  'description',
  'type',
  'format',
  'title',
  'default',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
  'enum',
  'maxProperties',
  'minProperties',
  'required',
  'items',
  'allOf',
  'oneOf',
  'anyOf',
  'not',
  'properties',
  'additionalProperties',
  'patternProperties',
  'dependencies',
  'additionalItems',
  'definitions',
  'externalDocs',
  'example',
  'nullable',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
]);
const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
/** Forbidden anywhere in a v1 CRD schema. */
const FORBIDDEN = ['$ref', 'id', 'definitions', 'dependencies', 'patternProperties', 'additionalItems', 'uniqueItems'];
/** Forbidden inside allOf/anyOf/oneOf/not (the "value validation" part of a structural schema). */
const FORBIDDEN_IN_JUNCTORS = [
  'type',
  'additionalProperties',
  'default',
  'nullable',
  'description',
  'title',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
];

type Schema = Record<string, unknown>;

export function structuralErrors(schema: Schema): string[] {
  const errors: string[] = [];
  walk(schema, 'openAPIV3Schema', false, errors, true);
  if (schema.type !== 'object') errors.push('openAPIV3Schema.type: Required value: must be object at the root');
  const meta = (schema.properties as Schema | undefined)?.metadata as Schema | undefined;
  if (meta) {
    const extra = Object.keys(meta).filter((k) => k !== 'type' && k !== 'description');
    const props = Object.keys((meta.properties as Schema | undefined) ?? {}).filter(
      (k) => k !== 'name' && k !== 'generateName',
    );
    if (props.length || extra.some((k) => k !== 'properties'))
      errors.push(
        'openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName',
      );
  }
  return errors;
}

function walk(s: Schema, path: string, inJunctor: boolean, errors: string[], root = false): void {
  for (const key of Object.keys(s)) {
    if (!KNOWN.has(key)) errors.push(`${path}.${key}: Forbidden: unknown field in JSONSchemaProps`);
  }
  for (const key of FORBIDDEN)
    if (key in s) errors.push(`${path}.${key}: Forbidden: not allowed in apiextensions.k8s.io/v1 schemas`);
  if (inJunctor) {
    for (const key of FORBIDDEN_IN_JUNCTORS)
      if (key in s)
        errors.push(`${path}.${key}: Forbidden: must be empty inside allOf/anyOf/oneOf/not to be structural`);
  } else {
    const open = s['x-kubernetes-int-or-string'] === true || s['x-kubernetes-preserve-unknown-fields'] === true;
    if (!('type' in s) && !open && !root)
      errors.push(`${path}.type: Required value: must not be empty for specified ${describe(path)}`);
    if ('type' in s && !TYPES.has(s.type as string))
      errors.push(`${path}.type: Unsupported value: ${JSON.stringify(s.type)}`);
  }
  if ('properties' in s && 'additionalProperties' in s)
    errors.push(`${path}.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`);
  if (s.type === 'array' && !inJunctor && !('items' in s))
    errors.push(`${path}.items: Required value: must be specified for arrays`);
  if (Array.isArray(s.items)) errors.push(`${path}.items: Forbidden: items must be a schema object, not an array`);
  if (s['x-kubernetes-list-type'] === 'map') {
    const items = s.items as Schema | undefined;
    const keys = (s['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
    const required = new Set((items?.required as string[] | undefined) ?? []);
    if (!keys.length)
      errors.push(
        `${path}.x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map`,
      );
    for (const k of keys)
      if (
        !required.has(k) &&
        !(((items?.properties as Schema | undefined)?.[k] as Schema | undefined)?.default !== undefined)
      )
        errors.push(`${path}.items.required: Required value: map key ${k} must be required or have a default`);
  }
  const props = (s.properties as Record<string, Schema> | undefined) ?? {};
  for (const [name, sub] of Object.entries(props)) walk(sub, `${path}.properties[${name}]`, inJunctor, errors);
  if (s.items && !Array.isArray(s.items)) walk(s.items as Schema, `${path}.items`, inJunctor, errors);
  if (s.additionalProperties && typeof s.additionalProperties === 'object')
    walk(s.additionalProperties as Schema, `${path}.additionalProperties`, inJunctor, errors);
  for (const j of ['allOf', 'anyOf', 'oneOf'])
    ((s[j] as Schema[] | undefined) ?? []).forEach((sub, i) => walk(sub, `${path}.${j}[${i}]`, true, errors));
  if (s.not) walk(s.not as Schema, `${path}.not`, true, errors);
}

function describe(path: string): string {
  return path.endsWith('.items') ? 'array items' : 'field';
}
