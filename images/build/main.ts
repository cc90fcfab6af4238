// `npm run images [-- FLAGS]`: builds images/out/<image>.oci.tar for every image of images/images.json.
//   --only a,b        build these images only
//   --update-lock     resolve Debian packages and the Node binary afresh, rewrite images/images.lock.json
//   --fresh           ignore the staging cache (stage every package again from the mirror)
//   --check           build a second time from scratch (--fresh, into a scratch folder) and fail unless every
//                     archive is byte-identical: the reproducibility check
//   --out DIR         output folder (default images/out)
// Prints a table (image, reference, manifest digest, sizes, seconds) and writes DIR/digests.json. Logs on stderr.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildImages, type BuiltImage } from './build.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'images', msg, ...fields })}\n`);
}

const mib = (n: number) => (n / 1048576).toFixed(1);

function table(built: BuiltImage[]): string {
  const rows = [
    ['image', 'reference', 'manifest digest', 'archive MiB', 'layer MiB', 'files', 's'],
    ...built.map((b) => [
      b.name,
      b.ref,
      b.manifestDigest,
      mib(b.archiveBytes),
      mib(b.layerBytes),
      String(b.files),
      b.seconds.toFixed(1),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n') + '\n';
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      'update-lock': { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
    strict: true,
  });
  const outDir = resolve(values.out ?? join(REPO, 'images/out'));
  const cacheDir = join(REPO, 'images/out/.cache');
  const names = values.only?.split(',').filter(Boolean);
  const started = Date.now();
  const built = await buildImages({
    repo: REPO,
    outDir,
    cacheDir,
    ...(names ? { names } : {}),
    updateLock: values['update-lock'],
    fresh: values.fresh,
    log,
  });
  const digests = Object.fromEntries(
    built.map((b) => [
      b.name,
      { ref: b.ref, manifest: b.manifestDigest, config: b.configDigest, archiveSha256: b.archiveSha256 },
    ]),
  );
  await writeFile(join(outDir, 'digests.json'), JSON.stringify(digests, null, 2) + '\n');
  process.stdout.write(table(built));
  process.stdout.write(`built ${built.length} images in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (!values.check) return 0;

  const again = await mkdtemp(join(tmpdir(), 'torchain-images-check-'));
  try {
    const rebuilt = await buildImages({
      repo: REPO,
      outDir: again,
      cacheDir: join(again, '.cache'),
      names: built.map((b) => b.name),
      fresh: true,
      log,
    });
    const differ = rebuilt.filter((r) => built.find((b) => b.name === r.name)?.archiveSha256 !== r.archiveSha256);
    for (const r of rebuilt)
      process.stdout.write(
        `${differ.includes(r) ? 'DIFFERS' : 'same   '}  ${r.name}  ${r.manifestDigest}  archive sha256:${r.archiveSha256}\n`,
      );
    if (differ.length) {
      log('not reproducible', { images: differ.map((d) => d.name) });
      return 1;
    }
    process.stdout.write(`reproducible: ${rebuilt.length} archives byte-identical after a build from scratch\n`);
    return 0;
  } finally {
    await rm(again, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log('failed', { error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
