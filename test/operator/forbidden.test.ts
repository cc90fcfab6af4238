// A 403 is loud: the error names the resource, the namespace and the RBAC rule that is missing; an informer that
// cannot list keeps the reason for /readyz, which answers 503 with it.
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { KUBE_CALLS } from '../../operator/src/adapters/kube/calls.js';
import { ForbiddenError, kubeError } from '../../operator/src/adapters/kube/errors.js';
import { Informer, type KubeObject } from '../../operator/src/controller/informer.js';
import { buildHttpServer } from '../../operator/src/http/server.js';
import { countForbidden, createMetrics } from '../../operator/src/metrics.js';
import { loadConfig } from '../../operator/src/config.js';

/** What client-node throws for kube-apiserver's 403 (the Status body and its message as the authoriser words it). */
function forbidden(message: string): ApiException<string> {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    message,
    reason: 'Forbidden',
    code: 403,
  });
  return new ApiException(403, `HTTP-Code: 403\nMessage: Unknown API Status Code!\nBody: ${body}`, body, {});
}

const RBAC_DENIAL =
  'secrets is forbidden: User "system:serviceaccount:torchain-system:torchain-operator" cannot list resource "secrets" in API group "" in the namespace "vpn"';

describe('a 403 names what is missing', () => {
  it('an RBAC denial becomes a ForbiddenError naming the resource, the namespace and the rule to grant', () => {
    const err = kubeError(forbidden(RBAC_DENIAL), 'list hop Secrets', KUBE_CALLS.listSecrets, 'vpn');
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err.message).toContain(RBAC_DENIAL);
    expect(err.message).toContain(
      'missing RBAC rule: apiGroups: [""], resources: [secrets], verbs: [list] in namespace vpn: add the namespace to operator.rbac.extraNamespaces',
    );
    const status = kubeError(
      forbidden(
        'torchains.torchain.dev "a" is forbidden: User "x" cannot patch resource "torchains/status" in API group "torchain.dev" in the namespace "vpn"',
      ),
      'write a status',
      KUBE_CALLS.patchTorChainStatus,
      'vpn',
    );
    expect(status.message).toContain('resources: [torchains/status], verbs: [patch] in namespace vpn');
    // A 403 that is not RBAC's (a namespace being deleted) is reported as it is, with no rule to grant.
    const terminating = kubeError(
      forbidden('unable to create new content in namespace vpn because it is being terminated'),
      'create Secret vpn/a',
      KUBE_CALLS.createSecret,
      'vpn',
    );
    expect(terminating).toBeInstanceOf(ForbiddenError);
    expect(terminating.message).not.toContain('missing RBAC rule');
  });

  it('an informer refused its list keeps the reason and reports every failure; /readyz answers 503 with it', async () => {
    const seen: unknown[] = [];
    const informer = new Informer<KubeObject>({
      name: 'secrets in vpn',
      source: {
        list: async () => {
          throw kubeError(forbidden(RBAC_DENIAL), 'list hop Secrets', KUBE_CALLS.listSecrets, 'vpn');
        },
        watch: async () => ({ abort: () => undefined }),
      },
      onChange: () => undefined,
      relistMs: 60_000,
      silentMs: 60_000,
      backoff: { baseMs: 5, maxMs: 10 },
      onError: (err) => seen.push(err),
    });
    informer.start();
    const end = Date.now() + 3000;
    while (seen.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    informer.stop();
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[0]).toBeInstanceOf(ForbiddenError);
    expect(informer.hasSynced).toBe(false);
    expect(informer.lastError).toMatch(/missing RBAC rule: .*resources: \[secrets\], verbs: \[list\] in namespace vpn/);

    const app = buildHttpServer({
      token: () => 't',
      onNotification: async () => ({}),
      isLeader: () => true,
      isReady: () => informer.hasSynced,
      notReadyReasons: () => [`${informer.name}: ${informer.lastError ?? ''}`],
      metrics: createMetrics({ defaultMetrics: false }),
      log: silentLogger,
    });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().reasons).toEqual([
      expect.stringMatching(/^secrets in vpn: forbidden to list hop Secrets: .*extraNamespaces/),
    ]);
    const webhook = await app.inject({
      method: 'POST',
      url: '/v1/alertmanager',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      payload: { version: '4', status: 'firing', alerts: [] },
    });
    expect(webhook.statusCode).toBe(503);
    expect(webhook.json().error).toMatch(/missing RBAC rule/);
  });
});

describe('a 403 is counted', () => {
  it('torchain_operator_kube_forbidden_total by verb, resource and namespace; other errors are not', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const err = kubeError(forbidden(RBAC_DENIAL), 'list hop Secrets', KUBE_CALLS.listSecrets, 'vpn');
    expect(countForbidden(m, err)).toEqual({ verb: 'list', resource: 'secrets', namespace: 'vpn' });
    expect(countForbidden(m, new Error('boom'))).toBeUndefined();
    expect(await m.registry.getSingleMetricAsString('torchain_operator_kube_forbidden_total')).toMatch(
      /torchain_operator_kube_forbidden_total\{verb="list",resource="secrets",namespace="vpn"\} 1/,
    );
  });
});

describe('workload namespaces (TORCHAIN_WORKLOAD_NAMESPACES)', () => {
  const base = { TORCHAIN_WEBHOOK_TOKEN_FILE: '/run/token' };
  it('unset or * is every namespace; a list is those only; empty is none; TORCHAIN_WATCH_NAMESPACE narrows it', () => {
    expect(loadConfig(base).workloadNamespaces).toBeUndefined();
    expect(loadConfig({ ...base, TORCHAIN_WORKLOAD_NAMESPACES: '*' }).workloadNamespaces).toBeUndefined();
    expect(loadConfig({ ...base, TORCHAIN_WORKLOAD_NAMESPACES: 'vpn-b, vpn-a,vpn-b' }).workloadNamespaces).toEqual([
      'vpn-a',
      'vpn-b',
    ]);
    expect(loadConfig({ ...base, TORCHAIN_WORKLOAD_NAMESPACES: '' }).workloadNamespaces).toEqual([]);
    expect(
      loadConfig({ ...base, TORCHAIN_WATCH_NAMESPACE: 'vpn-a', TORCHAIN_WORKLOAD_NAMESPACES: 'vpn-a' })
        .workloadNamespaces,
    ).toEqual(['vpn-a']);
    expect(() => loadConfig({ ...base, TORCHAIN_WORKLOAD_NAMESPACES: 'vpn,Bad_Name' })).toThrow(
      /TORCHAIN_WORKLOAD_NAMESPACES=vpn,Bad_Name: Bad_Name is not a namespace name/,
    );
    expect(() => loadConfig({ ...base, TORCHAIN_WATCH_NAMESPACE: 'a', TORCHAIN_WORKLOAD_NAMESPACES: 'b' })).toThrow(
      /does not include TORCHAIN_WATCH_NAMESPACE=a/,
    );
  });
});
