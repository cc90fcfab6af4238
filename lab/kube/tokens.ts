// The ServiceAccount token signer: RS256 JWTs with the `kubernetes.io` claims, as the real server mints them for
// TokenRequest (bound to the service account's uid, optionally to a pod or secret), verified for authentication and
// TokenReview, and published as JWKS for OIDC discovery.
// https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-tokens
// https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-review-v1/
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

export const ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** The API server's own audience (--api-audiences defaults to the issuer). */
export const API_AUDIENCES = [ISSUER];

export type { UserInfo } from './rbac/types.js';
import type { UserInfo } from './rbac/types.js';

export interface SaClaims {
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  iss: string;
  jti: string;
  sub: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
    node?: { name: string; uid: string };
  };
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export class TokenAuthority {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;

  constructor(keys?: { privatePem: string }) {
    this.privateKey = keys
      ? createPrivateKey(keys.privatePem)
      : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    this.publicKey = createPublicKey(this.privateKey);
    const der = this.publicKey.export({ type: 'spki', format: 'der' });
    this.kid = b64(createHash('sha256').update(der).digest());
  }

  exportKeys(): { privatePem: string } {
    return { privatePem: this.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  }

  /** Signs a service-account token; `now` in seconds. */
  mint(claims: Omit<SaClaims, 'iss' | 'jti' | 'iat' | 'nbf'>, now: number): string {
    const header = { alg: 'RS256', kid: this.kid };
    const body: SaClaims = { ...claims, iat: now, nbf: now, iss: ISSUER, jti: randomUUID() };
    const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(body))}`;
    return `${input}.${b64(sign('sha256', Buffer.from(input), this.privateKey))}`;
  }

  /** Verifies signature, issuer and time window; returns the claims or the reason it is not valid. */
  verify(token: string, now: number): { claims: SaClaims } | { error: string } {
    const parts = token.split('.');
    if (parts.length !== 3) return { error: 'invalid bearer token' };
    let header: { alg?: string };
    let claims: SaClaims;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as { alg?: string };
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as SaClaims;
    } catch {
      return { error: 'invalid bearer token' };
    }
    if (header.alg !== 'RS256') return { error: 'invalid bearer token, unexpected signature algorithm' };
    const ok = verify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      this.publicKey,
      Buffer.from(parts[2]!, 'base64url'),
    );
    if (!ok) return { error: 'invalid bearer token, square/go-jose: error in cryptographic primitive' };
    if (claims.iss !== ISSUER) return { error: 'invalid bearer token, token issuer not recognised' };
    if (typeof claims.exp !== 'number' || now >= claims.exp)
      return { error: 'invalid bearer token, service account token has expired' };
    if (typeof claims.nbf === 'number' && now < claims.nbf - 60)
      return { error: 'invalid bearer token, service account token is not valid yet' };
    if (!claims['kubernetes.io']?.serviceaccount)
      return { error: 'invalid bearer token, missing kubernetes.io claims' };
    return { claims };
  }

  /** The JWKS document (/openid/v1/jwks) a relying party can verify tokens with. */
  jwks(): Record<string, unknown> {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return { keys: [{ use: 'sig', kty: 'RSA', kid: this.kid, alg: 'RS256', n: jwk.n, e: jwk.e }] };
  }
}

export function serviceAccountUser(claims: SaClaims): UserInfo {
  const k = claims['kubernetes.io'];
  const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] };
  if (k.pod) {
    extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
  }
  if (k.node) {
    extra['authentication.kubernetes.io/node-name'] = [k.node.name];
    extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
  }
  return {
    username: `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`,
    uid: k.serviceaccount.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
    extra,
  };
}
