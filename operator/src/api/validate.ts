// Validation of TorChain objects against the schema of torchain.ts, with Kubernetes-style field errors.
import { compileValidator, createSchemaAjv, type FieldError } from './schema-validator.js';
import { plainSchema, TorChainSchema, TorChainSpecSchema, type TorChain, type TorChainSpec } from './torchain.js';

const ajv = createSchemaAjv();
const checkTorChain = compileValidator(ajv, plainSchema(TorChainSchema));
const checkSpec = compileValidator(ajv, plainSchema(TorChainSpecSchema));

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function validateTorChain(obj: unknown): ValidationResult<TorChain> {
  const errors = checkTorChain(obj);
  return errors.length === 0 ? { ok: true, value: obj as TorChain } : { ok: false, errors };
}

/** Validates a spec alone; field paths are prefixed with `spec.` so messages read the same as for a whole object. */
export function validateTorChainSpec(spec: unknown): ValidationResult<TorChainSpec> {
  const errors = checkSpec(spec).map((e) => ({ ...e, field: e.field ? `spec.${e.field}` : 'spec' }));
  return errors.length === 0 ? { ok: true, value: spec as TorChainSpec } : { ok: false, errors };
}
