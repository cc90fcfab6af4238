// The prometheus-operator translation: golden files of what it makes of the chart's value sets with kps' defaults,
// the real promtool/amtool accepting the generated files, every monitoring object of the chart valid against the
// prometheus-operator CRD schemas, and the upstream semantics it follows (selectors, namespaces, rejection, strategies).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AMTOOL_028, PROMTOOL_K8S } from '../../lab/monitoring/binaries.js';
import {
  kubePrometheusStack,
  labelSelectorMatches,
  NotTranslatedError,
  translate,
  type KubeObject,
  type TranslateInput,
} from '../../lab/monitoring/prometheus-operator/index.js';
import { HELM } from '../../scripts/paths.js';
import { schemaErrors } from '../chart/kube-schemas.js';
import { run, tempDir } from '../prometheus-rules/support.js';
import { skipUnless } from '../support/env.js';
import { clusterFor, translateWithKps, valueSets } from './support.js';

const GOLDEN = join(import.meta.dirname, '__golden__');

describe.skipIf(skipUnless({ binaries: [HELM, PROMTOOL_K8S, AMTOOL_028] }))(
  'the chart translated with kps defaults',
  () => {
    const dir = tempDir('translation');
    afterAll(() => dir.remove());

    for (const set of valueSets()) {
      it(`${set.name}: matches the golden files, and promtool and amtool accept the result`, async () => {
        const cluster = await clusterFor(set.file);
        const rulesDir = join(dir.path, set.name, 'rules');
        const t = translateWithKps(cluster, {}, '/etc/prometheus/rules');
        await expect(t.prometheus.yaml).toMatchFileSnapshot(join(GOLDEN, set.name, 'prometheus.yml'));
        await expect(t.alertmanager.yaml).toMatchFileSnapshot(join(GOLDEN, set.name, 'alertmanager.yml'));
        await expect(
          stringify({ selected: t.selected, rejected: t.rejected, ruleFiles: Object.keys(t.prometheus.ruleFiles) }),
        ).toMatchFileSnapshot(join(GOLDEN, set.name, 'selection.yml'));
        // The same translation with the rules written where promtool can read them.
        const local = translateWithKps(cluster, {}, rulesDir);
        for (const [rel, text] of Object.entries(local.prometheus.ruleFiles)) {
          mkdirSync(dirname(join(rulesDir, rel)), { recursive: true });
          writeFileSync(join(rulesDir, rel), text);
        }
        const promFile = join(dir.path, set.name, 'prometheus.yml');
        writeFileSync(promFile, local.prometheus.yaml);
        const pc = run(PROMTOOL_K8S, ['check', 'config', promFile]);
        expect(pc.code, pc.stdout + pc.stderr).toBe(0);
        expect(pc.stdout + pc.stderr).toMatch(/SUCCESS: \d+ rules found/);
        const amFile = join(dir.path, set.name, 'alertmanager.yml');
        writeFileSync(amFile, local.alertmanager.yaml);
        const ac = run(AMTOOL_028, ['check-config', amFile]);
        expect(ac.code, ac.stdout + ac.stderr).toBe(0);
      });

      it(`${set.name}: every monitoring object the chart renders is valid against the prometheus-operator CRD schemas`, async () => {
        const cluster = await clusterFor(set.file);
        const monitoring = cluster.rendered.filter((o) => String(o.apiVersion).startsWith('monitoring.coreos.com/'));
        expect(monitoring.map((o) => o.kind)).toEqual(
          expect.arrayContaining(['PodMonitor', 'ServiceMonitor', 'PrometheusRule', 'AlertmanagerConfig']),
        );
        const errors = (await Promise.all(monitoring.map((o) => schemaErrors(o)))).flat();
        expect(errors).toEqual([]);
      });
    }

    it('the kps preset resources are valid Prometheus and Alertmanager objects', async () => {
      const kps = kubePrometheusStack({ release: 'monitoring' });
      for (const [kind, r] of [
        ['Prometheus', kps.prometheus],
        ['Alertmanager', kps.alertmanager],
      ] as const)
        expect(await schemaErrors({ apiVersion: 'monitoring.coreos.com/v1', kind, ...r })).toEqual([]);
    });
  },
);

// --- Upstream semantics on small hand-made clusters --------------------------------------------------------------

