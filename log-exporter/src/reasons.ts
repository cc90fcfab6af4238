// Log types the exporter parses. The reason label values are part of the metrics contract: common/contracts/metrics.ts.
export const LOG_TYPES = ['openvpn', 'wireguard'] as const;
export type LogType = (typeof LOG_TYPES)[number];

export function isLogType(value: string): value is LogType {
  return (LOG_TYPES as readonly string[]).includes(value);
}
