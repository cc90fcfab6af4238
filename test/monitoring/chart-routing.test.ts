// Every chain's switch alerts reach the operator with kube-prometheus-stack's DEFAULT settings: for each of the
// chart's ci/*.yaml value sets and a set with chains in three namespaces (one the release namespace) plus
// extraNamespaces, the chart is rendered with the real helm, translated as prometheus-operator does (namespace
// matcher under alertmanagerConfigMatcherStrategy OnNamespace), checked by the real amtool, and routed with
// `amtool config routes test`: a switch alert of every chain goes to `<ns>/<name>/torchain-operator` of that
// namespace's AlertmanagerConfig, other alerts of the same namespace do not.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { HELM } from '../../scripts/paths.js';
import { AMTOOL_028 } from '../../lab/monitoring/binaries.js';
import { RELEASE_NAMESPACE } from '../chart/render.js';
import { run, tempDir } from '../prometheus-rules/support.js';
import { skipUnless } from '../support/env.js';
import { clusterFor, hopsOf, translateWithKps, valueSets, type Cluster } from './support.js';

const AMC_NAME = 'torchain-operator';

describe.skipIf(skipUnless({ binaries: [HELM, AMTOOL_028] }))('switch alerts of every chain reach the operator', () => {
  const dir = tempDir('routes');
  afterAll(() => dir.remove());

  const writeConfig = (name: string, config: object) => {
    const file = join(dir.path, `${name}.alertmanager.yml`);
    writeFileSync(file, stringify(config, { lineWidth: 0, aliasDuplicateObjects: false }));
    return file;
  };
  const route = (file: string, labels: Record<string, string | number>) => {
    const r = run(AMTOOL_028, [
      'config',
      'routes',
      'test',
      `--config.file=${file}`,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  };
  /** Labels of a switch alert exactly as the rules produce them (HOP_SERVER_LABELS + alertname, severity, action). */
  const switchAlert = (alertname: string, namespace: string, torchain: string, hop: number, type: string) => ({
    alertname,
    severity: 'warning',
    torchain_action: 'switch',
    namespace,
    torchain,
    hop,
    type,
    server: 'srv-1',
    prometheus: 'monitoring/kube-prometheus-stack-prometheus', // kps' external label
  });
  const alertingNamespaces = (cluster: Cluster) =>
    cluster.objects
      .filter((o) => o.kind === 'AlertmanagerConfig')
      .map((o) => o.metadata.namespace!)
      .sort();

  it('the extra value set really spans three chain namespaces, the release namespace and extraNamespaces', async () => {
    const set = valueSets().find((s) => s.name === 'three-namespaces-values')!;
    const cluster = await clusterFor(set.file);
    expect([...new Set(hopsOf(cluster).map((h) => h.namespace))].sort()).toEqual([
      RELEASE_NAMESPACE,
      'vpn-east',
      'vpn-west',
    ]);
    expect(alertingNamespaces(cluster)).toEqual(['torchain-system', 'vpn-east', 'vpn-lab', 'vpn-manual', 'vpn-west']);
  });

  for (const set of valueSets()) {
    it(`${set.name}: amtool accepts the translation and routes every chain's switch alerts to its namespace's receiver`, async () => {
      const cluster = await clusterFor(set.file);
      const t = translateWithKps(cluster);
      expect(t.rejected).toEqual([]);
      const namespaces = alertingNamespaces(cluster);
      // One AlertmanagerConfig per namespace, each with its own token Secret: all selected by kps' defaults.
      expect(t.selected.AlertmanagerConfig).toEqual(namespaces.map((ns) => `${ns}/${AMC_NAME}`));
      for (const ns of namespaces)
        expect(
          cluster.objects.some(
            (o) => o.kind === 'Secret' && o.metadata.namespace === ns && /webhook-token$/.test(o.metadata.name),
          ),
        ).toBe(true);

      const file = writeConfig(set.name, t.alertmanager.config);
      const check = run(AMTOOL_028, ['check-config', file]);
      expect(check.code, check.stdout + check.stderr).toBe(0);

      // Chains of the value set, and a chain created by hand in every other namespace that has the route.
      const hops = hopsOf(cluster);
      for (const ns of namespaces)
        if (!hops.some((h) => h.namespace === ns))
          hops.push({ namespace: ns, chain: 'by-hand', hop: 1, type: 'openvpn' });
      for (const h of hops) {
        const receiver = `${h.namespace}/${AMC_NAME}/torchain-operator`;
        for (const alertname of ['TorchainHopTunnelDown', 'TorchainHopConnectionErrors'])
          expect(
            route(file, switchAlert(alertname, h.namespace, h.chain, h.hop, h.type)),
            `${alertname} ${h.namespace}/${h.chain}`,
          ).toBe(receiver);
        // Not a switch: kps' default receiver, never the operator.
        expect(route(file, { alertname: 'KubePodCrashLooping', severity: 'warning', namespace: h.namespace })).toBe(
          'null',
        );
        expect(
          route(file, {
            alertname: 'TorchainPoolExhausted',
            severity: 'critical',
            namespace: h.namespace,
            torchain: h.chain,
            hop: h.hop,
          }),
        ).toBe('null');
      }
    });
  }

  it('the route test notices a missing AlertmanagerConfig: that namespace falls through to kps null receiver', async () => {
    const set = valueSets().find((s) => s.name === 'two-chains-values')!;
    const cluster = await clusterFor(set.file);
    const without = {
      ...cluster,
      objects: cluster.objects.filter(
        (o) => !(o.kind === 'AlertmanagerConfig' && o.metadata.namespace === 'torchain-alpha'),
      ),
    };
    const file = writeConfig('missing', translateWithKps(without).alertmanager.config);
    expect(route(file, switchAlert('TorchainHopTunnelDown', 'torchain-alpha', 'alpha', 1, 'openvpn'))).toBe('null');
    expect(route(file, switchAlert('TorchainHopTunnelDown', 'torchain-beta', 'beta', 1, 'wireguard'))).toBe(
      `torchain-beta/${AMC_NAME}/torchain-operator`,
    );
  });

  it('without its token Secret the Prometheus Operator rejects that namespace AlertmanagerConfig, as upstream does', async () => {
    const set = valueSets().find((s) => s.name === 'two-chains-values')!;
    const cluster = await clusterFor(set.file);
    const objects = cluster.objects.filter(
      (o) =>
        !(o.kind === 'Secret' && o.metadata.namespace === 'torchain-beta' && /webhook-token$/.test(o.metadata.name)),
    );
    const t = translateWithKps({ ...cluster, objects });
    expect(t.rejected).toEqual([
      {
        kind: 'AlertmanagerConfig',
        object: `torchain-beta/${AMC_NAME}`,
        reason: expect.stringMatching(/secret "torchain-webhook-token".*not found/),
      },
    ]);
    expect(t.selected.AlertmanagerConfig).not.toContain(`torchain-beta/${AMC_NAME}`);
    const file = writeConfig('no-secret', t.alertmanager.config);
    expect(route(file, switchAlert('TorchainHopTunnelDown', 'torchain-beta', 'beta', 1, 'wireguard'))).toBe('null');
  });

  it('the token in every namespace is the operator token (one value rendered for all copies)', async () => {
    const set = valueSets().find((s) => s.name === 'three-namespaces-values')!;
    const cluster = await clusterFor(set.file);
    const tokens = cluster.rendered
      .filter((o) => o.kind === 'Secret' && /webhook-token$/.test(o.metadata.name))
      .map((o) => o.data.token as string);
    expect(tokens).toHaveLength(5);
    expect(new Set(tokens).size).toBe(1);
  });
});
