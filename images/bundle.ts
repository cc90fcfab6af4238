// `tsx images/bundle.ts ENTRY.ts OUT.mjs`: one self-contained ES module (every npm dependency inlined) for
// Node.js 20, so that an image needs nodejs and this one file: no node_modules, no npm, no TypeScript at run time.
// Used by images/node-app.nix (log-exporter, operator); checked by test/dataplane/images.test.ts.
import { readFile } from 'node:fs/promises';
import { build, type Plugin } from 'esbuild';

/**
 * `const require = createRequire(import.meta.url)` gives a module a require() of its own, which esbuild cannot see
 * through: the modules loaded with it would stay outside the bundle and be missing at run time. Dropping that line
 * hands those require() calls to the bundle's own require, which esbuild resolves and inlines.
 */
const LOCAL_REQUIRE = /^\s*const require = createRequire\(import\.meta\.url\);\s*$/m;

const inlineLocalRequire: Plugin = {
  name: 'torchain-inline-local-require',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!LOCAL_REQUIRE.test(text)) return undefined;
      return { contents: text.replace(LOCAL_REQUIRE, ''), loader: 'ts' };
    });
  },
};

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  console.error('usage: tsx images/bundle.ts ENTRY.ts OUT.mjs');
  process.exit(64);
}
const result = await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [inlineLocalRequire],
  // CommonJS dependencies inside an ES module bundle still call require(): give them one.
  banner: {
    js: "import { createRequire as torchainCreateRequire } from 'node:module'; const require = torchainCreateRequire(import.meta.url);",
  },
});
if (result.errors.length > 0) process.exit(1);
