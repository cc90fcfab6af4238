// Unit tests of the alerting sources: parameters, rule rendering, the timing budget, and drift of every generated file.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  alertingValuesSchema,
  buildRules,
  cooldownTerms,
  DEFAULT_ALERTING,
  defaultCooldownSeconds,
  durationSeconds,
  HOP_SERVER_LABELS,
  LAB_ALERTING,
  PARAM_DOCS,
  paramProblems,
  renderAlertmanagerConfig,
  renderRules,
  renderRulesYaml,
  timingBudget,
  type AlertingParams,
  type AlertingRule,
  type RecordingRule,
} from '../../prometheus-rules/src/render.js';
import { generatedContents, GENERATED_FILES } from '../../prometheus-rules/src/generate.js';
import {
  alertmanagerConfigTemplate,
  prometheusRuleTemplate,
  spliceValues,
  valuesBlock,
} from '../../prometheus-rules/src/helm.js';
import { getPath } from '../../prometheus-rules/src/params.js';
import { REPO_ROOT } from '../../scripts/paths.js';

const alerts = (p: AlertingParams) =>
  renderRules(p).groups.flatMap((g) => g.rules.filter((r): r is AlertingRule => 'alert' in r));
const records = (p: AlertingParams) =>
  renderRules(p).groups.flatMap((g) => g.rules.filter((r): r is RecordingRule => 'record' in r));

function withValue(path: string, value: unknown): AlertingParams {
  const p = structuredClone(DEFAULT_ALERTING) as unknown as Record<string, Record<string, unknown>>;
  const [a, b] = path.split('.') as [string, string | undefined];
  if (b === undefined) (p as Record<string, unknown>)[a] = value;
  else (p[a] as Record<string, unknown>)[b] = value;
  return p as unknown as AlertingParams;
}

describe('durations', () => {
  it.each([
    ['0s', 0],
    ['30s', 30],
    ['1m30s', 90],
    ['2h', 7200],
    ['1d', 86400],
    ['500ms', 0.5],
  ])('%s is %d seconds', (text, seconds) => expect(durationSeconds(text)).toBe(seconds));

  it.each(['', '30', '1.5m', '30s1m', '-5s', '5 m', '1m1m'])('"%s" is refused with the text and an example', (text) => {
    expect(() => durationSeconds(text, 'alerting.tunnelDown.for')).toThrow(
      /alerting\.tunnelDown\.for: ".*" is not a Prometheus duration; write it like 30s/,
    );
  });
});

describe('parameters', () => {
  it('the defaults and the lab timings are valid', () => {
    expect(paramProblems(DEFAULT_ALERTING)).toEqual([]);
    expect(paramProblems(LAB_ALERTING)).toEqual([]);
  });

  it('refuses bad values, naming each value, and renders nothing', () => {
    const bad = withValue('tunnelDown.for', '30');
    (bad.connectionErrors as { threshold: unknown }).threshold = 0;
    bad.failoverSlow.quantile = 1.5;
    bad.route.groupWait = '0s';
    const problems = paramProblems(bad);
    expect(problems).toEqual([
      'alerting.tunnelDown.for: "30" is not a duration like 30s or 2m',
      'alerting.connectionErrors.threshold: 0 must be an integer >= 1',
      'alerting.failoverSlow.quantile: 1.5 must be between 0 and 1 (exclusive)',
      'alerting.route.groupWait: must be longer than 0s',
    ]);
    expect(() => renderRules(bad)).toThrow(/invalid alerting parameters:\n {2}alerting\.tunnelDown\.for/);
    expect(() => renderAlertmanagerConfig(bad)).toThrow(/alerting\.route\.groupWait/);
  });

  it('refuses a webhook target that Alertmanager could not use', () => {
    expect(() => renderAlertmanagerConfig(LAB_ALERTING, { url: 'operator:8080', credentialsFile: '/t' })).toThrow(
      /webhook URL "operator:8080" must start with http:\/\/ or https:\/\//,
    );
    expect(() =>
      renderAlertmanagerConfig(LAB_ALERTING, { url: 'http://op/v1/alertmanager', credentialsFile: 'token' }),
    ).toThrow(/credentials file "token" must be an absolute path/);
  });

  it('refuses a repeat interval shorter than the group interval and an errors window of less than two scrapes', () => {
    const p = structuredClone(LAB_ALERTING);
    p.route.repeatInterval = '500ms';
    p.connectionErrors.window = '1s';
    expect(paramProblems(p)).toEqual([
      'alerting.route.repeatInterval: must not be shorter than route.groupInterval (Alertmanager re-sends on group flushes)',
      'alerting.connectionErrors.window: must cover at least two scrapes, or increase() sees no change',
    ]);
  });

  it('every chart value changes the rendered rules or the route (none is dead)', () => {
    const base = renderRulesYaml(DEFAULT_ALERTING) + JSON.stringify(renderAlertmanagerConfig(DEFAULT_ALERTING));
    for (const [path, { kind }] of Object.entries(PARAM_DOCS)) {
      const current = getPath(DEFAULT_ALERTING, path);
      const next =
        kind === 'quantile'
          ? 0.77
          : typeof current === 'number'
            ? current + 7
            : `${durationSeconds(String(current)) + 7}s`;
      const changed = withValue(path, next);
      const text = renderRulesYaml(changed) + JSON.stringify(renderAlertmanagerConfig(changed));
      expect(text, path).not.toBe(base);
    }
  });
});

