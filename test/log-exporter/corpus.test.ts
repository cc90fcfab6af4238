// The real-log corpus: every captured scenario must produce its metrics and its tunnel end-state, through the same
// one-shot path users debug logs with.
import { execFile } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../log-exporter/src/classify.js';
import { runOnce } from '../../log-exporter/src/once.js';
import { REASONS } from '../../common/contracts/metrics.js';
import { PROTOCOL_MODULES } from '../../log-exporter/src/protocols/index.js';
import { lineTimestampSeconds } from '../../log-exporter/src/timestamps.js';
import { REPO_ROOT } from '../../scripts/paths.js';
import { fixtures } from './support/corpus.js';
import { byReason, nonZero, parseExposition, sample } from './support/exposition.js';

interface Expectation {
  tunnelUp: 0 | 1;
  /** Exactly the reasons with a non-zero error count. */
  errors: string[];
  /** Exactly the reasons with a non-zero restart count. */
  restarts: string[];
  /** Exact counts where the scenario fixes them. */
  exact?: Record<string, number>;
  /** One count per failed attempt: this error reason counts exactly as many as restarts for a TLS error. */
  perTlsRestart?: string;
}

// Every way OpenVPN verifies the server certificate ends in one certificate_rejected per attempt.
const OVPN_CERT: Expectation = {
  tunnelUp: 0,
  errors: ['certificate_rejected'],
  restarts: ['tls_handshake_failed'],
  perTlsRestart: 'certificate_rejected',
};
// openconnect gives up after one failed attempt (exit 1), counted once.
const ocOnce = (reason: string): Expectation => ({
  tunnelUp: 0,
  errors: [reason],
  restarts: [],
  exact: { [reason]: 1 },
});

