// Turns a root filesystem tree into an OCI image archive without a daemon: GNU tar writes one layer with sorted
// names, owner 0 and every time set to SOURCE_DATE_EPOCH; umoci makes the OCI layout (config, manifest, index with
// org.opencontainers.image.ref.name) with the same timestamp; tar packs the layout the same way. Same tree + same
// epoch → the same bytes, so the same digest. `podman load -i`, `skopeo copy oci-archive:` and
// `ctr images import` read the result.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from './exec.js';

export interface OciConfig {
  ref: string;
  epoch: number;
  entrypoint: string[];
  env: Record<string, string>;
  user: string;
  ports: number[];
  labels: Record<string, string>;
}

export interface OciResult {
  archive: string;
  /** Digest of the image manifest (what a registry shows and `podman images --digests` prints). */
  manifestDigest: string;
  /** Digest of the image config (podman's image ID). */
  configDigest: string;
  /** sha256 of the archive file itself. */
  archiveSha256: string;
  archiveBytes: number;
  /** Uncompressed size of the single layer. */
  layerBytes: number;
}

/** GNU tar flags that make an archive depend on the tree's names, contents and modes only. */
export function reproducibleTarFlags(epoch: number): string[] {
  return [
    '--sort=name',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    `--mtime=@${epoch}`,
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--no-acls',
    '--no-xattrs',
    '--no-selinux',
  ];
}

export function isoTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function writeOciArchive(tree: string, work: string, out: string, cfg: OciConfig): Promise<OciResult> {
  const layer = join(work, 'layer.tar');
  const layout = join(work, 'layout');
  await rm(layout, { recursive: true, force: true });
  await exec('tar', ['--create', '--file', layer, '--directory', tree, ...reproducibleTarFlags(cfg.epoch), '.']);
  const created = isoTime(cfg.epoch);
  const image = `${layout}:${cfg.ref}`;
  await exec('umoci', ['init', '--layout', layout]);
  await exec('umoci', ['new', '--image', image]);
  await exec('umoci', [
    'raw',
    'add-layer',
    '--image',
    image,
    '--history.created',
    created,
    '--history.created_by',
    'npm run images (images/build)',
    layer,
  ]);
  const args = [
    'config',
    '--image',
    image,
    '--no-history',
    '--created',
    created,
    '--os',
    'linux',
    '--architecture',
    'amd64',
    '--config.user',
    cfg.user,
    '--config.workingdir',
    '/',
  ];
  for (const e of cfg.entrypoint) args.push('--config.entrypoint', e);
  for (const [k, v] of Object.entries(cfg.env)) args.push('--config.env', `${k}=${v}`);
  for (const p of cfg.ports) args.push('--config.exposedports', `${p}/tcp`);
  for (const [k, v] of Object.entries(cfg.labels).sort(([a], [b]) => (a < b ? -1 : 1)))
    args.push('--config.label', `${k}=${v}`);
  await exec('umoci', args);
  await exec('umoci', ['gc', '--layout', layout]);
  await exec('tar', ['--create', '--file', out, '--directory', layout, ...reproducibleTarFlags(cfg.epoch), '.']);

  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const manifestDigest = index.manifests[0]!.digest;
  const manifest = JSON.parse(
    await readFile(join(layout, 'blobs/sha256', manifestDigest.replace('sha256:', '')), 'utf8'),
  ) as { config: { digest: string } };
  const layerBytes = (await stat(layer)).size;
  await rm(layer, { force: true });
  await rm(layout, { recursive: true, force: true });
  return {
    archive: out,
    manifestDigest,
    configDigest: manifest.config.digest,
    archiveSha256: await sha256File(out),
    archiveBytes: (await stat(out)).size,
    layerBytes,
  };
}
