// The pattern table: well-formed, in the JS/Rust-regex common subset, and classifying known lines as intended.
import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../log-exporter/src/classify.js';
import { allPatterns } from '../../log-exporter/src/protocols/index.js';
import { REASONS } from '../../common/contracts/metrics.js';
import { syntaxOutsideCommonSubset } from '../../log-exporter/src/vector/regex-subset.js';

const PATTERNS = allPatterns().map((e) => e.pattern);

describe('pattern tables', () => {
  it('has unique snake_case ids, a note and at least one effect or a "counted elsewhere" note', () => {
    const ids = PATTERNS.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of PATTERNS) {
      expect(p.id).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(p.note.length).toBeGreaterThan(10);
      if (p.error) expect(REASONS).toContain(p.error);
      if (p.restart) expect(REASONS).toContain(p.restart);
    }
  });

  it('keeps every regex inside the JS/Rust common subset', () => {
    for (const p of PATTERNS) expect(syntaxOutsideCommonSubset(p.regex), p.id).toBeUndefined();
  });

  it('rejects syntax outside the subset', () => {
    expect(syntaxOutsideCommonSubset('a(?=b)')).toMatch(/lookaround/);
    expect(syntaxOutsideCommonSubset('(a)\\1')).toMatch(/capturing group/);
    expect(syntaxOutsideCommonSubset('(?<n>a)')).toMatch(/capturing group|named/);
    expect(syntaxOutsideCommonSubset('\\d+')).toMatch(/escape/);
    expect(syntaxOutsideCommonSubset("it's")).toMatch(/quote/);
    expect(syntaxOutsideCommonSubset('[[:alpha:]]')).toMatch(/class/);
    expect(syntaxOutsideCommonSubset('a\\]b')).toBeUndefined();
  });
});

// Lines as the clients print them (real lines from the corpus plus documented variants the corpus cannot provoke).
const OPENVPN: [string, string | undefined][] = [
  ['2026-11-26 11:00:52 Initialization Sequence Completed', 'ovpn_init_complete'],
  ['2026-11-26 11:01:07 read UDPv4 [ECONNREFUSED]: Connection refused (fd=3,code=111)', 'ovpn_connection_refused'],
  ['TCP: connect to [AF_INET]10.213.0.1:1194 failed: Connection refused', 'ovpn_connection_refused'],
  ['1795690883.571136 7000021 Connection reset, restarting [0]', 'ovpn_connection_reset'],
  ['2026-11-26 11:01:15 [tcx-server] Inactivity timeout (--ping-restart), restarting', 'ovpn_ping_timeout'],
  ['2026-11-26 11:01:15 SIGUSR1[soft,ping-restart] received, process restarting', 'ovpn_restart_ping'],
  ['SIGUSR1[connection failed(soft),connection-failed] received, process restarting', 'ovpn_restart_connection'],
  ['1795690883.602999 1 SIGUSR1[soft,connection-reset] received, process restarting', 'ovpn_restart_connection'],
  ['SIGUSR1[soft,tls-error] received, process restarting', 'ovpn_restart_tls'],
  ['SIGUSR1[soft,auth-failure] received, process restarting', 'ovpn_restart_auth'],
  ['SIGUSR1[soft,network-unreachable] received, process restarting', 'ovpn_restart_network'],
  ['SIGUSR1[soft,Could not determine IPv4/IPv6 protocol] received, process restarting', 'ovpn_restart_resolve'],
  ['SIGHUP[hard,] received, process restarting', 'ovpn_restart_other'],
  ['SIGUSR1[soft,server-pushed-connection-reset] received, process restarting', 'ovpn_restart_other'],
  ['SIGTERM[soft,auth-failure] received, process exiting', 'ovpn_exiting'],
  ['SIGTERM[hard,] received, process exiting', 'ovpn_exiting'],
  ['write UDPv4 []: Network is unreachable (fd=3,code=101)', 'ovpn_network_unreachable'],
  ['TCP: connect to [AF_INET]10.99.0.1:1194 failed: No route to host', 'ovpn_network_unreachable'],
  ['Network unreachable, restarting', 'ovpn_network_unreachable_restart'],
  [
    'RESOLVE: Cannot resolve host address: vpn.example.invalid:1194 (Temporary failure in name resolution)',
    'ovpn_resolve_failed',
  ],
  ['Could not determine IPv4/IPv6 protocol', 'ovpn_resolve_gave_up'],
  [
    'TLS Error: TLS key negotiation failed to occur within 60 seconds (check your network connectivity)',
    'ovpn_tls_key_negotiation',
  ],
  ['TLS Error: TLS handshake failed', 'ovpn_tls_handshake_failed'],
  ['VERIFY ERROR: depth=0, error=unable to get local issuer certificate: CN=x, serial=1', 'ovpn_certificate_verdict'],
  ['VERIFY X509NAME ERROR: CN=rogue, must be server', 'ovpn_certificate_verdict'],
  ['VERIFY EKU ERROR', 'ovpn_certificate_verdict'],
  ['VERIFY SCRIPT ERROR: depth=1, CN=tkd-ca', 'ovpn_certificate_verdict'],
  [
    'TLS Error: --tls-verify/--peer-fingerprint certificate hash verification failed. (got certificate fingerprint: 6f:4b)',
    'ovpn_certificate_verdict',
  ],
  ['Sent fatal SSL alert: certificate expired', 'ovpn_certificate_verdict'],
  ['OpenSSL: error:0A000086:SSL routines::certificate verify failed:', 'ovpn_certificate_rejected'],
  // The server rejected our certificate and said so (TLS alert; seen over TCP).
  ['OpenSSL: error:0A000418:SSL routines::tlsv1 alert unknown ca:', 'ovpn_certificate_rejected'],
  ['OpenSSL: error:0A000415:SSL routines::sslv3 alert certificate expired:', 'ovpn_certificate_rejected'],
  ['OpenSSL: error:0A000412:SSL routines::sslv3 alert bad certificate:', 'ovpn_certificate_rejected'],
  // No certificate verdict: version or cipher mismatch, not TLS.
  ['OpenSSL: error:0A000102:SSL routines::unsupported protocol:', 'ovpn_tls_error'],
  ['OpenSSL: error:0A00042E:SSL routines::tlsv1 alert protocol version:', 'ovpn_tls_error'],
  ['OpenSSL: error:0A000076:SSL routines::no suitable signature algorithm:', 'ovpn_tls_error'],
  ['WARNING: Bad encapsulated packet length from peer (18516), which must be > 0 and <= 1768', 'ovpn_not_openvpn'],
  ['AUTH: Received control message: AUTH_FAILED', 'ovpn_auth_failed'],
  ['write UDPv4 []: Operation not permitted (fd=3,code=1)', 'ovpn_send_blocked'],
  ['TCP: connect to [AF_INET]10.213.0.1:1194 failed: Operation not permitted', 'ovpn_send_blocked'],
  ['Exiting due to fatal error', 'ovpn_fatal'],
  ['Options error: Unrecognized option or missing or extra parameter(s) in x.conf:3: bogus (2.6.14)', 'ovpn_fatal'],
  ['VERIFY OK: depth=0, CN=tcx-server', undefined],
  ['VERIFY EKU OK', undefined],
  ['PUSH: Received control message: PUSH_REPLY,ping 2', undefined],
  ['', undefined],
];

