// The one table that turns VPN client log lines into metric effects. The exporter (classify.ts), the Vector config
// (vector/render.ts) and the mtail program of the benchmark are all rendered from it, so they cannot drift.
//
// Rules for entries:
// - A pattern is tested against the whole line (any timestamp prefix included), unanchored; the first entry of the
//   line's log type that matches wins, so specific entries come before general ones.
// - Patterns stay inside the common subset of JavaScript and Rust (VRL) / RE2 regex syntax: literals, `\` escapes of
//   punctuation, `\d \s \w`, bracket classes, `* + ? {n,m}`, `(?:…)` groups, `|`, `^ $`. No lookaround, no
//   backreferences, no named or capturing groups, no inline flags. test/log-exporter/patterns.test.ts enforces it.
// - `note` says which failure the line is, for the SRE reading an alert at 3 am.
// - Counting is "one per failure": where OpenVPN prints several lines for one failure, one of them counts and the
//   others are matched without effect (so they are known, not "unmatched").
import type { Reason } from '../../common/contracts/metrics.js';
import type { LogType } from './reasons.js';

export type TunnelEffect = 'up' | 'down';

export interface Pattern {
  /** Stable identifier (snake_case); used in the rendered Vector config and in tests. */
  id: string;
  type: LogType;
  /** Regex source in the JS/Rust common subset (see above). */
  regex: string;
  /** Counts torchain_vpn_connection_errors_total{reason}. */
  error?: Reason;
  /** Counts torchain_vpn_restarts_total{reason}. */
  restart?: Reason;
  /** Sets the tunnel state. */
  tunnel?: TunnelEffect;
  /** WireGuard: the line is a completed handshake (sets the last-handshake gauge from the line's timestamp). */
  handshake?: boolean;
  note: string;
}

