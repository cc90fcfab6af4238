// Runs one container of a pod with podman, the way a kubelet's runtime would: inside a given network namespace, with
// the container's env, volume mounts, capabilities (all dropped, the listed ones added), read-only root filesystem,
// runAsUser/runAsGroup and /dev/net/tun when asked; its stdout/stderr as lines to a callback; stop with a grace period
// (SIGTERM, then SIGKILL); its exit code. The lab kubelet can use it instead of processes (`npm run lab --
// --containers`); the default lab runs processes. podman here needs runc, cgroupfs and no default ulimits
// (scripts/prereqs.sh writes that configuration).
//
// Env values are handed to podman through its own environment (`--env NAME`), never on its command line, where any
// user of the machine could read them (they may hold secrets).
import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export const PODMAN = '/usr/bin/podman';

export interface Mount {
  hostPath: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface ContainerSpec {
  /** Container name, unique on the machine (podman's names are global): start it with your prefix. */
  name: string;
  /** Image reference, already in podman's store (see loadImage). */
  image: string;
  /** `{ netns: NAME }` joins /run/netns/NAME (the pod's namespace); 'host' or 'none' otherwise. */
  network: { netns: string } | 'host' | 'none';
  /** Kubernetes `command`: replaces the image's entrypoint. */
  command?: string[];
  /** Kubernetes `args`: the arguments after the entrypoint. */
  args?: string[];
  env?: Record<string, string>;
  mounts?: Mount[];
  /** In-memory scratch folders (an emptyDir with medium Memory). */
  tmpfs?: string[];
  /** Capabilities to add after dropping all of them (e.g. ['NET_ADMIN']). */
  capabilities?: string[];
  readOnlyRootFilesystem?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  /** allowPrivilegeEscalation: false → no_new_privs. */
  noNewPrivileges?: boolean;
  /** Pass /dev/net/tun into the container. */
  tun?: boolean;
  /** Called with every line the container writes, in order per stream. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Also append every line to this file. */
  logFile?: string;
}

export interface ContainerExit {
  /** The container's exit code (137 after SIGKILL); podman's own failures are 125–127. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Container {
  readonly name: string;
  /** pid of the podman client process attached to the container. */
  readonly pid: number;
  readonly exited: Promise<ContainerExit>;
  isRunning(): boolean;
  /** SIGTERM to the container's first process, SIGKILL after graceMs; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

const CAPABILITY = /^(CAP_)?[A-Z_]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** podman's arguments for `spec` (pure: no I/O), and the environment that carries the env values. */
export function podmanRunArgs(spec: ContainerSpec): { args: string[]; env: Record<string, string> } {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(spec.name))
    throw new Error(`container name "${spec.name}" is not valid for podman: use letters, digits, _ . -`);
  const args = ['run', '--rm', '--replace', '--name', spec.name, '--pull=never', '--cap-drop=ALL'];
  const net = spec.network;
  args.push('--network', typeof net === 'string' ? net : `ns:/run/netns/${net.netns}`);
  for (const c of spec.capabilities ?? []) {
    if (!CAPABILITY.test(c)) throw new Error(`container ${spec.name}: capability "${c}" is not a capability name`);
    args.push(`--cap-add=${c.replace(/^CAP_/, '')}`);
  }
  if (spec.readOnlyRootFilesystem) args.push('--read-only', '--read-only-tmpfs=false');
  if (spec.runAsUser !== undefined) args.push('--user', `${spec.runAsUser}:${spec.runAsGroup ?? spec.runAsUser}`);
  else if (spec.runAsGroup !== undefined)
    throw new Error(`container ${spec.name}: runAsGroup needs runAsUser (podman sets both together)`);
  if (spec.noNewPrivileges) args.push('--security-opt=no-new-privileges');
  if (spec.tun) args.push('--device', '/dev/net/tun');
  for (const m of spec.mounts ?? []) {
    for (const p of [m.hostPath, m.mountPath])
      if (!p.startsWith('/') || p.includes(','))
        throw new Error(`container ${spec.name}: mount path "${p}" must be absolute and without commas`);
    args.push('--mount', `type=bind,source=${m.hostPath},destination=${m.mountPath}${m.readOnly ? ',ro=true' : ''}`);
  }
  for (const t of spec.tmpfs ?? []) args.push('--tmpfs', `${t}:rw,nosuid,nodev,mode=1777`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.env ?? {})) {
    if (!ENV_NAME.test(k)) throw new Error(`container ${spec.name}: env name "${k}" is not a variable name`);
    args.push('--env', k);
    env[k] = v;
  }
  if (spec.command) args.push('--entrypoint', JSON.stringify(spec.command));
  args.push(spec.image, ...(spec.args ?? []));
  return { args, env };
}