describe('rules', () => {
  it('switch alerts carry torchain_action="switch" and aggregate by namespace, torchain, hop, type, server', () => {
    const p = DEFAULT_ALERTING;
    const switching = alerts(p).filter((a) => a.labels.torchain_action === 'switch');
    expect(switching.map((a) => a.alert)).toEqual(['TorchainHopTunnelDown', 'TorchainHopConnectionErrors']);
    const recorded = new Map(records(p).map((r) => [r.record, r.expr]));
    for (const a of switching) {
      const source = [...recorded.keys()].find((name) => a.expr.startsWith(name));
      expect(source, a.alert).toBeDefined();
      expect(recorded.get(source as string)).toContain(`by (${HOP_SERVER_LABELS.join(', ')})`);
    }
  });

  it('informational alerts never ask for a switch, and every alert says what it is and what to do', () => {
    for (const a of alerts(DEFAULT_ALERTING)) {
      if (!['TorchainHopTunnelDown', 'TorchainHopConnectionErrors'].includes(a.alert))
        expect(a.labels.torchain_action, a.alert).toBeUndefined();
      expect(['info', 'warning', 'critical']).toContain(a.labels.severity);
      expect(a.annotations.summary.length, a.alert).toBeGreaterThan(10);
      expect(a.annotations.description.length, a.alert).toBeGreaterThan(80);
    }
  });

  it('recording rule names follow level:metric:operations, the errors window in the name', () => {
    for (const r of records(LAB_ALERTING)) expect(r.record).toMatch(/^[a-z_]+:[a-z_]+:[a-z0-9]+$/);
    expect(records(LAB_ALERTING).map((r) => r.record)).toContain(
      'torchain_hop_server:torchain_vpn_connection_errors:increase30s',
    );
  });

  it('every rule group evaluates at the configured interval', () => {
    expect(renderRules(LAB_ALERTING).groups.map((g) => g.interval)).toEqual(['1s', '1s']);
  });

  it('buildRules writes parameters as they are (the Helm generator passes tokens)', () => {
    const p = withValue('tunnelDown.for', '__TOKEN__');
    expect(JSON.stringify(buildRules(p))).toContain('"for":"__TOKEN__"');
  });
});

describe('timing budget and the operator cooldown', () => {
  it('server death to webhook: detection + scrape + evaluation + for (whole evaluations) + group_wait', () => {
    const b = timingBudget(DEFAULT_ALERTING);
    expect(b.steps.map((s) => s.seconds)).toEqual([5, 2, 2, 6, 2]);
    expect(b.worstSeconds).toBe(17);
    // A chain whose group already notified waits group_interval (5 s) instead of group_wait (2 s).
    expect(b.worstSecondsExistingGroup).toBe(20);
    expect(b.bestSeconds).toBe(6);
    expect(timingBudget(LAB_ALERTING).worstSeconds).toBe(3 + 1 + 1 + 5 + 1);
  });

  it('rounds `for` up to whole evaluation intervals', () => {
    const p = withValue('tunnelDown.for', '7s');
    expect(timingBudget(p).steps[3]?.seconds).toBe(8);
  });

  it('the default cooldown is reconnect + up detection + scrape + evaluation + group_interval, in whole seconds', () => {
    expect(defaultCooldownSeconds(DEFAULT_ALERTING)).toBe(10 + 2 + 2 + 2 + 5);
    expect(defaultCooldownSeconds(LAB_ALERTING)).toBe(5 + 2 + 1 + 1 + 1);
    const p = structuredClone(LAB_ALERTING);
    p.route.groupInterval = '1500ms';
    expect(cooldownTerms(p).reduce((s, t) => s + t.seconds, 0)).toBe(10.5);
    expect(defaultCooldownSeconds(p)).toBe(11);
  });
});

