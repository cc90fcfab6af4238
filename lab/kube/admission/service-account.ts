// The ServiceAccount admission plugin, as kube-apiserver runs it on every pod create: the pod's ServiceAccount
// (default `default`) must exist, and unless automounting is off (on the pod, else on the ServiceAccount) every
// container gets the `kube-api-access-<random>` projected volume at /var/run/secrets/kubernetes.io/serviceaccount:
// a token bound to the pod (3607 s, rotated by the kubelet), the cluster CA from the kube-root-ca.crt ConfigMap and
// the namespace. https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-token-volume
import { randomBytes } from 'node:crypto';
import { ApiError } from '../errors.js';
import type { Store } from '../store.js';
import type { KObject, Obj } from '../types.js';

export const SA_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function suffix(): string {
  return [...randomBytes(5)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

/** Mutates a pod being created; throws the API server's error when its ServiceAccount does not exist. */
export function admitPodServiceAccount(store: Store, ns: string, pod: KObject): void {
  const spec = (pod.spec ?? {}) as Obj;
  const saName =
    (spec.serviceAccountName as string | undefined) || (spec.serviceAccount as string | undefined) || 'default';
  spec.serviceAccountName = saName;
  spec.serviceAccount = saName;
  const sa = store.get('/serviceaccounts', ns, saName);
  if (!sa)
    throw new ApiError(
      403,
      'Forbidden',
      `pods "${pod.metadata.name ?? pod.metadata.generateName ?? ''}" is forbidden: error looking up service account ${ns}/${saName}: serviceaccount "${saName}" not found`,
    );
  const automount =
    (spec.automountServiceAccountToken as boolean | undefined) ??
    (sa.automountServiceAccountToken as boolean | undefined) ??
    true;
  if (!automount) return;
  const containers = [
    ...((spec.initContainers as Obj[] | undefined) ?? []),
    ...((spec.containers as Obj[] | undefined) ?? []),
  ];
  const volumes = ((spec.volumes as Obj[] | undefined) ?? []).slice();
  const name = `kube-api-access-${suffix()}`;
  let used = false;
  for (const c of containers) {
    const mounts = ((c.volumeMounts as Obj[] | undefined) ?? []).slice();
    if (mounts.some((m) => m.mountPath === SA_MOUNT_PATH)) continue;
    mounts.push({ name, readOnly: true, mountPath: SA_MOUNT_PATH });
    c.volumeMounts = mounts;
    used = true;
  }
  if (!used) return;
  volumes.push({
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    },
  });
  spec.volumes = volumes;
  pod.spec = spec;
}
