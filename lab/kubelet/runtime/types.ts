// What the lab kubelet asks of a container runtime: start one container of a pod inside the pod's network namespace,
// with its environment, mounts and security context, its output as lines; stop it with a grace period.
import type { EffectiveSecurity } from '../pod-spec.js';

export interface Mount {
  /** Directory or file on the host (a materialised volume, or a hostPath). */
  source: string;
  /** Where the container sees it. */
  target: string;
  readOnly: boolean;
}

export interface ContainerLaunch {
  /** Unique name of this container instance (also the log file name). */
  name: string;
  image: string;
  /** The container's command line after the image/command/args rules (see pod-spec.ts commandLine). */
  argv?: string[];
  /** Command and args as the pod spec gives them, for runtimes that resolve them against the image themselves. */
  command?: string[];
  args?: string[];
  workingDir?: string;
  netns: string;
  env: Record<string, string>;
  mounts: Mount[];
  security: EffectiveSecurity;
  onLine(line: string, stream: 'stdout' | 'stderr'): void;
}

export interface RunningContainer {
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs: number): Promise<void>;
  /** SIGKILL now, no grace (a crash); the kubelet restarts it like any exit. */
  kill(): void;
}

/** What the runtime knows of an image: its config (entrypoint, cmd, env, user, working dir). */
export interface ImageConfig {
  entrypoint: string[];
  cmd?: string[];
  env: Record<string, string>;
  user?: { uid: number; gid: number };
  workingDir?: string;
}

export interface ContainerRuntime {
  readonly kind: 'processes' | 'containers';
  /** The image's config, or an error naming the image when the runtime cannot run it (ErrImagePull). */
  image(ref: string): ImageConfig;
  start(launch: ContainerLaunch): RunningContainer;
}
