// The long-running exporter as a process: file source with tail -F semantics, stdin source, and the HTTP endpoints.
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { REASONS } from '../../common/contracts/metrics.js';
import { eventually, startExporter, type RunningExporter } from './support/exporter-process.js';
import { sample } from './support/exposition.js';

const UP = '2026-11-26 11:00:52 Initialization Sequence Completed\n';
const REFUSED = '2026-11-26 11:01:07 read UDPv4 [ECONNREFUSED]: Connection refused (fd=3,code=111)\n';
const PING = '2026-11-26 11:01:15 [tcx-server] Inactivity timeout (--ping-restart), restarting\n';

const dir = mkdtempSync(join(tmpdir(), 'tcx-serve-'));
let running: RunningExporter | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const counter = (reason: string) => async () =>
  sample(await (running as RunningExporter).metrics(), `torchain_vpn_connection_errors_total{reason="${reason}"}`);
const lines = async () => {
  const m = await (running as RunningExporter).metrics();
  return (
    sample(m, 'torchain_log_exporter_lines_total{matched="true"}') +
    sample(m, 'torchain_log_exporter_lines_total{matched="false"}')
  );
};

describe('file source (tail -F) and HTTP', () => {
  it('waits for the file, reads it, follows appends, rotation and truncation, and serves the endpoints', async () => {
    const path = join(dir, 'vpn.log');
    running = await startExporter(['--type', 'openvpn', '--source', 'file', '--file', path]);
    const r = running;

    // Not there yet: the exporter works, the tunnel is not up.
    const health = await r.get('/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', source: { kind: 'file' } });
    expect((await r.get('/readyz')).status).toBe(503);
    const m0 = await r.metrics();
    for (const reason of REASONS) {
      expect(sample(m0, `torchain_vpn_connection_errors_total{reason="${reason}"}`)).toBe(0);
      expect(sample(m0, `torchain_vpn_restarts_total{reason="${reason}"}`)).toBe(0);
    }
    expect((await r.get('/metrics')).type).toMatch(/^text\/plain; version=0\.0\.4/);

    writeFileSync(path, UP);
    await eventually(
      'tunnel up',
      () => r.get('/readyz'),
      (x) => x.status === 200,
    );
    expect(sample(await r.metrics(), 'torchain_vpn_tunnel_up')).toBe(1);

    // A partial line is not counted until its newline arrives.
    appendFileSync(path, REFUSED.slice(0, 30));
    await new Promise((res) => setTimeout(res, 800));
    expect(await counter('connection_refused')()).toBe(0);
    appendFileSync(path, REFUSED.slice(30));
    await eventually('refused counted', counter('connection_refused'), (v) => v === 1);
    expect((await r.get('/readyz')).status).toBe(503);

    // Rotation: the old file gets one more line after the rename, then the new file starts.
    renameSync(path, `${path}.1`);
    appendFileSync(`${path}.1`, REFUSED);
    writeFileSync(path, PING);
    await eventually('ping timeout from the new file', counter('ping_timeout'), (v) => v === 1);
    await eventually('late line of the rotated file', counter('connection_refused'), (v) => v === 2);

    // Truncation: read again from the start.
    const before = await lines();
    truncateSync(path, 0);
    await new Promise((res) => setTimeout(res, 600));
    writeFileSync(path, UP);
    await eventually(
      'tunnel up after truncation',
      () => r.get('/readyz'),
      (x) => x.status === 200,
    );
    expect(await lines()).toBe(before + 1);
    expect(sample(await r.metrics(), 'torchain_log_exporter_last_line_timestamp_seconds')).toBe(
      new Date(2026, 10, 26, 11, 0, 52).getTime() / 1000,
    );

    expect(await r.stop()).toBe(0);
    expect(r.logs().some((l) => l.msg === 'log file rotated or removed; following the path')).toBe(true);
    expect(r.logs().some((l) => l.msg === 'log file truncated; reading it from the start')).toBe(true);
  });

  it('refuses a bad configuration with exit code 2 and a message naming the flag', async () => {
    await expect(startExporter(['--type', 'openvpn', '--source', 'file'])).rejects.toThrow(
      /exited with 2.*--file PATH/s,
    );
  });
});

describe('stdin source', () => {
  it('reads piped lines and keeps serving after stdin closes', async () => {
    running = await startExporter(['--type', 'wireguard', '--source', 'stdin']);
    const r = running;
    r.proc.stdin?.write('DEBUG: (tcxwg0) 2026/11/26 11:02:58 peer(6DsA…+PgA) - Received handshake response\n');
    await eventually(
      'handshake seen',
      () => r.metrics(),
      (m) => m.get('torchain_vpn_tunnel_up') === 1,
    );
    expect(sample(await r.metrics(), 'torchain_vpn_last_handshake_timestamp_seconds')).toBe(
      new Date(2026, 10, 26, 11, 2, 58).getTime() / 1000,
    );
    r.proc.stdin?.end(
      'DEBUG: (tcxwg0) 2026/11/26 11:03:27 peer(6DsA…+PgA) - Handshake did not complete after 5 seconds, retrying (try 2)',
    );
    await eventually('last line without newline counted at EOF', counter('handshake_timeout'), (v) => v === 1);
    const health = JSON.parse((await r.get('/healthz')).body);
    expect(health.source).toMatchObject({ kind: 'stdin', state: 'ended' });
    expect((await r.get('/readyz')).status).toBe(503);
  });
});
