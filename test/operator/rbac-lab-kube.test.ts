// The operator under exactly the chart's RBAC: the chart is rendered with `helm template`, its ServiceAccount and RBAC
// objects are applied to lab/kube as admin, a token is minted for the operator's ServiceAccount (TokenRequest), and
// the operator process runs with that token and the workload namespaces the chart hands it. It must become Ready,
// reconcile a chain, switch a hop and record Events with nothing but what the chart grants. lab/kube authenticates the
// token and enforces RBAC as kube-apiserver does: a rule missing from the chart fails this test, and the audit log
// shows no refused request of the operator's.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELM } from '../../scripts/paths.js';
import { render, type Manifest } from '../chart/render.js';
import { skipUnless } from '../support/env.js';
import {
  NS,
  OP_NS,
  PodReadiness,
  createChain,
  eventsFor,
  eventually,
  getSecret,
  getTc,
  notification,
  seedChain,
  startOperatorProcess,
  startStandIns,
  switchAlert,
  type OperatorProcess,
  type StandIns,
} from './support/harness.js';

const RBAC_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
const OPERATOR_SA = 'torchain-operator';
const OPERATOR_USER = `system:serviceaccount:${OP_NS}:${OPERATOR_SA}`;

/**
 * Renders the chart (`helm template`), applies its operator ServiceAccount and RBAC objects to lab/kube as admin, and
 * mints a token for that ServiceAccount (TokenRequest) into a kubeconfig of its own: the operator never sees the admin
 * credentials. Returns that kubeconfig and the operator container's rendered environment.
 */
async function installChartRbac(
  s: StandIns,
  extraNamespaces: string[],
): Promise<{ env: Record<string, string>; kubeconfig: string; rbac: Manifest[] }> {
  const objects = await render({
    namespace: OP_NS,
    skipTests: true,
    setJson: { 'operator.rbac.extraNamespaces': extraNamespaces },
  });
  const rbac = objects.filter(
    (o) => RBAC_KINDS.includes(o.kind) && o.metadata?.labels?.['app.kubernetes.io/component'] === 'operator',
  );
  const admin = KubernetesObjectApi.makeApiClient(s.kc);
  for (const o of rbac) await admin.create(o as KubernetesObject);
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'torchain-operator')!;
  const env = (deployment.spec.template.spec.containers[0].env as Manifest[]).filter((e) => 'value' in e);
  const token = s.kube.mintServiceAccountToken(OP_NS, OPERATOR_SA, { expirationSeconds: 3600 });
  const kubeconfig = join(s.dir, 'operator-kubeconfig');
  writeFileSync(kubeconfig, s.kube.kubeconfigFor(token, OP_NS), { mode: 0o600 });
  return { env: Object.fromEntries(env.map((e) => [e.name, String(e.value)])), kubeconfig, rbac };
}

describe.skipIf(skipUnless({ binaries: [HELM] }))("the operator under the chart's rendered RBAC (lab/kube)", () => {
  let s: StandIns;
  let op: OperatorProcess;
  let kubelet: PodReadiness;
  let operatorEnv: Record<string, string>;
  let kubeconfig: string;

  beforeAll(async () => {
    s = await startStandIns({ auditLogPath: join(mkdtempSync(join(tmpdir(), 'torchain-audit-')), 'audit.log') });
    // The chart as a user installs it, with the chain namespace of these tests as a workload namespace.
    ({ env: operatorEnv, kubeconfig } = await installChartRbac(s, [NS]));
    expect(operatorEnv.TORCHAIN_WORKLOAD_NAMESPACES).toBe(NS);
    await seedChain(s, 'alpha');
    await createChain(s, 'alpha');
    for (const name of ['elsewhere']) await s.core.createNamespace({ body: { metadata: { name } } });
    kubelet = new PodReadiness(s);
    kubelet.start();
    op = await startOperatorProcess(s, {
      KUBECONFIG: kubeconfig,
      TORCHAIN_WORKLOAD_NAMESPACES: operatorEnv.TORCHAIN_WORKLOAD_NAMESPACES!,
      TORCHAIN_LEASE_NAME: operatorEnv.TORCHAIN_LEASE_NAME!,
    });
  });
  afterAll(async () => {
    kubelet?.stop();
    await op?.kill();
    await s?.close();
  });

  it('the kubeconfig it runs with is the ServiceAccount, not the admin', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const review = await kc
      .makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    expect(review.status?.userInfo?.username).toBe(OPERATOR_USER);
  });

  it('becomes Ready, reconciles the chain, switches a hop and records Events with the chart RBAC alone', async () => {
    await eventually(async () => (await fetch(`${op.url}/readyz`)).status === 200, '/readyz 200', 30_000);
    for (const h of [1, 2, 3])
      await eventually(
        async () =>
          (await getTc(s, `alpha-${String(h)}`)).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
        `alpha-${String(h)} Ready`,
      );
    kubelet.down.add('alpha-1');
    await eventually(
      async () => (await getTc(s, 'alpha-1')).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False',
      'alpha-1 not Ready',
    );
    await eventually(async () => (await op.post(notification([]))).status === 200, 'the operator to lead');
    const res = await op.post(
      notification([switchAlert(1, { startsAt: new Date().toISOString() }, { server: 'h1-s0' })]),
    );
    expect(res.body.chains[0]).toMatchObject({ result: 'switched', hop: 1 });
    kubelet.down.delete('alpha-1');
    await eventually(async () => (await getTc(s, 'alpha-1')).status?.currentServer === 'h1-s1', 'alpha-1 on h1-s1');
    await eventually(
      async () => (await eventsFor(s, 'alpha-1')).some((e) => e.reason === 'Switching'),
      'the Switching Event',
    );
    const metrics = await (await fetch(`${op.url}/metrics`)).text();
    expect(metrics).not.toMatch(/^torchain_operator_kube_forbidden_total\{/m);
    expect(op.logs.filter((l) => l.msg === 'Kubernetes RBAC refuses a call the operator needs')).toEqual([]);
    // lab/kube's audit log (audit.k8s.io/v1, one Event per line): none of the operator's requests was refused, the
    // audit trail of the token and not only the outcome.
    const auditLogPath = s.kube.auditLogPath;
    expect(auditLogPath).toBeDefined();
    {
      const entries = readFileSync(auditLogPath!, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(
          (l) =>
            JSON.parse(l) as { user?: { username?: string }; responseStatus?: { code?: number }; requestURI?: string },
        );
      const mine = entries.filter((e) => e.user?.username === OPERATOR_USER);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.filter((e) => e.responseStatus?.code === 403).map((e) => e.requestURI)).toEqual([]);
    }
  });

  it('a TorChain outside the workload namespaces is reported on its status, and nothing is written there', async () => {
    await s.custom.createNamespacedCustomObject({
      group: 'torchain.dev',
      version: 'v1alpha1',
      namespace: 'elsewhere',
      plural: 'torchains',
      body: {
        apiVersion: 'torchain.dev/v1alpha1',
        kind: 'TorChain',
        metadata: { name: 'stray-1', namespace: 'elsewhere' },
        spec: { numberNode: 1, typeNode: 'openvpn', nameTorChain: 'stray', inInterface: 'net1' },
      },
    });
    const ready = await eventually(async () => {
      const tc = (await s.custom.getNamespacedCustomObject({
        group: 'torchain.dev',
        version: 'v1alpha1',
        namespace: 'elsewhere',
        plural: 'torchains',
        name: 'stray-1',
      })) as { status?: { conditions?: Array<{ type: string; reason: string; message: string }> } };
      return tc.status?.conditions?.find((c) => c.type === 'Ready');
    }, 'the stray TorChain status');
    expect(ready).toMatchObject({
      reason: 'Forbidden',
      message: expect.stringMatching(/operator\.rbac\.extraNamespaces/),
    });
    expect((await s.core.listNamespacedSecret({ namespace: 'elsewhere' })).items).toEqual([]);
    expect(await getSecret(s, 'alpha-1-vpn-config')).toBeDefined();
  });
});

