// The kubeconfig file kubectl, Helm and client-node use as it is: HTTPS on loopback, the self-signed serving
// certificate as the cluster CA, and the admin bearer token.
import { stringify } from 'yaml';

export function kubeconfigYaml(url: string, token: string, caPem: string, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'torchain-lab',
        cluster: { server: url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
      },
    ],
    contexts: [{ name: 'torchain-lab', context: { cluster: 'torchain-lab', user: 'torchain-lab-admin', namespace } }],
    'current-context': 'torchain-lab',
    users: [{ name: 'torchain-lab-admin', user: { token } }],
    preferences: {},
  });
}
