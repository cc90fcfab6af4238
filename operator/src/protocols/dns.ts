// The resolvers a server config names for its clients (WireGuard's `DNS =`, OpenVPN's own `dhcp-option DNS`): the
// hop that serves DNS to the LAN forwards to them until the server pushes others (images/hop/dns-publish.sh).
// IPv4 only (the gateway's forwarder and the chain's client traffic are IPv4); search domains and IPv6 are skipped.
import { isIP } from 'node:net';

/** The entrypoint variable that carries them (images/hop/entrypoint.sh). */
export const DNS_CONFIGURED_ENV = 'TORCHAIN_DNS_CONFIGURED';
/** As resolv.conf: the forwarder uses at most three. */
export const MAX_RESOLVERS = 3;

/** A resolver address a hop can forward to: IPv4, not unspecified, loopback, multicast or broadcast. */
export function isResolverAddress(value: string): boolean {
  if (isIP(value) !== 4) return false;
  const first = Number(value.split('.')[0]);
  return first !== 0 && first !== 127 && first < 224;
}

/** `{TORCHAIN_DNS_CONFIGURED: "a,b"}` for the usable resolvers among `values` (first three, no repeats), else {}. */
export function dnsEnv(values: readonly string[]): Record<string, string> {
  const kept = [...new Set(values.map((v) => v.trim()).filter(isResolverAddress))].slice(0, MAX_RESOLVERS);
  return kept.length ? { [DNS_CONFIGURED_ENV]: kept.join(',') } : {};
}
