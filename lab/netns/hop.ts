// Runs the hop entrypoint (images/hop/entrypoint.sh, the same script as in the images) as a process inside a hop's
// namespace, with the environment contract filled in by the topology, and tells when its tunnel is up.
import { fileURLToPath } from 'node:url';
import { mkdir } from 'node:fs/promises';
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
