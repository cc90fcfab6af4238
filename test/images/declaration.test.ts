// The one declaration (images/images.json) feeds the Debian build, the Nix expressions and the chart's defaults: Nix
// reads the same file and derives the same images, the lock matches the declaration, the chart names what
// `npm run images` produces, and every protocol of the registry has a hop image.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { PROTOCOLS } from '../../common/contracts/protocols.js';
import {
  APP_DIR,
  debianRequests,
  imageRef,
  loadDeclaration,
  parseDeclaration,
  type Declaration,
} from '../../images/build/declaration.js';
import { parseLock, splitPin, staleness } from '../../images/build/lock.js';
import { skipUnless } from '../support/env.js';
import { REPO } from './support.js';

const pexec = promisify(execFile);
const NIX = '/usr/bin/nix-instantiate';
/** A Nix expression evaluated strictly (no builds, no store writes), as JSON. */
const nixEval = async (expr: string): Promise<unknown> =>
  JSON.parse((await pexec(NIX, ['--readonly-mode', '--eval', '--strict', '--json', '-E', expr])).stdout);
const decl = loadDeclaration(join(REPO, 'images/images.json'));
const lock = parseLock(readFileSync(join(REPO, 'images/images.lock.json'), 'utf8'));

describe('the declaration', () => {
  it('has a hop image for every protocol of the registry, and the two Node services', () => {
    for (const p of PROTOCOLS) expect(Object.keys(decl.images)).toContain(`hop-${p}`);
    expect(decl.images['log-exporter']?.bundle?.entry).toBe('log-exporter/src/main.ts');
    expect(decl.images['operator']?.bundle?.entry).toBe('operator/src/main.ts');
  });

  it('runs the Node services as 65534 and the hops as root, each hop with its own client only', () => {
    for (const [name, img] of Object.entries(decl.images)) {
      if (img.bundle) expect(img.user, name).toBe('65534:65534');
      else expect(img.user, name).toBe('0:0');
    }
    const clients = { openvpn: 'openvpn', wireguard: 'wireguard-go', openconnect: 'openconnect' } as const;
    for (const p of PROTOCOLS) {
      const pkgs = decl.images[`hop-${p}`]!.packages.map((x) => x.debian);
      for (const [other, client] of Object.entries(clients))
        expect(pkgs.includes(client), `hop-${p}`).toBe(other === p);
    }
  });

  it('refuses a bad declaration with an error naming the field, before building anything', () => {
    const bad = (mutate: (d: Declaration) => void) => {
      const d = JSON.parse(JSON.stringify(decl)) as Declaration;
      mutate(d);
      return () => parseDeclaration(d, 'images.json');
    };
    expect(bad((d) => (d.images['operator']!.user = 'nobody'))).toThrow(
      /images\.json is invalid.*\/images\/operator\/user/,
    );
    expect(bad((d) => (d.images['hop-openvpn']!.entrypoint = ['bash', '../etc/passwd']))).toThrow(/entrypoint/);
    expect(bad((d) => (d.images['operator']!.entrypoint = ['bash', 'operator.mjs']))).toThrow(/must start with "node"/);
    expect(bad((d) => (d.images['hop-openvpn']!.nodeFlags = ['--max-old-space-size=64']))).toThrow(
      /nodeFlags but no bundle/,
    );
    expect(bad((d) => d.images['hop-openvpn']!.packages.push({ debian: 'bash', nix: 'bash' }))).toThrow(
      /lists package bash twice/,
    );
    expect(bad((d) => ((d as unknown as Record<string, unknown>).extra = 1))).toThrow(/invalid/);
  });

  it('the lock matches the declaration: same requests, every request resolved, one version per package', () => {
    expect(staleness(decl, lock, Object.keys(decl.images))).toEqual([]);
    for (const [name, img] of Object.entries(decl.images)) {
      const pins = lock.images[name]!.packages.map(splitPin);
      const names = pins.map(([n]) => n);
      expect(new Set(names).size, name).toBe(names.length);
      for (const req of debianRequests(img)) expect(names, `${name} resolves ${req}`).toContain(req);
    }
    expect(lock.node.version).toBe(decl.node.version);
    expect(lock.node.integrity).toMatch(/^sha512-[A-Za-z0-9+/]+={0,2}$/);
    expect(Number(lock.node.version.split('.')[0])).toBe(24);
  });

  it('the chart’s default images are the references npm run images writes into the archives', () => {
    const chart = parse(readFileSync(join(REPO, 'helm/torchain/Chart.yaml'), 'utf8')) as { appVersion: string };
    expect(chart.appVersion).toBe(decl.version);
    const values = parse(readFileSync(join(REPO, 'helm/torchain/values.yaml'), 'utf8')) as {
      operator: { image: { registry: string; repository: string } };
      hop: { images: Record<string, { registry: string; repository: string }> };
    };
    const named = (i: { registry: string; repository: string }) => `${i.registry}/${i.repository}:${chart.appVersion}`;
    expect(named(values.operator.image)).toBe(imageRef(decl, 'operator'));
    expect(named(values.hop.images['logExporter']!)).toBe(imageRef(decl, 'log-exporter'));
    // Every hop image the chart names exists (the chart may still lack a newer protocol: its owner adds it).
    for (const [key, img] of Object.entries(values.hop.images)) {
      if (key === 'logExporter') continue;
      expect(named(img)).toBe(imageRef(decl, `hop-${key}`));
    }
  });
});

