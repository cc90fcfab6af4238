// Errors the operator tells apart: "try again later" (Kubernetes or Vault unreachable, 5xx, timeouts) must become a
// 503 for Alertmanager and a backoff for the reconciler; everything else is the object's own problem.

/** A dependency (Kubernetes API, Vault) is unavailable: retry later, change nothing. */
export class UnavailableError extends Error {
  constructor(
    message: string,
    readonly dependency: 'kubernetes' | 'vault',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UnavailableError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
