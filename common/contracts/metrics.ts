// The metrics contract (../../docs/architecture.md): names the log-exporter emits and the rules, dashboard and
// benchmarks read. The identity labels are not here: Prometheus attaches them at scrape time (see ./labels.ts).
export const METRICS = {
  tunnelUp: 'torchain_vpn_tunnel_up',
  connectionErrors: 'torchain_vpn_connection_errors_total',
  restarts: 'torchain_vpn_restarts_total',
  lastHandshake: 'torchain_vpn_last_handshake_timestamp_seconds',
  lines: 'torchain_log_exporter_lines_total',
  lastLine: 'torchain_log_exporter_last_line_timestamp_seconds',
  /** DNS for the LAN (the hop with spec.dns): 1 while the gateway's resolver answers a probe through the chain. */
  dnsUp: 'torchain_dns_up',
  /** Queries the gateway's resolver answered or failed (`result`: DNS_RESULTS). */
  dnsQueries: 'torchain_dns_queries_total',
} as const;

/**
 * The `result` label of METRICS.dnsQueries: answered (NOERROR, NXDOMAIN: the exit's resolver said something) or
 * failed (SERVFAIL, REFUSED and the like, or no answer at all). Both initialised to 0.
 */
export const DNS_RESULTS = ['answered', 'failed'] as const;
export type DnsResult = (typeof DNS_RESULTS)[number];

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
