// What the hop entrypoint needs to know about a server besides its config file: the endpoint (for the route and the
// kill switch, which must name an address) and the transport. Parsed from the config unless the Vault entry says.
import { isIP } from 'node:net';
import type { HopType } from '../api/torchain.js';

export interface ServerEndpoint {
  /** host:port with an IP literal; IPv6 in brackets ([fd00::1]:51820). */
  endpoint: string;
  address: string;
  port: number;
  proto: 'udp' | 'tcp';
  family: 'ipv4' | 'ipv6';
}

export type EndpointResult = { ok: true; value: ServerEndpoint } | { ok: false; error: string };

function fail(error: string): EndpointResult {
  return { ok: false, error };
}

/** Splits "host:port" or "[v6]:port". */
export function splitHostPort(value: string): { host: string; port: string } | undefined {
  const v = value.trim();
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(v);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2]! };
  const idx = v.lastIndexOf(':');
  if (idx <= 0) return undefined;
  const host = v.slice(0, idx);
  if (host.includes(':')) return undefined; // an unbracketed IPv6 address is ambiguous
  return { host, port: v.slice(idx + 1) };
}

function build(host: string, portText: string, proto: 'udp' | 'tcp', where: string): EndpointResult {
  const family = isIP(host);
  if (family === 0)
    return fail(
      `${where}: server host ${JSON.stringify(host)} is not an IP address; the kill switch needs an address: ` +
        'set "endpoint" (address:port) in the Vault entry',
    );
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
    return fail(`${where}: port ${JSON.stringify(portText)} is not a port number (1-65535)`);
  const port = Number(portText);
  return {
    ok: true,
    value: {
      endpoint: family === 6 ? `[${host}]:${String(port)}` : `${host}:${String(port)}`,
      address: host,
      port,
      proto,
      family: family === 6 ? 'ipv6' : 'ipv4',
    },
  };
}

function configLines(config: string): string[][] {
  return config
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith(';'))
    .map((l) => l.split(/\s+/));
}

function openvpnProto(value: string | undefined): 'udp' | 'tcp' | undefined {
  if (value === undefined) return undefined;
  if (/^udp[46]?$/.test(value)) return 'udp';
  if (/^tcp[46]?(-client)?$/.test(value)) return 'tcp';
  return undefined;
}

/** The transport of the first remote: its own protocol word, else the `proto` directive, else udp. */
function openvpnTransport(config: string): 'udp' | 'tcp' {
  let proto: 'udp' | 'tcp' = 'udp';
  let remoteProto: 'udp' | 'tcp' | undefined;
  let seenRemote = false;
  for (const words of configLines(config)) {
    if (words[0] === 'proto') proto = openvpnProto(words[1]) ?? proto;
    if (words[0] === 'remote' && !seenRemote) {
      seenRemote = true;
      remoteProto = openvpnProto(words[3]);
    }
  }
  return remoteProto ?? proto;
}

/** The first `remote` of an OpenVPN client config, with `port`/`rport`/`proto` defaults as openvpn applies them. */
export function parseOpenvpnEndpoint(config: string): EndpointResult {
  let remote: string[] | undefined;
  let port = '1194';
  let proto: 'udp' | 'tcp' = 'udp';
  for (const words of configLines(config)) {
    const [directive, ...args] = words;
    if (directive === 'remote' && !remote) remote = args;
    else if ((directive === 'port' || directive === 'rport') && args[0]) port = args[0];
    else if (directive === 'proto') {
      const p = openvpnProto(args[0]);
      if (!p) return fail(`OpenVPN config: unsupported "proto ${args[0] ?? ''}" (udp, tcp or tcp-client)`);
      proto = p;
    }
  }
  if (!remote || !remote[0]) return fail('OpenVPN config has no "remote" line: add one or set "endpoint" in Vault');
  const remoteProto = openvpnProto(remote[2]);
  if (remote[2] !== undefined && !remoteProto)
    return fail(`OpenVPN config: unsupported protocol "${remote[2]}" on the remote line`);
  return build(remote[0], remote[1] ?? port, remoteProto ?? proto, 'OpenVPN config "remote"');
}

/** The first `Endpoint` of a WireGuard config ([Peer] section); WireGuard always runs over UDP. */
export function parseWireguardEndpoint(config: string): EndpointResult {
  for (const line of config.split(/\r?\n/)) {
    const m = /^\s*Endpoint\s*=\s*(\S+)\s*$/i.exec(line);
    if (!m) continue;
    const hp = splitHostPort(m[1]!);
    if (!hp) return fail(`WireGuard config: Endpoint ${JSON.stringify(m[1])} is not host:port`);
    return build(hp.host, hp.port, 'udp', 'WireGuard config "Endpoint"');
  }
  return fail('WireGuard config has no "Endpoint" line: add one or set "endpoint" in Vault');
}

/**
 * The endpoint of a pool entry: `endpoint` from Vault when present (address:port), else parsed from the config.
 * The transport always comes from the config (WireGuard: udp).
 */
export function serverEndpoint(type: HopType, config: string, vaultEndpoint?: string): EndpointResult {
  const parsed = type === 'openvpn' ? parseOpenvpnEndpoint(config) : parseWireguardEndpoint(config);
  if (vaultEndpoint === undefined || vaultEndpoint === '') return parsed;
  // Only the transport comes from the config here; a hostname in `remote` is fine when Vault names the address.
  const proto = type === 'openvpn' ? openvpnTransport(config) : 'udp';
  const hp = splitHostPort(vaultEndpoint);
  if (!hp) return fail(`Vault "endpoint" ${JSON.stringify(vaultEndpoint)} is not address:port`);
  return build(hp.host, hp.port, proto, 'Vault "endpoint"');
}
