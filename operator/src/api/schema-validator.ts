// JSON-schema validation with Kubernetes' semantics for the formats and vendor keywords an OpenAPI v3 CRD schema uses.
// Shared by the operator (it validates TorChains before acting on them) and lab/kube (it enforces applied CRD schemas).
import { isIP } from 'node:net';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with a default export; under NodeNext its callable sits on .default.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** Kubernetes' `cidr` format is Go's net.ParseCIDR: an address with a prefix, host bits allowed. */
export function isCidr(value: string): boolean {
  const slash = value.lastIndexOf('/');
  if (slash < 0) return false;
  const ip = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  const family = isIP(ip);
  if (family === 0 || !/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const VENDOR_KEYWORDS = [
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-validations',
  'example',
  'externalDocs',
];

export function createSchemaAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
  addFormats(ajv, ['ipv4', 'ipv6', 'date-time', 'date', 'uri', 'email', 'hostname', 'uuid', 'byte', 'int32', 'int64']);
  ajv.addFormat('cidr', { type: 'string', validate: isCidr });
  for (const keyword of VENDOR_KEYWORDS) ajv.addKeyword({ keyword });
  return ajv;
}

export interface FieldError {
  /** Dotted field path as Kubernetes prints it, e.g. `spec.numberNode`. */
  field: string;
  message: string;
}

function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function messageOf(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return 'Required value';
    case 'additionalProperties':
      return 'field not declared in schema';
    case 'enum':
      return `Unsupported value: ${JSON.stringify(e.data)}: supported values: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'anyOf':
      return `Invalid value: ${JSON.stringify(e.data)}: must match one of ${JSON.stringify(anyOfSummary(e))}`;
    default:
      return `Invalid value: ${JSON.stringify(e.data)}: ${e.message ?? e.keyword}`;
  }
}

function anyOfSummary(e: ErrorObject): string[] {
  const branches = (e.schema as Array<Record<string, unknown>>) ?? [];
  return branches.map((b) =>
    Object.entries(b)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(','),
  );
}

/** Ajv errors as Kubernetes-style field errors; errors inside a failed anyOf collapse into the anyOf's own message. */
export function toFieldErrors(errors: ErrorObject[] | null | undefined): FieldError[] {
  if (!errors) return [];
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath));
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && [...anyOfPaths].some((p) => e.schemaPath.startsWith(p + '/'))) continue;
    let path = fieldPath(e.instancePath);
    const p = e.params as Record<string, unknown>;
    if (e.keyword === 'required') path = path ? `${path}.${String(p.missingProperty)}` : String(p.missingProperty);
    if (e.keyword === 'additionalProperties')
      path = path ? `${path}.${String(p.additionalProperty)}` : String(p.additionalProperty);
    const fe = { field: path, message: messageOf({ ...e, data: e.data }) };
    const key = `${fe.field}\u0000${fe.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(fe);
    }
  }
  return out;
}

export function compileValidator(ajv: Ajv, schema: Record<string, unknown>): (value: unknown) => FieldError[] {
  const validate: ValidateFunction = ajv.compile({ ...schema, $schema: undefined });
  return (value) => (validate(value) ? [] : toFieldErrors(validate.errors));
}

export function formatFieldErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}
