// The metrics contract (../../docs/architecture.md): names the log-exporter emits and the rules, dashboard and
// benchmarks read. The identity labels are not here: Prometheus attaches them at scrape time (see ./labels.ts).
export const METRICS = {
  tunnelUp: 'torchain_vpn_tunnel_up',
  connectionErrors: 'torchain_vpn_connection_errors_total',
  restarts: 'torchain_vpn_restarts_total',
  lastHandshake: 'torchain_vpn_last_handshake_timestamp_seconds',
  lines: 'torchain_log_exporter_lines_total',
  lastLine: 'torchain_log_exporter_last_line_timestamp_seconds',
} as const;

/** The `reason` label values. Every one is initialised to 0 at start, so increase() sees the first failure. */
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
