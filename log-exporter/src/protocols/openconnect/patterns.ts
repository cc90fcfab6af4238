// openconnect 9 (AnyConnect protocol against ocserv or Cisco ASA; GnuTLS) client lines → metric effects, as it prints
// them with --timestamp ("[YYYY-MM-DD HH:MM:SS] ", local time) or without. First match wins; rules in ../pattern.ts.
// One failure prints several lines (e.g. a certificate failure: the verdict, "SSL connection failure", "Failed to open
// HTTPS connection", "Failed to complete authentication"): one counts, the others are matched without effect.
import type { Pattern } from '../pattern.js';

export const OPENCONNECT_PATTERNS: readonly Pattern[] = [
  {
    id: 'oc_configured',
    regex: 'Configured as [0-9a-fA-F.:]+.*, with SSL',
    tunnel: 'up',
    note: 'The tunnel is up: authenticated, CSTP (TLS) connected, addresses configured (DTLS may still be starting).',
  },
  {
    id: 'oc_cstp_dead_peer',
    regex: 'CSTP Dead Peer Detection detected dead peer',
    error: 'ping_timeout',
    tunnel: 'down',
    note: 'Nothing heard on the TLS channel for the DPD interval (--force-dpd): server dead, hung or packets dropped.',
  },
  {
    id: 'oc_dtls_dead_peer',
    regex: 'DTLS Dead Peer Detection detected dead peer',
    note:
      'Only the UDP (DTLS) channel is silent: openconnect carries on over TLS; if the server is gone, the CSTP line ' +
      'follows.',
  },
  {
    id: 'oc_dtls_failed',
    regex: 'DTLS handshake (?:failed|timed out)',
    note: 'DTLS (UDP) is blocked or failing: the tunnel runs over TLS alone (slower, still up).',
  },
  {
    id: 'oc_certificate_rejected',
    regex: 'SSL connection failure: Error in the certificate|SSL connection failure: .*[Cc]ertificate',
    error: 'certificate_rejected',
    tunnel: 'down',
    note:
      'The server certificate failed verification (unknown CA, wrong host name, expired, --servercert pin ' +
      'mismatch); the lines before say why.',
  },
  {
    id: 'oc_certificate_detail',
    regex:
      'Server certificate verify failed: |failed verification\\.$|^Reason: |fingerprint\\(s\\) specified via --servercert match|To trust this server in future|^ +--servercert pin-',
    note: 'Details of a certificate failure; counted by the "SSL connection failure" line that follows.',
  },
  {
    id: 'oc_tls_failed',
    regex: 'SSL connection failure: ',
    error: 'tls_handshake_failed',
    tunnel: 'down',
    note:
      'TLS failed without a certificate verdict: not a TLS server, no common version or cipher, or the server closed ' +
      'the handshake ("Error in the pull function": how ocserv rejects a client certificate, without an alert).',
  },
  {
    id: 'oc_auth_failed',
    regex: '^Login failed\\.',
    error: 'auth_failed',
    tunnel: 'down',
    note: 'The server rejected the username/password.',
  },
  {
    id: 'oc_cookie_rejected',
    regex: 'Cookie is no longer valid',
    error: 'other',
    tunnel: 'down',
    note:
      'The server no longer knows the session (ocserv restarted, session expired or killed): openconnect exits ' +
      '(code 2) and must be started again; it does not log in again by itself.',
  },
  {
    id: 'oc_connect_refused',
    regex: 'Failed to (?:connect to|reconnect to host) [^ ]+: Connection refused',
    error: 'connection_refused',
    tunnel: 'down',
    note: 'Nothing listens on the server port (server down, or killed and the host still answers).',
  },
  {
    id: 'oc_connect_unreachable',
    regex: 'Failed to (?:connect to|reconnect to host) [^ ]+: (?:Network is unreachable|No route to host)',
    error: 'network_unreachable',
    tunnel: 'down',
    note: 'No route to the server: the outer link or the hop above is down.',
  },
  {
    id: 'oc_connect_timeout',
    regex: 'Failed to (?:connect to|reconnect to host) [^ ]+: Connection timed out',
    error: 'handshake_timeout',
    tunnel: 'down',
    note: 'The TCP handshake got no answer: server host gone or packets silently dropped.',
  },
  {
    id: 'oc_reconnect_failed',
    regex: 'Failed to reconnect to host ',
    error: 'other',
    tunnel: 'down',
    note: 'A reconnection attempt failed for another reason (the text after the colon says which).',
  },
  {
    id: 'oc_resolve_failed',
    regex: 'getaddrinfo failed for host ',
    error: 'resolve_failed',
    tunnel: 'down',
    note: 'The server host name does not resolve (DNS down, or the name is wrong).',
  },
  {
    id: 'oc_connection_lost',
    regex: '(?:Read|Write) error on SSL session|Server closed connection|SSL read error|Failed to write to SSL socket',
    error: 'connection_refused',
    tunnel: 'down',
    note: 'The server closed or reset the TLS connection (server killed or restarted); openconnect reconnects by itself.',
  },
  {
    id: 'oc_gave_up',
    regex:
      'Failed to connect to host |Failed to open HTTPS connection to |Failed to complete authentication|Failed to obtain WebVPN cookie|User input required in non-interactive mode|Reconnect failed|sleep [0-9]+s, remaining timeout|Got inappropriate HTTP CONNECT response|Cookie was rejected by server',
    tunnel: 'down',
    note: 'Follows a failure counted on the line before (connect, certificate, TLS, login); or a reconnection wait.',
  },
  {
    id: 'oc_exiting',
    regex:
      'User cancelled \\(SIGINT/SIGTERM\\)|Send BYE packet|Session terminated by server|Unrecoverable I/O error; exiting|Unknown error; exiting',
    tunnel: 'down',
    note: 'The client stops (signal) or the server ended the session.',
  },
  {
    id: 'oc_fatal',
    regex: 'Failed to open tun device|Failed to bind local tun device|Script .* returned error|fgets \\(stdin\\)',
    error: 'fatal',
    tunnel: 'down',
    note: 'openconnect cannot run: no tun device (NET_ADMIN, /dev/net/tun), a failing --script, no password on stdin.',
  },
];