const meta = (namespace: string, name: string, labels: Record<string, string> = {}) => ({
  namespace,
  name,
  labels,
  uid: `u-${name}`,
});
const podMonitor = (
  namespace: string,
  name: string,
  labels: Record<string, string>,
  spec: Record<string, unknown> = {},
): KubeObject => ({
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PodMonitor',
  metadata: meta(namespace, name, labels),
  spec: { selector: { matchLabels: { app: 'x' } }, podMetricsEndpoints: [{ port: 'metrics' }], ...spec },
});
const secret = (namespace: string, name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: meta(namespace, name),
  stringData: data,
});
const amc = (namespace: string, name: string, secretRef = { name: 'tok', key: 'token' }): KubeObject => ({
  apiVersion: 'monitoring.coreos.com/v1alpha1',
  kind: 'AlertmanagerConfig',
  metadata: meta(namespace, name),
  spec: {
    route: { receiver: 'r', matchers: [{ name: 'team', value: 'a', matchType: '=' }] },
    receivers: [
      {
        name: 'r',
        webhookConfigs: [
          { url: 'http://op.example:8080/hook', httpConfig: { authorization: { credentials: secretRef } } },
        ],
      },
    ],
  },
});

function input(
  objects: KubeObject[],
  over: { prom?: Record<string, unknown>; am?: Record<string, unknown> } = {},
): TranslateInput {
  const kps = kubePrometheusStack({ prometheusSpec: over.prom ?? {}, alertmanagerSpec: over.am ?? {} });
  return {
    prometheus: kps.prometheus,
    alertmanager: kps.alertmanager,
    namespaces: [
      { name: 'monitoring' },
      { name: 'team-a', labels: { tier: 'prod' } },
      { name: 'team-b', labels: { tier: 'dev' } },
    ],
    objects: [...objects, ...kps.objects],
  };
}

describe('label selectors as apimachinery evaluates them', () => {
  it('nil selects nothing, {} everything; requirements are ANDed; NotIn and DoesNotExist match a missing label', () => {
    expect(labelSelectorMatches(undefined, { a: '1' })).toBe(false);
    expect(labelSelectorMatches({}, {})).toBe(true);
    const sel = {
      matchLabels: { a: '1' },
      matchExpressions: [
        { key: 'b', operator: 'In', values: ['x', 'y'] },
        { key: 'c', operator: 'NotIn', values: ['z'] },
        { key: 'd', operator: 'DoesNotExist' },
      ],
    };
    expect(labelSelectorMatches(sel, { a: '1', b: 'y' })).toBe(true);
    expect(labelSelectorMatches(sel, { a: '1', b: 'y', c: 'z' })).toBe(false);
    expect(labelSelectorMatches(sel, { a: '1', b: 'w' })).toBe(false);
    expect(labelSelectorMatches(sel, { a: '1', b: 'x', d: '' })).toBe(false);
    expect(labelSelectorMatches(sel, { a: '2', b: 'x' })).toBe(false);
  });
});

