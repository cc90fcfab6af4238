// The process runtime: a container is a process tree in the pod's network namespace, in a mount namespace of its own
// (`ip netns exec` makes one, private to the process) where every volume is bind-mounted at its mountPath and the
// repository at REPO_MOUNT (images/catalogue.ts maps each image to the repository's program), then dropped to the
// container's user, groups and capability bounding set with setpriv, as a container runtime would. The host's
// filesystem is otherwise shared: this is not isolation, it is the pod's view of its own files, users and privileges,
// so a missing permission or a file at the wrong path fails here as it would in a cluster.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Supervisor } from '../../runtime/supervisor.js';
import { REPO_MOUNT } from './catalogue.js';
import type { ContainerLaunch, ContainerRuntime, ImageConfig, RunningContainer } from './types.js';
import { imageConfig } from './catalogue.js';

/** setpriv's capability names: lower case, no CAP_ prefix. */
function capList(caps: string[] | 'all'): string {
  if (caps === 'all') return '+all';
  return ['-all', ...caps.map((c) => `+${c.toLowerCase()}`)].join(',');
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell script that prepares the mount namespace and execs the container's command as its user. */
export function launchScript(launch: ContainerLaunch, repoRoot: string): string {
  const lines = ['set -e', `mount --bind ${q(repoRoot)} ${q(REPO_MOUNT)}`];
  for (const m of launch.mounts) {
    lines.push(`mount --bind ${q(m.source)} ${q(m.target)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${q(m.target)}`);
  }
  const s = launch.security;
  const priv = [
    'setpriv',
    `--reuid=${s.uid}`,
    `--regid=${s.gid}`,
    s.groups.length ? `--groups=${s.groups.join(',')}` : '--clear-groups',
    `--bounding-set=${capList(s.capabilities)}`,
    `--inh-caps=${s.uid === 0 ? capList(s.capabilities) : '-all'}`,
    ...(s.noNewPrivileges ? ['--no-new-privs'] : []),
  ];
  if (launch.workingDir) lines.push(`cd ${q(launch.workingDir)}`);
  lines.push(`exec ${priv.join(' ')} -- "$@"`);
  return lines.join('\n');
}

/** Mount points must exist; ones this lab made are recorded so that `lab cleanup` can remove them when empty. */
function ensureMountPoint(target: string, isFile: boolean, made: Set<string>): void {
  if (existsSync(target)) return;
  let top = target;
  while (!existsSync(dirname(top))) top = dirname(top);
  mkdirSync(isFile ? dirname(target) : target, { recursive: true, mode: 0o755 });
  if (isFile) writeFileSync(target, '', { mode: 0o644 });
  made.add(top);
}

/** In the supervisor's state directory: the mount points this runtime made, for `lab cleanup`. */
export const MOUNT_POINTS_FILE = 'mountpoints.json';

export class ProcessRuntime implements ContainerRuntime {
  readonly kind = 'processes' as const;
  /** Mount-point directories this runtime created on the host (removed by cleanup when empty). */
  readonly madeMountPoints = new Set<string>([REPO_MOUNT]);

  constructor(
    private readonly supervisor: Supervisor,
    private readonly repoRoot: string,
  ) {
    mkdirSync(REPO_MOUNT, { recursive: true, mode: 0o755 });
    this.record();
  }

  private record(): void {
    writeFileSync(join(this.supervisor.stateDir, MOUNT_POINTS_FILE), JSON.stringify([...this.madeMountPoints]));
  }

  image(ref: string): ImageConfig {
    return imageConfig(ref);
  }

  start(launch: ContainerLaunch): RunningContainer {
    const before = this.madeMountPoints.size;
    for (const m of launch.mounts) ensureMountPoint(m.target, !statSync(m.source).isDirectory(), this.madeMountPoints);
    if (this.madeMountPoints.size !== before) this.record();
    if (!launch.argv?.length) throw new Error(`container ${launch.name}: no command line`);
    const [cmd, ...args] = launch.argv;
    const managed = this.supervisor.start(launch.name, '/bin/sh', {
      args: ['-c', launchScript(launch, this.repoRoot), 'container', cmd!, ...args],
      env: launch.env,
      cleanEnv: true,
      netns: launch.netns,
      onLine: launch.onLine,
    });
    return {
      pid: managed.pid,
      exited: managed.exited,
      isRunning: () => managed.isRunning(),
      stop: (graceMs) => managed.stop(graceMs),
      kill: () => {
        try {
          process.kill(-managed.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      },
    };
  }
}