export const PATTERNS: readonly Pattern[] = [
  // ---------------------------------------------------------------- OpenVPN 2.6 ------------------------------------
  {
    id: 'ovpn_init_complete',
    type: 'openvpn',
    regex: 'Initialization Sequence Completed',
    tunnel: 'up',
    note: 'The tunnel is up: TLS done, options pushed, tun device configured.',
  },
  {
    id: 'ovpn_restart_ping',
    type: 'openvpn',
    regex: 'SIG(?:USR1|HUP)\\[[^\\],]*,ping-restart\\] received, process restarting',
    restart: 'ping_timeout',
    tunnel: 'down',
    note: 'Restart after --ping-restart: nothing heard from the server (server dead or packets dropped).',
  },
  {
    id: 'ovpn_restart_tls',
    type: 'openvpn',
    regex: 'SIG(?:USR1|HUP)\\[[^\\],]*,tls-error\\] received, process restarting',
    restart: 'tls_handshake_failed',
    tunnel: 'down',
    note: 'Restart after a TLS failure (handshake timeout or rejected certificate; the error line before says which).',
  },
  {
    id: 'ovpn_restart_auth',
    type: 'openvpn',
    regex: 'SIG(?:USR1|HUP)\\[[^\\],]*,auth-failure\\] received, process restarting',
    restart: 'auth_failed',
    tunnel: 'down',
    note: 'Restart after AUTH_FAILED (only with --auth-retry; the default is to exit).',
  },
  {
    id: 'ovpn_restart_connection',
    type: 'openvpn',
    regex: 'SIG(?:USR1|HUP)\\[[^\\],]*,connection-(?:reset|failed)\\] received, process restarting',
    restart: 'connection_refused',
    tunnel: 'down',
    note: 'Restart after the TCP connection was refused or reset (no server listening, or the server was killed).',
  },
  {
    id: 'ovpn_restart_network',
    type: 'openvpn',
    regex: 'SIG(?:USR1|HUP)\\[[^\\],]*,network-unreachable\\] received, process restarting',
    restart: 'network_unreachable',
    tunnel: 'down',
    note: 'Restart because the server address has no route.',
  },
  {
    id: 'ovpn_restart_resolve',
    type: 'openvpn',
    regex: 'SIG(?:USR1|HUP)\\[[^\\],]*,Could not determine IPv4/IPv6 protocol\\] received, process restarting',
    restart: 'resolve_failed',
    tunnel: 'down',
    note: 'Restart because the server host name did not resolve.',
  },
  {
    id: 'ovpn_restart_other',
    type: 'openvpn',
    regex: 'SIG(?:USR1|HUP)\\[[^\\]]*\\] received, process restarting',
    restart: 'other',
    tunnel: 'down',
    note: 'Any other restart (server-pushed reset, SIGHUP, ...).',
  },
  {
    id: 'ovpn_exiting',
    type: 'openvpn',
    regex: 'SIG(?:TERM|INT)\\[[^\\]]*\\] received, process exiting',
    tunnel: 'down',
    note: 'The client exits (stopped, or gave up after AUTH_FAILED); counted by the line that caused it.',
  },
  {
    id: 'ovpn_ping_timeout',
    type: 'openvpn',
    regex: 'Inactivity timeout \\(--ping-(?:restart|exit)\\)',
    error: 'ping_timeout',
    tunnel: 'down',
    note: 'Nothing received from the server for --ping-restart seconds: server dead, or packets silently dropped.',
  },
  {
    id: 'ovpn_connection_refused',
    type: 'openvpn',
    regex: 'Connection refused',
    error: 'connection_refused',
    tunnel: 'down',
    note: 'UDP: ICMP port unreachable from the server host (no server listening); TCP: RST on connect.',
  },
  {
    id: 'ovpn_connection_reset',
    type: 'openvpn',
    regex: 'Connection reset, restarting|Connection reset by peer',
    error: 'connection_refused',
    tunnel: 'down',
    note: 'TCP: the server closed or reset the connection (server killed or restarted).',
  },
  {
    id: 'ovpn_network_unreachable',
    type: 'openvpn',
    regex: 'Network is unreachable|No route to host',
    error: 'network_unreachable',
    tunnel: 'down',
    note: 'No route to the server (ENETUNREACH/EHOSTUNREACH): the outer link or hop above is down.',
  },
  {
    id: 'ovpn_network_unreachable_restart',
    type: 'openvpn',
    regex: 'Network unreachable, restarting',
    tunnel: 'down',
    note: 'Follows "Network is unreachable"; counted there.',
  },
  {
    id: 'ovpn_send_blocked',
    type: 'openvpn',
    regex: 'Operation not permitted \\(fd=|failed: Operation not permitted',
    error: 'other',
    tunnel: 'down',
    note: 'The kernel refused to send (EPERM): a local firewall or the kill switch blocks the server endpoint.',
  },
  {
    id: 'ovpn_resolve_failed',
    type: 'openvpn',
    regex: 'RESOLVE: Cannot resolve host address',
    error: 'resolve_failed',
    tunnel: 'down',
    note: 'The server host name does not resolve (DNS down, or the name is wrong).',
  },
  {
    id: 'ovpn_resolve_gave_up',
    type: 'openvpn',
    regex: 'Could not determine IPv4/IPv6 protocol',
    tunnel: 'down',
    note: 'Follows a failed name resolution; counted by the RESOLVE line.',
  },
  {
    id: 'ovpn_tls_key_negotiation',
    type: 'openvpn',
    regex: 'TLS key negotiation failed to occur within [0-9]+ seconds',
    error: 'tls_handshake_failed',
    tunnel: 'down',
    note: 'No TLS handshake within hand-window: packets lost, wrong port/protocol, or tls-auth/tls-crypt key mismatch.',
  },
  {
    id: 'ovpn_tls_handshake_failed',
    type: 'openvpn',
    regex: 'TLS Error: TLS handshake failed',
    note: 'Follows every TLS failure; counted by the line that says why (key negotiation timeout, VERIFY ERROR).',
  },
  {
    id: 'ovpn_certificate_rejected',
    type: 'openvpn',
    regex: 'VERIFY (?:X509NAME |KU |EKU |)ERROR',
    error: 'certificate_rejected',
    tunnel: 'down',
    note: 'The server certificate failed verification (wrong CA, wrong name, expired, wrong key usage).',
  },
  {
    id: 'ovpn_tls_detail',
    type: 'openvpn',
    regex:
      'certificate verify failed|Sent fatal SSL alert|TLS_ERROR: BIO read tls_read_plaintext error|TLS Error: TLS object -> incoming plaintext read error',
    note: 'OpenSSL detail lines of a TLS failure; counted by the VERIFY ERROR or key negotiation line.',
  },
  {
    id: 'ovpn_auth_failed',
    type: 'openvpn',
    regex: 'AUTH: Received control message: AUTH_FAILED',
    error: 'auth_failed',
    tunnel: 'down',
    note: 'The server rejected the username/password (or the auth plugin/script refused the client).',
  },
  {
    id: 'ovpn_fatal',
    type: 'openvpn',
    regex: 'Exiting due to fatal error|Options error:',
    error: 'fatal',
    tunnel: 'down',
    note: 'OpenVPN stops: bad configuration, missing tun device, unreadable key. Fix the config or the pod.',
  },
  // ---------------------------------------------------------------- wireguard-go (LOG_LEVEL=verbose) ---------------
  {
    id: 'wg_handshake_complete',
    type: 'wireguard',
    regex: 'Received handshake response',
    tunnel: 'up',
    handshake: true,
    note: 'A handshake with the server completed: the server is alive and keys are fresh.',
  },
  {
    id: 'wg_keepalive_received',
    type: 'wireguard',
    regex: 'Receiving keepalive packet',
    tunnel: 'up',
    note: 'The server answered: packets flow both ways.',
  },
  {
    id: 'wg_handshake_retry',
    type: 'wireguard',
    regex: 'Handshake did not complete after [0-9]+ seconds',
    error: 'handshake_timeout',
    tunnel: 'down',
    note: 'No handshake response within 5 s: server dead, unreachable, packets dropped, or wrong keys.',
  },
  {
    id: 'wg_handshake_give_up',
    type: 'wireguard',
    regex: 'Handshake did not complete after [0-9]+ attempts, giving up',
    error: 'handshake_timeout',
    tunnel: 'down',
    note: 'wireguard-go stopped retrying (90 s of failed handshakes); it tries again when data is sent.',
  },
  {
    id: 'wg_stopped_hearing',
    type: 'wireguard',
    regex: 'Retrying handshake because we stopped hearing back after [0-9]+ seconds',
    tunnel: 'down',
    note: 'Data sent but nothing came back for 15 s; the handshake timeouts that follow are counted.',
  },
  {
    id: 'wg_send_unreachable',
    type: 'wireguard',
    regex: '[Ff]ailed to send [a-z ]+: .*(?:network is unreachable|no route to host)',
    error: 'network_unreachable',
    tunnel: 'down',
    note: 'No route to the server endpoint: the outer link or hop above is down.',
  },
  {
    id: 'wg_send_refused',
    type: 'wireguard',
    regex: '[Ff]ailed to send [a-z ]+: .*connection refused',
    error: 'connection_refused',
    tunnel: 'down',
    note: 'The server host answered ICMP port unreachable.',
  },
  {
    id: 'wg_resolve_failed',
    type: 'wireguard',
    regex: 'Name or service not known|Temporary failure in name resolution|Name does not resolve',
    error: 'resolve_failed',
    tunnel: 'down',
    note: 'wg setconf could not resolve the Endpoint host name.',
  },
  {
    id: 'wg_send_failed',
    type: 'wireguard',
    regex: '[Ff]ailed to send [a-z ]+: ',
    error: 'other',
    tunnel: 'down',
    note: 'Any other send failure (e.g. "operation not permitted": a local firewall or the kill switch blocks it).',
  },
  {
    id: 'wg_fatal',
    type: 'wireguard',
    regex:
      '^ERROR: .*(?:Failed to create TUN device|Failed to determine TUN device name|UAPI listen error|Failed to open uapi socket file)|Unable to (?:modify|access) interface',
    error: 'fatal',
    tunnel: 'down',
    note: 'wireguard-go could not start (tun device, UAPI socket), or wg could not configure the interface.',
  },
  {
    id: 'wg_device_closing',
    type: 'wireguard',
    regex: 'Device closing|Shutting down',
    tunnel: 'down',
    note: 'wireguard-go is stopping.',
  },
];
