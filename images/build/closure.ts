// Which files of a staged Debian root filesystem make up an image: the declared packages' files (less the excluded
// paths, or only the listed ones), then the shared-library closure of every ELF file among them (interpreter and
// DT_NEEDED, followed through symlinks), then the copyright file of every package that contributed a file.
// Decisions only: the file system is read through a RootView, so tests run it on a tree made of plain data.
import { posix } from 'node:path';
import type { ElfDeps } from './elf.js';
import type { ImageDecl } from './declaration.js';

export type EntryKind = 'file' | 'dir' | 'symlink';

/** Read access to the staged root filesystem (paths are absolute inside it). */
export interface RootView {
  kind(path: string): EntryKind | undefined;
  readlink(path: string): string;
  /** ELF dependencies of a regular file; undefined when it is not ELF. */
  elf(path: string): ElfDeps | undefined;
}

export interface StagedPackage {
  name: string;
  version: string;
  /** Absolute paths the package ships (directories end with /). */
  files: string[];
}

export interface Selection {
  /** Every path to copy, sorted: regular files and symlinks (parents are created as plain directories). */
  paths: { path: string; kind: 'file' | 'symlink' }[];
  /** Packages that contributed at least one file, sorted. */
  contributors: string[];
}

/** The multiarch directories glibc's loader searches when no ld.so.cache exists (Debian amd64). */
export const LIBRARY_DIRS = [
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib64',
  '/usr/lib64',
  '/lib',
  '/usr/lib',
];

const MAX_LINKS = 40;

/**
 * Follows `path` component by component inside the root; returns the final path and every symlink crossed on the
 * way (the image needs those too). Undefined when something on the way does not exist.
 */
export function resolveInRoot(view: RootView, path: string): { path: string; links: string[] } | undefined {
  const links: string[] = [];
  let pending = path.split('/').filter(Boolean);
  let current = '/';
  let hops = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      current = posix.dirname(current);
      continue;
    }
    const next = posix.join(current, part);
    const kind = view.kind(next);
    if (kind === undefined) return undefined;
    if (kind === 'symlink') {
      if (++hops > MAX_LINKS) throw new Error(`too many symlinks resolving ${path} in the staged root`);
      links.push(next);
      const target = view.readlink(next);
      pending = [...target.split('/').filter(Boolean), ...pending];
      if (target.startsWith('/')) current = '/';
      continue;
    }
    if (kind !== 'dir' && pending.length) return undefined;
    current = next;
  }
  return { path: current, links };
}

function excluded(path: string, exclude: string[]): boolean {
  return exclude.some((prefix) => path === prefix.replace(/\/$/, '') || path.startsWith(prefix));
}

/** Finds shared library `name` the way the loader would: RUNPATH (with $ORIGIN), then the multiarch dirs. */
function findLibrary(view: RootView, name: string, from: string, runpath: string[]): string | undefined {
  if (name.includes('/')) return resolveInRoot(view, name) ? name : undefined;
  const origin = posix.dirname(from);
  const dirs = [...runpath.map((d) => d.replace(/\$\{?ORIGIN\}?/g, origin)), ...LIBRARY_DIRS];
  for (const dir of dirs) {
    const candidate = posix.join(dir, name);
    const r = resolveInRoot(view, candidate);
    if (r && view.kind(r.path) === 'file') return candidate;
  }
  return undefined;
}

export interface SelectInput {
  image: ImageDecl;
  imageName: string;
  staged: StagedPackage[];
  exclude: string[];
  /** Extra ELF files placed into the image by the build (e.g. the node binary), image paths. */
  extraElf?: string[];
}

export function selectFiles(view: RootView, input: SelectInput): Selection {
  const { image, imageName, staged, exclude } = input;
  const byName = new Map(staged.map((p) => [p.name, p]));
  const owner = new Map<string, string>();
  for (const p of staged) for (const f of p.files) if (!f.endsWith('/')) owner.set(f, p.name);

  const chosen = new Map<string, 'file' | 'symlink'>();
  const contributors = new Set<string>();
  const queue: string[] = [];

  // Adds `path` (and the symlinks leading to it) and queues ELF files for their libraries.
  const add = (path: string, why: string): string => {
    const r = resolveInRoot(view, path);
    if (!r) throw new Error(`image ${imageName}: ${path} (${why}) is missing from the staged root filesystem`);
    for (const link of r.links) {
      chosen.set(link, 'symlink');
      const o = owner.get(link);
      if (o) contributors.add(o);
    }
    const kind = view.kind(r.path);
    if (kind === 'file' && !chosen.has(r.path)) {
      chosen.set(r.path, 'file');
      const o = owner.get(r.path);
      if (o) contributors.add(o);
      queue.push(r.path);
    }
    return r.path;
  };

  for (const pkg of image.packages) {
    const staged = byName.get(pkg.debian);
    if (!staged) throw new Error(`image ${imageName}: package ${pkg.debian} was not staged; run with --update-lock`);
    const files = pkg.only ?? staged.files.filter((f) => !f.endsWith('/') && !excluded(f, exclude));
    for (const f of files) {
      if (pkg.only && !staged.files.includes(f))
        throw new Error(`image ${imageName}: package ${pkg.debian} does not ship ${f} (listed in "only")`);
      // A symlink of the package whose target is missing (e.g. into an excluded folder) is left out.
      if (!pkg.only && !resolveInRoot(view, f)) continue;
      add(f, `from package ${pkg.debian}`);
    }
    contributors.add(pkg.debian);
  }
  for (const f of input.extraElf ?? []) queue.push(f);

  const scanned = new Set<string>();
  while (queue.length) {
    const file = queue.shift()!;
    if (scanned.has(file)) continue;
    scanned.add(file);
    const deps = view.elf(file);
    if (!deps) continue;
    if (deps.interpreter) add(deps.interpreter, `ELF interpreter of ${file}`);
    for (const lib of deps.needed) {
      const found = findLibrary(view, lib, file, deps.runpath);
      if (!found)
        throw new Error(
          `image ${imageName}: ${file} needs ${lib}, which no staged package ships: add the Debian package that ` +
            `ships it to "libraries" of ${imageName} in images/images.json and run npm run images -- --update-lock`,
        );
      add(found, `needed by ${file}`);
    }
  }

  // Licences travel with the binaries: /usr/share/doc/<package>/copyright of every package that contributed.
  for (const name of contributors) {
    const copyright = `/usr/share/doc/${name}/copyright`;
    if (resolveInRoot(view, copyright)) add(copyright, `licence of ${name}`);
  }

  return {
    paths: [...chosen.entries()]
      .map(([path, kind]) => ({ path, kind }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    contributors: [...contributors].sort(),
  };
}
