// Policy checks on the rendered output: privileges, RBAC reach, secrets, monitoring labels, the operator's
// configuration contract, and the chain topology the NetworkAttachmentDefinitions and TorChains describe.
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELM } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { KUBE_CALLS, type KubeCall } from '../../operator/src/adapters/kube/calls.js';
import { allows, describeRequest, expand, grantAllows, grantsFor, ruleAllows, type Request } from '../support/rbac.js';
import { podPolicyViolations } from './pod-policy.js';
import {
  ciValueFiles,
  one,
  ofKind,
  podSpecs,
  render,
  RELEASE_NAMESPACE,
  type Manifest,
  type RenderOptions,
} from './render.js';

const ciFile = (name: string): string => {
  const f = ciValueFiles().find((p) => basename(p) === name);
  if (!f) throw new Error(`helm/torchain/ci/${name} is missing`);
  return f;
};

/** The operator's configuration contract (docs: contracts.md, "Operator process configuration"). */
const OPERATOR_ENV = new Set([
  'TORCHAIN_HTTP_PORT',
  'TORCHAIN_WEBHOOK_TOKEN_FILE',
  'KUBECONFIG',
  'TORCHAIN_WATCH_NAMESPACE',
  'TORCHAIN_WORKLOAD_NAMESPACES',
  'POD_NAME',
  'POD_NAMESPACE',
  'TORCHAIN_LEASE_NAME',
  'TORCHAIN_VAULT_ADDR',
  'TORCHAIN_VAULT_MOUNT',
  'TORCHAIN_VAULT_AUTH',
  'TORCHAIN_VAULT_ROLE',
  'TORCHAIN_VAULT_AUTH_PATH',
  'TORCHAIN_VAULT_TOKEN_FILE',
  'TORCHAIN_VAULT_SA_TOKEN_FILE',
  'TORCHAIN_POOL_PREFIX',
  'TORCHAIN_PROMETHEUS_URL',
  'TORCHAIN_ALERTMANAGER_URL',
  'TORCHAIN_POLL_INTERVAL_SECONDS',
  'TORCHAIN_COOLDOWN_SECONDS',
  'TORCHAIN_QUARANTINE_SECONDS',
  'TORCHAIN_IMAGE_OPENVPN',
  'TORCHAIN_IMAGE_WIREGUARD',
  'TORCHAIN_IMAGE_OPENCONNECT',
  'TORCHAIN_IMAGE_LOG_EXPORTER',
  'TORCHAIN_IMAGE_PULL_POLICY',
  'TORCHAIN_LINK_MTU',
  'TORCHAIN_LOG_LEVEL',
  // Chart-defined addition, reported to the operator: the ServiceAccount hop pods run as.
  'TORCHAIN_HOP_SERVICE_ACCOUNT',
]);

function envOf(objects: Manifest[]): Record<string, Manifest> {
  const deployment = one(objects, 'Deployment', 'torchain-operator', RELEASE_NAMESPACE);
  const container = deployment.spec.template.spec.containers.find((c: Manifest) => c.name === 'operator');
  return Object.fromEntries((container.env as Manifest[]).map((e) => [e.name, e]));
}

const rulesOf = (o: Manifest): Manifest[] => o.rules ?? [];

/** A namespace where no chain lives: TorChains watched cluster-wide may be created anywhere. */
const ELSEWHERE = 'somewhere-else';

/**
 * The requests the operator makes with this configuration (its rendered environment), from the one list of its calls
 * (operator/src/adapters/kube/calls.ts).
 */
