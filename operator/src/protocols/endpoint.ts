// Server endpoints as the kill switch needs them: an IP literal and a port, never a host name (no DNS before the
// tunnel). Shared by the protocol modules.
import { isIP } from 'node:net';
import type { Family, Transport } from './types.js';

export interface Endpoint {
  endpoint: string;
  address: string;
  port: number;
  family: Family;
}

export type EndpointResult = { ok: true; value: Endpoint } | { ok: false; error: string };

/** Splits "host:port" or "[v6]:port"; an unbracketed IPv6 address is ambiguous and refused. */
export function splitHostPort(value: string): { host: string; port: string } | undefined {
  const v = value.trim();
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(v);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2]! };
  const idx = v.lastIndexOf(':');
  if (idx <= 0) return undefined;
  const host = v.slice(0, idx);
  if (host.includes(':')) return undefined;
  return { host, port: v.slice(idx + 1) };
}

export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${String(port)}` : `${address}:${String(port)}`;
}

/** An endpoint from a host and a port text; `where` names the source in errors. */
export function endpointOf(host: string, portText: string, where: string): EndpointResult {
  const family = isIP(host);
  if (family === 0)
    return {
      ok: false,
      error:
        `${where}: server host ${JSON.stringify(host)} is not an IP address; the kill switch needs an address: ` +
        'set "endpoint" (address:port) in the Vault entry',
    };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
    return { ok: false, error: `${where}: port ${JSON.stringify(portText)} is not a port number (1-65535)` };
  const port = Number(portText);
  return {
    ok: true,
    value: { endpoint: formatEndpoint(host, port), address: host, port, family: family === 6 ? 'ipv6' : 'ipv4' },
  };
}

/** The Vault entry's `endpoint` (address:port), which wins over what the config names. */
export function vaultEndpointOf(vaultEndpoint: string): EndpointResult {
  const hp = splitHostPort(vaultEndpoint);
  if (!hp) return { ok: false, error: `Vault "endpoint" ${JSON.stringify(vaultEndpoint)} is not address:port` };
  return endpointOf(hp.host, hp.port, 'Vault "endpoint"');
}

/** Outer IP header. */
export const IP_HEADER: Record<Family, number> = { ipv4: 20, ipv6: 40 };
export const UDP_HEADER = 8;
/** TCP header with the timestamp option Linux puts on every segment (20 + 12). */
export const TCP_HEADER_WITH_TIMESTAMPS = 32;

export const transportHeader = (t: Transport): number => (t === 'udp' ? UDP_HEADER : TCP_HEADER_WITH_TIMESTAMPS);
