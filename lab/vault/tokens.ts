// Service tokens with TTL and max TTL, as the token store documents them
// (https://developer.hashicorp.com/vault/docs/concepts/tokens#token-time-to-live-periodic-tokens-and-explicit-max-ttls,
// https://developer.hashicorp.com/vault/api-docs/auth/token). Expiry is checked on use against an injectable clock.
import { randomBytes, randomUUID } from 'node:crypto';
import { formatGoDuration } from './durations.js';

/** Vault's system default and maximum lease TTL (768h = 32 days). */
export const SYSTEM_MAX_TTL = 768 * 3600;

export interface Token {
  id: string;
  accessor: string;
  policies: string[];
  /** TTL the token was created with, seconds (0 = never expires: root). */
  creationTtl: number;
  /** Unix ms, or undefined for a token without TTL. */
  expiresAt?: number;
  /** Unix ms after which no renewal can extend the token. */
  maxExpiresAt?: number;
  explicitMaxTtl: number;
  renewable: boolean;
  path: string;
  displayName: string;
  meta: Record<string, string> | null;
  orphan: boolean;
  issued: number;
  lastRenewal?: number;
  /** Kubernetes auth tokens renew against their role's TTL (the role may have changed). */
  role?: { mount: string; name: string };
}

function base62(bytes: number): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return [...randomBytes(bytes)].map((b) => alphabet[b % 62]).join('');
}

export interface IssueOptions {
  policies: string[];
  ttl: number;
  maxTtl: number;
  explicitMaxTtl?: number;
  renewable?: boolean;
  path: string;
  displayName: string;
  meta?: Record<string, string> | null;
  orphan?: boolean;
  role?: { mount: string; name: string };
}

export class TokenStore {
  private readonly tokens = new Map<string, Token>();

  constructor(private readonly now: () => number) {}

  createRoot(): Token {
    const t: Token = {
      id: `hvs.${base62(24)}`,
      accessor: base62(24),
      policies: ['root'],
      creationTtl: 0,
      explicitMaxTtl: 0,
      renewable: false,
      path: 'auth/token/root',
      displayName: 'root',
      meta: null,
      orphan: true,
      issued: this.now(),
    };
    this.tokens.set(t.id, t);
    return t;
  }

  issue(o: IssueOptions): Token {
    const now = this.now();
    const maxTtl = Math.min(o.maxTtl || SYSTEM_MAX_TTL, SYSTEM_MAX_TTL, o.explicitMaxTtl || Infinity);
    const ttl = Math.min(o.ttl || SYSTEM_MAX_TTL, maxTtl);
    const t: Token = {
      id: `hvs.${base62(24)}`,
      accessor: base62(24),
      policies: [...new Set(o.policies)].sort(),
      creationTtl: ttl,
      expiresAt: now + ttl * 1000,
      maxExpiresAt: now + maxTtl * 1000,
      explicitMaxTtl: o.explicitMaxTtl ?? 0,
      renewable: o.renewable ?? true,
      path: o.path,
      displayName: o.displayName,
      meta: o.meta ?? null,
      orphan: o.orphan ?? false,
      issued: now,
      ...(o.role ? { role: o.role } : {}),
    };
    this.tokens.set(t.id, t);
    return t;
  }

  /** The live token, or undefined when unknown, revoked or expired (expired tokens are revoked on sight). */
  lookup(id: string | undefined): Token | undefined {
    if (!id) return undefined;
    const t = this.tokens.get(id);
    if (!t) return undefined;
    if (t.expiresAt !== undefined && t.expiresAt <= this.now()) {
      this.tokens.delete(id);
      return undefined;
    }
    return t;
  }

  revoke(id: string): void {
    this.tokens.delete(id);
  }

  /** Remaining TTL in whole seconds (0 for tokens without TTL). */
  ttl(t: Token): number {
    return t.expiresAt === undefined ? 0 : Math.max(0, Math.floor((t.expiresAt - this.now()) / 1000));
  }

  /** Extends the token by `increment` seconds from now, capped at its max TTL; returns the TTL granted and warnings. */
  renew(t: Token, increment: number): { ttl: number; warnings: string[] } {
    if (t.expiresAt === undefined) return { ttl: 0, warnings: [] };
    const now = this.now();
    const maxLeft = Math.floor(((t.maxExpiresAt as number) - now) / 1000);
    const warnings: string[] = [];
    let ttl = increment;
    if (ttl > maxLeft) {
      warnings.push(
        `TTL of "${formatGoDuration(ttl)}" exceeded the effective max_ttl of "${formatGoDuration(Math.max(0, maxLeft))}"; TTL value is capped accordingly`,
      );
      ttl = Math.max(0, maxLeft);
    }
    t.expiresAt = now + ttl * 1000;
    t.lastRenewal = now;
    return { ttl, warnings };
  }

  /** The `data` of auth/token/lookup-self. */
  describe(t: Token): Record<string, unknown> {
    const sec = (ms: number): number => Math.floor(ms / 1000);
    return {
      accessor: t.accessor,
      creation_time: sec(t.issued),
      creation_ttl: t.creationTtl,
      display_name: t.displayName,
      entity_id: '',
      expire_time: t.expiresAt === undefined ? null : new Date(t.expiresAt).toISOString(),
      explicit_max_ttl: t.explicitMaxTtl,
      id: t.id,
      issue_time: new Date(t.issued).toISOString(),
      ...(t.lastRenewal !== undefined
        ? { last_renewal: new Date(t.lastRenewal).toISOString(), last_renewal_time: sec(t.lastRenewal) }
        : {}),
      meta: t.meta,
      num_uses: 0,
      orphan: t.orphan,
      path: t.path,
      policies: t.policies,
      renewable: t.renewable,
      ttl: this.ttl(t),
      type: 'service',
    };
  }
}

export function newRequestId(): string {
  return randomUUID();
}
