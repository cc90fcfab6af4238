// The generated chart templates through the real helm: the PrometheusRule is exactly renderRules() of the values,
// the AlertmanagerConfig is exactly the switch route of the values, and promtool accepts what helm rendered.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { buildAlertmanagerConfigSpec } from '../../prometheus-rules/src/alertmanager.js';
import { getPath } from '../../prometheus-rules/src/params.js';
import {
  DEFAULT_ALERTING,
  durationSeconds,
  PARAM_DOCS,
  renderRules,
  type AlertingParams,
} from '../../prometheus-rules/src/render.js';
import { CHART_DIR, HELM } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { PROMTOOL, run, tempDir } from './support.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** DEFAULT_ALERTING with every chart value changed (durations +7s, numbers +7, the quantile 0.77). */
function changedParams(): AlertingParams {
  const p = structuredClone(DEFAULT_ALERTING) as unknown as Record<string, Record<string, unknown>>;
  for (const [path, { kind }] of Object.entries(PARAM_DOCS)) {
    const v = getPath(DEFAULT_ALERTING, path);
    const next = kind === 'quantile' ? 0.77 : typeof v === 'number' ? v + 7 : `${durationSeconds(String(v)) + 7}s`;
    const [a, b] = path.split('.') as [string, string | undefined];
    if (b === undefined) (p as Record<string, unknown>)[a] = next;
    else (p[a] as Record<string, unknown>)[b] = next;
  }
  return p as unknown as AlertingParams;
}

/** The `alerting` values of `p` (what a user writes in values.yaml). */
function alertingValues(p: AlertingParams): Obj {
  const out: Obj = {};
  for (const path of Object.keys(PARAM_DOCS)) {
    const keys = path.split('.');
    let node = out;
    keys.slice(0, -1).forEach((k) => (node = node[k] ??= {}));
    node[keys[keys.length - 1] as string] = getPath(p, path);
  }
  return out;
}

describe.skipIf(skipUnless({ binaries: [HELM, PROMTOOL] }))('the chart renders the alerting templates', () => {
  const dir = tempDir('helm');
  afterAll(() => dir.remove());

  const template = (values: Obj, show: string[]) => {
    const file = join(dir.path, `values-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, stringify(values));
    const args = ['template', 'tc', CHART_DIR, '--namespace', 'vpn-system', '-f', file];
    for (const s of show) args.push('--show-only', s);
    return run(HELM, args);
  };
  const docs = (text: string) =>
    parseAllDocuments(text)
      .map((d) => d.toJS() as Obj)
      .filter(Boolean);

  it.each([
    ['the defaults', DEFAULT_ALERTING],
    ['every value changed', changedParams()],
  ])('the PrometheusRule equals the source rules with %s', (_name, params) => {
    const r = template({ alerting: alertingValues(params) }, ['templates/prometheusrule.yaml']);
    expect(r.code, r.stderr).toBe(0);
    const [rule] = docs(r.stdout);
    expect(rule?.kind).toBe('PrometheusRule');
    expect(rule?.metadata.namespace).toBe('vpn-system');
    expect(rule?.metadata.labels).toMatchObject({
      release: 'kube-prometheus-stack',
      'app.kubernetes.io/component': 'alerting',
    });
    expect(rule?.spec).toEqual(renderRules(params));
    // What helm rendered is a rule file promtool accepts, Prometheus templates intact.
    writeFileSync(join(dir.path, 'from-helm.rules.yaml'), stringify(rule?.spec));
    const check = run(PROMTOOL, ['check', 'rules', join(dir.path, 'from-helm.rules.yaml')]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(JSON.stringify(rule?.spec)).toContain('{{ $labels.hop }}');
  });

  it('the AlertmanagerConfig routes switch alerts to the operator Service with the token Secret', () => {
    const params = changedParams();
    const r = template({ alerting: alertingValues(params) }, ['templates/alertmanagerconfig.yaml']);
    expect(r.code, r.stderr).toBe(0);
    const [amc] = docs(r.stdout);
    expect(amc?.kind).toBe('AlertmanagerConfig');
    expect(amc?.spec).toEqual(
      buildAlertmanagerConfigSpec(params, {
        url: 'http://tc-torchain-operator.vpn-system.svc:8080/v1/alertmanager',
        tokenSecretName: 'tc-torchain-webhook-token',
        tokenSecretKey: 'token',
        namespace: 'vpn-system',
      }),
    );
  });

  it('the AlertmanagerConfig follows the operator values and the URL override', () => {
    const r = template(
      {
        operator: { webhook: { tokenSecretName: 'my-token', tokenSecretKey: 'bearer' }, service: { port: 9443 } },
        global: { monitoring: { labels: { release: 'kps' } } },
      },
      ['templates/alertmanagerconfig.yaml'],
    );
    expect(r.code, r.stderr).toBe(0);
    const [amc] = docs(r.stdout);
    const webhook = amc?.spec.receivers[0].webhookConfigs[0];
    expect(webhook.url).toBe('http://tc-torchain-operator.vpn-system.svc:9443/v1/alertmanager');
    expect(webhook.httpConfig.authorization.credentials).toEqual({ name: 'my-token', key: 'bearer' });
    expect(amc?.metadata.labels.release).toBe('kps');
    const o = template({ alerting: { webhook: { url: 'https://op.example:8443/v1/alertmanager' } } }, [
      'templates/alertmanagerconfig.yaml',
    ]);
    expect(docs(o.stdout)[0]?.spec.receivers[0].webhookConfigs[0].url).toBe('https://op.example:8443/v1/alertmanager');
  });

  it('renders neither object when alerting is disabled, and each alone when the other is disabled', () => {
    const off = template({ alerting: { enabled: false } }, []);
    expect(off.code, off.stderr).toBe(0);
    const kinds = (text: string) => docs(text).map((d) => d.kind);
    expect(kinds(off.stdout)).not.toContain('PrometheusRule');
    expect(kinds(off.stdout)).not.toContain('AlertmanagerConfig');
    const noRoute = template({ alerting: { alertmanagerConfig: { enabled: false } } }, []);
    expect(kinds(noRoute.stdout)).toContain('PrometheusRule');
    expect(kinds(noRoute.stdout)).not.toContain('AlertmanagerConfig');
  });

  it('the chart values.yaml holds the generated defaults', () => {
    const r = run(HELM, ['show', 'values', CHART_DIR]);
    const values = parse(r.stdout) as Obj;
    for (const path of Object.keys(PARAM_DOCS))
      expect(getPath(values.alerting, path), path).toEqual(getPath(DEFAULT_ALERTING, path));
  });
});