function operatorRequests(env: Record<string, Manifest>): Request[] {
  const watchNs = String(env.TORCHAIN_WATCH_NAMESPACE?.value ?? '');
  const raw = env.TORCHAIN_WORKLOAD_NAMESPACES?.value as string | undefined;
  const workloads =
    raw === undefined || raw === '*'
      ? undefined
      : raw
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean);
  const leaseName = String(env.TORCHAIN_LEASE_NAME!.value);
  const out: Request[] = [];
  const add = (call: KubeCall, namespaces: Array<string | undefined>, name?: string) => {
    for (const namespace of namespaces)
      out.push({
        verb: call.verb,
        group: call.group,
        resource: call.resource,
        ...(call.subresource ? { subresource: call.subresource } : {}),
        ...(namespace ? { namespace } : {}),
        ...(name ? { name } : {}),
      });
  };
  const spread = (call: KubeCall, list: string[] | undefined) =>
    list ? list : call.verb === 'list' || call.verb === 'watch' ? [undefined] : [ELSEWHERE];
  for (const call of Object.values(KUBE_CALLS) as KubeCall[]) {
    const name = call.named ? (call.scope === 'lease' ? leaseName : 'some-object') : undefined;
    if (call.scope === 'lease') add(call, [RELEASE_NAMESPACE], name);
    else if (call.scope === 'torchains') add(call, spread(call, watchNs ? [watchNs] : undefined), name);
    else add(call, spread(call, workloads), name);
  }
  return out;
}