const WIREGUARD: [string, string | undefined][] = [
  ['DEBUG: 2026/11/26 11:03:01 peer(rJ0n…Ky3A) - Received handshake response', 'wg_handshake_complete'],
  ['DEBUG: 2026/11/26 11:03:01 peer(rJ0n…Ky3A) - Receiving keepalive packet', 'wg_keepalive_received'],
  ['DEBUG: 2026/11/26 11:03:01 peer(rJ0n…Ky3A) - Sending keepalive packet', undefined],
  [
    'DEBUG: 2026/11/26 11:03:31 peer(rJ0n…Ky3A) - Handshake did not complete after 5 seconds, retrying (try 2)',
    'wg_handshake_retry',
  ],
  [
    'DEBUG: 2026/11/26 11:03:31 peer(rJ0n…Ky3A) - Handshake did not complete after 20 attempts, giving up',
    'wg_handshake_give_up',
  ],
  [
    'DEBUG: 2026/11/26 11:03:26 peer(rJ0n…Ky3A) - Retrying handshake because we stopped hearing back after 15 seconds',
    'wg_stopped_hearing',
  ],
  ["Name or service not known: `vpn.example.invalid:51820'", 'wg_resolve_failed'],
  ['ERROR: 2026/11/26 11:03:01 Failed to create TUN device: no such file or directory', 'wg_fatal'],
  ['ERROR: (tcxwg0) 2026/11/26 11:03:01 UAPI listen error: address already in use', 'wg_fatal'],
  ['Unable to modify interface: Protocol not supported', 'wg_fatal'],
  [
    'ERROR: (tcxwgc0) 2026/11/26 11:04:12 peer(Zoud…jIUo) - Failed to send handshake initiation: network is unreachable',
    'wg_send_unreachable',
  ],
  [
    'ERROR: (tcxwgc0) 2026/11/26 11:04:12 peer(Zoud…jIUo) - Failed to send handshake initiation: operation not permitted',
    'wg_send_failed',
  ],
  ['DEBUG: (tcxwgc0) 2026/11/26 11:02:58 Unable to update bind: whatever', undefined],
  ['DEBUG: 2026/11/26 11:03:40 Device closing', 'wg_device_closing'],
];