interface NixSpec {
  name: string;
  imageName: string;
  tag: string;
  kind: 'hop' | 'node';
  packages: { attr: string; override: Record<string, unknown>; only: string[] }[];
  program: string;
  script: string;
  nodeFlags: string[];
  env: Record<string, string>;
  user: string;
  dirs: Record<string, string>;
  ports: number[];
  copy: Record<string, string>;
  links: Record<string, string>;
  bundle: { entry: string; file: string } | null;
}

describe.skipIf(skipUnless({ binaries: [NIX] }))('the Nix expressions', () => {
  it.each(readdirSync(join(REPO, 'images')).filter((f) => f.endsWith('.nix')))('%s parses', async (file) => {
    await pexec(NIX, ['--parse', join(REPO, 'images', file)]);
  });

  it('read the same declaration and derive the same images as the Debian build', async () => {
    const specs = (await nixEval(
      `let d = import ${join(REPO, 'images/declaration.nix')}; in map d.imageSpec d.names`,
    )) as NixSpec[];
    expect(specs.map((s) => s.name).sort()).toEqual(Object.keys(decl.images).sort());
    for (const s of specs) {
      const img = decl.images[s.name]!;
      expect(`${s.imageName}:${s.tag}`).toBe(imageRef(decl, s.name));
      expect(s.kind).toBe(img.bundle ? 'node' : 'hop');
      // The same programs: the Debian package and the nixpkgs attribute of each, the same "only" programs (library
      // files listed for Debian, such as perl-base's modules, stay in the nixpkgs package's own store path).
      expect(s.packages).toEqual(
        img.packages.map((p) => ({
          attr: p.nix,
          override: p.nixOverride ?? {},
          only: (p.only ?? []).filter((f) => /^\/(usr\/)?s?bin\/[^/]+$/.test(f)).map((f) => f.split('/').pop()),
        })),
      );
      // The same entrypoint shape: program, node flags, script under the application directory.
      expect(s.program).toBe(img.entrypoint[0]);
      expect(`/usr/${s.script}`).toBe(`${APP_DIR}/${img.entrypoint[1]}`);
      expect(s.nodeFlags).toEqual(img.nodeFlags ?? []);
      expect([s.env, s.user, s.dirs, s.ports, s.copy, s.links, s.bundle]).toEqual([
        img.env,
        img.user,
        img.dirs,
        img.ports,
        img.copy ?? {},
        img.links ?? {},
        img.bundle ?? null,
      ]);
    }
  });

  it("keep in the Node images' build source every file a bundle reads, and leave docs, tests and the lab out", async () => {
    // esbuild's own list of the files each bundle reads (the same entry and options class as images/bundle.ts).
    const read = new Set(['package.json', 'package-lock.json', 'tsconfig.json', 'images/bundle.ts']);
    for (const img of Object.values(decl.images)) {
      if (!img.bundle) continue;
      const { metafile } = await build({
        entryPoints: [join(REPO, img.bundle.entry)],
        absWorkingDir: REPO,
        bundle: true,
        platform: 'node',
        format: 'esm',
        write: false,
        metafile: true,
        outfile: 'out.mjs',
        logLevel: 'silent',
      });
      for (const f of Object.keys(metafile.inputs)) if (!f.startsWith('node_modules/')) read.add(f);
    }
    expect(
      [...read].some((f) => f.startsWith('common/')),
      'the bundles import common/',
    ).toBe(true);
    const left = ['docs/lab.md', 'test/images/declaration.test.ts', 'lab/stack.ts', 'bench/exporter.ts', 'README.md'];
    const paths = [...read, ...left];
    const kept = (await nixEval(
      `map (import ${join(REPO, 'images/node-app-source.nix')}) (builtins.fromJSON ''${JSON.stringify(paths)}'')`,
    )) as boolean[];
    expect(
      paths.filter((_, i) => !kept[i]),
      'read by a bundle but not in the build source',
    ).toEqual(left);
  });

  it('pin nixpkgs to a nixos-25.11 commit with its hash, and the Node images to nodejs_24', async () => {
    const { stdout } = await pexec(NIX, ['--parse', join(REPO, 'images/nixpkgs.nix')]);
    expect(stdout).toContain('8fd9daa3db09ced9700431c5b7ad0e8ba199b575');
    expect(stdout).toContain('1i4bkzy1siavmxaskp49lgi9s02gam6crb0d0abbbjmsyl39jbsf');
    const nodeApp = readFileSync(join(REPO, 'images/node-app.nix'), 'utf8');
    expect(nodeApp).toContain('pkgs.nodejs_24');
    expect(nodeApp).not.toMatch(/nodejs_(1|20|22)/);
  });
});