describe.skipIf(skipUnless({ binaries: [HELM] }))('policy checks on the rendered chart', () => {
  for (const file of ciValueFiles()) {
    describe(`ci/${basename(file)}`, () => {
      let objects: Manifest[] = [];
      const load = async (): Promise<Manifest[]> =>
        objects.length ? objects : (objects = await render({ valuesFiles: [file] }));

      it('nothing is privileged; only a container named vpn may have NET_ADMIN; every other container runs as non-root on a read-only root filesystem with no capability', async () => {
        const specs = podSpecs(await load());
        expect(specs.length).toBeGreaterThan(0);
        expect(specs.flatMap(([where, spec]) => podPolicyViolations(where, spec))).toEqual([]);
      });

      it('no two objects share kind, namespace and name', async () => {
        const keys = (await load()).map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
        expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
      });

      it('no Secret value appears in a ConfigMap', async () => {
        const all = await load();
        const secretValues = ofKind(all, 'Secret').flatMap((s) => [
          ...Object.values((s.data ?? {}) as Record<string, string>).map((v) =>
            Buffer.from(v, 'base64').toString('utf8'),
          ),
          ...Object.values((s.stringData ?? {}) as Record<string, string>),
        ]);
        expect(secretValues.length).toBeGreaterThan(0);
        const configText = ofKind(all, 'ConfigMap')
          .map((c) => JSON.stringify(c))
          .join('\n');
        for (const value of secretValues) {
          expect(value.length).toBeGreaterThanOrEqual(32);
          expect(configText.includes(value)).toBe(false);
        }
      });

      it('no RBAC rule uses a wildcard, and nothing may read Secrets cluster-wide', async () => {
        const all = await load();
        for (const role of [...ofKind(all, 'Role'), ...ofKind(all, 'ClusterRole')]) {
          for (const rule of rulesOf(role)) {
            const at = `${role.kind} ${role.metadata.namespace ?? ''}/${role.metadata.name}`;
            for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames'])
              expect(rule[field] ?? [], at).not.toContain('*');
            if (role.kind === 'ClusterRole') expect(rule.resources, at).not.toContain('secrets');
          }
        }
      });

      it('the operator runs the contract configuration: every env name is known and the essentials are set', async () => {
        const env = envOf(await load());
        for (const name of Object.keys(env)) expect(OPERATOR_ENV.has(name), name).toBe(true);
        for (const name of [
          'TORCHAIN_HTTP_PORT',
          'TORCHAIN_WEBHOOK_TOKEN_FILE',
          'POD_NAME',
          'POD_NAMESPACE',
          'TORCHAIN_VAULT_ADDR',
          'TORCHAIN_VAULT_AUTH',
          'TORCHAIN_IMAGE_OPENVPN',
          'TORCHAIN_IMAGE_WIREGUARD',
          'TORCHAIN_IMAGE_LOG_EXPORTER',
        ])
          expect(env[name], name).toBeDefined();
        expect(env.POD_NAME!.valueFrom.fieldRef.fieldPath).toBe('metadata.name');
        expect(env.POD_NAMESPACE!.valueFrom.fieldRef.fieldPath).toBe('metadata.namespace');
      });

      it('the webhook token file comes from the token Secret the chart generates', async () => {
        const all = await load();
        const deployment = one(all, 'Deployment', 'torchain-operator', RELEASE_NAMESPACE);
        const env = envOf(all);
        const volume = deployment.spec.template.spec.volumes.find((v: Manifest) => v.name === 'webhook-token');
        const mount = deployment.spec.template.spec.containers[0].volumeMounts.find(
          (m: Manifest) => m.name === 'webhook-token',
        );
        const secret = one(all, 'Secret', volume.secret.secretName, RELEASE_NAMESPACE);
        const key = volume.secret.items[0].key as string;
        expect(env.TORCHAIN_WEBHOOK_TOKEN_FILE!.value).toBe(`${mount.mountPath}/${volume.secret.items[0].path}`);
        expect(Buffer.from(secret.data[key], 'base64').toString()).toMatch(/^[A-Za-z0-9]{48}$/);
      });

      it('the ServiceMonitor and PodMonitor carry the monitoring labels; the operator keeps its own namespace label', async () => {
        const all = await load();
        const serviceMonitor = one(all, 'ServiceMonitor', 'torchain-operator');
        const podMonitor = one(all, 'PodMonitor', 'torchain-hops');
        for (const o of [serviceMonitor, podMonitor]) expect(o.metadata.labels.release).toBe('kube-prometheus-stack');
        expect(serviceMonitor.spec.endpoints.every((e: Manifest) => e.honorLabels === true)).toBe(true);
        const service = one(all, 'Service', 'torchain-operator', RELEASE_NAMESPACE);
        expect(serviceMonitor.spec.selector.matchLabels).toEqual(service.spec.selector);
        expect(service.spec.ports.map((p: Manifest) => p.name)).toContain(serviceMonitor.spec.endpoints[0].port);
      });
    });
  }

  it('the PodMonitor turns the hop pod labels into the identity labels of the metrics contract', async () => {
    const all = await render({ valuesFiles: [ciFile('three-hop-mixed-values.yaml')] });
    const podMonitor = one(all, 'PodMonitor', 'torchain-hops');
    expect(podMonitor.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'torchain-hop' });
    const endpoint = podMonitor.spec.podMetricsEndpoints[0];
    const targets = Object.fromEntries(
      (endpoint.relabelings as Manifest[])
        .filter((r) => r.targetLabel)
        .map((r) => [r.targetLabel, (r.sourceLabels as string[]).join(',')]),
    );
    expect(targets).toEqual({
      namespace: '__meta_kubernetes_namespace',
      torchain: '__meta_kubernetes_pod_label_torchain_dev_chain',
      hop: '__meta_kubernetes_pod_label_torchain_dev_hop',
      type: '__meta_kubernetes_pod_label_torchain_dev_type',
      server: '__meta_kubernetes_pod_label_torchain_dev_server',
      pod: '__meta_kubernetes_pod_name',
    });
    expect(endpoint.honorLabels).toBe(false);
    const keep = (endpoint.relabelings as Manifest[]).find((r) => r.action === 'keep');
    expect(keep).toMatchObject({ regex: 'log-exporter;9108' });
    expect(podMonitor.spec.namespaceSelector).toEqual({ matchNames: [RELEASE_NAMESPACE] });
  });

  it('the monitoring labels follow global.monitoring.labels (a different kube-prometheus-stack release)', async () => {
    const all = await render({
      valuesFiles: [ciFile('two-chains-values.yaml')],
      setJson: { 'global.monitoring.labels': { release: 'monitoring', team: 'net' } },
      set: { 'monitoring.podMonitor.labels.extra': 'yes' },
    });
    const podMonitor = one(all, 'PodMonitor', 'torchain-hops');
    expect(podMonitor.metadata.labels).toMatchObject({ release: 'monitoring', team: 'net', extra: 'yes' });
    expect(one(all, 'ServiceMonitor', 'torchain-operator').metadata.labels).toMatchObject({
      release: 'monitoring',
      team: 'net',
    });
    expect(podMonitor.spec.namespaceSelector.matchNames).toEqual(['torchain-alpha', 'torchain-beta', 'torchain-lab']);
  });

  it('RBAC: the operator manages TorChains cluster-wide but Secrets and Deployments only in the chain namespaces', async () => {
    const all = await render({ valuesFiles: [ciFile('two-chains-values.yaml')] });
    const clusterRole = one(all, 'ClusterRole', 'torchain-operator');
    expect(clusterRole.rules).toEqual([
      { apiGroups: ['torchain.dev'], resources: ['torchains'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: ['torchain.dev'], resources: ['torchains/status'], verbs: ['patch'] },
    ]);
    const workloadRoles = ofKind(all, 'Role').filter((r) => r.metadata.name === 'torchain-operator');
    expect(workloadRoles.map((r) => r.metadata.namespace).sort()).toEqual([
      'torchain-alpha',
      'torchain-beta',
      'torchain-lab',
    ]);
    for (const role of workloadRoles) {
      // The operator watches its own hop Secrets and Deployments here (by label) and writes them; nothing else.
      expect(role.rules).toEqual([
        { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch', 'create', 'update'] },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list', 'watch', 'create', 'update', 'patch'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create'] },
      ]);
      const binding = one(all, 'RoleBinding', 'torchain-operator', role.metadata.namespace);
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'torchain-operator', namespace: RELEASE_NAMESPACE },
      ]);
    }
    expect(envOf(all).TORCHAIN_WORKLOAD_NAMESPACES!.value).toBe('torchain-alpha,torchain-beta,torchain-lab');
    const lease = one(all, 'Role', 'torchain-operator-lease', RELEASE_NAMESPACE);
    expect(lease.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['torchain-operator'],
        verbs: ['get', 'update'],
      },
    ]);
  });

  it('the RBAC matcher follows the Kubernetes authoriser on subresources, resourceNames and binding scope', () => {
    const rule = { apiGroups: ['torchain.dev'], resources: ['torchains'], verbs: ['get', 'list'] };
    const req = { verb: 'get', group: 'torchain.dev', resource: 'torchains', namespace: 'a', name: 'x' };
    expect(ruleAllows(rule, req)).toBe(true);
    expect(ruleAllows(rule, { ...req, subresource: 'status' })).toBe(false);
    expect(ruleAllows({ ...rule, resourceNames: ['x'] }, req)).toBe(true);
    expect(ruleAllows({ ...rule, resourceNames: ['x'] }, { ...req, verb: 'list', name: undefined })).toBe(false);
    expect(ruleAllows({ ...rule, apiGroups: ['*'], verbs: ['*'] }, { ...req, verb: 'patch' })).toBe(true);
    const inA = { namespace: 'a', rule, from: 'Role a/r' };
    expect(grantAllows(inA, req)).toBe(true);
    expect(grantAllows(inA, { ...req, namespace: 'b' })).toBe(false);
    expect(grantAllows(inA, { ...req, verb: 'list', namespace: undefined, name: undefined })).toBe(false);
    expect(grantAllows({ ...inA, namespace: '*' }, { ...req, verb: 'list', namespace: undefined })).toBe(true);
  });

  const variants: Array<[string, RenderOptions]> = [
    ['chains in two namespaces and an extra one', { valuesFiles: [ciFile('two-chains-values.yaml')] }],
    ['no chain at all (the defaults)', { valuesFiles: [ciFile('default-values.yaml')] }],
    [
      'one watched namespace',
      { valuesFiles: [ciFile('two-chains-values.yaml')], set: { 'operator.watchNamespace': 'torchain-beta' } },
    ],
    [
      'cluster-wide workloads',
      { valuesFiles: [ciFile('two-chains-values.yaml')], set: { 'operator.rbac.clusterWideWorkloads': 'true' } },
    ],
  ];
  for (const [variant, opts] of variants)
    it(`RBAC (${variant}): every call the operator makes is granted where it makes it, and nothing else is`, async () => {
      const all = await render(opts);
      const grants = grantsFor(all, { namespace: RELEASE_NAMESPACE, name: 'torchain-operator' });
      const needed = operatorRequests(envOf(all));
      const missing = needed.filter((r) => !allows(grants, r)).map(describeRequest);
      expect(missing, 'calls the rendered RBAC refuses').toEqual([]);
      const unused = grants
        .flatMap(expand)
        .filter(({ grant, one: rule }) => !needed.some((r) => grantAllows({ ...grant, rule }, r)))
        .map(({ grant, one: rule }) => `${grant.from}: ${JSON.stringify(rule)}`);
      expect(unused, 'permissions no call of the operator needs').toEqual([]);
    });

  it('RBAC: the hop ServiceAccount may only get pods and their logs in its own namespace', async () => {
    const all = await render({ valuesFiles: [ciFile('two-chains-values.yaml')] });
    for (const ns of ['torchain-alpha', 'torchain-beta']) {
      one(all, 'ServiceAccount', 'torchain-hop', ns);
      expect(one(all, 'Role', 'torchain-hop', ns).rules).toEqual([
        { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'] },
      ]);
      expect(one(all, 'RoleBinding', 'torchain-hop', ns).subjects).toEqual([
        { kind: 'ServiceAccount', name: 'torchain-hop', namespace: ns },
      ]);
    }
    const bindings = [...ofKind(all, 'RoleBinding'), ...ofKind(all, 'ClusterRoleBinding')];
    const hopBindings = bindings.filter((b) => b.subjects.some((s: Manifest) => s.name === 'torchain-hop'));
    expect(hopBindings.map((b) => b.roleRef.name)).toEqual(['torchain-hop', 'torchain-hop']);
  });

  it('clusterWideWorkloads moves Secrets and Deployments into the ClusterRole and drops the per-namespace Roles', async () => {
    const all = await render({
      valuesFiles: [ciFile('two-chains-values.yaml')],
      set: { 'operator.rbac.clusterWideWorkloads': 'true' },
    }).catch((e: Error) => e);
    // Cluster-wide Secrets access is exactly what the policy above forbids by default: it must be an explicit choice.
    expect(all).toBeInstanceOf(Array);
    const clusterRole = one(all as Manifest[], 'ClusterRole', 'torchain-operator');
    expect(clusterRole.rules.flatMap((r: Manifest) => r.resources)).toContain('secrets');
    expect(ofKind(all as Manifest[], 'Role').filter((r) => r.metadata.name === 'torchain-operator')).toEqual([]);
    expect(envOf(all as Manifest[]).TORCHAIN_WORKLOAD_NAMESPACES!.value).toBe('*');
    expect(one(all as Manifest[], 'PodMonitor', 'torchain-hops').spec.namespaceSelector).toEqual({ any: true });
  });

  it('NetworkPolicies: default deny in each chain namespace, then DNS, the API server and scrapes only', async () => {
    const all = await render({ valuesFiles: [ciFile('two-chains-values.yaml')] });
    for (const ns of ['torchain-alpha', 'torchain-beta']) {
      expect(one(all, 'NetworkPolicy', 'torchain-default-deny', ns).spec).toEqual({
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
      });
      const hops = one(all, 'NetworkPolicy', 'torchain-hops', ns).spec;
      expect(hops.ingress).toHaveLength(1);
      expect(hops.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 9108 }]);
      expect(hops.ingress[0].from[0].namespaceSelector.matchLabels).toEqual({
        'kubernetes.io/metadata.name': 'monitoring',
      });
      const egressPorts = hops.egress.map((e: Manifest) => e.ports.map((p: Manifest) => `${p.protocol}/${p.port}`));
      expect(egressPorts).toEqual([['UDP/53', 'TCP/53'], ['TCP/6443']]);
      expect(hops.egress[1].to).toEqual([
        { ipBlock: { cidr: '192.0.2.10/32' } },
        { ipBlock: { cidr: '192.0.2.11/32' } },
      ]);
    }
    const operator = one(all, 'NetworkPolicy', 'torchain-operator', RELEASE_NAMESPACE).spec;
    const vault = operator.egress.find((e: Manifest) => e.ports[0].port === 8200);
    expect(vault.to).toEqual([{ ipBlock: { cidr: '192.0.2.50/32' } }]);
  });

  it('without a cluster to look the API server up in, the policy falls back to any address on the API server ports', async () => {
    const all = await render({ valuesFiles: [ciFile('three-hop-mixed-values.yaml')] });
    const hops = one(all, 'NetworkPolicy', 'torchain-hops', RELEASE_NAMESPACE).spec;
    expect(hops.egress[1]).toEqual({
      to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }],
      ports: [
        { protocol: 'TCP', port: 6443 },
        { protocol: 'TCP', port: 443 },
      ],
    });
  });

  it('watchNamespace: TorChains and Deployments are watched through a Role in that namespace only', async () => {
    const all = await render({
      valuesFiles: [ciFile('two-chains-values.yaml')],
      set: { 'operator.watchNamespace': 'torchain-alpha' },
    });
    expect(ofKind(all, 'ClusterRole')).toEqual([]);
    expect(ofKind(all, 'ClusterRoleBinding')).toEqual([]);
    const watch = one(all, 'Role', 'torchain-operator-watch', 'torchain-alpha');
    expect(watch.rules.flatMap((r: Manifest) => r.resources)).toEqual(['torchains', 'torchains/status']);
    // Workloads only where TorChains are watched.
    expect(
      ofKind(all, 'Role')
        .filter((r) => r.metadata.name === 'torchain-operator')
        .map((r) => r.metadata.namespace),
    ).toEqual(['torchain-alpha']);
    expect(envOf(all).TORCHAIN_WORKLOAD_NAMESPACES!.value).toBe('torchain-alpha');
    expect(one(all, 'PodMonitor', 'torchain-hops').spec.namespaceSelector).toEqual({ matchNames: ['torchain-alpha'] });
    expect(envOf(all).TORCHAIN_WATCH_NAMESPACE!.value).toBe('torchain-alpha');
    const keys = all.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('images: the global registry wins over each image registry, a digest over the tag, the tag defaults to appVersion', async () => {
    const mirrored = envOf(await render({ valuesFiles: [ciFile('five-hop-values.yaml')] }));
    expect(mirrored.TORCHAIN_IMAGE_OPENVPN!.value).toBe('registry.example.internal/torchain/hop-openvpn:0.1.0');
    expect(mirrored.TORCHAIN_IMAGE_LOG_EXPORTER!.value).toBe('registry.example.internal/torchain/log-exporter:0.1.0');
    const digest = `sha256:${'a'.repeat(64)}`;
    const all = await render({
      set: { 'hop.images.wireguard.digest': digest, 'operator.image.tag': '1.2.3', 'global.imagePullPolicy': 'Always' },
    });
    const env = envOf(all);
    expect(env.TORCHAIN_IMAGE_WIREGUARD!.value).toBe(`ghcr.io/torchain/hop-wireguard@${digest}`);
    expect(env.TORCHAIN_IMAGE_PULL_POLICY!.value).toBe('Always');
    const container = one(all, 'Deployment', 'torchain-operator').spec.template.spec.containers[0];
    expect(container).toMatchObject({ image: 'ghcr.io/torchain/operator:1.2.3', imagePullPolicy: 'Always' });
  });
});
