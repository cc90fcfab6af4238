// x-kubernetes-validations: CEL rules evaluated with @bufbuild/cel (plus its strings extension), `self` bound to the
// value at the rule's schema node and, for transition rules, `oldSelf` to the old value (rules naming oldSelf run
// only on updates where an old value exists, as upstream). Integers are CEL ints, as upstream types them from the
// schema. A rule that does not parse makes the CRD invalid; a rule that cannot be evaluated (a Kubernetes CEL
// library function this evaluator lacks, a runtime error) refuses the object with the evaluation error — never a
// silent pass.
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation-rules
import { celEnv, isCelError, parse, plan, type CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { FieldProblem } from '../errors.js';

type Schema = Record<string, unknown>;
type Obj = Record<string, unknown>;

interface Rule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
}

export interface CompiledRule {
  check(value: unknown, schema: Schema, path: string, old: unknown, hasOld: boolean): FieldProblem[];
}

const env = celEnv({ funcs: strings });
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON → CEL values typed by the schema: integer (and int-or-string numbers) as int, other numbers as double. */
function toCel(v: unknown, s: Schema | undefined): CelInput {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') {
    const integer = s?.type === 'integer' || s?.['x-kubernetes-int-or-string'] === true;
    return integer && Number.isInteger(v) ? BigInt(v) : v;
  }
  if (Array.isArray(v)) return v.map((x) => toCel(x, isObj(s?.items) ? (s!.items as Schema) : undefined));
  if (isObj(v)) {
    const props = isObj(s?.properties) ? (s!.properties as Record<string, Schema>) : {};
    const extra = isObj(s?.additionalProperties) ? (s!.additionalProperties as Schema) : undefined;
    const out: Record<string, CelInput> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toCel(x, props[k] ?? extra);
    return out as unknown as CelInput;
  }
  return v as CelInput;
}

const REASONS: Record<string, string> = {
  FieldValueRequired: 'Required value',
  FieldValueForbidden: 'Forbidden',
  FieldValueDuplicate: 'Duplicate value',
};

/** Compiles the rules of one schema node; throws (CRD invalid) when a rule does not parse. */
export function celRules(s: Schema, schemaPath: string): CompiledRule[] {
  return (s['x-kubernetes-validations'] as Rule[]).map((r, i) => {
    const at = `${schemaPath}.x-kubernetes-validations[${i}]`;
    if (typeof r?.rule !== 'string' || !r.rule.trim()) throw new Error(`${at}.rule: Required value`);
    let run: (ctx: Record<string, CelInput>) => unknown;
    let messageRun: ((ctx: Record<string, CelInput>) => unknown) | undefined;
    try {
      run = plan(env, parse(r.rule)) as unknown as typeof run;
      if (r.messageExpression) messageRun = plan(env, parse(r.messageExpression)) as unknown as typeof run;
    } catch (err) {
      throw new Error(
        `${at}.rule: Invalid value: ${JSON.stringify(r.rule)}: compilation failed: ${(err as Error).message}`,
      );
    }
    const transition = /\boldSelf\b/.test(r.rule);
    return {
      check(value, schema, path, old, hasOld) {
        if (transition && !hasOld) return [];
        const ctx: Record<string, CelInput> = { self: toCel(value, schema) };
        if (transition) ctx.oldSelf = toCel(old, schema);
        // fieldPath is relative to the rule's node: `.spec.x` or `['key']`
        const field = !r.fieldPath ? path : path ? `${path}${r.fieldPath}` : r.fieldPath.replace(/^\./, '');
        const type = String(schema.type ?? (schema['x-kubernetes-int-or-string'] ? 'integer-or-string' : 'object'));
        const result = run(ctx);
        if (isCelError(result))
          return [
            {
              field,
              message: `Invalid value: ${JSON.stringify(type)}: evaluation failed for rule ${JSON.stringify(r.rule)}: ${(result as Error).message}`,
            },
          ];
        if (result === true) return [];
        let msg = r.message ?? `failed rule: ${r.rule}`;
        if (messageRun) {
          const m = messageRun(ctx);
          if (typeof m === 'string' && m.trim()) msg = m;
        }
        const kind = r.reason && REASONS[r.reason];
        return [
          kind
            ? { field, reason: r.reason, message: `${kind}: ${msg}` }
            : { field, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(type)}: ${msg}` },
        ];
      },
    };
  });
}