describe.skipIf(skipUnless({ binaries: [HELM] }))('a 403 is loud (lab/kube enforcing RBAC)', () => {
  let s: StandIns;
  let op: OperatorProcess;

  beforeAll(async () => {
    s = await startStandIns();
    // The chart knows no chain namespace, yet the operator is told to manage hops in NS: its RBAC lacks that Role.
    const { env, kubeconfig } = await installChartRbac(s, []);
    expect(env.TORCHAIN_WORKLOAD_NAMESPACES).toBe('');
    op = await startOperatorProcess(s, {
      KUBECONFIG: kubeconfig,
      TORCHAIN_WORKLOAD_NAMESPACES: NS,
      TORCHAIN_LEASE_NAME: env.TORCHAIN_LEASE_NAME!,
    });
  });
  afterAll(async () => {
    await op?.kill();
    await s?.close();
  });

  it('names the resource, the namespace and the missing rule in the log and /readyz, counts it, and heals once granted', async () => {
    const readyz = await eventually(async () => {
      const res = await fetch(`${op.url}/readyz`);
      const body = (await res.json()) as { reasons?: string[] };
      return res.status === 503 && body.reasons?.some((r) => r.includes('missing RBAC rule')) ? body : undefined;
    }, '/readyz 503 naming the missing rule');
    expect(readyz.reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^secrets in ${NS}: forbidden to list hop Secrets: .*cannot list resource "secrets".*missing RBAC rule: apiGroups: \\[""\\], resources: \\[secrets\\], verbs: \\[list\\] in namespace ${NS}: add the namespace to operator\\.rbac\\.extraNamespaces`,
          ),
        ),
        expect.stringMatching(new RegExp(`^deployments in ${NS}: .*resources: \\[deployments\\], verbs: \\[list\\]`)),
      ]),
    );
    expect(op.logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'Kubernetes RBAC refuses a call the operator needs',
        verb: 'list',
        resource: 'secrets',
        namespace: NS,
      }),
    );
    const metrics = await (await fetch(`${op.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`torchain_operator_kube_forbidden_total\\{verb="list",resource="secrets",namespace="${NS}"\\} [1-9]`),
    );
    // The webhook asks Alertmanager to retry meanwhile, saying why.
    const res = await op.post(notification([]));
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/missing RBAC rule/);

    // The rule the chart renders for a workload namespace is granted: the operator becomes Ready on its own.
    const { rbac } = await installChartRbacFor(s, NS);
    expect(rbac.length).toBe(2);
    await eventually(async () => (await fetch(`${op.url}/readyz`)).status === 200, '/readyz 200 once granted', 60_000);
  });
});

/** Applies only the workload Role and RoleBinding the chart renders for `namespace`. */
async function installChartRbacFor(s: StandIns, namespace: string): Promise<{ rbac: Manifest[] }> {
  const objects = await render({
    namespace: OP_NS,
    skipTests: true,
    setJson: { 'operator.rbac.extraNamespaces': [namespace] },
  });
  const rbac = objects.filter((o) => ['Role', 'RoleBinding'].includes(o.kind) && o.metadata.namespace === namespace);
  const admin = KubernetesObjectApi.makeApiClient(s.kc);
  for (const o of rbac) await admin.create(o as KubernetesObject);
  return { rbac };
}
