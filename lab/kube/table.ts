// Server-side printing: the `Table` (meta.k8s.io/v1) kubectl asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. Columns come from a CRD's additionalPrinterColumns
// (JSONPath over the object) or, for built-ins, a short fixed set like the real printers.
// https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#additional-printer-columns

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

type Obj = Record<string, unknown>;

/** The JSONPath subset printer columns use: `.a.b`, `[n]`, `[*]`, `['key']` and `[?(@.k=="v")]` filters. */
export function jsonPathResults(obj: unknown, path: string): unknown[] {
  let cur: unknown[] = [obj];
  const re =
    /\.([-A-Za-z0-9_$]+)|\[(\d+|\*)\]|\['([^']*)'\]|\[\?\(@\.([-A-Za-z0-9_.]+)\s*(==|!=)\s*("([^"]*)"|'([^']*)'|[^)\s]+)\)\]/gy;
  const text = path.startsWith('{') && path.endsWith('}') ? path.slice(1, -1) : path;
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (m[1] !== undefined || m[3] !== undefined) {
        const k = m[1] ?? m[3]!;
        if (v && typeof v === 'object' && !Array.isArray(v) && k in (v as Obj)) next.push((v as Obj)[k]);
      } else if (m[2] !== undefined) {
        if (!Array.isArray(v)) continue;
        if (m[2] === '*') next.push(...v);
        else if (Number(m[2]) < v.length) next.push(v[Number(m[2])]);
      } else if (m[4] !== undefined) {
        if (!Array.isArray(v)) continue;
        const want = m[7] ?? m[8] ?? m[6]!;
        for (const item of v) {
          const got = jsonPathResults(item, '.' + m[4])[0];
          const eq = got !== undefined && String(got) === want;
          if (m[5] === '==' ? eq : !eq && got !== undefined) next.push(item);
        }
      }
    }
    cur = next;
  }
  if (re.lastIndex !== text.length && text.length > 0) return [];
  return cur;
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration, what the AGE column shows. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const d = Math.floor(hours / 24) % 365;
    return d === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${d}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** One cell as the CRD table convertor renders it (apiextensions-apiserver tableconvertor.go). */
function cell(obj: Obj, col: PrinterColumn, now: number): unknown {
  const results = jsonPathResults(obj, col.jsonPath);
  if (results.length === 0 || results[0] === undefined || results[0] === null) return null;
  const v = results[0];
  switch (col.type) {
    case 'date': {
      const t = typeof v === 'string' ? Date.parse(v) : NaN;
      return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
    }
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) ? v : null;
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'string':
      return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    default:
      return results.length > 1 ? results.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join(',') : v;
  }
}

export const NAME_COLUMN = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  priority: 0,
};

export const AGE_COLUMN: PrinterColumn = {
  name: 'Age',
  type: 'date',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  jsonPath: '.metadata.creationTimestamp',
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  columns: PrinterColumn[];
  includeObject: IncludeObject;
  withHeaders: boolean;
  resourceVersion?: string;
  continueToken?: string;
  now?: number;
  /** Cells computed by the resource type, by column name (override the JSONPath). */
  cells?: (obj: Obj) => Record<string, unknown>;
}

export function toTable(objects: Obj[], opts: TableOptions): Obj {
  const now = opts.now ?? Date.now();
  const table: Obj = {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {
      ...(opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {}),
      ...(opts.continueToken ? { continue: opts.continueToken } : {}),
    },
  };
  if (opts.withHeaders)
    table.columnDefinitions = [
      NAME_COLUMN,
      ...opts.columns.map((c) => ({
        name: c.name,
        type: c.type,
        format: c.format ?? '',
        description: c.description ?? '',
        priority: c.priority ?? 0,
      })),
    ];
  else table.columnDefinitions = null;
  table.rows = objects.map((o) => {
    const meta = (o.metadata ?? {}) as Obj;
    const computed = opts.cells?.(o) ?? {};
    const row: Obj = {
      cells: [meta.name, ...opts.columns.map((c) => (c.name in computed ? computed[c.name] : cell(o, c, now)))],
    };
    if (opts.includeObject === 'Object') row.object = o;
    else if (opts.includeObject === 'Metadata')
      row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: meta };
    return row;
  });
  return table;
}
