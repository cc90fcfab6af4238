// A dead WireGuard server must read tunnel_up 0 within 10 s (the design contract), although wireguard-go logs nothing
// about it while idle.
// Real wireguard-go client and server in namespaces; the exporter runs inside the client namespace with its defaults
// (probe target derived from the tunnel interface: the server's tunnel address, port 53; 2 s / 1.5 s / 2 failures),
// following the client's log, probing through the tunnel and reading the handshake over UAPI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../support/env.js';
import { eventually, startExporter, type RunningExporter } from './support/exporter-process.js';
import { sample } from './support/exposition.js';
import { createWgPair, IP, WG, WIREGUARD_GO, type WgPair } from './support/wg-pair.js';

describe.skipIf(skipUnless({ root: true, binaries: [WIREGUARD_GO, WG, IP] }))('WireGuard probe', () => {
  let pair: WgPair | undefined;
  let exporter: RunningExporter | undefined;

  beforeAll(async () => {
    pair = await createWgPair('p');
    exporter = await startExporter(
      ['--type', 'wireguard', '--source', 'file', '--file', pair.clientLog, '--tun-interface', pair.clientIf],
      { netns: pair.cli, host: pair.hostReach },
    );
  });
  afterAll(async () => {
    await exporter?.stop();
    pair?.destroy();
  });

  it('reads up while the server answers, 0 within 10 s of the server dying, and up again when it returns', async () => {
    const e = exporter as RunningExporter;
    const p = pair as WgPair;
    // The probe's SYN is the first data: it triggers the handshake; the server's RST on port 53 proves the round trip.
    const up = await eventually(
      'tunnel up',
      () => e.metrics(),
      (m) => m.get('torchain_vpn_tunnel_up') === 1,
      20_000,
    );
    expect((await e.get('/readyz')).status).toBe(200);
    await eventually(
      'handshake read over UAPI',
      () => e.metrics(),
      (m) => Math.abs((m.get('torchain_vpn_last_handshake_timestamp_seconds') ?? 0) - Date.now() / 1000) < 30,
    );
    expect(sample(up, 'torchain_vpn_connection_errors_total{reason="probe_failed"}')).toBe(0);

    p.killServer();
    const killedAt = Date.now();
    const down = await eventually(
      'tunnel down',
      () => e.metrics(),
      (m) => m.get('torchain_vpn_tunnel_up') === 0,
      20_000,
    );
    const seconds = (Date.now() - killedAt) / 1000;
    console.log(`dead WireGuard server detected after ${seconds.toFixed(1)} s`);
    expect(seconds).toBeLessThanOrEqual(10);
    expect(sample(down, 'torchain_vpn_connection_errors_total{reason="probe_failed"}')).toBeGreaterThanOrEqual(2);
    expect((await e.get('/readyz')).status).toBe(503);

    // The probe's packets are data, so wireguard-go now retries handshakes and logs the failure too.
    await eventually(
      'handshake timeouts logged',
      () => e.metrics(),
      (m) => (m.get('torchain_vpn_connection_errors_total{reason="handshake_timeout"}') ?? 0) > 0,
      30_000,
    );

    await p.startServer();
    await eventually(
      'tunnel up again',
      () => e.metrics(),
      (m) => m.get('torchain_vpn_tunnel_up') === 1,
      30_000,
    );
  }, 120_000);
});
