// The create-only "review" resources, answered from the request and stored nowhere:
// TokenRequest (serviceaccounts/token), TokenReview, SelfSubjectReview (`kubectl auth whoami`),
// SelfSubjectAccessReview / SubjectAccessReview / LocalSubjectAccessReview (`kubectl auth can-i`) and
// SelfSubjectRulesReview (`kubectl auth can-i --list`).
// https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access
import { badRequest, invalid } from '../errors.js';
import type { Attributes, UserInfo } from '../rbac/types.js';
import type { TokenRequestSpec } from '../token-request.js';
import type { Obj } from '../types.js';
import type { Call, HttpDeps } from './context.js';
import { parseBody, readBody, sendJson } from './negotiation.js';

async function bodyOf(c: Call): Promise<Obj> {
  const body = parseBody(await readBody(c.req), c.req.headers['content-type']);
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('the body of the request was not a JSON object');
  return body as Obj;
}

/** POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token */
export async function serveTokenRequest(d: HttpDeps, c: Call): Promise<void> {
  const body = await bodyOf(c);
  sendJson(c.res, 201, d.issuer.request(c.route.ns!, c.route.name!, (body.spec ?? {}) as TokenRequestSpec));
}

export async function serveReview(d: HttpDeps, c: Call): Promise<void> {
  const body = await bodyOf(c);
  const gv = `${c.route.t.group}/${c.route.version}`;
  const answer = (kind: string, spec: unknown, status: Obj) =>
    sendJson(c.res, 201, { kind, apiVersion: gv, metadata: { creationTimestamp: null }, spec, status });
  switch (c.route.t.plural) {
    case 'tokenreviews': {
      const spec = (body.spec ?? {}) as { token?: string; audiences?: string[] };
      if (!spec.token)
        throw invalid('TokenReview', 'authentication.k8s.io', '', [{ field: 'spec.token', message: 'Required value' }]);
      const r = d.authn.reviewToken(spec.token, spec.audiences);
      return answer(
        'TokenReview',
        spec,
        r.authenticated ? { authenticated: true, user: r.user, audiences: r.audiences } : { user: {}, error: r.error },
      );
    }
    case 'selfsubjectreviews':
      return sendJson(c.res, 201, {
        kind: 'SelfSubjectReview',
        apiVersion: gv,
        metadata: { creationTimestamp: null },
        status: { userInfo: c.user },
      });
    case 'selfsubjectaccessreviews':
      return answer(
        'SelfSubjectAccessReview',
        body.spec ?? {},
        accessStatus(d, 'SelfSubjectAccessReview', c.user, body),
      );
    case 'subjectaccessreviews': {
      const spec = (body.spec ?? {}) as {
        user?: string;
        groups?: string[];
        uid?: string;
        extra?: Record<string, string[]>;
      };
      if (!spec.user && !spec.groups?.length)
        throw invalid('SubjectAccessReview', 'authorization.k8s.io', '', [
          { field: 'spec.user', message: 'Invalid value: "": at least one of user or group must be specified' },
        ]);
      const user: UserInfo = { username: spec.user ?? '', groups: spec.groups ?? [], uid: spec.uid, extra: spec.extra };
      return answer('SubjectAccessReview', spec, accessStatus(d, 'SubjectAccessReview', user, body));
    }
    case 'localsubjectaccessreviews': {
      const spec = (body.spec ?? {}) as { user?: string; groups?: string[]; resourceAttributes?: Obj };
      const ns = c.route.ns ?? '';
      if (spec.resourceAttributes && String(spec.resourceAttributes.namespace ?? '') !== ns)
        throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${ns}`);
      if (spec.resourceAttributes === undefined && (body.spec as Obj | undefined)?.nonResourceAttributes)
        throw invalid('LocalSubjectAccessReview', 'authorization.k8s.io', '', [
          {
            field: 'spec.nonResourceAttributes',
            message: 'Invalid value: "object": disallowed on this kind of request',
          },
        ]);
      if (!spec.user && !spec.groups?.length)
        throw invalid('LocalSubjectAccessReview', 'authorization.k8s.io', '', [
          { field: 'spec.user', message: 'Invalid value: "": at least one of user or group must be specified' },
        ]);
      const user: UserInfo = { username: spec.user ?? '', groups: spec.groups ?? [] };
      return answer('LocalSubjectAccessReview', spec, accessStatus(d, 'LocalSubjectAccessReview', user, body));
    }
    case 'selfsubjectrulesreviews': {
      const spec = (body.spec ?? {}) as { namespace?: string };
      return answer('SelfSubjectRulesReview', spec, d.authz.rulesReview(c.user, spec.namespace ?? ''));
    }
    default:
      throw badRequest(`lab/kube does not serve POST on ${c.route.t.plural}`);
  }
}

/** The attributes a *SubjectAccessReview asks about, checked with the same authoriser as a request. */
function accessStatus(d: HttpDeps, kind: string, user: UserInfo, body: Obj): Obj {
  const spec = (body.spec ?? {}) as { resourceAttributes?: Obj; nonResourceAttributes?: Obj };
  const ra = spec.resourceAttributes;
  const na = spec.nonResourceAttributes;
  if (!ra === !na)
    throw invalid(kind, 'authorization.k8s.io', '', [
      {
        field: 'spec.resourceAttributes',
        message: `Invalid value: ${ra ? '"object"' : '"null"'}: exactly one of nonResourceAttributes or resourceAttributes must be specified`,
      },
    ]);
  const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const attrs: Attributes = ra
    ? {
        user,
        resourceRequest: true,
        verb: s(ra.verb),
        namespace: s(ra.namespace),
        apiGroup: s(ra.group),
        apiVersion: s(ra.version),
        resource: s(ra.resource),
        subresource: s(ra.subresource),
        name: s(ra.name),
      }
    : { user, resourceRequest: false, verb: s(na!.verb), path: s(na!.path) };
  const r = d.authz.authorize(attrs);
  return r.decision === 'allow'
    ? { allowed: true, reason: r.reason }
    : { allowed: false, ...(r.reason ? { reason: r.reason } : {}) };
}
