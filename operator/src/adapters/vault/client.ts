// The operator's Vault client: a small typed layer over node-vault for what torchain needs.
// - KV v2 read (`<mount>/data/<path>`, unwrapping data.data) and list (`LIST <mount>/metadata/<path>/`, where Vault
//   answers an empty folder with 404 and node-vault rejects every status but 200/204: that 404 is []);
// - Kubernetes auth login with the service account token (read afresh at each login: projected tokens rotate), or a
//   plain token for development;
// - token renewal before expiry (renew-self at a fraction of the lease; a token capped by its max TTL, or one Vault
//   no longer knows, is replaced by a new login), and one transparent re-login when a request meets "invalid token";
// - every failure is a VaultError naming the path and its kind (errors.ts).
import nodeVault from 'node-vault';
import { VaultError, toVaultError, type VaultErrorKind, type VaultOperation } from './errors.js';

export type VaultAuth =
  | {
      method: 'token';
      /** The token, or a function returning it (e.g. read from TORCHAIN_VAULT_TOKEN_FILE). */
      token: string | (() => string | Promise<string>);
    }
  | {
      method: 'kubernetes';
      role: string;
      /** Mount path of the auth method (TORCHAIN_VAULT_AUTH_PATH), default "kubernetes". */
      authPath?: string;
      /** Returns the service account JWT, e.g. reads /var/run/secrets/kubernetes.io/serviceaccount/token. */
      jwt: () => string | Promise<string>;
    };

export interface VaultRequestEvent {
  operation: VaultOperation;
  path: string;
  result: 'success' | VaultErrorKind;
  durationMs: number;
}

export type VaultLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface VaultClientOptions {
  /** Vault address, e.g. https://vault.vault.svc:8200 (TORCHAIN_VAULT_ADDR). */
  address: string;
  /** KV v2 mount (TORCHAIN_VAULT_MOUNT), default "secret". */
  mount?: string;
  auth: VaultAuth;
  /** Per-request timeout, default 5000 ms. */
  requestTimeoutMs?: number;
  /** Renew when this fraction of the lease has elapsed, default 2/3. */
  renewFraction?: number;
  /** Called after every Vault call (metrics: torchain_operator_vault_requests_total{operation,result}). */
  onRequest?: (event: VaultRequestEvent) => void;
  /** Structured log sink; never receives a token or a secret. */
  log?: VaultLog;
}

export interface SecretVersion {
  data: Record<string, unknown>;
  version: number;
  createdTime: string;
}

export interface TokenState {
  /** Lease in seconds Vault gave at the last login/renewal (0: no expiry, e.g. a root token). */
  leaseSeconds: number;
  renewable: boolean;
  policies: string[];
  /** Unix ms when the token expires, undefined without expiry. */
  expiresAt?: number;
  /** Set when Vault capped the last renewal (the token reached its max TTL). */
  capped: boolean;
}

/** The read side the hop pool reader needs (pool.ts); VaultClient implements it. */
export interface KvReader {
  readSecret(path: string): Promise<SecretVersion>;
  list(path: string): Promise<string[]>;
}

interface AuthBlock {
  client_token?: unknown;
  lease_duration?: unknown;
  renewable?: unknown;
  policies?: unknown;
}

const SAFE_SEGMENT = /^[^/]+$/;

/** Checks a KV path relative to the mount and encodes its segments for the URL. */
function kvPath(path: string, operation: VaultOperation, full: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  const segments = trimmed === '' ? [] : trimmed.split('/');
  if (segments.some((s) => !SAFE_SEGMENT.test(s) || s === '.' || s === '..')) {
    throw new VaultError(
      'bad_request',
      full,
      operation,
      undefined,
      `invalid Vault path "${path}": empty, "." or ".." segment`,
    );
  }
  return segments.map(encodeURIComponent).join('/');
}

