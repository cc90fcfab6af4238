// The monitoring objects the chart ships: the PrometheusRule is exactly the source rules with the chart's alerting
// values applied, the AlertmanagerConfig delivers to the operator's Service with the token Secret the operator reads,
// and the dashboard ConfigMap carries the generated dashboard for Grafana's sidecar.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_ALERTING, renderRules, type AlertingParams } from '../../prometheus-rules/src/render.js';
import { MAX_ALERTS } from '../../prometheus-rules/src/alertmanager.js';
import { CHART_DIR, HELM, REPO_ROOT } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { one, ofKind, render, RELEASE_NAMESPACE, type Manifest } from './render.js';

/** The chart's `alerting` values as the renderer's parameters (the budget inputs are not chart values). */
function paramsFromValues(values: Manifest): AlertingParams {
  const { enabled: _e, prometheusRule: _p, alertmanagerConfig: _a, webhook: _w, ...rest } = values.alerting as Manifest;
  return { ...(rest as Omit<AlertingParams, 'budget'>), budget: DEFAULT_ALERTING.budget };
}

const chartValues = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Manifest;

describe.skipIf(skipUnless({ binaries: [HELM] }))('monitoring objects of the chart', () => {
  it('with the default values, the PrometheusRule is prometheus-rules/torchain.rules.yaml', async () => {
    const rule = one(await render(), 'PrometheusRule', 'torchain-rules', RELEASE_NAMESPACE);
    const source = parse(readFileSync(join(REPO_ROOT, 'prometheus-rules', 'torchain.rules.yaml'), 'utf8')) as Manifest;
    expect(rule.spec).toEqual(source);
    expect(rule.spec).toEqual(renderRules(paramsFromValues(chartValues)));
  });

  it('with changed alerting values, the PrometheusRule equals the renderer run with the same values', async () => {
    const changed = {
      'alerting.tunnelDown.for': '45s',
      'alerting.connectionErrors.threshold': '11',
      'alerting.connectionErrors.window': '10m',
      'alerting.evaluationInterval': '30s',
    };
    const rule = one(await render({ set: changed }), 'PrometheusRule', 'torchain-rules', RELEASE_NAMESPACE);
    const params = paramsFromValues(chartValues);
    params.tunnelDown.for = '45s';
    params.connectionErrors.threshold = 11;
    params.connectionErrors.window = '10m';
    params.evaluationInterval = '30s';
    expect(rule.spec).toEqual(renderRules(params));
    expect(JSON.stringify(rule.spec)).toContain('>= 11');
  });

  it('the AlertmanagerConfig calls the operator Service with the token Secret the operator mounts', async () => {
    const all = await render();
    const config = one(all, 'AlertmanagerConfig', 'torchain-operator', RELEASE_NAMESPACE);
    const webhook = config.spec.receivers[0].webhookConfigs[0];
    const service = one(all, 'Service', 'torchain-operator', RELEASE_NAMESPACE);
    expect(webhook.url).toBe(
      `http://${service.metadata.name}.${RELEASE_NAMESPACE}.svc:${service.spec.ports[0].port}/v1/alertmanager`,
    );
    const deployment = one(all, 'Deployment', 'torchain-operator', RELEASE_NAMESPACE);
    const volume = deployment.spec.template.spec.volumes.find((v: Manifest) => v.name === 'webhook-token');
    expect(webhook.httpConfig.authorization.credentials).toEqual({
      name: volume.secret.secretName,
      key: volume.secret.items[0].key,
    });
    expect(config.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(config.spec.route.groupBy).toEqual(['namespace', 'torchain']);
  });

  it('one AlertmanagerConfig and one token Secret per namespace that may hold TorChains, none without alerting', async () => {
    const twoChains = join(CHART_DIR, 'ci', 'two-chains-values.yaml');
    const all = await render({ valuesFiles: [twoChains] });
    const namespaces = ['torchain-alpha', 'torchain-beta', 'torchain-lab', RELEASE_NAMESPACE].sort();
    const configs = ofKind(all, 'AlertmanagerConfig');
    expect(configs.map((c) => c.metadata.namespace).sort()).toEqual(namespaces);
    for (const c of configs) {
      expect(c.metadata.name).toBe('torchain-operator');
      expect(c.spec.route.matchers).toContainEqual({ name: 'namespace', value: c.metadata.namespace, matchType: '=' });
      expect(c.spec.receivers[0].webhookConfigs[0].maxAlerts).toBe(MAX_ALERTS);
    }
    const secrets = ofKind(all, 'Secret').filter((o) => o.metadata.name === 'torchain-webhook-token');
    expect(secrets.map((o) => o.metadata.namespace).sort()).toEqual(namespaces);
    expect(new Set(secrets.map((o) => o.data.token)).size).toBe(1);
    // Bring-your-own token: the AlertmanagerConfigs stay, the chart writes no Secret at all.
    const own = await render({
      valuesFiles: [twoChains],
      set: { 'operator.webhook.createSecret': 'false', 'operator.webhook.tokenSecretName': 'mine' },
    });
    expect(ofKind(own, 'AlertmanagerConfig')).toHaveLength(4);
    expect(ofKind(own, 'Secret').filter((o) => /token|mine/.test(o.metadata.name))).toEqual([]);
    // No AlertmanagerConfig: no copies either, the operator's own Secret stays.
    const off = await render({ valuesFiles: [twoChains], set: { 'alerting.alertmanagerConfig.enabled': 'false' } });
    expect(
      ofKind(off, 'Secret')
        .filter((o) => o.metadata.name === 'torchain-webhook-token')
        .map((o) => o.metadata.namespace),
    ).toEqual([RELEASE_NAMESPACE]);
  });

  it('the dashboard ships as a ConfigMap labelled for the Grafana sidecar, byte for byte', async () => {
    const dashboard = readFileSync(join(CHART_DIR, 'files', 'dashboards', 'torchain-chain-health.json'), 'utf8');
    const all = await render({ set: { 'monitoring.dashboard.namespace': 'monitoring' } });
    const cm = one(all, 'ConfigMap', 'torchain-dashboard', 'monitoring');
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    expect(cm.data['torchain-chain-health.json'].trim()).toBe(dashboard.trim());
    const parsed = JSON.parse(cm.data['torchain-chain-health.json']) as Manifest;
    expect(parsed).not.toHaveProperty('__inputs');
    const off = await render({ set: { 'monitoring.dashboard.enabled': 'false' } });
    expect(ofKind(off, 'ConfigMap')).toEqual([]);
  });
});

describe.skipIf(skipUnless({ binaries: [HELM] }))('the Vector configuration', () => {
  it('ships files/vector/vector.yaml verbatim when vector.enabled, and nothing otherwise', async () => {
    const source = readFileSync(join(CHART_DIR, 'files', 'vector', 'vector.yaml'), 'utf8');
    const on = await render({ set: { 'vector.enabled': 'true' } });
    const cm = one(on, 'ConfigMap', 'torchain-vector', RELEASE_NAMESPACE);
    expect(cm.data['vector.yaml'].trim()).toBe(source.trim());
    expect(parse(cm.data['vector.yaml'])).toHaveProperty('sources');
    const off = await render();
    expect(ofKind(off, 'ConfigMap').map((c) => c.metadata.name)).not.toContain('torchain-vector');
  });
});
