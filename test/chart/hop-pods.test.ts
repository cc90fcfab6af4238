// Cross-area contract: the hop Deployment the operator builds (operator/src/core/hop-objects.ts) from a TorChain the
// chart renders fits the objects the chart renders around it — the pod policy, the hop ServiceAccount and its Role,
// the Multus attachments and their interface names, the PodMonitor's selector and port, the NetworkPolicy's port —
// with the images and ServiceAccount the chart hands the operator through its environment.
import { describe, expect, it } from 'vitest';
import type { TorChain } from '../../operator/src/api/torchain.js';
import { PROTOCOLS, type Protocol } from '../../common/contracts/protocols.js';
import { buildDeployment } from '../../operator/src/core/hop-objects.js';
import { serverEndpoint } from '../../operator/src/core/vpn-config.js';
import { HELM } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { podPolicyViolations } from './pod-policy.js';
import { ciValueFiles, one, ofKind, render, RELEASE_NAMESPACE, type Manifest } from './render.js';

const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe.skipIf(skipUnless({ binaries: [HELM] }))('the operator-built hop pods inside the chart', () => {
  it('fit the pod policy, the ServiceAccount, the attachments, the PodMonitor and the NetworkPolicy', async () => {
    const all = await render({ valuesFiles: ciValueFiles().filter((f) => f.includes('three-hop')) });
    const operator = one(all, 'Deployment', 'torchain-operator', RELEASE_NAMESPACE);
    const env = Object.fromEntries(
      (operator.spec.template.spec.containers[0].env as Manifest[]).map((e) => [e.name, e.value as string]),
    );
    const podMonitor = one(all, 'PodMonitor', 'torchain-hops');
    const keep = (podMonitor.spec.podMetricsEndpoints[0].relabelings as Manifest[]).find((r) => r.action === 'keep')!;
    const [keepContainer, keepPort] = (keep.regex as string).split(';');

    const ready = serverEndpoint('openvpn', 'client\nremote 198.51.100.10 1194\n');
    if (!ready.ok) throw new Error(ready.error);
    const prepared = ready.value;
    const torChains = ofKind(all, 'TorChain');
    expect(torChains).toHaveLength(3);
    for (const rendered of torChains) {
      const tc = { ...rendered, metadata: { ...rendered.metadata, uid: `uid-${rendered.metadata.name}` } } as TorChain;
      const namespace = tc.metadata.namespace!;
      const deployment = buildDeployment({
        tc,
        server: 'nl-ams-01',
        config: 'client\n',
        endpoint: prepared,
        mtu: 1400,
        images: {
          ...(Object.fromEntries(PROTOCOLS.map((p) => [p, env[`TORCHAIN_IMAGE_${p.toUpperCase()}`]!])) as Record<
            Protocol,
            string
          >),
          logExporter: env.TORCHAIN_IMAGE_LOG_EXPORTER!,
          pullPolicy: env.TORCHAIN_IMAGE_PULL_POLICY as 'IfNotPresent',
        },
        serviceAccountName: env.TORCHAIN_HOP_SERVICE_ACCOUNT!,
      }) as Manifest;
      const pod = deployment.spec.template as Manifest;
      const where = `hop Deployment ${namespace}/${deployment.metadata.name}`;

      expect(podPolicyViolations(where, pod.spec)).toEqual([]);
      // The last hop serves DNS to the LAN (chains[].dns, on by default): its pod runs the resolver container too.
      const last = tc.spec.numberNode === torChains.length;
      expect(tc.spec.dns !== undefined, where).toBe(last);
      expect(pod.spec.containers.map((c: Manifest) => c.name).sort()).toEqual(
        last ? ['dns', 'log-exporter', 'vpn'] : ['log-exporter', 'vpn'],
      );

      // The ServiceAccount exists in the hop's namespace and may read the pod's log, which the exporter follows.
      one(all, 'ServiceAccount', pod.spec.serviceAccountName, namespace);
      const binding = one(all, 'RoleBinding', 'torchain-hop', namespace);
      expect(binding.subjects).toContainEqual({ kind: 'ServiceAccount', name: pod.spec.serviceAccountName, namespace });
      expect(one(all, 'Role', binding.roleRef.name, namespace).rules).toContainEqual({
        apiGroups: [''],
        resources: ['pods', 'pods/log'],
        verbs: ['get'],
      });

      // Every Multus attachment the pod asks for exists in its namespace, under the interface name of the TorChain.
      const networks = JSON.parse(pod.metadata.annotations['k8s.v1.cni.cncf.io/networks']) as Manifest[];
      expect(networks.map((n) => n.interface).sort()).toEqual([tc.spec.inInterface, tc.spec.outInterface].sort());
      for (const n of networks) {
        const nad = one(all, 'NetworkAttachmentDefinition', n.name, n.namespace ?? namespace);
        const config = JSON.parse(nad.spec.config) as Manifest;
        // A requested address needs the `ips` capability on the attachment, or Multus drops it.
        if (n.ips) expect(config.capabilities, n.name).toEqual({ ips: true });
        expect(nad.metadata.annotations['torchain.dev/interface']).toBe(n.interface);
      }

      // The PodMonitor finds the pod and keeps the exporter's port; the NetworkPolicy lets Prometheus in on it.
      expect(matches(podMonitor.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
      const exporter = pod.spec.containers.find((c: Manifest) => c.name === keepContainer);
      expect(exporter, `container ${keepContainer}`).toBeDefined();
      expect(exporter.ports.map((p: Manifest) => String(p.containerPort))).toContain(keepPort);
      const policy = one(all, 'NetworkPolicy', 'torchain-hops', namespace);
      expect(matches(policy.spec.podSelector.matchLabels, pod.metadata.labels)).toBe(true);
      expect(policy.spec.ingress[0].ports).toContainEqual({ protocol: 'TCP', port: Number(keepPort) });
      expect(pod.metadata.labels['torchain.dev/chain']).toBe(tc.spec.nameTorChain);
      expect(pod.metadata.labels['torchain.dev/hop']).toBe(String(tc.spec.numberNode));
    }
  });
});