const EXPECT: Record<string, Expectation> = {
  'openvpn-healthy': { tunnelUp: 1, errors: [], restarts: [] },
  'openvpn-healthy-suppress-timestamps': { tunnelUp: 1, errors: [], restarts: [] },
  'openvpn-healthy-machine-readable': { tunnelUp: 1, errors: [], restarts: [] },
  // UDP server killed, host still up: ICMP port unreachable at once, then the ping-restart.
  'openvpn-server-killed': { tunnelUp: 0, errors: ['connection_refused', 'ping_timeout'], restarts: ['ping_timeout'] },
  'openvpn-tcp-server-killed': { tunnelUp: 0, errors: ['connection_refused'], restarts: ['connection_refused'] },
  'openvpn-no-server': { tunnelUp: 0, errors: ['connection_refused'], restarts: [] },
  'openvpn-tcp-refused': { tunnelUp: 0, errors: ['connection_refused'], restarts: ['connection_refused'] },
  'openvpn-wrong-certificate': OVPN_CERT, // unknown CA
  'openvpn-verify-x509-name': OVPN_CERT,
  'openvpn-remote-cert-tls': OVPN_CERT, // the server presents a client-purpose certificate
  'openvpn-peer-fingerprint': OVPN_CERT,
  'openvpn-tls-verify-script': OVPN_CERT,
  'openvpn-expired-certificate': OVPN_CERT,
  // TLS refused by the server without a verdict the client could see (UDP: the server drops the handshake):
  // ping-restart fires before the TLS handshake completed, which is a failed handshake.
  'openvpn-tls-version': { tunnelUp: 0, errors: ['tls_handshake_failed'], restarts: ['ping_timeout'] },
  'openvpn-client-certificate-rejected': { tunnelUp: 0, errors: ['tls_handshake_failed'], restarts: ['ping_timeout'] },
  // Over TCP the same refusals reach the client as a reset connection, nothing more.
  'openvpn-tcp-tls-version': { tunnelUp: 0, errors: ['connection_refused'], restarts: ['connection_refused'] },
  'openvpn-tcp-client-certificate-rejected': {
    tunnelUp: 0,
    errors: ['connection_refused'],
    restarts: ['connection_refused'],
  },
  // A TCP server that is not OpenVPN/TLS: the garbage is a failed handshake, then OpenVPN resets the connection.
  'openvpn-not-tls': {
    tunnelUp: 0,
    errors: ['connection_refused', 'tls_handshake_failed'],
    restarts: ['connection_refused'],
  },
  'openvpn-network-unreachable': {
    tunnelUp: 0,
    errors: ['network_unreachable'],
    restarts: ['network_unreachable'],
  },
  'openvpn-resolve-failed': { tunnelUp: 0, errors: ['resolve_failed'], restarts: ['resolve_failed'] },
  // Silently dropped: only the inactivity timeout says so, before the restart (ping_timeout) and after it, when the
  // new TLS handshake never completes (tls_handshake_failed).
  'openvpn-packets-dropped': {
    tunnelUp: 0,
    errors: ['ping_timeout', 'tls_handshake_failed'],
    restarts: ['ping_timeout'],
    exact: { ping_timeout: 1, tls_handshake_failed: 1 },
  },
  // AUTH_FAILED: the client exits (no --auth-retry): one failure, no restart.
  'openvpn-auth-failed': { tunnelUp: 0, errors: ['auth_failed'], restarts: [], exact: { auth_failed: 1 } },
  'wireguard-healthy': { tunnelUp: 1, errors: [], restarts: [] },
  'wireguard-server-killed-traffic': { tunnelUp: 0, errors: ['handshake_timeout'], restarts: [] },
  // The server is gone but nothing is sent: wireguard-go only logs "Sending keepalive packet", so the log alone
  // still reads up. This is why the exporter probes; test/log-exporter/probe-wireguard.test.ts shows the probe
  // taking tunnel_up to 0 for exactly this case.
  'wireguard-server-killed-idle': { tunnelUp: 1, errors: [], restarts: [] },
  'wireguard-network-unreachable': { tunnelUp: 0, errors: ['network_unreachable'], restarts: [] },
  'wireguard-resolve-failed': { tunnelUp: 0, errors: ['resolve_failed'], restarts: [] },
  'openconnect-healthy': { tunnelUp: 1, errors: [], restarts: [] },
  // UDP blocked: DTLS fails and the tunnel runs over TLS alone, which is up.
  'openconnect-dtls-blocked': { tunnelUp: 1, errors: [], restarts: [] },
  // Killed: the TLS session breaks, then every reconnection is refused (the host still answers).
  'openconnect-server-killed': { tunnelUp: 0, errors: ['connection_refused'], restarts: [] },
  // Killed and started again: the new ocserv does not know the session cookie; openconnect exits.
  'openconnect-server-restarted': { tunnelUp: 0, errors: ['connection_refused', 'other'], restarts: [] },
  // Silent deaths: a hung server (SIGSTOP) and a blackholed one; only the client's DPD says so.
  'openconnect-dead-peer': ocOnce('ping_timeout'),
  'openconnect-blackholed': ocOnce('ping_timeout'),
  'openconnect-refused': ocOnce('connection_refused'),
  'openconnect-network-unreachable': ocOnce('network_unreachable'),
  'openconnect-resolve-failed': ocOnce('resolve_failed'),
  'openconnect-auth-failed': ocOnce('auth_failed'),
  // ocserv closes the handshake on a client certificate it does not trust, without an alert.
  'openconnect-client-certificate-rejected': ocOnce('tls_handshake_failed'),
  'openconnect-unknown-ca': ocOnce('certificate_rejected'),
  'openconnect-wrong-hostname': ocOnce('certificate_rejected'),
  'openconnect-expired-certificate': ocOnce('certificate_rejected'),
  'openconnect-servercert-pin': ocOnce('certificate_rejected'),
  'openconnect-not-tls': ocOnce('tls_handshake_failed'),
};

const all = fixtures();

