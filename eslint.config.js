// Lint config: typescript-eslint's recommended rules over every TypeScript file of the project, and the import fence:
// product code (what ships in the images and the chart) never depends on the lab, the tests or the benchmarks, and
// common/ (the shared contracts) depends on no component.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** An import path with a `dir/` segment for one of `dirs` (relative paths: the fenced folders sit at the root). */
const segment = (dirs) => `(^|/)(${dirs.join('|')})(/|$)`;

/** The fence as three rules: static imports and re-exports, dynamic `import()`, and `typeof import()` types. */
function fence(dirs, message) {
  const regex = segment(dirs);
  // esquery ends a regex at the first `/`, escaped or not: spell the slash \x2F there.
  const selector = (node) => `${node}[value=/${regex.replaceAll('/', '\\x2F')}/]`;
  return {
    'no-restricted-imports': ['error', { patterns: [{ regex, message }], paths: productPackages }],
    'no-restricted-syntax': [
      'error',
      { selector: selector('ImportExpression > Literal.source'), message },
      { selector: selector('TSImportType > Literal.source'), message },
    ],
  };
}

/** Test-only packages product code must not load. */
const productPackages = [{ name: 'vitest', message: 'vitest is for test/: product code must not import it.' }];

const PRODUCT = [
  'operator/**/*.ts',
  'log-exporter/**/*.ts',
  'common/**/*.ts',
  'prometheus-rules/src/**/*.ts',
  'images/**/*.ts',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', 'lab/.state/**', 'log-exporter/fixtures/**', 'images/out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: PRODUCT,
    rules: fence(
      ['lab', 'test', 'bench'],
      'Product code must not import lab/, test/ or bench/: move the shared piece to common/ (docs/architecture.md, "Import fence").',
    ),
  },
  {
    // Later than the product block, so common/ gets the wider fence (a file's last matching rule setting wins).
    files: ['common/**/*.ts'],
    rules: fence(
      ['operator', 'log-exporter', 'prometheus-rules', 'images', 'helm', 'scripts', 'lab', 'test', 'bench'],
      'common/ holds the shared contracts and imports no component: move what it needs into common/.',
    ),
  },
);
