// The kubeconfig kubectl, Helm and client-node use as they are: HTTPS, the cluster CA, and a user — the admin's
// client certificate (as kubeadm's admin.conf), or a bearer token (a ServiceAccount's, say).
import { stringify } from 'yaml';

export type KubeconfigUser = { certPem: string; keyPem: string } | { token: string };

export function kubeconfigYaml(url: string, caPem: string, user: KubeconfigUser, namespace = 'default'): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const name = 'token' in user ? 'torchain-lab-user' : 'kubernetes-admin';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'torchain-lab', cluster: { server: url, 'certificate-authority-data': b64(caPem) } }],
    contexts: [{ name: 'torchain-lab', context: { cluster: 'torchain-lab', user: name, namespace } }],
    'current-context': 'torchain-lab',
    users: [
      {
        name,
        user:
          'token' in user
            ? { token: user.token }
            : { 'client-certificate-data': b64(user.certPem), 'client-key-data': b64(user.keyPem) },
      },
    ],
    preferences: {},
  });
}
