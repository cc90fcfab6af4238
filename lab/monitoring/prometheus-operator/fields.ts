// Guards of the translation: a field the translation does not implement fails loudly (it would otherwise change
// Prometheus' or Alertmanager's behaviour silently), and an object prometheus-operator would reject is reported as
// upstream reports it.

/** A field that objects use but this translation does not implement: the lab would differ from a cluster. */
export class NotTranslatedError extends Error {
  constructor(
    readonly object: string,
    readonly field: string,
    detail = '',
  ) {
    super(
      `${object}: field ${field} is not translated by lab/monitoring/prometheus-operator${detail ? ` (${detail})` : ''}; ` +
        'implement it there as prometheus-operator does, or remove it from the object',
    );
    this.name = 'NotTranslatedError';
  }
}

/** What prometheus-operator answers when it skips an object (InvalidConfiguration). */
export class InvalidObjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidObjectError';
  }
}

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Throws NotTranslatedError for the first key of `value` outside `known`. Keys whose value is null, undefined, an
 * empty string, array or object count as unset (Helm renders `key: {}` and `key: ""` for absent settings).
 */
export function onlyKnown(value: unknown, known: readonly string[], object: string, path: string): Obj {
  if (value === undefined || value === null) return {};
  if (!isObj(value)) throw new NotTranslatedError(object, path, `expected an object, got ${JSON.stringify(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (known.includes(k) || isUnset(v)) continue;
    throw new NotTranslatedError(object, path ? `${path}.${k}` : k);
  }
  return value;
}

export function isUnset(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObj(v)) return Object.keys(v).length === 0;
  return false;
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
export const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
export const arr = <T = unknown>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/** `<namespace>/<name>` of an object (the cache key prometheus-operator sorts and deduplicates by). */
export const keyOf = (meta: { namespace?: string; name: string }): string => `${meta.namespace ?? ''}/${meta.name}`;