describe('selection of monitors and rules', () => {
  it('picks PodMonitors by the release label in selected namespaces, in key order, with upstream relabelings', () => {
    const t = translate(
      input(
        [
          podMonitor('team-b', 'b', { release: 'kube-prometheus-stack' }),
          podMonitor(
            'team-a',
            'a',
            { release: 'kube-prometheus-stack' },
            {
              podMetricsEndpoints: [
                {
                  portNumber: 9108,
                  interval: '5s',
                  relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_label_x'], targetLabel: 'x' }],
                },
              ],
            },
          ),
          podMonitor('team-a', 'unlabelled', {}),
        ],
        { prom: { podMonitorNamespaceSelector: { matchLabels: { tier: 'prod' } } } },
      ),
    );
    expect(t.selected.PodMonitor).toEqual(['team-a/a']);
    const jobs = t.prometheus.config.scrape_configs as Array<Record<string, unknown>>;
    expect(jobs.map((j) => j.job_name)).toEqual(['podMonitor/team-a/a/0']);
    const relabel = jobs[0]!.relabel_configs as Array<Record<string, unknown>>;
    expect(relabel).toContainEqual({
      action: 'keep',
      source_labels: ['__meta_kubernetes_pod_label_app', '__meta_kubernetes_pod_labelpresent_app'],
      regex: '(x);true',
    });
    expect(relabel).toContainEqual({
      action: 'keep',
      source_labels: ['__meta_kubernetes_pod_container_port_number'],
      regex: 9108,
    });
    // The monitor's own relabeling, with the CRD's default action, after the generated ones and before sharding.
    const own = relabel.findIndex((r) => r.target_label === 'x');
    expect(relabel[own]).toEqual({
      source_labels: ['__meta_kubernetes_pod_label_x'],
      target_label: 'x',
      action: 'replace',
    });
    expect(relabel.findIndex((r) => r.target_label === 'job')).toBeLessThan(own);
    expect(relabel.slice(-1)[0]).toEqual({
      source_labels: ['__tmp_hash', '__tmp_disable_sharding'],
      regex: '$(SHARD);|.+;.+',
      action: 'keep',
    });
    expect(jobs[0]!.scrape_interval).toBe('5s');
    expect(jobs[0]!.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['team-a'] } }]);
    expect(t.prometheus.yaml).toContain('regex: 0;|.+;.+'); // $(SHARD) filled in as the config reloader does
  });

  it('a nil namespace selector means the Prometheus namespace only; rules get <ns>-<name>-<uid>.yaml files', () => {
    const rule: KubeObject = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: meta('monitoring', 'r', { release: 'kube-prometheus-stack' }),
      spec: {
        groups: [
          {
            name: 'g',
            interval: '5s',
            rules: [{ alert: 'A', expr: 'up == 0', for: '1m', labels: { b: '1', a: '2' } }],
          },
        ],
      },
    };
    const elsewhere = { ...rule, metadata: meta('team-a', 'r', { release: 'kube-prometheus-stack' }) };
    const t = translate(input([rule, elsewhere], { prom: { ruleNamespaceSelector: null } }));
    expect(t.selected.PrometheusRule).toEqual(['monitoring/r']);
    const file = 'prometheus-kube-prometheus-stack-prometheus-rulefiles-0/monitoring-r-u-r.yaml';
    expect(Object.keys(t.prometheus.ruleFiles)).toEqual([file]);
    // sigs.k8s.io/yaml: keys sorted at every level.
    expect(t.prometheus.ruleFiles[file]).toBe(
      'groups:\n  - interval: 5s\n    name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 1m\n        labels:\n          a: "2"\n          b: "1"\n',
    );
    expect(t.prometheus.config.rule_files).toHaveLength(3);
  });

  it('rejects a monitor prometheus-operator would reject, and goes on', () => {
    const bad = podMonitor(
      'team-a',
      'bad',
      { release: 'kube-prometheus-stack' },
      { podMetricsEndpoints: [{ port: 'm', interval: '5s', scrapeTimeout: '10s' }] },
    );
    const t = translate(input([bad, podMonitor('team-a', 'good', { release: 'kube-prometheus-stack' })]));
    expect(t.selected.PodMonitor).toEqual(['team-a/good']);
    expect(t.rejected).toEqual([
      {
        kind: 'PodMonitor',
        object: 'team-a/bad',
        reason: expect.stringMatching(/scrapeTimeout "10s" greater than scrapeInterval "5s"/),
      },
    ]);
  });

  it('fails loudly on a field it does not translate, naming the object and the field', () => {
    const withAuth = podMonitor(
      'team-a',
      'auth',
      { release: 'kube-prometheus-stack' },
      { podMetricsEndpoints: [{ port: 'm', basicAuth: { username: { name: 's', key: 'u' } } }] },
    );
    expect(() => translate(input([withAuth]))).toThrow(NotTranslatedError);
    expect(() => translate(input([withAuth]))).toThrow(
      /PodMonitor team-a\/auth: field spec.podMetricsEndpoints\[0\].basicAuth is not translated/,
    );
    expect(() => translate(input([], { prom: { enforcedNamespaceLabel: 'namespace' } }))).toThrow(
      /spec.enforcedNamespaceLabel/,
    );
    const probe: KubeObject = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'Probe',
      metadata: meta('team-a', 'p'),
      spec: {},
    };
    expect(() => translate(input([probe]))).toThrow(/Probe team-a\/p/);
  });

  it('an apiserverConfig makes every kubernetes_sd_config reach the API server with a token file and a CA file', () => {
    const apiserverConfig = {
      host: 'https://127.0.0.1:6443',
      authorization: { type: 'Bearer', credentialsFile: '/var/run/token' },
      tlsConfig: { caFile: '/var/run/ca.crt' },
    };
    const t = translate(
      input([podMonitor('team-a', 'a', { release: 'kube-prometheus-stack' })], { prom: { apiserverConfig } }),
    );
    const [job] = t.prometheus.config.scrape_configs as Array<Record<string, unknown>>;
    expect(job!.kubernetes_sd_configs).toEqual([
      {
        role: 'pod',
        namespaces: { names: ['team-a'] },
        api_server: 'https://127.0.0.1:6443',
        authorization: { type: 'Bearer', credentials_file: '/var/run/token' },
        tls_config: { ca_file: '/var/run/ca.crt' },
      },
    ]);
  });
});

