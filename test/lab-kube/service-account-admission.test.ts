// The ServiceAccount admission plugin and the root CA publisher, as a client sees them: a created pod gets the
// kube-api-access projected volume in every container (token bound to the pod, ca.crt from kube-root-ca.crt, the
// namespace), unless automounting is off; a pod naming a ServiceAccount that does not exist is refused with
// kube-apiserver's text; every namespace holds kube-root-ca.crt with the cluster CA.
// https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-token-volume
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { waitFor } from '../../lab/runtime/wait.js';

const pod = (name: string, extra: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod => ({
  metadata: { name },
  spec: {
    containers: [
      { name: 'a', image: 'x' },
      { name: 'b', image: 'y' },
    ],
    ...extra,
  },
});

describe('lab/kube: ServiceAccount admission and kube-root-ca.crt', () => {
  let kube: Kube;
  let core: CoreV1Api;
  const dir = mkdtempSync(join(tmpdir(), 'tc-sa-admission-'));

  beforeAll(async () => {
    kube = await startKube({ dir });
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'sa-test' } } });
    await waitFor('the default ServiceAccount', () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace: 'sa-test' }).then(() => true),
    );
  });

  afterAll(async () => {
    await kube?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the cluster CA as kube-root-ca.crt in every namespace, and puts it back when edited', async () => {
    const cm = await waitFor('kube-root-ca.crt', () =>
      core.readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace: 'sa-test' }),
    );
    expect(cm.data?.['ca.crt']).toBe(kube.caPem);
    await core.patchNamespacedConfigMap({
      name: 'kube-root-ca.crt',
      namespace: 'sa-test',
      body: [{ op: 'replace', path: '/data/ca.crt', value: 'tampered' }],
    });
    await waitFor(
      'the CA back',
      async () =>
        (await core.readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace: 'sa-test' })).data?.['ca.crt'] ===
        kube.caPem,
    );
  });

  it('mounts the kube-api-access projected volume in every container of a new pod', async () => {
    const created = await core.createNamespacedPod({ namespace: 'sa-test', body: pod('p1') });
    expect(created.spec?.serviceAccountName).toBe('default');
    const vol = created.spec?.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
    expect(vol?.projected?.sources?.map((s) => Object.keys(s)[0])).toEqual([
      'serviceAccountToken',
      'configMap',
      'downwardAPI',
    ]);
    expect(vol?.projected?.sources?.[0]?.serviceAccountToken?.expirationSeconds).toBe(3607);
    for (const c of created.spec!.containers)
      expect(c.volumeMounts).toContainEqual({
        name: vol!.name,
        mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
        readOnly: true,
      });
  });

  it('mounts nothing when automountServiceAccountToken is false on the pod or on its ServiceAccount', async () => {
    const off = await core.createNamespacedPod({
      namespace: 'sa-test',
      body: pod('p2', { automountServiceAccountToken: false }),
    });
    expect(off.spec?.volumes ?? []).toHaveLength(0);
    await core.createNamespacedServiceAccount({
      namespace: 'sa-test',
      body: { metadata: { name: 'quiet' }, automountServiceAccountToken: false },
    });
    const quiet = await core.createNamespacedPod({
      namespace: 'sa-test',
      body: pod('p3', { serviceAccountName: 'quiet' }),
    });
    expect(quiet.spec?.volumes ?? []).toHaveLength(0);
  });

  it("refuses a pod whose ServiceAccount does not exist, with kube-apiserver's message", async () => {
    const err = await core
      .createNamespacedPod({ namespace: 'sa-test', body: pod('p4', { serviceAccountName: 'ghost' }) })
      .catch((e: { code?: number; body?: string }) => e);
    expect((err as { code?: number }).code).toBe(403);
    expect(String((err as { body?: string }).body)).toContain(
      'pods \\"p4\\" is forbidden: error looking up service account sa-test/ghost: serviceaccount \\"ghost\\" not found',
    );
  });
});
