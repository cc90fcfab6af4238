// The protocol registry: the one list of VPN protocols a hop can run. Every component that must know protocols keeps
// one module per protocol (operator, log-exporter, hop entrypoint, chart, alerting, lab) in a map typed over
// `Protocol`, so adding a name here makes the type checker list every place that still lacks its module.
export const PROTOCOLS = ['openvpn', 'wireguard', 'openconnect'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export function isProtocol(value: string): value is Protocol {
  return (PROTOCOLS as readonly string[]).includes(value);
}
