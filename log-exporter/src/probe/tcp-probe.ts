// The active probe: a TCP connection attempt to an address that is reachable only through the tunnel. Any answer
// (SYN-ACK, or RST = ECONNREFUSED) is a round trip through the tunnel; silence until the timeout, or "no route", is a
// failure. It needs no privilege (the sidecar has no capabilities; ICMP would need CAP_NET_RAW or the
// ping_group_range sysctl plus a ping binary), and for WireGuard the SYN is real data, which makes wireguard-go
// re-handshake and log the failure — keepalives alone never do (see README).
import type { HostPort } from '../config.js';
import { builtins } from '../builtins.js';

export interface ProbeResult {
  ok: boolean;
  /** How it ended: connected, refused (ok), timeout, or the error code. */
  outcome: string;
  millis: number;
}

export async function tcpProbe(target: HostPort, timeoutMs: number): Promise<ProbeResult> {
  const { connect } = builtins.net(); // serve mode only (builtins.ts)
  // Date.now, not performance.now: the global `performance` loads node:perf_hooks on first use (loop-lag.ts).
  const started = Date.now();
  return new Promise((resolve) => {
    const sock = connect({ host: target.host, port: target.port });
    let settled = false;
    const done = (ok: boolean, outcome: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ ok, outcome, millis: Date.now() - started });
    };
    const timer = setTimeout(() => done(false, 'timeout'), timeoutMs);
    sock.on('connect', () => done(true, 'connected'));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') done(true, 'refused');
      else done(false, err.code ?? err.message);
    });
  });
}
