// Runs the hop entrypoint (images/hop/entrypoint.sh, the same script as in the images) as a process inside a hop's
// namespace, with the environment contract filled in by the topology, and tells when its tunnel is up.
import { fileURLToPath } from 'node:url';
import { mkdir } from 'node:fs/promises';
import { Daemon } from './daemon.js';
import { nsRun, StopWaiting, waitFor } from './exec.js';
import type { HopHandle } from './topology.js';

export const ENTRYPOINT = fileURLToPath(new URL('../../images/hop/entrypoint.sh', import.meta.url));

export interface HopProcess {
  hop: HopHandle;
  daemon: Daemon;
  env: Record<string, string>;
  /**
   * Resolves once the tunnel is up: OpenVPN's "Initialization Sequence Completed", a WireGuard handshake, or
   * OpenConnect's "Configured as" (and its DTLS session, when DTLS is admitted) with the tunnel address in place.
   */
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
export async function wgLatestHandshake(netns: string, iface: string): Promise<number> {
  const { stdout } = await nsRun(netns, 'wg', ['show', iface, 'latest-handshakes']);
  return Math.max(0, ...stdout.split('\n').map((l) => Number(l.trim().split(/\s+/)[1] ?? 0) || 0));
}

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
      if (hop.type === 'openvpn') {
        await daemon.waitForLine(/Initialization Sequence Completed/, timeoutMs, startedAt);
        return;
      }
      if (hop.type === 'openconnect') {
        await daemon.waitForLine(/Configured as /, timeoutMs, startedAt);
        if (env.TORCHAIN_PROTO!.includes('udp'))
          await daemon.waitForLine(/Established DTLS connection/, timeoutMs, startedAt);
        await waitFor(
          `the tunnel address on hop ${hop.number} (${hop.tunIf})`,
          async () => /inet /.test((await nsRun(hop.netns, 'ip', ['-4', 'address', 'show', 'dev', hop.tunIf])).stdout),
          timeoutMs,
          100,
        );
        return;
      }
      await waitFor(
        `a WireGuard handshake on hop ${hop.number} (${hop.tunIf})`,
        async () => {
          if (!daemon.running)
            throw new StopWaiting(
              `entrypoint exited with ${String(daemon.exitCode)}: ${daemon.stderr.slice(-3).join(' | ')}`,
            );
          return (await wgLatestHandshake(hop.netns, hop.tunIf).catch(() => 0)) > 0;
        },
        timeoutMs,
        100,
      );
    },
    stop: () => daemon.close(),
  };
}
