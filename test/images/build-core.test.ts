// The build's decisions, without I/O: which files make up an image (package files, exclusions, "only", the
// shared-library closure through symlinks, licences), ELF reading, the lock's checks, and podman's arguments.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveInRoot, selectFiles, type RootView, type StagedPackage } from '../../images/build/closure.js';
import type { ImageDecl } from '../../images/build/declaration.js';
import { elfDeps, type ElfDeps } from '../../images/build/elf.js';
import { pinDifferences, splitPin } from '../../images/build/lock.js';
import { podmanRunArgs } from '../../lab/runtime/containers.js';

/** A root filesystem made of plain data: path → file (with ELF deps), directory or symlink target. */
function fakeRoot(entries: Record<string, { elf?: ElfDeps } | 'dir' | { link: string }>): RootView {
  const kinds = new Map<string, 'file' | 'dir' | 'symlink'>();
  for (const [p, e] of Object.entries(entries)) {
    kinds.set(p, e === 'dir' ? 'dir' : 'link' in e ? 'symlink' : 'file');
    for (let d = p.slice(0, p.lastIndexOf('/')); d; d = d.slice(0, d.lastIndexOf('/'))) kinds.set(d, 'dir');
  }
  return {
    kind: (p) => kinds.get(p),
    readlink: (p) => (entries[p] as { link: string }).link,
    elf: (p) => (entries[p] as { elf?: ElfDeps }).elf,
  };
}

const hop: ImageDecl = {
  title: 't',
  packages: [
    { debian: 'tool', nix: 'tool' },
    { debian: 'wg', nix: 'wg', only: ['/usr/bin/wg'] },
  ],
  entrypoint: ['bash', 'hop/entrypoint.sh'],
  env: {},
  user: '0:0',
  dirs: {},
  ports: [],
};

