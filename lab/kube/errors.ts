// Kubernetes API errors as the real server writes them: a `Status` object with code, reason, message and details.
// Shapes and wording follow k8s.io/apimachinery/pkg/api/errors/errors.go, so clients that switch on `reason`
// (kubectl, client-node callers) behave as they would against a cluster.
// https://kubernetes.io/docs/reference/using-api/api-concepts/#responses-with-errors (Status kind)

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return statusObject('Failure', this.code, this.reason, this.message, this.details);
  }
}

export function statusObject(
  status: 'Success' | 'Failure',
  code: number,
  reason: string | undefined,
  message: string | undefined,
  details?: StatusDetails,
): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: 'Status', apiVersion: 'v1', metadata: {}, status };
  if (message) out.message = message;
  if (reason) out.reason = reason;
  if (details) out.details = details;
  out.code = code;
  return out;
}

/** `torchains.torchain.dev` or `pods`: how the real server names a resource in messages. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(resource: string, group: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, {
    name,
    group: group || undefined,
    kind: resource,
  });
}

export function alreadyExists(resource: string, group: string, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, {
    name,
    group: group || undefined,
    kind: resource,
  });
}

export function conflict(resource: string, group: string, name: string, why: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`,
    {
      name,
      group: group || undefined,
      kind: resource,
    },
  );
}

export const MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function methodNotAllowed(
  message = 'the server does not allow this method on the requested resource',
): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message);
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got ${contentType}`,
  );
}

export interface FieldProblem {
  field: string;
  /** Kubernetes cause reason: FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueForbidden... */
  reason?: string;
  message: string;
}

/** 422 Invalid, message `Kind.group "name" is invalid: [field: detail, ...]` as errors.NewInvalid writes it. */
export function invalid(kind: string, group: string, name: string, problems: FieldProblem[]): ApiError {
  const parts = problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message));
  const list = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualified(kind, group)} "${name}" is invalid: ${list}`, {
    name,
    group: group || undefined,
    kind,
    causes: problems.map((p) => ({ reason: p.reason ?? causeReason(p.message), message: p.message, field: p.field })),
  });
}

function causeReason(message: string): string {
  if (message.startsWith('Required value')) return 'FieldValueRequired';
  if (message.startsWith('Unsupported value')) return 'FieldValueNotSupported';
  if (message.startsWith('Forbidden')) return 'FieldValueForbidden';
  if (message.startsWith('Duplicate value')) return 'FieldValueDuplicate';
  if (message.startsWith('Too long') || message.startsWith('Too many')) return 'FieldValueTooLong';
  return 'FieldValueInvalid';
}
