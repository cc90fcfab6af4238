// Stages Debian packages with mmdebstrap's `extract` variant: apt resolves the requests and their dependencies from
// the declared mirror (signed indices, hashed packages), the packages are unpacked into a scratch root without
// running a single maintainer script, and the .deb files stay so each package's file list can be read. Nothing of
// this root goes into an image as it is: closure.ts picks the files. Staged roots are cached by what was asked for.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from './exec.js';
import type { StagedPackage } from './closure.js';

export interface StageRequest {
  suite: string;
  architecture: string;
  sources: string[];
  /** `name` (resolve now) or `name=version` (exactly this). */
  include: string[];
}

export interface Staged {
  root: string;
  packages: StagedPackage[];
  /** True when it came from the cache. */
  cached: boolean;
}

export function stageKey(req: StageRequest): string {
  return createHash('sha256')
    .update(JSON.stringify({ ...req, include: [...req.include].sort() }))
    .digest('hex')
    .slice(0, 16);
}

async function listDeb(deb: string): Promise<StagedPackage> {
  const [fields, listing] = await Promise.all([
    exec('dpkg-deb', ['--field', deb, 'Package', 'Version']),
    exec('bash', ['-o', 'pipefail', '-c', 'dpkg-deb --fsys-tarfile "$1" | tar -t', 'list', deb]),
  ]);
  const field = (n: string) => new RegExp(`^${n}: (.+)$`, 'm').exec(fields)?.[1]?.trim();
  const name = field('Package');
  const version = field('Version');
  if (!name || !version) throw new Error(`${deb}: no Package/Version field`);
  const files = listing
    .split('\n')
    .filter((l) => l !== '' && l !== './')
    .map((l) => l.replace(/^\.\//, '/'));
  return { name, version, files };
}

/**
 * Stages `req` under `cacheDir/<key>` (reused when complete, unless `fresh`). A request of pinned versions that
 * the mirror no longer carries fails with apt's message and the advice to update the lock.
 */
export function stage(req: StageRequest, cacheDir: string, fresh = false): Promise<Staged> {
  // Images with the same packages (the two Node images) share one staging: never run two mmdebstraps into one dir.
  const dir = join(cacheDir, stageKey(req));
  const running = inflight.get(dir);
  if (running) return running;
  const p = stageInto(dir, req, fresh).finally(() => inflight.delete(dir));
  inflight.set(dir, p);
  return p;
}

const inflight = new Map<string, Promise<Staged>>();

async function stageInto(dir: string, req: StageRequest, fresh: boolean): Promise<Staged> {
  const root = join(dir, 'root');
  const manifest = join(dir, 'packages.json');
  if (!fresh && existsSync(manifest)) {
    return { root, packages: JSON.parse(await readFile(manifest, 'utf8')) as StagedPackage[], cached: true };
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const tmpRoot = join(dir, 'root.partial');
  try {
    await exec(
      'mmdebstrap',
      [
        '--quiet',
        '--variant=extract',
        `--architectures=${req.architecture}`,
        `--include=${req.include.join(',')}`,
        '--skip=download/empty',
        '--skip=cleanup/apt/cache',
        req.suite,
        tmpRoot,
        ...req.sources,
      ],
      { timeoutMs: 900_000 },
    );
  } catch (err) {
    const pinned = req.include.some((i) => i.includes('='));
    throw new Error(
      `staging Debian packages (${req.include.join(' ')}) failed${
        pinned
          ? ': a locked version may have left the mirror; run npm run images -- --update-lock, or point the ' +
            'sources at a snapshot of the mirror from the lock date (docs/images.md)'
          : ''
      }\n${(err as Error).message}`,
    );
  }
  const archives = join(tmpRoot, 'var/cache/apt/archives');
  const debs = (await readdir(archives)).filter((f) => f.endsWith('.deb')).sort();
  const packages = (await Promise.all(debs.map((d) => listDeb(join(archives, d))))).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  );
  await rename(tmpRoot, root);
  await writeFile(manifest, JSON.stringify(packages));
  return { root, packages, cached: false };
}
