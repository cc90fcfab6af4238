// The image expressions: they parse, and evaluated against a nixpkgs stand-in (nixpkgs itself cannot be fetched
// here) they describe the images docs/images.md promises. The bundling step the Node images use runs for real.
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { skipUnless } from '../support/env.js';
import { run } from '../../lab/netns/index.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const IMAGES = join(REPO, 'images');
const STUB = join(REPO, 'test/dataplane/fixtures/nixpkgs-stub.nix');
const NIX = '/usr/bin/nix-instantiate';

interface ImageArgs {
  name: string;
  config: { Entrypoint: string[]; Env: string[]; User: string };
}

async function evalImage(file: string, extra = ''): Promise<ImageArgs> {
  const expr = `import ${join(IMAGES, file)} { pkgs = import ${STUB}; ${extra} }`;
  const { stdout } = await run(NIX, ['--readonly-mode', '--eval', '--strict', '--json', '-E', expr]);
  return JSON.parse(stdout) as ImageArgs;
}

const pathOf = (img: ImageArgs) =>
  img.config.Env.find((e) => e.startsWith('PATH='))
    ?.slice(5)
    .split(':') ?? [];

describe.skipIf(skipUnless({ binaries: [NIX, '/usr/bin/bash'] }))('images', () => {
  it.each(readdirSync(IMAGES).filter((f) => f.endsWith('.nix')))('%s parses', async (file) => {
    await run(NIX, ['--parse', join(IMAGES, file)]);
  });

  it('pins nixpkgs to the 24.05 release commit with its hash', async () => {
    const { stdout } = await run(NIX, ['--parse', join(IMAGES, 'nixpkgs.nix')]);
    expect(stdout).toContain('63dacb46bf939521bdc93981b4cbb7ecb58427a0');
    expect(stdout).toContain('1lr1h35prqkd1mkmzriwlpvxcb34kmhc9dnr48gkm8hh089hifmx');
  });

  it.each([
    ['hop-openvpn.nix', 'openvpn', 'wireguard-go'],
    ['hop-wireguard.nix', 'wireguard-go', 'openvpn'],
  ])('%s runs the entrypoint with bash, iproute2, nftables and %s only', async (file, has, hasNot) => {
    const img = await evalImage(file);
    expect(img.config.Entrypoint[0]).toMatch(/-bash\/bin\/bash$/);
    expect(img.config.Entrypoint[1]).toMatch(/torchain-hop-entrypoint$/);
    expect(img.config.User).toBe('0:0');
    const path = pathOf(img).join(' ');
    for (const tool of ['bash', 'coreutils', 'iproute2', 'nftables', has]) expect(path).toContain(`-${tool}`);
    expect(path).not.toContain(`-${hasNot}`);
    expect(path).not.toContain('wireguard-tools/'); // only the wg binary, not wg-quick and its wrappers
  });

  it.each([
    ['log-exporter.nix', 'log-exporter.mjs'],
    ['operator.nix', 'operator.mjs'],
  ])('%s is node and one bundled file, non-root, without a shell', async (file, bundle) => {
    const img = await evalImage(file);
    expect(img.config.User).toBe('65534:65534');
    expect(img.config.Entrypoint).toHaveLength(2);
    expect(img.config.Entrypoint[0]).toMatch(/-nodejs\/bin\/node$/);
    expect(img.config.Entrypoint[1]).toMatch(new RegExp(`/lib/torchain/${bundle}$`));
    expect(JSON.stringify(img)).not.toContain('-bash');
  });

  it('refuses a hop type that does not exist', async () => {
    await expect(evalImage('hop.nix', 'type = "ipsec";')).rejects.toThrow(/assert/);
  });

  it('images/bundle.ts makes the log-exporter one file that runs without node_modules', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'torchain-bundle-'));
    try {
      const out = join(dir, 'log-exporter.mjs');
      const tsx = join(REPO, 'node_modules/.bin/tsx');
      await run(tsx, [join(IMAGES, 'bundle.ts'), join(REPO, 'log-exporter/src/main.ts'), out], { timeoutMs: 60_000 });
      // Run it away from the repository: an import left outside the bundle fails with ERR_MODULE_NOT_FOUND.
      const r = await run(process.execPath, [out, '--no-such-flag'], { timeoutMs: 20_000 }).then(
        (x) => x.stdout + x.stderr,
        (e: Error) => e.message,
      );
      expect(r).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
      expect(r).toMatch(/usage: log-exporter/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
