// Writes an image's root filesystem tree: the selected files of the staged root, then the build's own files (the
// hop scripts, the Node bundle and binary, /etc/passwd), then the declared empty directories. Every mode is set
// explicitly (0755 for directories and executables, 0644 for the rest, no set-id bits) so that the umask of the
// machine that builds does not change the digest; times and owners are set when the layer is archived (oci.ts).
import { lstatSync, openSync, readSync, closeSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { elfDeps, isElf } from './elf.js';
import type { EntryKind, RootView, Selection } from './closure.js';

/** A RootView over the staged root, with `overlay` (image path → host file) seen first. */
export function stagedView(root: string, overlay: Map<string, string> = new Map()): RootView {
  const host = (p: string) => overlay.get(p) ?? join(root, p);
  return {
    kind(path): EntryKind | undefined {
      if (overlay.has(path)) return 'file';
      for (const o of overlay.keys()) if (o.startsWith(path.endsWith('/') ? path : `${path}/`)) return 'dir';
      try {
        const s = lstatSync(host(path));
        return s.isSymbolicLink() ? 'symlink' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : undefined;
      } catch {
        return undefined;
      }
    },
    readlink: (path) => readlinkSync(host(path)),
    elf(path) {
      const file = host(path);
      const head = Buffer.alloc(4);
      const fd = openSync(file, 'r');
      try {
        readSync(fd, head, 0, 4, 0);
      } finally {
        closeSync(fd);
      }
      return isElf(head) ? elfDeps(readFileSync(file), path) : undefined;
    },
  };
}

export interface ExtraFile {
  /** Absolute path in the image. */
  path: string;
  from?: string;
  content?: string;
  executable: boolean;
}

const normalMode = (mode: number) => (mode & 0o111 ? 0o755 : 0o644);

async function ensureDir(tree: string, path: string): Promise<void> {
  const parts = path.split('/').filter(Boolean);
  let cur = tree;
  for (const p of parts) {
    cur = join(cur, p);
    await mkdir(cur).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
}

/** Copies a repository folder (files and symlinks, recursively) to `dest` in the tree. */
async function copyFolder(src: string, tree: string, dest: string): Promise<void> {
  await ensureDir(tree, dest);
  for (const entry of (await readdir(src, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const from = join(src, entry.name);
    const to = `${dest}/${entry.name}`;
    if (entry.isDirectory()) await copyFolder(from, tree, to);
    else if (entry.isSymbolicLink()) await symlink(await readlink(from), join(tree, to));
    else if (entry.isFile()) {
      await copyFile(from, join(tree, to));
      await chmod(join(tree, to), normalMode((await stat(from)).mode));
    }
  }
}

export interface TreeSpec {
  staged: string;
  selection: Selection;
  extras: ExtraFile[];
  folders: { from: string; to: string }[];
  dirs: Record<string, string>;
}

export async function writeTree(tree: string, spec: TreeSpec): Promise<void> {
  await rm(tree, { recursive: true, force: true });
  await mkdir(tree, { recursive: true });
  for (const { path, kind } of spec.selection.paths) {
    await ensureDir(tree, dirname(path));
    const from = join(spec.staged, path);
    if (kind === 'symlink') await symlink(await readlink(from), join(tree, path));
    else {
      await copyFile(from, join(tree, path));
      await chmod(join(tree, path), normalMode((await stat(from)).mode));
    }
  }
  for (const f of spec.folders) await copyFolder(f.from, tree, f.to);
  for (const x of spec.extras) {
    await ensureDir(tree, dirname(x.path));
    const to = join(tree, x.path);
    if (x.from) await copyFile(x.from, to);
    else await writeFile(to, x.content ?? '');
    await chmod(to, x.executable ? 0o755 : 0o644);
  }
  await normaliseDirs(tree);
  for (const [dir, mode] of Object.entries(spec.dirs)) {
    await ensureDir(tree, dir);
    await chmod(join(tree, dir), parseInt(mode, 8));
  }
}

async function normaliseDirs(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const e of await readdir(dir, { withFileTypes: true }))
    if (e.isDirectory()) await normaliseDirs(join(dir, e.name));
}

/** /etc/passwd and /etc/group with root and nobody (65534), so tools and logs show names for the image's users. */
export function accountFiles(): ExtraFile[] {
  return [
    {
      path: '/etc/passwd',
      content: 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n',
      executable: false,
    },
    { path: '/etc/group', content: 'root:x:0:\nnogroup:x:65534:\n', executable: false },
  ];
}
