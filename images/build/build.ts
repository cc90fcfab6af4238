// Builds the images of images/images.json into images/out/<image>.oci.tar: stage the locked Debian packages, pick the
// files (closure.ts), add the hop scripts or the Node bundle and binary, write the tree, archive it as OCI.
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bundle } from '../bundle.js';
import { selectFiles } from './closure.js';
import {
  APP_DIR,
  IMAGE_PATH,
  NODE_PATH,
  debianRequests,
  entrypointOf,
  imageRef,
  loadDeclaration,
  type Declaration,
} from './declaration.js';
import { stage, stageKey, type StageRequest } from './debian.js';
import { exec } from './exec.js';
import { LOCK_COMMENT, pinDifferences, readLock, renderLock, staleness, type Lock } from './lock.js';
import { nodeBinary, registryIntegrity } from './node-dist.js';
import { isoTime, writeOciArchive, type OciResult } from './oci.js';
import { accountFiles, stagedView, writeTree, type ExtraFile } from './rootfs.js';

export interface BuildOptions {
  repo: string;
  outDir: string;
  cacheDir: string;
  /** Images to build (default: all). */
  names?: string[];
  /** Resolve the Debian packages and the Node binary anew and rewrite the lock. */
  updateLock?: boolean;
  /** Ignore the staging cache (the Node tarball is still checked by its integrity). */
  fresh?: boolean;
  /** SOURCE_DATE_EPOCH; default: the environment's, else the last commit's time. */
  epoch?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface BuiltImage extends OciResult {
  name: string;
  ref: string;
  seconds: number;
  files: number;
  packages: string[];
}

export const DECLARATION = 'images/images.json';
export const LOCK = 'images/images.lock.json';

async function gitEpoch(repo: string): Promise<number> {
  const out = await exec('git', ['-C', repo, 'log', '-1', '--format=%ct']);
  return Number(out.trim());
}

async function gitRevision(repo: string): Promise<string> {
  return (await exec('git', ['-C', repo, 'rev-parse', 'HEAD'])).trim();
}

export async function sourceDateEpoch(repo: string, explicit?: number): Promise<number> {
  const raw = explicit ?? (process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) : undefined);
  const epoch = raw ?? (await gitEpoch(repo));
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`SOURCE_DATE_EPOCH=${String(raw)} is not a unix time`);
  return epoch;
}

function stageRequest(decl: Declaration, include: string[]): StageRequest {
  return {
    suite: decl.debian.suite,
    architecture: decl.debian.architecture,
    sources: decl.debian.sources,
    include,
  };
}

/** Resolves every image's packages and the Node binary afresh and writes the lock. */
async function updateLock(decl: Declaration, opts: BuildOptions): Promise<Lock> {
  const log = opts.log ?? (() => {});
  const images: Lock['images'] = {};
  for (const [name, img] of Object.entries(decl.images)) {
    const requests = debianRequests(img);
    const staged = await stage(stageRequest(decl, requests), opts.cacheDir, true);
    const packages = staged.packages.map((p) => `${p.name}=${p.version}`);
    images[name] = { requests, packages };
    // Keep the staged root under the key of its pins: the build that follows reuses it.
    const pinnedDir = join(opts.cacheDir, stageKey(stageRequest(decl, packages)));
    await rm(pinnedDir, { recursive: true, force: true });
    await rename(join(opts.cacheDir, stageKey(stageRequest(decl, requests))), pinnedDir);
    log('resolved', { image: name, packages: packages.length });
  }
  const lock: Lock = {
    comment: LOCK_COMMENT,
    resolved: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    debian: { suite: decl.debian.suite, sources: decl.debian.sources },
    node: {
      package: decl.node.package,
      version: decl.node.version,
      integrity: await registryIntegrity(decl.node.package, decl.node.version),
    },
    images,
  };
  await writeFile(join(opts.repo, LOCK), renderLock(lock));
  log('lock written', { file: LOCK });
  return lock;
}

