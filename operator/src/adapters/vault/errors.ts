// One error type for every Vault failure, so callers decide on `kind` instead of parsing messages:
// 'unavailable' and 'sealed' mean "retry later, keep what is running" (the webhook answers 503); 'not_found' means the
// path holds nothing; 'forbidden' and 'token_invalid' are configuration or credential problems an operator must fix.
// Status codes per https://developer.hashicorp.com/vault/api-docs#http-status-codes .

export type VaultErrorKind =
  | 'not_found' // 404: nothing at this path (or a deleted version)
  | 'forbidden' // 403 with a valid token: the policy does not grant this capability on this path
  | 'token_invalid' // 403 "invalid token": expired, revoked or unknown token; log in again
  | 'login_denied' // 400/403 from a login endpoint: role, binding or service account token refused
  | 'bad_request' // 400: Vault refused the request as malformed
  | 'sealed' // 503 "Vault is sealed"
  | 'unavailable' // no answer (refused, reset, timeout, DNS) or 502/503/504 other than sealed
  | 'server_error' // 500 and other unexpected statuses
  | 'invalid_response' // a 2xx answer without the expected fields
  | 'invalid_entry'; // a pool entry whose content is unusable (see pool.ts)

export type VaultOperation = 'read' | 'list' | 'login' | 'renew' | 'lookup' | 'health';

export class VaultError extends Error {
  override readonly name = 'VaultError';

  constructor(
    readonly kind: VaultErrorKind,
    /** Vault API path the operation addressed, e.g. "secret/data/torchain/ns/chain/hop-1/a". */
    readonly path: string,
    readonly operation: VaultOperation,
    /** HTTP status, or undefined when Vault did not answer. */
    readonly status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True when trying again later may succeed without anyone changing configuration. */
  get retryable(): boolean {
    return this.kind === 'unavailable' || this.kind === 'sealed' || this.kind === 'server_error';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

const HINT: Record<VaultErrorKind, string> = {
  not_found: 'nothing is stored there',
  forbidden: "grant the operator's Vault policy this capability on the path",
  token_invalid: 'the Vault token expired or was revoked; the client logs in again',
  login_denied: 'check the Vault role, its bound service account names/namespaces and the service account token',
  bad_request: 'Vault refused the request',
  sealed: 'Vault is sealed; unseal it',
  unavailable: 'check TORCHAIN_VAULT_ADDR and that Vault is up; retrying',
  server_error: 'Vault failed internally; see its logs',
  invalid_response: 'Vault answered without the expected fields',
  invalid_entry: 'fix the entry in Vault',
};

/** Turns whatever node-vault or the network threw into a VaultError naming the path. */
export function toVaultError(err: unknown, operation: VaultOperation, path: string): VaultError {
  if (err instanceof VaultError) return err;
  const e = err as {
    message?: string;
    code?: string;
    response?: { statusCode?: number; body?: { errors?: unknown } };
  };
  const status = e.response?.statusCode;
  if (status === undefined) {
    const code = e.code ?? '';
    const kind: VaultErrorKind =
      NETWORK_CODES.has(code) || /timeout|socket hang up/i.test(e.message ?? '') ? 'unavailable' : 'server_error';
    return new VaultError(
      kind,
      path,
      operation,
      undefined,
      `Vault ${operation} ${path} failed: ${code || e.message || String(err)}; ${HINT[kind]}`,
      { cause: err },
    );
  }
  const errors = Array.isArray(e.response?.body?.errors) ? (e.response?.body?.errors as unknown[]).map(String) : [];
  const text = errors.join('; ').replace(/\s+/g, ' ').trim();
  let kind: VaultErrorKind;
  if (status === 404) kind = 'not_found';
  else if (operation === 'login' && (status === 400 || status === 403)) kind = 'login_denied';
  else if (status === 403) kind = /invalid token/.test(text) ? 'token_invalid' : 'forbidden';
  else if (status === 400) kind = 'bad_request';
  else if (status === 503 && /sealed/i.test(text)) kind = 'sealed';
  else if (status === 502 || status === 503 || status === 504) kind = 'unavailable';
  else kind = 'server_error';
  const detail = text ? `: ${text}` : '';
  return new VaultError(
    kind,
    path,
    operation,
    status,
    `Vault ${operation} ${path} answered ${status}${detail}; ${HINT[kind]}`,
    { cause: err },
  );
}
