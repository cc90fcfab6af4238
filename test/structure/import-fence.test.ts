// The import fence of eslint.config.js: product code (operator/, log-exporter/, common/, prometheus-rules/src/,
// images/) never imports lab/, test/ or bench/, in any import form, and common/ imports no component. Linted with the
// project's own config through ESLint's API, on sources given as text under product paths (nothing is written).
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/paths.js';

const eslint = new ESLint({ cwd: REPO_ROOT });

/** The fence's findings for `code` as if it were the file `path` (relative to the repo). */
async function fenceFindings(path: string, code: string): Promise<Array<{ line: number; message: string }>> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, path) });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => ({ line: m.line, message: m.message }));
}

const FORMS = (target: string) => [
  `import { a } from '${target}';`,
  `import type { B } from '${target}';`,
  `export { c } from '${target}';`,
  `export * from '${target}';`,
  `export const d = async () => await import('${target}');`,
  `export type E = typeof import('${target}');`,
];

describe('the import fence', () => {
  it.each([
    ['operator/src/core/x.ts', '../../../lab/kube/server.js'],
    ['operator/src/x.ts', '../../test/support/env.js'],
    ['log-exporter/src/sources/x.ts', '../../../bench/exporter.js'],
    ['prometheus-rules/src/x.ts', '../../lab/monitoring/binaries.js'],
    ['images/build/x.ts', '../../test/images/support.js'],
    ['common/contracts/x.ts', '../../lab/stack.js'],
  ])('refuses every import form from %s of %s', async (path, target) => {
    const forms = FORMS(target);
    const found = await fenceFindings(path, forms.join('\n'));
    // One finding per line: each form is caught, none twice.
    expect(found.map((f) => f.line)).toEqual(forms.map((_, i) => i + 1));
    expect(found[0]!.message).toMatch(/must not import lab\/, test\/ or bench\/|imports no component/);
  });

  it('keeps common/ free of every component', async () => {
    for (const target of [
      '../../operator/src/config.js',
      '../../log-exporter/src/main.js',
      '../../prometheus-rules/src/render.js',
      '../../images/build/main.ts',
      '../../scripts/paths.js',
    ]) {
      const found = await fenceFindings('common/contracts/x.ts', `import { a } from '${target}';\nexport { a };\n`);
      expect(found, target).toEqual([
        { line: 1, message: expect.stringMatching(/common\/ holds the shared contracts/) },
      ]);
    }
  });

  it('lets product code import common/ and its own component, and keeps test-only packages out', async () => {
    const allowed = [
      `import { PROTOCOLS } from '../../../common/contracts/protocols.js';`,
      `import { keyOf } from '../core/naming.js';`,
      `import { DEFAULT_ALERTING } from '../../../prometheus-rules/src/render.js';`,
      `export type P = typeof import('../protocols/index.js');`,
      `export const p = [PROTOCOLS, keyOf, DEFAULT_ALERTING];`,
    ].join('\n');
    expect(await fenceFindings('operator/src/controller/x.ts', allowed)).toEqual([]);
    expect(await fenceFindings('common/contracts/x.ts', `import { a } from '../log.js';\nexport { a };\n`)).toEqual([]);
    expect(await fenceFindings('log-exporter/src/x.ts', `import { it } from 'vitest';\nexport { it };\n`)).toEqual([
      { line: 1, message: expect.stringMatching(/vitest is for test\//) },
    ]);
  });

  it('leaves the lab, the tests and the benchmarks free to import product code', async () => {
    const code = `import { keyOf } from '../../operator/src/core/naming.js';\nimport { x } from '../lab/stack.js';\nexport { keyOf, x };\n`;
    expect(await fenceFindings('lab/kube/x.ts', code)).toEqual([]);
    expect(await fenceFindings('bench/x.ts', code)).toEqual([]);
  });
});
