// wireguard-go (LOG_LEVEL=verbose) and `wg` log lines → metric effects. First match wins; rules in ../pattern.ts.
import type { Pattern } from '../pattern.js';

export const WIREGUARD_PATTERNS: readonly Pattern[] = [
  {
    id: 'wg_handshake_complete',
    regex: 'Received handshake response',
    tunnel: 'up',
    handshake: true,
    note: 'A handshake with the server completed: the server is alive and keys are fresh.',
  },
  {
    id: 'wg_keepalive_received',
    regex: 'Receiving keepalive packet',
    tunnel: 'up',
    note: 'The server answered: packets flow both ways.',
  },
  {
    id: 'wg_handshake_retry',
    regex: 'Handshake did not complete after [0-9]+ seconds',
    error: 'handshake_timeout',
    tunnel: 'down',
    note: 'No handshake response within 5 s: server dead, unreachable, packets dropped, or wrong keys.',
  },
  {
    id: 'wg_handshake_give_up',
    regex: 'Handshake did not complete after [0-9]+ attempts, giving up',
    error: 'handshake_timeout',
    tunnel: 'down',
    note: 'wireguard-go stopped retrying (90 s of failed handshakes); it tries again when data is sent.',
  },
  {
    id: 'wg_stopped_hearing',
    regex: 'Retrying handshake because we stopped hearing back after [0-9]+ seconds',
    tunnel: 'down',
    note: 'Data sent but nothing came back for 15 s; the handshake timeouts that follow are counted.',
  },
  {
    id: 'wg_send_unreachable',
    regex: '[Ff]ailed to send [a-z ]+: .*(?:network is unreachable|no route to host)',
    error: 'network_unreachable',
    tunnel: 'down',
    note: 'No route to the server endpoint: the outer link or hop above is down.',
  },
  {
    id: 'wg_send_refused',
    regex: '[Ff]ailed to send [a-z ]+: .*connection refused',
    error: 'connection_refused',
    tunnel: 'down',
    note: 'The server host answered ICMP port unreachable.',
  },
  {
    id: 'wg_resolve_failed',
    regex: 'Name or service not known|Temporary failure in name resolution|Name does not resolve',
    error: 'resolve_failed',
    tunnel: 'down',
    note: 'wg setconf could not resolve the Endpoint host name.',
  },
  {
    id: 'wg_send_failed',
    regex: '[Ff]ailed to send [a-z ]+: ',
    error: 'other',
    tunnel: 'down',
    note: 'Any other send failure (e.g. "operation not permitted": a local firewall or the kill switch blocks it).',
  },
  {
    id: 'wg_fatal',
    regex:
      '^ERROR: .*(?:Failed to create TUN device|Failed to determine TUN device name|UAPI listen error|Failed to open uapi socket file)|Unable to (?:modify|access) interface',
    error: 'fatal',
    tunnel: 'down',
    note: 'wireguard-go could not start (tun device, UAPI socket), or wg could not configure the interface.',
  },
  {
    id: 'wg_device_closing',
    regex: 'Device closing|Shutting down',
    tunnel: 'down',
    note: 'wireguard-go is stopping.',
  },
];