describe('generated files', () => {
  it('every committed generated file equals what prometheus-rules/src generates (run `npm run gen:monitoring` to fix)', async () => {
    for (const [rel, want] of await generatedContents()) {
      const path = join(REPO_ROOT, rel);
      expect(existsSync(path), rel).toBe(true);
      expect(readFileSync(path, 'utf8'), rel).toBe(want);
    }
  });

  it('the committed rule file parses to the default rules', () => {
    expect(parse(readFileSync(join(REPO_ROOT, GENERATED_FILES.rules), 'utf8'))).toEqual(renderRules(DEFAULT_ALERTING));
  });

  it('the chart templates read every chart value and escape Prometheus templates for Helm', () => {
    const rule = prometheusRuleTemplate();
    const route = alertmanagerConfigTemplate();
    // The AlertmanagerConfig is rendered inside a `range` over namespaces: it reads the values through `$`.
    for (const path of Object.keys(PARAM_DOCS))
      expect(rule.replaceAll('{{ .Values.', '{{ $.Values.') + route, path).toContain(`{{ $.Values.alerting.${path} }}`);
    expect(rule).toContain('{{ "{{" }} $labels.hop }}');
    expect(rule).not.toMatch(/\{\{ \$labels/);
    expect(rule + route).not.toMatch(/__TORCHAIN_/);
  });

  it('the operator cooldown stated in docs/alerting.md is the computed one', () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs', 'alerting.md'), 'utf8');
    expect(docs).toContain(`default is **${defaultCooldownSeconds(DEFAULT_ALERTING)} s** in a cluster`);
    expect(docs).toContain(`**${defaultCooldownSeconds(LAB_ALERTING)} s** in the lab`);
  });

  it('the values block holds every chart value with its default and a @param line, and nothing else is touched', () => {
    const block = valuesBlock();
    const values = parse(block) as { alerting: Record<string, unknown> };
    for (const [path, { doc }] of Object.entries(PARAM_DOCS)) {
      expect(getPath(values.alerting, path), path).toEqual(getPath(DEFAULT_ALERTING, path));
      expect(block).toContain(`## @param alerting.${path} ${doc}`);
    }
    const around = 'a: 1\n# BEGIN generated: alerting\nold: 2\n# END generated: alerting\nb: 3\n';
    const spliced = spliceValues(around);
    expect(spliced.startsWith('a: 1\n# BEGIN generated: alerting\n')).toBe(true);
    expect(spliced.endsWith('# END generated: alerting\nb: 3\n')).toBe(true);
    expect(spliced).not.toContain('old: 2');
    expect(() => spliceValues('a: 1\n')).toThrow(/has no "# BEGIN generated: alerting"/);
  });
});

describe('values schema', () => {
  const validate = new Ajv({ allErrors: true, strict: false }).compile(alertingValuesSchema());
  const values = (parse(valuesBlock()) as { alerting: unknown }).alerting;

  it('accepts the generated defaults', () => {
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['tunnelDown', { for: '30' }],
    ['tunnelDown', { for: '1.5m' }],
    ['connectionErrors', { window: '0s', threshold: 6, for: '1m' }],
    ['connectionErrors', { window: '5m', threshold: 2.5, for: '1m' }],
    ['failoverSlow', { window: '1h', quantile: 1, thresholdSeconds: 180 }],
    ['route', { groupWait: '10s', groupInterval: '15s', repeatInterval: '5m', typo: 1 }],
  ])('refuses alerting.%s = %j', (key, value) => {
    expect(validate({ ...(values as object), [key]: value })).toBe(false);
  });
});