const OPENCONNECT: [string, string | undefined][] = [
  ['[2026-11-30 17:15:51] Configured as 10.216.0.111, with SSL connected and DTLS connected', 'oc_configured'],
  ['Configured as 10.216.0.111 + fd00::5/64, with SSL connected and DTLS in progress', 'oc_configured'],
  ['[2026-11-30 17:16:49] CSTP Dead Peer Detection detected dead peer!', 'oc_cstp_dead_peer'],
  ['[2026-11-30 17:13:30] DTLS Dead Peer Detection detected dead peer!', 'oc_dtls_dead_peer'],
  ['[2026-11-30 17:16:09] DTLS handshake failed: Resource temporarily unavailable, try again.', 'oc_dtls_failed'],
  ['DTLS handshake timed out', 'oc_dtls_failed'],
  ['[2026-11-30 17:17:43] SSL connection failure: Error in the certificate.', 'oc_certificate_rejected'],
  ['[2026-11-30 17:17:43] Server certificate verify failed: signer not found', 'oc_certificate_detail'],
  ['Certificate from VPN server "10.213.0.1" failed verification.', 'oc_certificate_detail'],
  ['Reason: certificate expired', 'oc_certificate_detail'],
  ['    --servercert pin-sha256:VIU5FiwXNbwIRimHj28F3KPoc/h+Uork6Aehkxl5ybA=', 'oc_certificate_detail'],
  [
    "None of the 1 fingerprint(s) specified via --servercert match server's certificate: pin-sha256:QQpY8=",
    'oc_certificate_detail',
  ],
  ['[2026-11-30 17:17:48] SSL connection failure: An unexpected TLS packet was received.', 'oc_tls_failed'],
  ['SSL connection failure: A TLS fatal alert has been received.', 'oc_tls_failed'],
  ['Login failed.', 'oc_auth_failed'],
  ['[2026-11-30 17:17:39] Failed to connect to 10.213.0.1:443: Connection refused', 'oc_connect_refused'],
  ['[2026-11-30 17:16:18] Failed to reconnect to host 10.213.0.1: Connection refused', 'oc_connect_refused'],
  ['Failed to connect to 10.99.0.1:443: Network is unreachable', 'oc_connect_unreachable'],
  ['Failed to reconnect to host 10.99.0.1: No route to host', 'oc_connect_unreachable'],
  ['Failed to reconnect to host 10.213.0.1: Connection timed out', 'oc_connect_timeout'],
  ['Failed to reconnect to host 10.213.0.1: Interrupted system call', 'oc_reconnect_failed'],
  [
    "getaddrinfo failed for host 'vpn.tkd-nonexistent.invalid': Temporary failure in name resolution",
    'oc_resolve_failed',
  ],
  ['Read error on SSL session: The TLS connection was non-properly terminated.', 'oc_connection_lost'],
  ['Server closed connection', 'oc_connection_lost'],
  ['Cookie is no longer valid, ending session', 'oc_cookie_rejected'],
  ['Got inappropriate HTTP CONNECT response: HTTP/1.1 401 Cookie is not acceptable', 'oc_gave_up'],
  ['Cookie was rejected by server; exiting.', 'oc_gave_up'],
  ['Failed to connect to host 10.213.0.1', 'oc_gave_up'],
  ['Failed to open HTTPS connection to 10.213.0.1', 'oc_gave_up'],
  ['Failed to complete authentication', 'oc_gave_up'],
  ['sleep 10s, remaining timeout 20s', 'oc_gave_up'],
  ['Reconnect failed', 'oc_gave_up'],
  ['User cancelled (SIGINT/SIGTERM); exiting.', 'oc_exiting'],
  ['Failed to open tun device', 'oc_fatal'],
  ['CSTP connected. DPD 2, Keepalive 10', undefined],
  ['Please enter your username.', undefined],
];

describe('classification of known lines', () => {
  const classifiers = {
    openvpn: createClassifier('openvpn'),
    wireguard: createClassifier('wireguard'),
    openconnect: createClassifier('openconnect'),
  };
  it.each(OPENVPN)('openvpn: %s', (line, id) => {
    expect(classifiers.openvpn.classify(line)?.id).toBe(id);
  });
  it.each(WIREGUARD)('wireguard: %s', (line, id) => {
    expect(classifiers.wireguard.classify(line)?.id).toBe(id);
  });
  it.each(OPENCONNECT)('openconnect: %s', (line, id) => {
    expect(classifiers.openconnect.classify(line)?.id).toBe(id);
  });
  it("never applies one protocol's patterns to another", () => {
    expect(classifiers.openconnect.classify('Initialization Sequence Completed')).toBeUndefined();
    expect(classifiers.openvpn.classify('Configured as 10.216.0.111, with SSL connected')).toBeUndefined();
    expect(classifiers.wireguard.classify('Initialization Sequence Completed')).toBeUndefined();
    expect(classifiers.openvpn.classify('peer(x) - Received handshake response')).toBeUndefined();
  });
});