const root = fakeRoot({
  '/usr/bin/tool': { elf: { interpreter: '/lib64/ld-linux-x86-64.so.2', needed: ['libfoo.so.1'], runpath: [] } },
  '/usr/share/doc/tool/README': {},
  '/usr/share/doc/tool/copyright': {},
  '/usr/share/man/man1/tool.1.gz': {},
  '/usr/bin/wg': { elf: { needed: ['libc.so.6'], runpath: [] } },
  '/usr/bin/wg-quick': {},
  '/lib64/ld-linux-x86-64.so.2': { link: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
  '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2': {},
  '/lib/x86_64-linux-gnu/libc.so.6': {},
  '/usr/lib/x86_64-linux-gnu/libfoo.so.1': { link: 'libfoo.so.1.2.3' },
  '/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3': { elf: { needed: ['libc.so.6'], runpath: [] } },
  '/usr/share/doc/libfoo1': { link: 'foo-common' },
  '/usr/share/doc/foo-common/copyright': {},
});

const staged: StagedPackage[] = [
  {
    name: 'tool',
    version: '1',
    files: [
      '/usr/',
      '/usr/bin/tool',
      '/usr/share/doc/tool/README',
      '/usr/share/doc/tool/copyright',
      '/usr/share/man/man1/tool.1.gz',
    ],
  },
  { name: 'wg', version: '1', files: ['/usr/bin/wg', '/usr/bin/wg-quick'] },
  {
    name: 'libc6',
    version: '2',
    files: [
      '/lib64/ld-linux-x86-64.so.2',
      '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
      '/lib/x86_64-linux-gnu/libc.so.6',
    ],
  },
  {
    name: 'libfoo1',
    version: '3',
    files: [
      '/usr/lib/x86_64-linux-gnu/libfoo.so.1',
      '/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3',
      '/usr/share/doc/libfoo1',
    ],
  },
  { name: 'foo-common', version: '3', files: ['/usr/share/doc/foo-common/copyright'] },
  { name: 'unused', version: '9', files: ['/usr/bin/unused'] },
];

describe('file selection', () => {
  const sel = selectFiles(root, {
    image: hop,
    imageName: 'hop-x',
    staged,
    exclude: ['/usr/share/doc/', '/usr/share/man/'],
  });
  const paths = sel.paths.map((p) => `${p.kind === 'symlink' ? 'L' : 'F'} ${p.path}`);

  it('takes the packages’ files less the excluded folders, and only the listed files where "only" is set', () => {
    expect(paths).toContain('F /usr/bin/tool');
    expect(paths).toContain('F /usr/bin/wg');
    expect(paths.join('\n')).not.toMatch(/wg-quick|README|man1|unused/);
  });

  it('adds the shared-library closure: the interpreter and libraries, with the symlinks that lead to them', () => {
    expect(paths).toEqual(
      expect.arrayContaining([
        'L /lib64/ld-linux-x86-64.so.2',
        'F /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
        'L /usr/lib/x86_64-linux-gnu/libfoo.so.1',
        'F /usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3',
        'F /lib/x86_64-linux-gnu/libc.so.6',
      ]),
    );
  });

  it('keeps the licence of every package that contributed a file, through a doc symlink', () => {
    expect(paths).toEqual(
      expect.arrayContaining([
        'F /usr/share/doc/tool/copyright',
        'L /usr/share/doc/libfoo1',
        'F /usr/share/doc/foo-common/copyright',
      ]),
    );
    expect(sel.contributors).toEqual(['foo-common', 'libc6', 'libfoo1', 'tool', 'wg']);
  });

  it('fails naming the program, the library and the fix when a library is missing', () => {
    const broken = fakeRoot({ '/usr/bin/tool': { elf: { needed: ['libgone.so.7'], runpath: [] } } });
    expect(() =>
      selectFiles(broken, { image: { ...hop, packages: [hop.packages[0]!] }, imageName: 'hop-x', staged, exclude: [] }),
    ).toThrow(/hop-x: \/usr\/bin\/tool needs libgone\.so\.7.*"libraries" of hop-x.*--update-lock/);
  });

  it('fails when "only" names a file the package does not ship, or a package was not staged', () => {
    const only = { ...hop, packages: [{ debian: 'wg', nix: 'wg', only: ['/usr/bin/wgx'] }] };
    expect(() => selectFiles(root, { image: only, imageName: 'h', staged, exclude: [] })).toThrow(
      /does not ship \/usr\/bin\/wgx/,
    );
    const missing = { ...hop, packages: [{ debian: 'nope', nix: 'nope' }] };
    expect(() => selectFiles(root, { image: missing, imageName: 'h', staged, exclude: [] })).toThrow(
      /nope was not staged/,
    );
  });

  it('resolves relative and absolute symlinks inside the root, never outside it', () => {
    const r = fakeRoot({ '/a/b': { link: '../../../../c' }, '/c': {} });
    expect(resolveInRoot(r, '/a/b')).toEqual({ path: '/c', links: ['/a/b'] });
    const loop = fakeRoot({ '/x': { link: '/y' }, '/y': { link: '/x' } });
    expect(() => resolveInRoot(loop, '/x')).toThrow(/too many symlinks/);
    expect(resolveInRoot(root, '/usr/bin/none')).toBeUndefined();
  });
});

describe('ELF reading', () => {
  it('reads the interpreter and DT_NEEDED of a real binary', () => {
    const deps = elfDeps(readFileSync('/bin/bash'), '/bin/bash');
    expect(deps?.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(deps?.needed).toContain('libc.so.6');
    expect(deps?.needed).toContain('libtinfo.so.6');
  });

  it('returns nothing for a file that is not ELF and refuses a truncated or foreign one', () => {
    expect(elfDeps(Buffer.from('#!/bin/bash\n'))).toBeUndefined();
    const head = readFileSync('/bin/bash').subarray(0, 80);
    expect(() => elfDeps(head, 'cut')).toThrow(/cut: truncated/);
    const thirtyTwo = Buffer.from(readFileSync('/bin/bash').subarray(0, 4096));
    thirtyTwo[4] = 1;
    expect(() => elfDeps(thirtyTwo, 'x32')).toThrow(/not a 64-bit little-endian/);
  });
});

describe('the lock', () => {
  it('tells every difference between the pins and what apt staged', () => {
    expect(
      pinDifferences(
        ['a=1', 'b=2'],
        [
          { name: 'a', version: '1' },
          { name: 'b', version: '2' },
        ],
      ),
    ).toEqual([]);
    expect(
      pinDifferences(
        ['a=1', 'b=2'],
        [
          { name: 'a', version: '1.1' },
          { name: 'c', version: '3' },
        ],
      ),
    ).toEqual(['a: locked 1, staged 1.1', 'b: locked 2, staged nothing', 'c=3 staged but not in the lock']);
  });

  it('splits name=version pins, epochs included, and refuses a pin without a version', () => {
    expect(splitPin('libcap2=1:2.66-4+deb12u1')).toEqual(['libcap2', '1:2.66-4+deb12u1']);
    expect(() => splitPin('bash')).toThrow(/expected name=version/);
  });
});

describe('podman arguments', () => {
  const base = { name: 'tkf-x', image: 'ghcr.io/torchain/hop-openvpn:0.1.0', network: { netns: 'tkf-1-hop1' } };

  it('drop every capability, add the listed ones, and keep env values off the command line', () => {
    const { args, env } = podmanRunArgs({
      ...base,
      env: { TORCHAIN_SECRET: 's3cr3t' },
      capabilities: ['NET_ADMIN'],
      readOnlyRootFilesystem: true,
      runAsUser: 65534,
      tun: true,
      mounts: [{ hostPath: '/tmp/a', mountPath: '/etc/torchain/vpn', readOnly: true }],
      args: ['--once'],
    });
    expect(args.join(' ')).not.toContain('s3cr3t');
    expect(env).toEqual({ TORCHAIN_SECRET: 's3cr3t' });
    expect(args).toEqual(
      expect.arrayContaining([
        '--cap-drop=ALL',
        '--cap-add=NET_ADMIN',
        '--network',
        'ns:/run/netns/tkf-1-hop1',
        '--read-only',
        '--read-only-tmpfs=false',
        '--user',
        '65534:65534',
        '--device',
        '/dev/net/tun',
        'type=bind,source=/tmp/a,destination=/etc/torchain/vpn,ro=true',
        '--env',
        'TORCHAIN_SECRET',
      ]),
    );
    expect(args.slice(-2)).toEqual([base.image, '--once']);
    expect(args.indexOf('--cap-drop=ALL')).toBeLessThan(args.indexOf('--cap-add=NET_ADMIN'));
  });

  it('refuses what podman would misread, naming the container', () => {
    expect(() => podmanRunArgs({ ...base, capabilities: ['net admin'] })).toThrow(/tkf-x: capability "net admin"/);
    expect(() => podmanRunArgs({ ...base, env: { 'A=B': 'x' } })).toThrow(/tkf-x: env name/);
    expect(() => podmanRunArgs({ ...base, mounts: [{ hostPath: 'rel', mountPath: '/x' }] })).toThrow(/absolute/);
    expect(() => podmanRunArgs({ ...base, name: '-bad' })).toThrow(/not valid/);
    expect(() => podmanRunArgs({ ...base, runAsGroup: 5 })).toThrow(/runAsGroup needs runAsUser/);
  });
});
