// Shared pieces of the image suites: build the archives (warm: the staged Debian packages and the Node tarball are
// cached under images/out/.cache) and load them into podman's store, and read an archive's parts.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildImages, type BuiltImage } from '../../images/build/build.js';
import { loadImage } from '../../lab/runtime/containers.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const OUT = join(REPO, 'images/out');

/** What building and running the images needs on the machine (scripts/prereqs.sh installs it). */
export const IMAGE_BINARIES = [
  '/usr/bin/podman',
  '/usr/sbin/runc',
  '/usr/bin/umoci',
  '/usr/bin/mmdebstrap',
  '/usr/bin/dpkg-deb',
  '/usr/bin/tar',
];

const pexec = promisify(execFile);

/** Builds `names` into images/out (reusing the cache) and loads them into podman; returns name → reference. */
export async function ensureImages(names: string[]): Promise<{ refs: Record<string, string>; built: BuiltImage[] }> {
  const built = await buildImages({ repo: REPO, outDir: OUT, cacheDir: join(OUT, '.cache'), names });
  const refs: Record<string, string> = {};
  for (const b of built) refs[b.name] = (await loadImage(b.archive)).ref;
  return { refs, built };
}

export interface ArchiveParts {
  index: { manifests: { digest: string; annotations?: Record<string, string> }[] };
  manifest: { config: { digest: string }; layers: { digest: string; mediaType: string }[] };
  config: {
    created: string;
    config: { User?: string; Env?: string[]; Entrypoint?: string[]; Labels?: Record<string, string> };
  };
  /** Layer entries: path (without ./) → `tar -tv` type letter and mode string. */
  files: Map<string, { type: string; mode: string; size: number; link?: string }>;
}

async function member(archive: string, name: string): Promise<string> {
  return (await pexec('tar', ['-xOf', archive, `./${name}`], { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

export async function readArchive(archive: string): Promise<ArchiveParts> {
  const index = JSON.parse(await member(archive, 'index.json')) as ArchiveParts['index'];
  const manifest = JSON.parse(
    await member(archive, `blobs/sha256/${index.manifests[0]!.digest.slice(7)}`),
  ) as ArchiveParts['manifest'];
  const config = JSON.parse(
    await member(archive, `blobs/sha256/${manifest.config.digest.slice(7)}`),
  ) as ArchiveParts['config'];
  const layer = `./blobs/sha256/${manifest.layers[0]!.digest.slice(7)}`;
  const { stdout } = await pexec(
    'bash',
    ['-o', 'pipefail', '-c', 'tar -xOf "$1" "$2" | tar -tvz --numeric-owner', 'list', archive, layer],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const files = new Map<string, { type: string; mode: string; size: number; link?: string }>();
  for (const line of stdout.split('\n')) {
    // drwxr-xr-x 0/0 0 2026-01-01 00:00 ./usr/   |   lrwxrwxrwx 0/0 0 … ./lib64/x -> /lib/y
    const m = /^(\S)(\S{9})\s+\S+\s+(\d+)\s+\S+\s+\S+\s+\.\/(.*?)(?: -> (.*))?$/.exec(line);
    if (!m || m[4] === '') continue;
    files.set(m[4]!.replace(/\/$/, ''), {
      type: m[1]!,
      mode: m[2]!,
      size: Number(m[3]),
      ...(m[5] ? { link: m[5] } : {}),
    });
  }
  return { index, manifest, config, files };
}
