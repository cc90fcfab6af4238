// JSON Schema of the chart's `alerting` values, from the same parameter table as the values block, for the chart's
// values.schema.json: helm then refuses a bad threshold or duration at install time instead of Prometheus at load time.
import { DEFAULT_ALERTING, getPath, PARAM_DOCS } from './params.js';

/** Prometheus' duration grammar (units in decreasing order, each at most once). */
export const DURATION_PATTERN =
  '^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$';

type Schema = Record<string, unknown>;

function leaf(path: string): Schema {
  const { kind, doc } = PARAM_DOCS[path] ?? { kind: 'duration', doc: '' };
  const base = { description: doc, default: getPath(DEFAULT_ALERTING, path) };
  switch (kind) {
    case 'duration':
      return { ...base, type: 'string', pattern: DURATION_PATTERN, minLength: 2 };
    case 'positive-duration':
      return {
        ...base,
        type: 'string',
        pattern: DURATION_PATTERN,
        minLength: 2,
        not: { pattern: '^0+(s|ms|m|h|d|w|y)$' },
      };
    case 'count':
      return { ...base, type: 'integer', minimum: 1 };
    case 'seconds':
      return { ...base, type: 'number', exclusiveMinimum: 0 };
    case 'quantile':
      return { ...base, type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 };
  }
}

/** The schema of `.Values.alerting` (draft-07, as Helm validates). */
export function alertingValuesSchema(): Schema {
  const labels = { type: 'object', additionalProperties: { type: 'string' } };
  const root: Schema = {
    type: 'object',
    description: 'Generated from prometheus-rules/src/params.ts: see docs/alerting.md',
    additionalProperties: false,
    properties: {
      enabled: { type: 'boolean', description: 'Render the PrometheusRule and the AlertmanagerConfig' },
      prometheusRule: {
        type: 'object',
        additionalProperties: false,
        properties: { enabled: { type: 'boolean' }, labels },
      },
      alertmanagerConfig: {
        type: 'object',
        additionalProperties: false,
        properties: { enabled: { type: 'boolean' }, labels },
      },
      webhook: {
        type: 'object',
        additionalProperties: false,
        properties: { url: { type: 'string', pattern: '^(https?://.+)?$' } },
      },
    } as Record<string, Schema>,
  };
  const props = root.properties as Record<string, Schema>;
  for (const path of Object.keys(PARAM_DOCS)) {
    const [a, b] = path.split('.') as [string, string | undefined];
    if (b === undefined) props[a] = leaf(path);
    else {
      const group = (props[a] ??= { type: 'object', additionalProperties: false, properties: {} }) as Schema;
      (group.properties as Record<string, Schema>)[b] = leaf(path);
    }
  }
  return root;
}
