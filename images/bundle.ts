// `tsx images/bundle.ts ENTRY.ts OUT.mjs`: one self-contained ES module (every npm dependency inlined) for
// Node.js 24, so that an image needs node and this one file: no node_modules, no npm, no TypeScript at run time.
// Used by `npm run images` (images/build/) and images/node-app.nix (log-exporter, operator); checked by test/images/.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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

/** The Node.js release line the images run (images/images.json pins the exact version). */
export const NODE_TARGET = 'node24';

/** Bundles `entry` into `outfile`; throws when esbuild reports an error. Deterministic for the same sources. */
export async function bundle(entry: string, outfile: string, target = NODE_TARGET): Promise<void> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [inlineLocalRequire],
    // CommonJS dependencies inside an ES module bundle still call require(): give them one.
    banner: {
      js: "import { createRequire as torchainCreateRequire } from 'node:module'; const require = torchainCreateRequire(import.meta.url);",
    },
  });
  if (result.errors.length > 0) throw new Error(`esbuild could not bundle ${entry}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [entry, outfile] = process.argv.slice(2);
  if (!entry || !outfile) {
    console.error('usage: tsx images/bundle.ts ENTRY.ts OUT.mjs');
    process.exit(64);
  }
  await bundle(entry, outfile).catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
