// OpenVPN 2.6 client log lines (any of its three timestamp formats) → metric effects. First match wins, so specific
// entries come before general ones; the rules for entries are in ../pattern.ts.
import type { Pattern } from '../pattern.js';

export const OPENVPN_PATTERNS: readonly Pattern[] = [
  {
    id: 'ovpn_init_complete',
    regex: 'Initialization Sequence Completed',
    tunnel: 'up',
    note: 'The tunnel is up: TLS done, options pushed, tun device configured.',
  },
  {
    id: 'ovpn_restart_ping',
    regex: 'SIG(?:USR1|HUP)\\[[^\\],]*,ping-restart\\] received, process restarting',
    restart: 'ping_timeout',
    tunnel: 'down',
    note: 'Restart after --ping-restart: nothing heard from the server (server dead or packets dropped).',
  },
  {
    id: 'ovpn_restart_tls',
    regex: 'SIG(?:USR1|HUP)\\[[^\\],]*,tls-error\\] received, process restarting',
    restart: 'tls_handshake_failed',
    tunnel: 'down',
    note: 'Restart after a TLS failure (handshake timeout or rejected certificate; the error line before says which).',
  },
  {
    id: 'ovpn_restart_auth',
    regex: 'SIG(?:USR1|HUP)\\[[^\\],]*,auth-failure\\] received, process restarting',
    restart: 'auth_failed',
    tunnel: 'down',
    note: 'Restart after AUTH_FAILED (only with --auth-retry; the default is to exit).',
  },
  {
    id: 'ovpn_restart_connection',
    regex: 'SIG(?:USR1|HUP)\\[[^\\],]*,connection-(?:reset|failed)\\] received, process restarting',
    restart: 'connection_refused',
    tunnel: 'down',
    note: 'Restart after the TCP connection was refused or reset (no server listening, or the server was killed).',
  },
  {
    id: 'ovpn_restart_network',
    regex: 'SIG(?:USR1|HUP)\\[[^\\],]*,network-unreachable\\] received, process restarting',
    restart: 'network_unreachable',
    tunnel: 'down',
    note: 'Restart because the server address has no route.',
  },
  {
    id: 'ovpn_restart_resolve',
    regex: 'SIG(?:USR1|HUP)\\[[^\\],]*,Could not determine IPv4/IPv6 protocol\\] received, process restarting',
    restart: 'resolve_failed',
    tunnel: 'down',
    note: 'Restart because the server host name did not resolve.',
  },
  {
    id: 'ovpn_restart_other',
    regex: 'SIG(?:USR1|HUP)\\[[^\\]]*\\] received, process restarting',
    restart: 'other',
    tunnel: 'down',
    note: 'Any other restart (server-pushed reset, SIGHUP, ...).',
  },
  {
    id: 'ovpn_exiting',
    regex: 'SIG(?:TERM|INT)\\[[^\\]]*\\] received, process exiting',
    tunnel: 'down',
    note: 'The client exits (stopped, or gave up after AUTH_FAILED); counted by the line that caused it.',
  },
  {
    id: 'ovpn_handshake_inactivity',
    regex: '\\[UNDEF\\] Inactivity timeout \\(--ping-(?:restart|exit)\\)',
    error: 'tls_handshake_failed',
    tunnel: 'down',
    note:
      'ping-restart fired before the TLS handshake completed (no peer name yet, [UNDEF]): the server took the first ' +
      'packet but never finished TLS. A UDP server drops a handshake it refuses (TLS version, cipher, our ' +
      'certificate) without telling the client, so this is all the client sees of it.',
  },
  {
    id: 'ovpn_ping_timeout',
    regex: 'Inactivity timeout \\(--ping-(?:restart|exit)\\)',
    error: 'ping_timeout',
    tunnel: 'down',
    note: 'Nothing received from the server for --ping-restart seconds: server dead, or packets silently dropped.',
  },
  {
    id: 'ovpn_connection_refused',
    regex: 'Connection refused',
    error: 'connection_refused',
    tunnel: 'down',
    note: 'UDP: ICMP port unreachable from the server host (no server listening); TCP: RST on connect.',
  },
  {
    id: 'ovpn_connection_reset',
    regex: 'Connection reset, restarting|Connection reset by peer',
    error: 'connection_refused',
    tunnel: 'down',
    note: 'TCP: the server closed or reset the connection (server killed or restarted).',
  },
  {
    id: 'ovpn_network_unreachable',
    regex: 'Network is unreachable|No route to host',
    error: 'network_unreachable',
    tunnel: 'down',
    note: 'No route to the server (ENETUNREACH/EHOSTUNREACH): the outer link or hop above is down.',
  },
  {
    id: 'ovpn_network_unreachable_restart',
    regex: 'Network unreachable, restarting',
    tunnel: 'down',
    note: 'Follows "Network is unreachable"; counted there.',
  },
  {
    id: 'ovpn_send_blocked',
    regex: 'Operation not permitted \\(fd=|failed: Operation not permitted',
    error: 'other',
    tunnel: 'down',
    note: 'The kernel refused to send (EPERM): a local firewall or the kill switch blocks the server endpoint.',
  },
  {
    id: 'ovpn_resolve_failed',
    regex: 'RESOLVE: Cannot resolve host address',
    error: 'resolve_failed',
    tunnel: 'down',
    note: 'The server host name does not resolve (DNS down, or the name is wrong).',
  },
  {
    id: 'ovpn_resolve_gave_up',
    regex: 'Could not determine IPv4/IPv6 protocol',
    tunnel: 'down',
    note: 'Follows a failed name resolution; counted by the RESOLVE line.',
  },
  {
    id: 'ovpn_tls_key_negotiation',
    regex: 'TLS key negotiation failed to occur within [0-9]+ seconds',
    error: 'tls_handshake_failed',
    tunnel: 'down',
    note: 'No TLS handshake within hand-window: packets lost, wrong port/protocol, or tls-auth/tls-crypt key mismatch.',
  },
  {
    id: 'ovpn_tls_handshake_failed',
    regex: 'TLS Error: TLS handshake failed',
    note: 'Follows every TLS failure; counted by the line that says why (OpenSSL error, key negotiation timeout).',
  },
  {
    id: 'ovpn_certificate_verdict',
    regex:
      'VERIFY (?:X509NAME |KU |EKU |SCRIPT |)ERROR|certificate hash verification failed|Sent fatal SSL alert|TLS_ERROR: BIO read tls_read_plaintext error|TLS Error: TLS object -> incoming plaintext read error',
    tunnel: 'down',
    note:
      'Why the TLS handshake failed (CA chain, --verify-x509-name, --remote-cert-tls, --peer-fingerprint, ' +
      '--tls-verify script, expiry) and its echoes; counted once by the OpenSSL error line that follows.',
  },
  {
    id: 'ovpn_certificate_rejected',
    regex:
      'OpenSSL: error:[0-9A-Fa-f]+:SSL routines:[^:]*:(?:certificate verify failed|[a-z0-9]+ alert (?:unknown ca|bad certificate|certificate (?:expired|revoked|unknown|required)|unsupported certificate))',
    error: 'certificate_rejected',
    tunnel: 'down',
    note:
      'A certificate was rejected: ours of the server (every verification mode ends in "certificate verify failed"; ' +
      'the VERIFY line before says which), or the server told us it rejected ours (TLS alert).',
  },
  {
    id: 'ovpn_tls_error',
    regex: 'OpenSSL: error:',
    error: 'tls_handshake_failed',
    tunnel: 'down',
    note: 'TLS failed without a certificate verdict: no common TLS version or cipher, a peer that does not speak TLS.',
  },
  {
    id: 'ovpn_not_openvpn',
    regex: 'Bad encapsulated packet length from peer',
    error: 'tls_handshake_failed',
    tunnel: 'down',
    note: 'TCP: the server sent something that is not OpenVPN (not TLS at all); OpenVPN resets and retries.',
  },
  {
    id: 'ovpn_auth_failed',
    regex: 'AUTH: Received control message: AUTH_FAILED',
    error: 'auth_failed',
    tunnel: 'down',
    note: 'The server rejected the username/password (or the auth plugin/script refused the client).',
  },
  {
    id: 'ovpn_fatal',
    regex: 'Exiting due to fatal error|Options error:',
    error: 'fatal',
    tunnel: 'down',
    note: 'OpenVPN stops: bad configuration, missing tun device, unreadable key. Fix the config or the pod.',
  },
];
