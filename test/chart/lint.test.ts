// `helm lint --strict` on every ci/ value set, and the name truncation budget of _helpers.tpl.
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CHART_DIR, HELM } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { ciValueFiles, type Manifest } from './render.js';

const run = promisify(execFile);

describe.skipIf(skipUnless({ binaries: [HELM] }))('helm lint and names', () => {
  for (const file of ciValueFiles()) {
    it(`helm lint --strict passes with ci/${basename(file)}`, async () => {
      const { stdout } = await run(HELM, ['lint', '--strict', CHART_DIR, '--values', file]);
      expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    });
  }

  it('helm lint --strict fails on values the schema refuses', async () => {
    const result = await run(HELM, ['lint', '--strict', CHART_DIR, '--set', 'operator.replicaCount=0']).then(
      () => 'passed',
      (e: { stdout: string }) => e.stdout,
    );
    expect(result).toMatch(/operator\.replicaCount: Must be greater than or equal to 1/);
  });

  it('with the longest release name Helm allows (53), every name and label value stays within 63 characters', async () => {
    const release = `r${'x'.repeat(52)}`;
    const file = ciValueFiles().find((f) => f.includes('two-chains'))!;
    const { stdout } = await run(HELM, [
      'template',
      release,
      CHART_DIR,
      '--values',
      file,
      '--namespace',
      'torchain-system',
    ]);
    const objects = parseAllDocuments(stdout)
      .map((d) => d.toJS() as Manifest | null)
      .filter((o): o is Manifest => o !== null);
    expect(objects.length).toBeGreaterThan(10);
    for (const o of objects) {
      expect(o.metadata.name.length, `${o.kind} ${o.metadata.name}`).toBeLessThanOrEqual(63);
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      for (const [k, v] of Object.entries((o.metadata.labels ?? {}) as Record<string, string>))
        expect(v.length, `${o.kind} ${o.metadata.name} label ${k}`).toBeLessThanOrEqual(63);
    }
  });
});
