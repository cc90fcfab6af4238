// The Kubernetes auth method (https://developer.hashicorp.com/vault/api-docs/auth/kubernetes), following
// hashicorp/vault-plugin-auth-kubernetes path_login.go: the JWT's claims give the service account (legacy
// `kubernetes.io/serviceaccount/*` claims or the projected `kubernetes.io` claim); the role's bound names and namespaces
// are checked (403 "service account name not authorized" / "namespace not authorized"); then the token is reviewed by
// the Kubernetes API (TokenReview), and any failure there, or a review naming another account, is 403 "permission
// denied". Without pem_keys the signature is not verified locally: the TokenReview is what authenticates the token.
import http from 'node:http';
import https from 'node:https';
import { parseDuration } from './durations.js';

export interface KubeAuthConfig {
  kubernetes_host: string;
  kubernetes_ca_cert: string;
  token_reviewer_jwt: string;
  disable_iss_validation: boolean;
  issuer: string;
}

export interface KubeRole {
  bound_service_account_names: string[];
  bound_service_account_namespaces: string[];
  audience: string;
  token_ttl: number;
  token_max_ttl: number;
  token_policies: string[];
  token_no_default_policy: boolean;
}

export class LoginError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ServiceAccountIdentity {
  name: string;
  namespace: string;
  uid: string;
  secretName: string;
}

const ALLOWED_ALGS = new Set(['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512']);

function decodeSegment(seg: string): Record<string, unknown> {
  const value: unknown = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
  if (typeof value !== 'object' || value === null) throw new Error('not a JSON object');
  return value as Record<string, unknown>;
}

/** Reads the service account from the JWT's claims (unverified: TokenReview authenticates it). */
export function serviceAccountFromJwt(jwt: string, audience: string): ServiceAccountIdentity & { aud: string[] } {
  const parts = jwt.split('.');
  if (parts.length !== 3)
    throw new LoginError(403, 'error validating token: malformed token: compact JWS format must have three parts');
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = decodeSegment(parts[0] as string);
    claims = decodeSegment(parts[1] as string);
  } catch {
    throw new LoginError(403, 'error validating token: malformed token: invalid base64 or JSON');
  }
  if (!ALLOWED_ALGS.has(String(header.alg))) {
    throw new LoginError(403, `error validating token: unsupported signing algorithm "${String(header.alg)}"`);
  }
  const now = Date.now() / 1000;
  if (typeof claims.exp === 'number' && claims.exp < now)
    throw new LoginError(403, 'error validating token: token is expired');
  const aud = Array.isArray(claims.aud) ? claims.aud.map(String) : typeof claims.aud === 'string' ? [claims.aud] : [];
  if (audience && !aud.includes(audience)) {
    throw new LoginError(
      403,
      'error validating token: invalid audience (aud) claim: audience claim does not match any expected audience',
    );
  }
  const projected = claims['kubernetes.io'] as
    { namespace?: string; serviceaccount?: { name?: string; uid?: string } } | undefined;
  if (projected && typeof projected === 'object') {
    return {
      name: projected.serviceaccount?.name ?? '',
      namespace: projected.namespace ?? '',
      uid: projected.serviceaccount?.uid ?? '',
      secretName: '',
      aud,
    };
  }
  return {
    name: String(claims['kubernetes.io/serviceaccount/service-account.name'] ?? ''),
    namespace: String(claims['kubernetes.io/serviceaccount/namespace'] ?? ''),
    uid: String(claims['kubernetes.io/serviceaccount/service-account.uid'] ?? ''),
    secretName: String(claims['kubernetes.io/serviceaccount/secret.name'] ?? ''),
    aud,
  };
}