export class VaultClient implements KvReader {
  readonly mount: string;
  private readonly nv: nodeVault.client;
  private readonly auth: VaultAuth;
  private readonly renewFraction: number;
  private readonly onRequest: (e: VaultRequestEvent) => void;
  private readonly log: VaultLog;
  private token: string | undefined;
  private state: TokenState | undefined;
  private loginInFlight: Promise<TokenState> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;
  private stopped = true;
  private failures = 0;
  /** Lease granted at login: a renewal that returns less was capped by the token's max TTL. */
  private loginLease = 0;

  constructor(opts: VaultClientOptions) {
    this.mount = (opts.mount ?? 'secret').replace(/^\/+|\/+$/g, '');
    if (!this.mount) throw new Error('Vault KV mount must not be empty (TORCHAIN_VAULT_MOUNT)');
    this.auth = opts.auth;
    if (this.auth.method === 'kubernetes' && !this.auth.role) {
      throw new Error('Vault kubernetes auth needs a role (TORCHAIN_VAULT_ROLE)');
    }
    this.renewFraction = opts.renewFraction ?? 2 / 3;
    if (!(this.renewFraction > 0 && this.renewFraction < 1)) throw new Error('renewFraction must be between 0 and 1');
    this.onRequest = opts.onRequest ?? (() => undefined);
    this.log = opts.log ?? (() => undefined);
    let endpoint: string;
    try {
      endpoint = new URL(opts.address).toString().replace(/\/$/, '');
    } catch {
      throw new Error(
        `invalid Vault address "${opts.address}": expected a URL like https://vault:8200 (TORCHAIN_VAULT_ADDR)`,
      );
    }
    this.nv = nodeVault({ endpoint, requestOptions: { timeout: opts.requestTimeoutMs ?? 5000 } });
    this.nv.token = '';
  }

  /** The token's lease as last seen, undefined before the first login. */
  get tokenState(): TokenState | undefined {
    return this.state ? { ...this.state } : undefined;
  }

