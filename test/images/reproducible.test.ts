// The same sources give the same images: a second build from scratch (staging every Debian package again from the
// mirror, fetching the Node tarball again, in another folder) writes byte-identical archives, so the same digests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildImages } from '../../images/build/build.js';
import { skipUnless } from '../support/env.js';
import { IMAGE_BINARIES, REPO, ensureImages } from './support.js';

describe.skipIf(skipUnless({ root: true, binaries: IMAGE_BINARIES }))('reproducible images', () => {
  it('a build from scratch writes the same bytes as the cached build, image by image', async () => {
    const { built } = await ensureImages([]);
    const again = await mkdtemp(join(tmpdir(), 'torchain-tkf-repro-'));
    try {
      const rebuilt = await buildImages({ repo: REPO, outDir: again, cacheDir: join(again, '.cache'), fresh: true });
      const digests = (list: typeof built) =>
        Object.fromEntries(list.map((b) => [b.name, [b.manifestDigest, b.archiveSha256]]));
      expect(rebuilt.map((b) => b.name).sort()).toEqual(built.map((b) => b.name).sort());
      expect(digests(rebuilt)).toEqual(digests(built));
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  }, 900_000);
});
