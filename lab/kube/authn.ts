// Authentication as kube-apiserver does it, in its order: an X.509 client certificate signed by the cluster CA
// (CN = user, O = groups), else a bearer ServiceAccount token (signature, expiry, the API server's audience, the
// ServiceAccount — and a bound Pod or Secret — still existing with the same uid), else anonymous. Every authenticated
// user gets system:authenticated; anonymous is system:anonymous / system:unauthenticated. A credential that is
// present but invalid is a 401, never anonymous.
// https://kubernetes.io/docs/reference/access-authn-authz/authentication/
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Store } from './store.js';
import { ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS, type UserInfo } from './rbac/types.js';
import { API_AUDIENCES, serviceAccountUser, type TokenAuthority } from './tokens.js';

export interface TokenReviewResult {
  authenticated: boolean;
  user?: UserInfo;
  audiences?: string[];
  error?: string;
}

export type AuthnResult = { user: UserInfo; method: 'x509' | 'token' | 'anonymous' } | { error: string };

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

export const ANONYMOUS_USER: UserInfo = { username: ANONYMOUS, groups: [ALL_UNAUTHENTICATED] };

function withAuthenticated(u: UserInfo): UserInfo {
  return u.groups.includes(ALL_AUTHENTICATED) ? u : { ...u, groups: [...u.groups, ALL_AUTHENTICATED] };
}

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export class Authenticator {
  constructor(
    private readonly store: Store,
    private readonly tokens: TokenAuthority,
  ) {}

  authenticate(req: IncomingMessage): AuthnResult {
    const socket = req.socket as TLSSocket;
    const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
    if (cert && Object.keys(cert).length) {
      // the x509 authenticator: a presented certificate must verify against the client CA and allow client auth
      if (!socket.authorized)
        return { error: `x509: certificate signed by unknown authority (${String(socket.authorizationError)})` };
      if (cert.ext_key_usage && !cert.ext_key_usage.includes(CLIENT_AUTH_OID))
        return { error: 'x509: certificate specifies an incompatible key usage' };
      const subject = cert.subject as unknown as Record<string, string | string[] | undefined>;
      const username = asList(subject.CN)[0];
      if (!username) return { error: 'x509: certificate has no common name' };
      return { user: withAuthenticated({ username, groups: asList(subject.O) }), method: 'x509' };
    }
    const h = req.headers.authorization;
    if (h !== undefined) {
      const m = /^bearer\s+(\S+)\s*$/i.exec(h);
      if (!m) return { error: 'invalid bearer token' };
      const r = this.reviewToken(m[1]!, undefined);
      return r.authenticated ? { user: r.user!, method: 'token' } : { error: r.error ?? 'invalid bearer token' };
    }
    return { user: ANONYMOUS_USER, method: 'anonymous' };
  }

  /** A bearer token checked as TokenReview does (for `audiences`, default the API server's own). */
  reviewToken(token: string, audiences: string[] | undefined): TokenReviewResult {
    const wanted = audiences?.length ? audiences : API_AUDIENCES;
    const v = this.tokens.verify(token, Math.floor(Date.now() / 1000));
    if ('error' in v) return { authenticated: false, error: v.error };
    const c = v.claims;
    const aud = wanted.filter((a) => c.aud.includes(a));
    if (!aud.length)
      return {
        authenticated: false,
        error: `[invalid bearer token, token audiences ${JSON.stringify(c.aud)} is invalid for the target audiences ${JSON.stringify(wanted)}]`,
      };
    const k = c['kubernetes.io'];
    const sa = this.store.get('/serviceaccounts', k.namespace, k.serviceaccount.name);
    if (!sa)
      return {
        authenticated: false,
        error: `[invalid bearer token, service account ${k.namespace}/${k.serviceaccount.name} has been deleted]`,
      };
    if (sa.metadata.uid !== k.serviceaccount.uid)
      return {
        authenticated: false,
        error: `[invalid bearer token, service account UID (${k.serviceaccount.uid}) does not match claim (${sa.metadata.uid})]`,
      };
    if (k.pod) {
      const pod = this.store.get('/pods', k.namespace, k.pod.name);
      if (!pod || pod.metadata.deletionTimestamp)
        return { authenticated: false, error: `[invalid bearer token, pod "${k.pod.name}" not found]` };
      if (pod.metadata.uid !== k.pod.uid)
        return {
          authenticated: false,
          error: `[invalid bearer token, pod UID (${pod.metadata.uid}) does not match claim (${k.pod.uid})]`,
        };
    }
    if (k.secret) {
      const secret = this.store.get('/secrets', k.namespace, k.secret.name);
      if (!secret || secret.metadata.deletionTimestamp)
        return { authenticated: false, error: `[invalid bearer token, secret "${k.secret.name}" not found]` };
      if (secret.metadata.uid !== k.secret.uid)
        return {
          authenticated: false,
          error: `[invalid bearer token, secret UID (${secret.metadata.uid}) does not match claim (${k.secret.uid})]`,
        };
    }
    return { authenticated: true, user: withAuthenticated(serviceAccountUser(c)), audiences: aud };
  }
}