/** Go's strutil.StrListContainsGlob: entries may hold `*` wildcards. */
function containsGlob(list: string[], value: string): boolean {
  return list.some((p) => {
    if (!p.includes('*')) return p === value;
    const re = new RegExp(
      `^${p
        .split('*')
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    return re.test(value);
  });
}

export function checkBindings(role: KubeRole, sa: ServiceAccountIdentity): void {
  const names = role.bound_service_account_names;
  if (!(names.length === 1 && names[0] === '*') && !containsGlob(names, sa.name)) {
    throw new LoginError(403, 'service account name not authorized');
  }
  const nss = role.bound_service_account_namespaces;
  if (!(nss[0] === '*' || containsGlob(nss, sa.namespace))) throw new LoginError(403, 'namespace not authorized');
}

/** POST /apis/authentication.k8s.io/v1/tokenreviews as the plugin's token_review.go does; resolves the reviewed user. */
export function reviewToken(
  config: KubeAuthConfig,
  jwt: string,
  audiences: string[],
): Promise<{ name: string; namespace: string; uid: string }> {
  // kubernetes_host may carry a path prefix (an API behind a proxy): append to it, as Vault's client does.
  const url = new URL(`${config.kubernetes_host.replace(/\/+$/, '')}/apis/authentication.k8s.io/v1/tokenreviews`);
  const body = JSON.stringify({
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token: jwt, ...(audiences.length ? { audiences } : {}) },
  });
  // Without token_reviewer_jwt, Vault uses the client's own JWT as the reviewer's bearer token.
  const bearer = config.token_reviewer_jwt || jwt;
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          Authorization: `Bearer ${bearer}`,
          'Content-Length': Buffer.byteLength(body),
        },
        ...(config.kubernetes_ca_cert ? { ca: config.kubernetes_ca_cert } : {}),
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) {
            reject(new Error(`TokenReview answered ${res.statusCode}: ${text.slice(0, 200)}`));
            return;
          }
          try {
            const review = JSON.parse(text) as {
              status?: { authenticated?: boolean; error?: string; user?: { username?: string; uid?: string } };
            };
            const st = review.status ?? {};
            if (st.error) throw new Error(st.error);
            if (!st.authenticated) throw new Error('lookup failed: service account jwt not valid');
            const parts = (st.user?.username ?? '').split(':');
            if (parts.length !== 4) throw new Error('lookup failed: unexpected username format');
            if (parts[0] !== 'system' || parts[1] !== 'serviceaccount') {
              throw new Error('lookup failed: username returned is not a service account');
            }
            resolve({ namespace: parts[2] as string, name: parts[3] as string, uid: st.user?.uid ?? '' });
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('TokenReview timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string')
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((s) => s.trim());
  throw new Error(`invalid value for "${field}": expected a list of strings or a comma-separated string`);
}

/** Role parameters that restrict a token further; ignoring them would grant more than asked, so they are refused. */
const UNSUPPORTED_ROLE_FIELDS = [
  'token_bound_cidrs',
  'bound_cidrs',
  'token_num_uses',
  'num_uses',
  'token_period',
  'period',
  'token_explicit_max_ttl',
  'bound_service_account_namespace_selector',
];

/** Validates a role write (POST auth/kubernetes/role/:name) into a stored role. */
export function parseRole(body: Record<string, unknown>, previous?: KubeRole): KubeRole {
  const unsupported = UNSUPPORTED_ROLE_FIELDS.filter((f) => body[f] !== undefined && body[f] !== '' && body[f] !== 0);
  if (unsupported.length) throw new Error(`lab/vault does not implement ${unsupported.join(', ')}`);
  const names =
    stringList(body.bound_service_account_names, 'bound_service_account_names') ??
    previous?.bound_service_account_names ??
    [];
  const nss =
    stringList(body.bound_service_account_namespaces, 'bound_service_account_namespaces') ??
    previous?.bound_service_account_namespaces ??
    [];
  if (names.length === 0) throw new Error('"bound_service_account_names" can not be empty');
  if (nss.length === 0) throw new Error('"bound_service_account_namespaces" can not be empty');
  if (names.length > 1 && names.includes('*')) {
    throw new Error('can not mix "*" with values for "bound_service_account_names"');
  }
  if (nss.length > 1 && nss.includes('*')) {
    throw new Error('can not mix "*" with values for "bound_service_account_namespaces"');
  }
  const ttl = parseDuration(body.token_ttl ?? body.ttl, 'token_ttl') ?? previous?.token_ttl ?? 0;
  const maxTtl = parseDuration(body.token_max_ttl ?? body.max_ttl, 'token_max_ttl') ?? previous?.token_max_ttl ?? 0;
  if (maxTtl > 0 && ttl > maxTtl) throw new Error('"token_ttl" cannot be greater than "token_max_ttl"');
  const policies = stringList(body.token_policies ?? body.policies, 'token_policies') ?? previous?.token_policies ?? [];
  return {
    bound_service_account_names: names,
    bound_service_account_namespaces: nss,
    audience: typeof body.audience === 'string' ? body.audience : (previous?.audience ?? ''),
    token_ttl: ttl,
    token_max_ttl: maxTtl,
    token_policies: policies,
    token_no_default_policy:
      typeof body.token_no_default_policy === 'boolean'
        ? body.token_no_default_policy
        : (previous?.token_no_default_policy ?? false),
  };
}

export function parseConfig(body: Record<string, unknown>, previous?: KubeAuthConfig): KubeAuthConfig {
  const host = typeof body.kubernetes_host === 'string' ? body.kubernetes_host : previous?.kubernetes_host;
  if (!host) throw new Error('no host provided');
  try {
    const u = new URL(host);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new Error(`invalid kubernetes_host "${host}": expected an http(s) URL`);
  }
  const str = (k: keyof KubeAuthConfig): string =>
    typeof body[k] === 'string' ? (body[k] as string) : ((previous?.[k] as string | undefined) ?? '');
  return {
    kubernetes_host: host,
    kubernetes_ca_cert: str('kubernetes_ca_cert'),
    token_reviewer_jwt: str('token_reviewer_jwt'),
    issuer: str('issuer'),
    disable_iss_validation:
      typeof body.disable_iss_validation === 'boolean'
        ? body.disable_iss_validation
        : (previous?.disable_iss_validation ?? true),
  };
}