describe('real-log corpus', () => {
  it('holds every scenario of the capture script, and nothing untested', () => {
    expect(all.map((f) => f.name).sort()).toEqual(Object.keys(EXPECT).sort());
  });

  it.each(all.map((f) => [f.name, f] as const))('%s', async (name, f) => {
    const want = EXPECT[name] as Expectation;
    const text = await runOnce({ type: f.type, input: createReadStream(f.path), maxLineBytes: 65536 });
    const s = parseExposition(text);
    const errors = byReason(s, 'torchain_vpn_connection_errors_total');
    const restarts = byReason(s, 'torchain_vpn_restarts_total');
    // Every reason is exported, zero or not.
    expect(Object.keys(errors).sort()).toEqual([...REASONS].sort());
    expect(Object.keys(restarts).sort()).toEqual([...REASONS].sort());
    expect(nonZero(errors)).toEqual(want.errors);
    expect(nonZero(restarts)).toEqual(want.restarts);
    for (const [reason, n] of Object.entries(want.exact ?? {})) expect(errors[reason]).toBe(n);
    if (want.perTlsRestart) expect(errors[want.perTlsRestart]).toBe(restarts.tls_handshake_failed);
    expect(sample(s, 'torchain_vpn_tunnel_up')).toBe(want.tunnelUp);

    const lines = readFileSync(f.path, 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    const classifier = createClassifier(f.type);
    const matched = lines.filter((l) => classifier.classify(l)).length;
    expect(sample(s, 'torchain_log_exporter_lines_total{matched="true"}')).toBe(matched);
    expect(sample(s, 'torchain_log_exporter_lines_total{matched="false"}')).toBe(lines.length - matched);

    // The last-line gauge is the client's own timestamp when the line has one.
    const own = lineTimestampSeconds(lines.at(-1) as string);
    const last = sample(s, 'torchain_log_exporter_last_line_timestamp_seconds');
    if (own !== undefined) expect(last).toBeCloseTo(own, 3);
    else expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(60);

    if (PROTOCOL_MODULES[f.type].handshakeGauge) {
      const handshakes = lines.filter((l) => l.includes('Received handshake response'));
      if (handshakes.length === 0) expect(sample(s, 'torchain_vpn_last_handshake_timestamp_seconds')).toBe(0);
      else {
        expect(sample(s, 'torchain_vpn_last_handshake_timestamp_seconds')).toBe(
          lineTimestampSeconds(handshakes.at(-1) as string),
        );
      }
    } else {
      expect(s.has('torchain_vpn_last_handshake_timestamp_seconds')).toBe(false);
    }
  });
});

describe('one-shot CLI (npm run log-exporter -- --once)', () => {
  const run = promisify(execFile);

  it('prints the exposition for a file and for stdin, and exits 0', async () => {
    const file = all.find((f) => f.name === 'openvpn-server-killed');
    if (!file) throw new Error('fixture openvpn-server-killed is missing');
    const { stdout } = await run(
      'npm',
      ['run', '--silent', 'log-exporter', '--', '--once', '--type', 'openvpn', file.path],
      {
        cwd: REPO_ROOT,
      },
    );
    const s = parseExposition(stdout);
    expect(sample(s, 'torchain_vpn_connection_errors_total{reason="ping_timeout"}')).toBe(1);
    const viaStdin = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        'npx',
        ['tsx', 'log-exporter/src/main.ts', '--once', '--type', 'openvpn', '-'],
        { cwd: REPO_ROOT },
        (err, out) => (err ? reject(err) : resolve(out)),
      );
      createReadStream(file.path).pipe(child.stdin as NodeJS.WritableStream);
    });
    // The fixture's lines carry their own timestamps, so even the last-line gauge is the same.
    expect(viaStdin).toBe(stdout);
  });

  it('reads an openconnect log like the other types', async () => {
    const file = all.find((f) => f.name === 'openconnect-dead-peer');
    if (!file) throw new Error('fixture openconnect-dead-peer is missing');
    const { stdout } = await run(
      'npm',
      ['run', '--silent', 'log-exporter', '--', '--once', '--type', 'openconnect', file.path],
      { cwd: REPO_ROOT },
    );
    const s = parseExposition(stdout);
    expect(sample(s, 'torchain_vpn_connection_errors_total{reason="ping_timeout"}')).toBe(1);
    expect(sample(s, 'torchain_vpn_tunnel_up')).toBe(0);
  });

  it('exits 2 with a message naming the flag on bad input, and 1 naming the file when it cannot be read', async () => {
    const bad = await run('npx', ['tsx', 'log-exporter/src/main.ts', '--once', '--type', 'ipsec', 'x'], {
      cwd: REPO_ROOT,
    }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toMatch(/--type: "ipsec" is not one of openvpn, wireguard, openconnect/);
    const missing = await run(
      'npx',
      ['tsx', 'log-exporter/src/main.ts', '--once', '--type', 'openvpn', '/nonexistent/x.log'],
      {
        cwd: REPO_ROOT,
      },
    ).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 1 });
    expect((missing as { stderr: string }).stderr).toMatch(/cannot read \/nonexistent\/x\.log: .*ENOENT/);
  });
});
