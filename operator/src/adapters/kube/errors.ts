// Kubernetes API failures as the operator acts on them: 409 → re-read and decide again, 404 → the object is gone,
// no answer / 429 / 5xx → unavailable (retry with backoff; the webhook answers 503), 403 → RBAC lacks a rule (named,
// from calls.ts), anything else → the request is wrong for this object (logged with the object's name).
import { ApiException } from '@kubernetes/client-node';
import { UnavailableError } from '../../errors.js';
import { missingRule, type KubeCall } from './calls.js';

export function statusCodeOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

export const isConflict = (err: unknown): boolean => statusCodeOf(err) === 409;
export const isNotFound = (err: unknown): boolean => statusCodeOf(err) === 404;

/** The API server's own message (a Status object's `message`) when it sent one. */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    let parsed: { message?: string } | undefined;
    if (typeof body === 'string') {
      try {
        parsed = JSON.parse(body) as { message?: string };
      } catch {
        return `HTTP ${String(err.code)}: ${body.slice(0, 300)}`;
      }
    } else parsed = body as { message?: string };
    return `HTTP ${String(err.code)}: ${parsed?.message ?? err.message.split('\n')[0]}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function isUnavailable(err: unknown): boolean {
  if (err instanceof UnavailableError) return true;
  const code = statusCodeOf(err);
  if (code === undefined) return true; // no HTTP answer: refused, reset, timeout, DNS
  return code === 429 || code >= 500;
}

/** RBAC denied a call the operator needs: the message names the resource, the namespace and the missing rule. */
export class ForbiddenError extends Error {
  readonly statusCode = 403;
  constructor(
    message: string,
    readonly call: KubeCall,
    readonly namespace: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ForbiddenError';
  }
}

/**
 * Wraps a failed call: unavailable → UnavailableError naming the operation; 403 → ForbiddenError naming the missing
 * RBAC rule of `call`; otherwise an Error with the API message.
 */
export function kubeError(err: unknown, what: string, call?: KubeCall, namespace?: string): Error {
  if (err instanceof UnavailableError || err instanceof ForbiddenError) return err;
  if (call && statusCodeOf(err) === 403) {
    const message = apiMessage(err);
    // The RBAC authoriser says "... cannot <verb> resource ..."; other 403s (a terminating namespace) are not RBAC's.
    const rbac = / cannot [a-z]+ resource /.test(message);
    return new ForbiddenError(
      `forbidden to ${what}: ${message}${rbac ? `; missing RBAC rule: ${missingRule(call, namespace)}` : ''}`,
      call,
      namespace,
      { cause: err },
    );
  }
  if (isUnavailable(err))
    return new UnavailableError(
      `Kubernetes API unavailable while trying to ${what}: ${apiMessage(err)}`,
      'kubernetes',
      {
        cause: err,
      },
    );
  const e = new Error(`cannot ${what}: ${apiMessage(err)}`, { cause: err });
  (e as Error & { statusCode?: number }).statusCode = statusCodeOf(err);
  return e;
}