describe('AlertmanagerConfig merging', () => {
  const subRoutes = (t: ReturnType<typeof translate>) =>
    (t.alertmanager.config.route as Record<string, unknown>).routes as Array<Record<string, unknown>>;

  it('OnNamespace (the default): namespace matcher and continue on each top route, before the base routes; namespaced receiver names; credentials inline', () => {
    const t = translate(
      input([
        amc('team-b', 'z'),
        amc('team-a', 'y'),
        secret('team-a', 'tok', { token: 's3cret' }),
        secret('team-b', 'tok', { token: 't0ken' }),
      ]),
    );
    expect(t.selected.AlertmanagerConfig).toEqual(['team-a/y', 'team-b/z']);
    expect(subRoutes(t)).toEqual([
      { receiver: 'team-a/y/r', matchers: ['team="a"', 'namespace="team-a"'], continue: true },
      { receiver: 'team-b/z/r', matchers: ['team="a"', 'namespace="team-b"'], continue: true },
      { receiver: 'null', matchers: ['alertname = "Watchdog"'] },
    ]);
    const receivers = t.alertmanager.config.receivers as Array<Record<string, unknown>>;
    expect(receivers.map((r) => r.name)).toEqual(['null', 'team-a/y/r', 'team-b/z/r']);
    expect(receivers[1]!.webhook_configs).toEqual([
      { url: 'http://op.example:8080/hook', http_config: { authorization: { type: 'Bearer', credentials: 's3cret' } } },
    ]);
  });

  it('None adds no namespace matcher; OnNamespaceExceptForAlertmanagerNamespace spares only the Alertmanager namespace', () => {
    const objects = [
      amc('team-a', 'y'),
      amc('monitoring', 'm'),
      secret('team-a', 'tok', { token: 'a' }),
      secret('monitoring', 'tok', { token: 'm' }),
    ];
    const none = translate(input(objects, { am: { alertmanagerConfigMatcherStrategy: { type: 'None' } } }));
    expect(
      subRoutes(none)
        .slice(0, 2)
        .map((r) => r.matchers),
    ).toEqual([['team="a"'], ['team="a"']]);
    const except = translate(
      input(objects, {
        am: { alertmanagerConfigMatcherStrategy: { type: 'OnNamespaceExceptForAlertmanagerNamespace' } },
      }),
    );
    expect(
      subRoutes(except)
        .slice(0, 2)
        .map((r) => r.matchers),
    ).toEqual([['team="a"'], ['team="a"', 'namespace="team-a"']]);
  });

  it('a Secret only in another namespace, or without the key, rejects the AlertmanagerConfig as upstream does', () => {
    const t = translate(
      input([
        amc('team-a', 'y'),
        secret('monitoring', 'tok', { token: 'x' }),
        amc('team-b', 'k'),
        secret('team-b', 'tok', { other: 'x' }),
      ]),
    );
    expect(t.selected.AlertmanagerConfig).toEqual([]);
    expect(t.rejected).toEqual([
      { kind: 'AlertmanagerConfig', object: 'team-a/y', reason: expect.stringMatching(/unable to get secret "tok"/) },
      {
        kind: 'AlertmanagerConfig',
        object: 'team-b/k',
        reason: expect.stringMatching(/key "token" in secret "tok" not found/),
      },
    ]);
    expect(subRoutes(t)).toEqual([{ receiver: 'null', matchers: ['alertname = "Watchdog"'] }]);
  });

  it('no alertmanagerConfigSelector: the base configuration is used as it is; a nil namespace selector keeps its own namespace', () => {
    const objects = [
      amc('team-a', 'y'),
      secret('team-a', 'tok', { token: 'a' }),
      amc('monitoring', 'm'),
      secret('monitoring', 'tok', { token: 'm' }),
    ];
    expect(translate(input(objects, { am: { alertmanagerConfigSelector: null } })).selected.AlertmanagerConfig).toEqual(
      [],
    );
    expect(
      translate(input(objects, { am: { alertmanagerConfigNamespaceSelector: null } })).selected.AlertmanagerConfig,
    ).toEqual(['monitoring/m']);
  });

  it('inhibit rules of an AlertmanagerConfig get the namespace matcher on both sides', () => {
    const withInhibit = amc('team-a', 'y');
    (withInhibit.spec as Record<string, unknown>).inhibitRules = [
      {
        sourceMatch: [{ name: 'severity', value: 'critical' }],
        targetMatch: [{ name: 'severity', value: 'warning' }],
        equal: ['alertname'],
      },
    ];
    const t = translate(input([withInhibit, secret('team-a', 'tok', { token: 'a' })]));
    const inhibit = t.alertmanager.config.inhibit_rules as Array<Record<string, unknown>>;
    expect(inhibit.slice(-1)).toEqual([
      {
        target_matchers: ['severity="warning"', 'namespace="team-a"'],
        source_matchers: ['severity="critical"', 'namespace="team-a"'],
        equal: ['alertname'],
      },
    ]);
  });
});