async function buildOne(
  decl: Declaration,
  lock: Lock,
  name: string,
  ctx: { opts: BuildOptions; epoch: number; revision: string; node?: string },
): Promise<BuiltImage> {
  const started = Date.now();
  const { opts, epoch } = ctx;
  const img = decl.images[name]!;
  const pins = lock.images[name]!.packages;
  const staged = await stage(stageRequest(decl, pins), opts.cacheDir, opts.fresh);
  const diff = pinDifferences(pins, staged.packages);
  if (diff.length)
    throw new Error(
      `image ${name}: apt staged other packages than the lock pins (${diff.join('; ')}); run --update-lock`,
    );

  const work = join(opts.outDir, '.work', name);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const overlay = new Map<string, string>();
  const extras: ExtraFile[] = [...accountFiles()];
  if (img.bundle) {
    if (!ctx.node) throw new Error(`image ${name} needs the Node binary, which was not fetched`);
    overlay.set(NODE_PATH, ctx.node);
    extras.push({ path: NODE_PATH, from: ctx.node, executable: true });
    const out = join(work, img.bundle.file);
    await bundle(join(opts.repo, img.bundle.entry), out);
    extras.push({ path: `${APP_DIR}/${img.bundle.file}`, from: out, executable: false });
  }
  const view = stagedView(staged.root, overlay);
  const selection = selectFiles(view, {
    image: img,
    imageName: name,
    staged: staged.packages,
    exclude: decl.debian.exclude,
    extraElf: img.bundle ? [NODE_PATH] : [],
  });
  const tree = join(work, 'rootfs');
  await writeTree(tree, {
    staged: staged.root,
    selection,
    extras,
    folders: Object.entries(img.copy ?? {}).map(([from, to]) => ({
      from: join(opts.repo, from),
      to: `${APP_DIR}/${to}`,
    })),
    dirs: img.dirs,
  });
  const pathDirs = IMAGE_PATH.split(':');
  const onPath = (program: string, what: string) => {
    const found = pathDirs.map((d) => `${d}/${program}`).find((p) => existsSync(join(tree, p)));
    if (!found) throw new Error(`image ${name}: ${what} ${program} is not on the image's PATH`);
    return found;
  };
  for (const [link, program] of Object.entries(img.links ?? {})) {
    if (existsSync(join(tree, link))) throw new Error(`image ${name}: link ${link} would replace a file of the image`);
    await mkdir(join(tree, dirname(link)), { recursive: true, mode: 0o755 });
    await symlink(onPath(program, `link ${link} →`), join(tree, link));
  }
  const entrypoint = entrypointOf(img, (program) => onPath(program, 'entrypoint program'));
  const ref = imageRef(decl, name);
  const result = await writeOciArchive(tree, work, join(opts.outDir, `${name}.oci.tar`), {
    ref,
    epoch,
    entrypoint,
    env: { PATH: IMAGE_PATH, ...img.env },
    user: img.user,
    ports: img.ports,
    labels: {
      'org.opencontainers.image.title': img.title,
      'org.opencontainers.image.version': decl.version,
      'org.opencontainers.image.created': isoTime(epoch),
      'org.opencontainers.image.revision': ctx.revision,
      'org.opencontainers.image.ref.name': ref,
      'dev.torchain.debian.packages': selection.contributors.join(' '),
    },
  });
  await rm(work, { recursive: true, force: true });
  return {
    name,
    ref,
    ...result,
    seconds: (Date.now() - started) / 1000,
    files: selection.paths.length,
    packages: selection.contributors,
  };
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping the order of the results. */
async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

export async function buildImages(opts: BuildOptions): Promise<BuiltImage[]> {
  const log = opts.log ?? (() => {});
  const decl = loadDeclaration(join(opts.repo, DECLARATION));
  const names = opts.names?.length ? opts.names : Object.keys(decl.images);
  for (const n of names)
    if (!decl.images[n])
      throw new Error(`no image ${n} in ${DECLARATION}: choose from ${Object.keys(decl.images).join(', ')}`);
  await mkdir(opts.outDir, { recursive: true });
  await mkdir(opts.cacheDir, { recursive: true });

  let lock: Lock;
  if (opts.updateLock) lock = await updateLock(decl, opts);
  else {
    const found = readLock(join(opts.repo, LOCK));
    if (!found) throw new Error(`${LOCK} is missing: run npm run images -- --update-lock`);
    const stale = staleness(decl, found, names);
    if (stale.length)
      throw new Error(`${LOCK} is stale (${stale.join('; ')}): run npm run images -- --update-lock and commit it`);
    lock = found;
  }

  const epoch = await sourceDateEpoch(opts.repo, opts.epoch);
  const revision = await gitRevision(opts.repo);
  const needsNode = names.some((n) => decl.images[n]!.bundle);
  const node = needsNode
    ? await nodeBinary(lock.node.package, lock.node.version, lock.node.integrity, join(opts.cacheDir, 'node'))
    : undefined;
  log('building', { images: names, epoch, sourceDate: isoTime(epoch) });
  const built = await pool(names, 2, async (n) => {
    const b = await buildOne(decl, lock, n, { opts, epoch, revision, ...(node ? { node } : {}) });
    log('built', { image: n, ref: b.ref, digest: b.manifestDigest, seconds: b.seconds });
    return b;
  });
  return built;
}
