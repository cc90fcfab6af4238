// The chart README's values table is generated from values.yaml's `## @param` lines and must not drift.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { annotationProblems, parseAnnotations, renderValuesTable, spliceReadme } from '../../scripts/chart-readme.js';
import { CHART_DIR } from '../../scripts/paths.js';

const valuesYaml = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');

describe('the chart README values table', () => {
  it('is up to date with values.yaml (run `npm run gen:chart-readme` to fix)', () => {
    const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
    expect(readme).toBe(spliceReadme(readme, renderValuesTable(valuesYaml)));
  });

  it('documents every value of values.yaml, the generated alerting block included', () => {
    expect(annotationProblems(valuesYaml)).toEqual([]);
    const keys = parseAnnotations(valuesYaml).flatMap((s) => s.params.map((p) => p.key));
    expect(keys).toEqual(expect.arrayContaining(['global.monitoring.labels', 'operator.replicaCount', 'chains']));
    expect(keys.some((k) => k.startsWith('alerting.'))).toBe(true);
  });

  it('names an undocumented value, a param without a value and a duplicate', () => {
    const yaml = [
      '## @section S',
      '## @param a.b first',
      'a:',
      '  b: 1',
      '  c: 2',
      '## @param a.b again',
      '## @param a.d gone',
    ].join('\n');
    expect(annotationProblems(yaml)).toEqual([
      '@param a.d names no value in values.yaml',
      '@param a.b is documented twice',
      'value a.c has no "## @param a.c …" line',
    ]);
    expect(() => renderValuesTable(yaml)).toThrow(/value a\.c has no/);
  });

  it('renders defaults as JSON and escapes pipes', () => {
    const table = renderValuesTable(
      [
        '## @section Things',
        '## Some text.',
        '## @param m A map | with a pipe',
        'm:',
        '  k: v',
        '## @param s A string',
        's: ""',
      ].join('\n'),
    );
    expect(table).toBe(
      [
        '### Things',
        '',
        'Some text.',
        '',
        '| Name | Description | Value |',
        '| --- | --- | --- |',
        '| `m` | A map \\| with a pipe | `{"k":"v"}` |',
        '| `s` | A string | `""` |',
      ].join('\n'),
    );
  });
});
