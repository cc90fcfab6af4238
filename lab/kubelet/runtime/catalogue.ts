// The process runtime's images: each image of the product maps to the program it would run, from this repository
// (bind-mounted at REPO_MOUNT inside every container), with the user and environment the image declares. An image
// not listed here cannot run in the process runtime: the pod reports ErrImagePull, as a node would for an image it
// cannot pull. `npm run lab -- --containers` runs the real images instead (lab/runtime/containers.ts).
import { isProtocol } from '../../../common/contracts/protocols.js';
import type { ImageConfig } from './types.js';

/** Where the repository appears inside every process-runtime container. */
export const REPO_MOUNT = '/run/torchain-lab-repo';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NOBODY = { uid: 65534, gid: 65534 };
// Node itself, never the tsx wrapper: a SIGKILL must reach the process that runs the code.
const node = (entry: string): string[] => [
  process.execPath,
  '--import',
  `${REPO_MOUNT}/node_modules/tsx/dist/loader.mjs`,
  `${REPO_MOUNT}/${entry}`,
];

/** `registry/torchain/hop-openvpn:0.1.0@sha256:…` → `hop-openvpn`. */
export function imageName(ref: string): string {
  const noDigest = ref.split('@')[0]!;
  const last = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  return last.split(':')[0]!;
}

export function imageConfig(ref: string): ImageConfig {
  const name = imageName(ref);
  if (name === 'operator')
    return { entrypoint: node('operator/src/main.ts'), env: { PATH, NODE_ENV: 'production' }, user: NOBODY };
  if (name === 'log-exporter')
    return { entrypoint: node('log-exporter/src/main.ts'), env: { PATH, NODE_ENV: 'production' }, user: NOBODY };
  const hop = /^hop-(.+)$/.exec(name)?.[1];
  if (hop && isProtocol(hop))
    return {
      entrypoint: ['/bin/bash', `${REPO_MOUNT}/images/hop/entrypoint.sh`],
      env: { PATH, TORCHAIN_TYPE: hop, TORCHAIN_TMP_DIR: '/tmp' },
      user: { uid: 0, gid: 0 },
    };
  throw new Error(
    `image ${ref} is not one the lab's process runtime can run (operator, log-exporter, hop-<protocol>): ErrImagePull`,
  );
}
