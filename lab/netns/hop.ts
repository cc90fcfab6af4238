// Runs the hop entrypoint (images/hop/entrypoint.sh, the same script as in the images) as a process inside a hop's
// namespace, with the environment contract filled in by the topology, and tells when its tunnel is up.
import { fileURLToPath } from 'node:url';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from './daemon.js';
import { SERVER_MODULES } from './servers/index.js';
import { latestHandshake } from './servers/wireguard.js';
import { StopWaiting, waitFor } from './exec.js';
import type { HopHandle } from './topology.js';

export const ENTRYPOINT = fileURLToPath(new URL('../../images/hop/entrypoint.sh', import.meta.url));

export interface HopProcess {
  hop: HopHandle;
  daemon: Daemon;
  env: Record<string, string>;
  /** Resolves once the tunnel is up, as the protocol's lab module tells (ServerModule.clientUp). */
  waitUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartHopOptions {
  /** Tunnel MTU (TORCHAIN_MTU). */
  mtu: number;
  /** Index of the pool server to use. Default 0. */
  server?: number;
  /** Extra or overriding environment (e.g. TORCHAIN_OVPN_PING_RESTART). */
  extraEnv?: Record<string, string>;
  logFile?: string;
}

/** Latest WireGuard handshake (unix seconds) on `iface` in `netns`; 0 when none yet. */
export const wgLatestHandshake = latestHandshake;

export async function startHop(hop: HopHandle, opts: StartHopOptions): Promise<HopProcess> {
  await mkdir(hop.tmpDir, { recursive: true, mode: 0o700 });
  const env = { ...(await hop.env({ mtu: opts.mtu, server: opts.server ?? 0 })), ...(opts.extraEnv ?? {}) };
  const daemon = new Daemon({
    netns: hop.netns,
    cmd: 'bash',
    args: [ENTRYPOINT],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    logFile: opts.logFile,
  });
  const startedAt = daemon.stdout.length;
  daemon.start();
  return {
    hop,
    daemon,
    env,
    async waitUp(timeoutMs = 20_000) {
      await SERVER_MODULES[hop.type].clientUp(
        {
          netns: hop.netns,
          tunIf: hop.tunIf,
          env,
          waitForLine: (pattern, ms) => daemon.waitForLine(pattern, ms, startedAt),
          waitFor: async (what, check, ms) => {
            await waitFor(
              `${what} (hop ${hop.number})`,
              async () => {
                if (!daemon.running)
                  throw new StopWaiting(
                    `entrypoint exited with ${String(daemon.exitCode)}: ${daemon.stderr.slice(-3).join(' | ')}`,
                  );
                return check();
              },
              ms,
              100,
            );
          },
        },
        timeoutMs,
      );
    },
    stop: () => daemon.close(),
  };
}

/** The `dns` container's user (operator/src/core/hop-objects.ts DNS_UID; images/hop/entrypoint.sh's default). */
export const RESOLVER_UID = 65531;

export interface ResolverProcess {
  daemon: Daemon;
  /** The directory the hop's entrypoint publishes the upstream to: give it the hop as TORCHAIN_DNS_DIR. */
  dnsDir: string;
  /** Stops the resolver and removes its directories. */
  stop(): Promise<void>;
}

/**
 * The hop's `dns` container as a process: `entrypoint.sh dns` in the hop's namespace as RESOLVER_UID with no
 * capabilities, reading the upstream from its own `dnsDir` (start the hop with TORCHAIN_DNS=1 and that directory).
 * Its directories are named like the topology's key directories, so the prefix cleanup removes them after a crash.
 */
export async function startHopResolver(
  hop: HopHandle,
  o: { extraEnv?: Record<string, string> } = {},
): Promise<ResolverProcess> {
  const base = await mkdtemp(join(tmpdir(), `torchain-netns-${hop.netns}-dns-`));
  await chmod(base, 0o755);
  const dnsDir = join(base, 'shared');
  const scratch = join(base, 'tmp');
  await mkdir(dnsDir, { mode: 0o755 });
  await mkdir(scratch, { mode: 0o700 });
  await chown(scratch, RESOLVER_UID, RESOLVER_UID);
  const daemon = new Daemon({
    netns: hop.netns,
    cmd: 'setpriv',
    args: [
      `--reuid=${RESOLVER_UID}`,
      `--regid=${RESOLVER_UID}`,
      '--clear-groups',
      '--bounding-set=-all',
      '--inh-caps=-all',
      '--no-new-privs',
      'bash',
      ENTRYPOINT,
      'dns',
    ],
    env: {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      TORCHAIN_GATEWAY: hop.lanGateway,
      TORCHAIN_DNS_DIR: dnsDir,
      TORCHAIN_TMP_DIR: scratch,
      ...(o.extraEnv ?? {}),
    },
  });
  daemon.start();
  return {
    daemon,
    dnsDir,
    stop: async () => {
      await daemon.close();
      await rm(base, { recursive: true, force: true });
    },
  };
}
