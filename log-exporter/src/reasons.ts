// The reason label values of the metrics contract (docs/architecture.md, ../shared/design.md). Every one is initialised
// to 0 at start, so Prometheus' increase() sees the first failure after a restart.
export const REASONS = [
  'connection_refused',
  'network_unreachable',
  'resolve_failed',
  'tls_handshake_failed',
  'certificate_rejected',
  'auth_failed',
  'ping_timeout',
  'handshake_timeout',
  'probe_failed',
  'fatal',
  'other',
] as const;
export type Reason = (typeof REASONS)[number];

export const LOG_TYPES = ['openvpn', 'wireguard'] as const;
export type LogType = (typeof LOG_TYPES)[number];

export function isLogType(value: string): value is LogType {
  return (LOG_TYPES as readonly string[]).includes(value);
}
