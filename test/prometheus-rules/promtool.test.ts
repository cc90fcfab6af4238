// The rule file against the real promtool: syntax (`check rules`) and behaviour (`test rules` suites under
// prometheus-rules/tests/), for the defaults and for the lab timings.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALERTING, LAB_ALERTING, renderRulesYaml } from '../../prometheus-rules/src/render.js';
import { REPO_ROOT } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { PROMTOOL, run, tempDir } from './support.js';

const RULES = join(REPO_ROOT, 'prometheus-rules', 'torchain.rules.yaml');
const TESTS = join(REPO_ROOT, 'prometheus-rules', 'tests');
const suites = readdirSync(TESTS).filter((f) => f.endsWith('.test.yaml'));

describe.skipIf(skipUnless({ binaries: [PROMTOOL] }))('promtool', () => {
  const dir = tempDir('promtool');
  afterAll(() => dir.remove());

  it('check rules accepts the committed rule file', () => {
    const r = run(PROMTOOL, ['check', 'rules', RULES]);
    expect(r.stderr + r.stdout).toMatch(/SUCCESS: 21 rules found/);
    expect(r.code).toBe(0);
  });

  it('finds the suites', () =>
    expect(suites).toEqual(['dns-alerts.test.yaml', 'health-alerts.test.yaml', 'switch-alerts.test.yaml']));

  it.each(suites)('test rules %s passes', (suite) => {
    const r = run(PROMTOOL, ['test', 'rules', suite], { cwd: TESTS });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('the lab timings render a valid rule file that passes the lab suite', () => {
    writeFileSync(join(dir.path, 'lab.rules.yaml'), renderRulesYaml(LAB_ALERTING));
    copyFileSync(join(TESTS, 'lab', 'lab-timing.test.yaml'), join(dir.path, 'lab-timing.test.yaml'));
    const check = run(PROMTOOL, ['check', 'rules', 'lab.rules.yaml'], { cwd: dir.path });
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const r = run(PROMTOOL, ['test', 'rules', 'lab-timing.test.yaml'], { cwd: dir.path });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('the suites notice a changed `for`: the switch suite fails against rules whose tunnel-down for is 15s', () => {
    const p = structuredClone(DEFAULT_ALERTING);
    p.tunnelDown.for = '15s';
    writeFileSync(join(dir.path, 'mutant.rules.yaml'), renderRulesYaml(p));
    const suite = readFileSync(join(TESTS, 'switch-alerts.test.yaml'), 'utf8').replace(
      '../torchain.rules.yaml',
      'mutant.rules.yaml',
    );
    writeFileSync(join(dir.path, 'mutant.test.yaml'), suite);
    const r = run(PROMTOOL, ['test', 'rules', 'mutant.test.yaml'], { cwd: dir.path });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/FAILED[\s\S]*TorchainHopTunnelDown/);
  });

  it('check rules refuses a broken expression (promtool really parses what it is given)', () => {
    writeFileSync(join(dir.path, 'broken.rules.yaml'), renderRulesYaml(DEFAULT_ALERTING).replace('== 0', '== == 0'));
    const r = run(PROMTOOL, ['check', 'rules', 'broken.rules.yaml'], { cwd: dir.path });
    expect(r.code).not.toBe(0);
  });
});
