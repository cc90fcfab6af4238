// A hop's server pool in Vault (design "Vault layout"): KV v2 entries at
// <mount>/<prefix>/<namespace>/<chain>/hop-<k>/<server>, each holding `config` (the whole .ovpn or WireGuard .conf)
// and optionally `endpoint` (host:port with an IP literal, for the kill switch) and `probe` (an IPv4 host:port reached
// through the tunnel, which the log-exporter probes; a closed port answers too). The reconciler lists the folder and
// reads only the entry it picks (core/server-choice.ts), checking it with parsePoolEntry.
import { isIP } from 'node:net';

export interface PoolServer {
  /** Entry name: the last path segment. */
  name: string;
  config: string;
  /** host:port, present only when the entry sets it. */
  endpoint?: string;
  /** IPv4 host:port the exporter probes through the tunnel, present only when the entry sets it. */
  probe?: string;
  /** KV version read, so a caller can tell when an entry changed. */
  version: number;
}

export interface HopRef {
  /** TORCHAIN_POOL_PREFIX, default "torchain". */
  prefix?: string;
  namespace: string;
  chain: string;
  hop: number;
  /** TorChain spec.poolPath: replaces the whole default path when set. */
  poolPath?: string;
}

/** The pool folder of a hop, relative to the KV mount. */
export function hopPoolPath(ref: HopRef): string {
  if (ref.poolPath) return ref.poolPath.replace(/^\/+|\/+$/g, '');
  if (!Number.isInteger(ref.hop) || ref.hop < 1) throw new Error(`hop number must be an integer >= 1, got ${ref.hop}`);
  const prefix = (ref.prefix ?? 'torchain').replace(/^\/+|\/+$/g, '');
  return [prefix, ref.namespace, ref.chain, `hop-${ref.hop}`].filter(Boolean).join('/');
}

/** "1.2.3.4:1194" or "[2001:db8::1]:51820"; an IP literal so the kill switch can allow exactly that address. */
export function parseEndpoint(value: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(value.trim());
  if (!m) return undefined;
  const host = (m[1] ?? m[2]) as string;
  const port = Number(m[3]);
  const family = isIP(host);
  if (family === 0 || (m[1] !== undefined && family !== 6) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** Checks one entry's data; returns the server or the reason it cannot be used. */
export function parsePoolEntry(
  name: string,
  data: Record<string, unknown>,
  version: number,
): { server: PoolServer } | { reason: string } {
  const config = data.config;
  if (typeof config !== 'string' || config.trim() === '') {
    return { reason: 'key "config" is missing or empty: store the whole VPN config file under "config"' };
  }
  const server: PoolServer = { name, config, version };
  if (data.endpoint !== undefined) {
    if (typeof data.endpoint !== 'string' || !parseEndpoint(data.endpoint)) {
      return {
        reason: `key "endpoint" is ${JSON.stringify(data.endpoint)}: expected host:port with an IPv4 or [IPv6] literal, e.g. 192.0.2.10:1194`,
      };
    }
    server.endpoint = data.endpoint.trim();
  }
  if (data.probe !== undefined) {
    const probe = typeof data.probe === 'string' ? parseEndpoint(data.probe) : undefined;
    if (!probe || isIP(probe.host) !== 4) {
      return {
        reason: `key "probe" is ${JSON.stringify(data.probe)}: expected an IPv4 host:port reached through the tunnel, e.g. 10.8.0.1:53`,
      };
    }
    server.probe = (data.probe as string).trim();
  }
  return { server };
}
