// The container runtime: every container of a pod runs from the product's real images (`npm run images`) with podman
// (lab/runtime/containers.ts), in the pod's network namespace, with its mounts, user and capabilities. The image's
// own config (entrypoint, env, user) applies as in any runtime; the kubelet passes only what the pod spec says.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { imageRef, loadDeclaration } from '../../../images/build/declaration.js';
import { REPO_ROOT } from '../../../scripts/paths.js';
import { execFile } from 'node:child_process';
import { loadImage, PODMAN, runContainer, type Mount as PodmanMount } from '../../runtime/containers.js';
import type { ContainerLaunch, ContainerRuntime, ImageConfig, RunningContainer } from './types.js';

const TUN = '/dev/net/tun';

export class PodmanRuntime implements ContainerRuntime {
  readonly kind = 'containers' as const;

  constructor(
    private readonly images: Map<string, ImageConfig>,
    private readonly prefix: string,
  ) {}

  image(ref: string): ImageConfig {
    const config = this.images.get(ref);
    if (!config)
      throw new Error(
        `image ${ref} is not among the images npm run images built (${[...this.images.keys()].join(', ')}): ErrImagePull`,
      );
    // podman applies the image's entrypoint and env itself: the kubelet adds only the pod's.
    return { entrypoint: [], env: {}, user: config.user };
  }

  start(launch: ContainerLaunch): RunningContainer {
    const s = launch.security;
    const mounts: PodmanMount[] = launch.mounts
      .filter((m) => m.source !== TUN)
      .map((m) => ({ hostPath: m.source, mountPath: m.target, readOnly: m.readOnly }));
    const c = runContainer({
      name: `${this.prefix}-${launch.name}`.replace(/[^a-zA-Z0-9_.-]/g, '-'),
      image: launch.image,
      network: { netns: launch.netns },
      ...(launch.command ? { command: launch.command } : {}),
      ...(launch.args ? { args: launch.args } : {}),
      env: launch.env,
      mounts,
      capabilities: s.capabilities === 'all' ? ['ALL'] : s.capabilities,
      readOnlyRootFilesystem: s.readOnlyRootFilesystem,
      runAsUser: s.uid,
      runAsGroup: s.gid,
      noNewPrivileges: s.noNewPrivileges,
      tun: launch.mounts.some((m) => m.source === TUN),
      onLine: launch.onLine,
    });
    return {
      pid: c.pid,
      exited: c.exited,
      isRunning: () => c.isRunning(),
      stop: (graceMs) => c.stop(graceMs),
      kill: () => void execFile(PODMAN, ['kill', '--signal', 'KILL', c.name], () => undefined),
    };
  }
}

/** Loads every image `npm run images` built into podman's store; fails naming what to run when one is missing. */
export async function containerRuntimeFromImages(prefix = 'tcl'): Promise<PodmanRuntime> {
  const decl = loadDeclaration(join(REPO_ROOT, 'images', 'images.json'));
  const images = new Map<string, ImageConfig>();
  for (const [name, img] of Object.entries(decl.images)) {
    const archive = join(REPO_ROOT, 'images', 'out', `${name}.oci.tar`);
    if (!existsSync(archive))
      throw new Error(`--containers needs ${archive}: build the images first with npm run images`);
    const { ref } = await loadImage(archive);
    if (ref !== imageRef(decl, name))
      throw new Error(`${archive} holds ${ref}, not ${imageRef(decl, name)}: rebuild it`);
    const [uid, gid] = (img.user ?? '0:0').split(':').map(Number);
    images.set(ref, { entrypoint: [], env: {}, user: { uid: uid ?? 0, gid: gid ?? uid ?? 0 } });
  }
  return new PodmanRuntime(images, prefix);
}