  /** Runs one Vault call, timing it, reporting it and converting its failure into a VaultError. */
  private async call<T>(operation: VaultOperation, path: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const out = await fn();
      this.onRequest({ operation, path, result: 'success', durationMs: performance.now() - started });
      return out;
    } catch (err) {
      const ve = toVaultError(err, operation, path);
      this.onRequest({ operation, path, result: ve.kind, durationMs: performance.now() - started });
      throw ve;
    } finally {
      // node-vault stores tokens from login/renew responses on the client; this class passes its token per request.
      this.nv.token = '';
    }
  }

  private headers(): { headers: Record<string, string> } {
    return { headers: { 'X-Vault-Token': this.token ?? '' } };
  }

  private applyAuth(
    auth: AuthBlock | undefined,
    path: string,
    operation: VaultOperation,
    requested?: number,
  ): TokenState {
    if (!auth || typeof auth.client_token !== 'string' || typeof auth.lease_duration !== 'number') {
      throw new VaultError(
        'invalid_response',
        path,
        operation,
        200,
        `Vault ${operation} ${path} answered without an auth block`,
      );
    }
    this.token = auth.client_token;
    const lease = auth.lease_duration;
    if (operation === 'login') this.loginLease = lease;
    this.state = {
      leaseSeconds: lease,
      renewable: auth.renewable === true,
      policies: Array.isArray(auth.policies) ? auth.policies.map(String) : [],
      ...(lease > 0 ? { expiresAt: Date.now() + lease * 1000 } : {}),
      capped: requested !== undefined && lease < requested,
    };
    if (operation === 'login') this.schedule();
    return { ...this.state };
  }

  /** Logs in (kubernetes auth) or adopts and looks up the configured token; returns the token's lease. */
  login(): Promise<TokenState> {
    // Concurrent callers share one login.
    this.loginInFlight ??= this.doLogin().finally(() => {
      this.loginInFlight = undefined;
    });
    return this.loginInFlight;
  }

  private async doLogin(): Promise<TokenState> {
    if (this.auth.method === 'kubernetes') {
      const authPath = (this.auth.authPath ?? 'kubernetes').replace(/^\/+|\/+$/g, '');
      const path = `auth/${authPath}/login`;
      let jwt: string;
      try {
        jwt = (await this.auth.jwt()).trim();
      } catch (err) {
        throw new VaultError(
          'login_denied',
          path,
          'login',
          undefined,
          `cannot read the service account token for Vault login: ${(err as Error).message}; check TORCHAIN_VAULT_SA_TOKEN_FILE`,
          { cause: err },
        );
      }
      const role = this.auth.role;
      const res = await this.call('login', path, () => this.nv.kubernetesLogin({ role, jwt, mount_point: authPath }));
      const state = this.applyAuth((res as { auth?: AuthBlock }).auth, path, 'login');
      this.log('info', 'vault login', { authPath, role, leaseSeconds: state.leaseSeconds, policies: state.policies });
      return state;
    }
    const source = this.auth.token;
    const token = (typeof source === 'string' ? source : await source()).trim();
    if (!token)
      throw new VaultError(
        'login_denied',
        'auth/token/lookup-self',
        'login',
        undefined,
        'the Vault token is empty; set TORCHAIN_VAULT_TOKEN_FILE',
      );
    this.token = token;
    const path = 'auth/token/lookup-self';
    const res = (await this.call('lookup', path, () =>
      this.nv.tokenLookupSelf({ requestOptions: this.headers() }),
    )) as {
      data?: { ttl?: unknown; renewable?: unknown; policies?: unknown; creation_ttl?: unknown };
    };
    const d = res.data;
    if (!d || typeof d.ttl !== 'number') {
      throw new VaultError('invalid_response', path, 'lookup', 200, `Vault lookup ${path} answered without data.ttl`);
    }
    this.state = {
      leaseSeconds: d.ttl,
      renewable: d.renewable === true,
      policies: Array.isArray(d.policies) ? d.policies.map(String) : [],
      ...(d.ttl > 0 ? { expiresAt: Date.now() + d.ttl * 1000 } : {}),
      capped: false,
    };
    this.loginLease = typeof d.creation_ttl === 'number' ? d.creation_ttl : d.ttl;
    this.schedule();
    this.log('info', 'vault token adopted', { leaseSeconds: d.ttl, renewable: this.state.renewable });
    return { ...this.state };
  }

  /** Runs fn with a token, logging in first if needed, and once more after an "invalid token" answer. */
  private async authed<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.token) await this.login();
    try {
      return await fn();
    } catch (err) {
      if (err instanceof VaultError && err.kind === 'token_invalid') {
        this.log('warn', 'vault token no longer valid; logging in again', { path: err.path });
        await this.login();
        return fn();
      }
      throw err;
    }
  }

  /** Reads the latest version of a KV v2 secret; path is relative to the mount. */
  async readSecret(path: string): Promise<SecretVersion> {
    const full = `${this.mount}/data/${path}`;
    const rel = kvPath(path, 'read', full);
    if (rel === '') throw new VaultError('bad_request', full, 'read', undefined, 'a KV secret path must not be empty');
    const res = (await this.authed(() =>
      this.call('read', full, () => this.nv.read(`${this.mount}/data/${rel}`, this.headers())),
    )) as { data?: { data?: unknown; metadata?: { version?: unknown; created_time?: unknown } } };
    const data = res.data?.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new VaultError(
        'invalid_response',
        full,
        'read',
        200,
        `Vault read ${full} answered without data.data: is "${this.mount}" a KV version 2 mount?`,
      );
    }
    return {
      data: data as Record<string, unknown>,
      version: typeof res.data?.metadata?.version === 'number' ? res.data.metadata.version : 0,
      createdTime: typeof res.data?.metadata?.created_time === 'string' ? res.data.metadata.created_time : '',
    };
  }

  /** Lists the keys under a KV v2 folder (sub-folders end in "/"); an empty or missing folder is []. */
  async list(path: string): Promise<string[]> {
    const folder = path.replace(/^\/+|\/+$/g, '');
    const full = `${this.mount}/metadata/${folder}${folder ? '/' : ''}`;
    const rel = kvPath(path, 'list', full);
    try {
      const res = (await this.authed(() =>
        this.call('list', full, () => this.nv.list(`${this.mount}/metadata/${rel}${rel ? '/' : ''}`, this.headers())),
      )) as { data?: { keys?: unknown } };
      const keys = res.data?.keys;
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
        throw new VaultError('invalid_response', full, 'list', 200, `Vault list ${full} answered without data.keys`);
      }
      return [...keys].sort();
    } catch (err) {
      // Vault answers LIST on an empty (or absent) folder with 404.
      if (err instanceof VaultError && err.kind === 'not_found') return [];
      throw err;
    }
  }

  /** GET sys/health (unauthenticated). Sealed answers 503 with a body: reported here, not thrown. */
  async health(): Promise<{ initialized: boolean; sealed: boolean; standby: boolean; version: string }> {
    const res = (await this.call('health', 'sys/health', () => this.nv.health())) as Record<string, unknown>;
    if (typeof res?.sealed !== 'boolean') {
      throw new VaultError(
        'invalid_response',
        'sys/health',
        'health',
        undefined,
        'Vault sys/health answered without "sealed"',
      );
    }
    return {
      initialized: res.initialized === true,
      sealed: res.sealed,
      standby: res.standby === true,
      version: String(res.version ?? ''),
    };
  }

  /** Renews the token once now (renew-self); a capped or non-renewable kubernetes token is replaced by a login. */
  async renew(): Promise<TokenState> {
    if (!this.token) return this.login();
    const path = 'auth/token/renew-self';
    const requested = this.loginLease || undefined;
    const res = (await this.call('renew', path, () => this.nv.tokenRenewSelf({ requestOptions: this.headers() }))) as {
      auth?: AuthBlock;
    };
    const state = this.applyAuth(res.auth, path, 'renew', requested);
    this.log('info', 'vault token renewed', { leaseSeconds: state.leaseSeconds, capped: state.capped });
    return state;
  }

  /**
   * Keeps the token alive until stop(): renews at renewFraction of each lease; when Vault caps the lease (max TTL) or
   * the token is not renewable, logs in again (kubernetes auth) before it expires; retries with backoff while Vault
   * is unavailable. Logs in first if needed.
   */
  async startRenewal(): Promise<void> {
    this.stopped = false;
    if (!this.state) await this.login();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs?: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const st = this.state;
    if (delayMs === undefined) {
      if (!st || st.leaseSeconds === 0 || st.expiresAt === undefined) return; // nothing expires
      const remaining = st.expiresAt - Date.now();
      delayMs = Math.max(200, remaining * this.renewFraction);
    }
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.renewing) return;
    this.renewing = true;
    try {
      const st = this.state;
      const relogin = this.auth.method === 'kubernetes' && (!st || !st.renewable || st.capped);
      if (relogin) await this.login();
      else if (st && !st.renewable) {
        this.log('warn', 'vault token is not renewable and cannot be replaced (token auth); it will expire', {
          expiresAt: st.expiresAt ? new Date(st.expiresAt).toISOString() : undefined,
        });
        return;
      } else await this.renew();
      this.failures = 0;
      this.schedule();
    } catch (err) {
      const ve = toVaultError(err, 'renew', 'auth/token/renew-self');
      if (ve.kind === 'token_invalid') {
        this.token = undefined;
        if (this.auth.method === 'kubernetes') this.schedule(0);
        else this.log('error', 'vault token expired or was revoked; write a new one to TORCHAIN_VAULT_TOKEN_FILE', {});
        return;
      }
      this.failures++;
      const remaining = this.state?.expiresAt ? this.state.expiresAt - Date.now() : Infinity;
      // Back off 1 s, 2 s, 4 s ... up to 30 s, but never past half of what is left of the lease.
      const backoff = Math.min(30_000, 1000 * 2 ** (this.failures - 1), Math.max(200, remaining / 2));
      this.log('warn', 'vault token renewal failed; retrying', {
        kind: ve.kind,
        error: ve.message,
        retryInMs: Math.round(backoff),
      });
      this.schedule(backoff);
    } finally {
      this.renewing = false;
    }
  }
}
