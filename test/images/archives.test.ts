// What `npm run images` writes: OCI archives named as the chart expects, minimal (no package manager, docs or
// shell where the design has none), carrying the declared programs and the repository's hop folder as it is.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { sourceDateEpoch, type BuiltImage } from '../../images/build/build.js';
import { isoTime } from '../../images/build/oci.js';
import { APP_DIR, IMAGE_PATH, NODE_PATH, imageRef, loadDeclaration } from '../../images/build/declaration.js';
import { skipUnless } from '../support/env.js';
import { IMAGE_BINARIES, REPO, ensureImages, readArchive, type ArchiveParts } from './support.js';

const pexec = promisify(execFile);
const decl = loadDeclaration(join(REPO, 'images/images.json'));
const NAMES = Object.keys(decl.images);

/** Every file of a repository folder, relative, with its size. */
function listFolder(dir: string, prefix = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of listFolder(join(dir, e.name), rel)) out.set(k, v);
    else out.set(rel, statSync(join(dir, e.name)).size);
  }
  return out;
}

describe.skipIf(skipUnless({ root: true, binaries: [...IMAGE_BINARIES, '/usr/bin/skopeo'] }))(
  'the image archives',
  () => {
    const parts = new Map<string, ArchiveParts>();
    let built: BuiltImage[] = [];
    let epoch = 0;

    beforeAll(async () => {
      epoch = await sourceDateEpoch(REPO);
      ({ built } = await ensureImages(NAMES));
      for (const b of built) parts.set(b.name, await readArchive(b.archive));
    }, 600_000);

    it.each(NAMES)('%s carries the chart’s reference, its entrypoint, user and environment', (name) => {
      const p = parts.get(name)!;
      const img = decl.images[name]!;
      expect(p.index.manifests).toHaveLength(1);
      expect(p.index.manifests[0]!.annotations?.['org.opencontainers.image.ref.name']).toBe(imageRef(decl, name));
      expect(p.config.config.User).toBe(img.user);
      expect(p.config.config.Env).toEqual([
        `PATH=${IMAGE_PATH}`,
        ...Object.entries(img.env).map(([k, v]) => `${k}=${v}`),
      ]);
      const entry = p.config.config.Entrypoint!;
      expect(entry.at(-1)).toBe(`${APP_DIR}/${img.entrypoint[1]}`);
      if (img.bundle) expect(entry).toEqual([NODE_PATH, ...(img.nodeFlags ?? []), `${APP_DIR}/${img.bundle.file}`]);
      else expect(entry[0]).toBe('/bin/bash');
      // Every path in the entrypoint exists in the layer, as a regular file (flags are not paths).
      for (const e of entry.filter((a) => a.startsWith('/'))) expect(p.files.get(e.slice(1))?.type, e).toBe('-');
      // Built at SOURCE_DATE_EPOCH (the last commit), not at build time.
      expect(p.config.created).toBe(isoTime(epoch));
    });

    it.each(NAMES)('%s is read by skopeo (the registry push path) with its manifest digest', async (name) => {
      const b = built.find((x) => x.name === name)!;
      const { stdout } = await pexec('/usr/bin/skopeo', ['inspect', `oci-archive:${b.archive}`], {
        maxBuffer: 16 * 1024 * 1024,
      });
      const info = JSON.parse(stdout) as { Digest: string; Architecture: string; Os: string };
      expect(info).toMatchObject({ Digest: b.manifestDigest, Architecture: 'amd64', Os: 'linux' });
    });

    it.each(NAMES)('%s has no package manager, package database, docs or man pages', (name) => {
      const files = [...parts.get(name)!.files.keys()];
      const bad = files.filter((f) =>
        /^(var\/lib\/(dpkg|apt)|var\/cache|etc\/apt|usr\/bin\/(dpkg|apt|apt-get)$|usr\/share\/(man|info|locale)\/|usr\/include\/)/.test(
          f,
        ),
      );
      expect(bad).toEqual([]);
      // Of /usr/share/doc only the licences stay (and the symlinked doc folders that lead to them).
      expect(
        files.filter(
          (f) =>
            f.startsWith('usr/share/doc/') &&
            !/\/copyright$/.test(f) &&
            !'dl'.includes(parts.get(name)!.files.get(f)!.type),
        ),
      ).toEqual([]);
      expect(files.filter((f) => f.endsWith('/copyright')).length).toBeGreaterThan(0);
      // No set-id programs, no files owned by anyone but root (the layer is written with owner 0).
      for (const [f, e] of parts.get(name)!.files) expect(/[sS]/.test(e.mode), `${f} ${e.mode}`).toBe(false);
    });

    it('the Node images hold node, one bundle and their libraries: no shell, no npm, no node_modules', () => {
      for (const name of ['log-exporter', 'operator']) {
        const files = parts.get(name)!.files;
        const names = [...files.keys()];
        expect(
          names.filter((f) => /(^|\/)(sh|bash|dash|busybox|npm|npx|env)$/.test(f)),
          name,
        ).toEqual([]);
        expect(names.filter((f) => f.includes('node_modules'))).toEqual([]);
        expect(files.get(NODE_PATH.slice(1))?.type).toBe('-');
        expect(names.filter((f) => f.startsWith('usr/lib/torchain/'))).toEqual([
          `usr/lib/torchain/${decl.images[name]!.bundle!.file}`,
        ]);
        expect(names).toEqual(
          expect.arrayContaining(['lib/x86_64-linux-gnu/libc.so.6', 'usr/lib/x86_64-linux-gnu/libstdc++.so.6']),
        );
        expect(files.get('tmp')?.mode).toBe('rwxrwxrwt');
      }
    });

    it('the hop images hold bash, iproute2, nftables, their own client only, and images/hop as it is', () => {
      const clients: Record<string, string[]> = {
        'hop-openvpn': ['usr/sbin/openvpn'],
        'hop-wireguard': ['usr/bin/wireguard-go', 'usr/bin/wg'],
        'hop-openconnect': ['usr/sbin/openconnect'],
      };
      const all = Object.values(clients).flat();
      const hopFolder = listFolder(join(REPO, 'images/hop'));
      for (const [name, own] of Object.entries(clients)) {
        const files = parts.get(name)!.files;
        for (const f of ['bin/bash', 'bin/ip', 'usr/sbin/nft', 'bin/rm', 'bin/sleep', ...own])
          expect(files.has(f), `${name}: ${f}`).toBe(true);
        for (const f of all.filter((x) => !own.includes(x)))
          expect(files.has(f), `${name} must not carry ${f}`).toBe(false);
        expect(files.has('usr/bin/wg-quick'), `${name}: wg-quick`).toBe(false);
        const copied = new Map(
          [...files]
            .filter(([f, e]) => f.startsWith('usr/lib/torchain/hop/') && e.type !== 'd')
            .map(([f, e]) => [f.slice('usr/lib/torchain/hop/'.length), e.size]),
        );
        expect(copied, `${name}: images/hop`).toEqual(hopFolder);
        expect(files.get('var/run/wireguard')?.type).toBe('d');
        // openconnect runs its --script through /bin/sh -c: that image alone has sh, as a link to bash.
        expect(files.get('bin/sh'), name).toEqual(
          name === 'hop-openconnect' ? expect.objectContaining({ type: 'l', link: '/bin/bash' }) : undefined,
        );
      }
    });

    it('the config records the Debian packages that contributed files, and the lock pins each of them', () => {
      const lock = JSON.parse(readFileSync(join(REPO, 'images/images.lock.json'), 'utf8')) as {
        images: Record<string, { packages: string[] }>;
      };
      for (const name of NAMES) {
        const label = parts.get(name)!.config.config.Labels?.['dev.torchain.debian.packages'] ?? '';
        const pinned = new Set(lock.images[name]!.packages.map((p) => p.split('=')[0]));
        const used = label.split(' ');
        expect(used.length, name).toBeGreaterThan(2);
        for (const u of used) expect(pinned.has(u), `${name}: ${u} pinned`).toBe(true);
        for (const p of decl.images[name]!.packages) expect(used, name).toContain(p.debian);
      }
    });
  },
);