function podman(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PODMAN, args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`podman ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

export function runContainer(spec: ContainerSpec): Container {
  const { args, env } = podmanRunArgs(spec);
  // Only PATH and the container's variables: podman must not pass the caller's environment on.
  const child = spawn(PODMAN, args, {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`cannot start podman for container ${spec.name}: is podman installed?`);
  const log = spec.logFile ? createWriteStream(spec.logFile, { flags: 'a' }) : undefined;
  const streams = (['stdout', 'stderr'] as const).map(
    (stream) =>
      new Promise<void>((done) => {
        const rl = createInterface({ input: child[stream] });
        rl.on('line', (line) => {
          log?.write(`${line}\n`);
          spec.onLine?.(line, stream);
        });
        rl.on('close', done);
      }),
  );
  let alive = true;
  const exited = new Promise<ContainerExit>((resolve) => {
    child.on('close', (code, signal) => {
      alive = false;
      void Promise.all(streams).then(() => {
        log?.end();
        resolve({ code, signal });
      });
    });
    child.on('error', () => {
      alive = false;
      resolve({ code: null, signal: null });
    });
  });
  return {
    name: spec.name,
    pid: child.pid,
    exited,
    isRunning: () => alive,
    async stop(graceMs = 10_000) {
      if (!alive) return;
      // podman stop: the image's stop signal (SIGTERM), then SIGKILL after the timeout (whole seconds).
      await podman(['stop', '--time', String(Math.max(0, Math.ceil(graceMs / 1000))), spec.name]).catch(() => {
        // Not created yet or already gone: end the client, which ends an attached container.
        child.kill('SIGKILL');
      });
      await exited;
    },
  };
}

/**
 * Makes sure podman's store holds the image of an OCI archive made by `npm run images`: loads it unless an image
 * with the archive's reference and config digest is already there. Returns the reference.
 */
export async function loadImage(archive: string): Promise<{ ref: string; id: string }> {
  const index = JSON.parse(await tarMember(archive, 'index.json')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const desc = index.manifests[0];
  const ref = desc?.annotations?.['org.opencontainers.image.ref.name'];
  if (!desc || !ref) throw new Error(`${archive}: no image reference in index.json; rebuild it with npm run images`);
  const manifest = JSON.parse(await tarMember(archive, `blobs/sha256/${desc.digest.slice(7)}`)) as {
    config: { digest: string };
  };
  const id = manifest.config.digest.slice(7);
  const have = await podman(['image', 'inspect', '--format', '{{.Id}}', ref]).catch(() => '');
  if (have.trim() !== id) await podman(['load', '--quiet', '--input', archive]);
  return { ref, id };
}

function tarMember(archive: string, member: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tar', ['-xOf', archive, `./${member}`], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${archive}: cannot read ${member}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Removes every container whose name starts with `prefix` (after a crash); returns their names. */
export async function removeContainers(prefix: string): Promise<string[]> {
  const out = await podman(['ps', '--all', '--format', '{{.Names}}']);
  const names = out.split('\n').filter((n) => n.startsWith(prefix));
  if (names.length) await podman(['rm', '--force', '--time', '0', ...names]);
  return names;
}

/** The uid and gid of a running container's first process, as the host's kernel sees them (/proc/PID/status). */
export async function containerProcessIds(name: string): Promise<{ uid: number; gid: number; pid: number }> {
  const pid = Number((await podman(['inspect', '--format', '{{.State.Pid}}', name])).trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`container ${name} has no running process`);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (n: string) => Number(new RegExp(`^${n}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { uid: field('Uid'), gid: field('Gid'), pid };
}
