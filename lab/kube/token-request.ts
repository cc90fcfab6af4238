// TokenRequest (POST .../serviceaccounts/{name}/token) and the kubelet's projected ServiceAccount token: the same
// bound JWT either way, with the checks and messages of k8s.io/kubernetes/pkg/registry/core/serviceaccount/storage/
// token.go (expiration bounds, bound object kinds, uid preconditions, a pod running as another ServiceAccount).
// https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/
// https://kubernetes.io/docs/concepts/storage/projected-volumes/#serviceaccounttoken
import type { Api } from './api.js';
import { timestamp } from './api.js';
import { ApiError, badRequest, invalid } from './errors.js';
import { API_AUDIENCES, type TokenAuthority } from './tokens.js';
import type { KObject, Obj } from './types.js';

export interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
}

/** The kubelet's default for a projected token (the pod API defaults serviceAccountToken.expirationSeconds to 1 h). */
export const PROJECTED_TOKEN_SECONDS = 3600;

export class TokenIssuer {
  constructor(
    private readonly api: Api,
    private readonly tokens: TokenAuthority,
  ) {}

  /** TokenRequest: returns the TokenRequest object the API answers with (201), or throws its API error. */
  request(ns: string, name: string, spec: TokenRequestSpec): Obj {
    const { api } = this;
    const sa = api.get(api.registry.byGroupResource('', 'serviceaccounts')!, ns, name);
    const expirationSeconds = spec.expirationSeconds ?? 3600;
    const problem = (field: string, message: string) =>
      invalid('TokenRequest', 'authentication.k8s.io', name, [{ field, message }]);
    if (expirationSeconds < 600)
      throw problem(
        'spec.expirationSeconds',
        `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`,
      );
    if (expirationSeconds > 2 ** 32)
      throw problem(
        'spec.expirationSeconds',
        `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds`,
      );
    const audiences = spec.audiences?.length ? spec.audiences : API_AUDIENCES;
    const bound: {
      pod?: { name: string; uid: string };
      secret?: { name: string; uid: string };
      node?: { name: string; uid: string };
    } = {};
    const ref = spec.boundObjectRef;
    if (ref) {
      const plural = ref.kind === 'Pod' ? 'pods' : ref.kind === 'Secret' ? 'secrets' : undefined;
      if (!plural)
        throw problem(
          'spec.boundObjectRef.kind',
          `Unsupported value: ${JSON.stringify(ref.kind)}: supported values: "Pod", "Secret"`,
        );
      const obj = api.get(api.registry.byGroupResource('', plural)!, ns, ref.name ?? '');
      if (ref.uid && ref.uid !== obj.metadata.uid)
        throw new ApiError(
          409,
          'Conflict',
          `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
        );
      if (ref.kind === 'Pod') {
        const podSa = String((obj.spec as Obj | undefined)?.serviceAccountName ?? 'default');
        if (podSa !== name)
          throw badRequest(
            `cannot bind token for serviceaccount ${JSON.stringify(name)} to pod running with different serviceaccount name.`,
          );
        bound.pod = { name: obj.metadata.name!, uid: obj.metadata.uid! };
        const nodeName = (obj.spec as Obj | undefined)?.nodeName as string | undefined;
        const node = nodeName ? api.store.get('/nodes', '', nodeName) : undefined;
        if (node) bound.node = { name: nodeName!, uid: node.metadata.uid! };
      } else bound.secret = { name: obj.metadata.name!, uid: obj.metadata.uid! };
    }
    const now = Math.floor(Date.now() / 1000);
    const exp = now + expirationSeconds;
    const token = this.tokens.mint(
      {
        aud: audiences,
        exp,
        sub: `system:serviceaccount:${ns}:${name}`,
        'kubernetes.io': { namespace: ns, serviceaccount: { name, uid: sa.metadata.uid! }, ...bound },
      },
      now,
    );
    return {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace: ns, creationTimestamp: null },
      spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
      status: { token, expirationTimestamp: timestamp(new Date(exp * 1000)) },
    };
  }

  /**
   * What the kubelet mounts for a pod's projected `serviceAccountToken`: a TokenRequest for the pod's ServiceAccount
   * bound to the pod (`boundObjectRef: {kind: Pod, apiVersion: v1, name, uid}`), for the API server's audience unless
   * the projection names one.
   */
  projectForPod(
    pod: KObject,
    opts: { audience?: string; expirationSeconds?: number } = {},
  ): { token: string; expirationTimestamp: string } {
    const ns = pod.metadata.namespace!;
    const sa = String((pod.spec as Obj | undefined)?.serviceAccountName ?? 'default');
    const r = this.request(ns, sa, {
      audiences: opts.audience ? [opts.audience] : undefined,
      expirationSeconds: opts.expirationSeconds ?? PROJECTED_TOKEN_SECONDS,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name, uid: pod.metadata.uid },
    });
    return r.status as { token: string; expirationTimestamp: string };
  }
}
