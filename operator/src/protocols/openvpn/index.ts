// OpenVPN 2.6 client configs (.ovpn, certificates inline). The hop runs the config with exactly one `remote` — the
// endpoint the kill switch admits — and without what the hop decides itself.
import { endpointOf, IP_HEADER, transportHeader, vaultEndpointOf, type EndpointResult } from '../endpoint.js';
import { dnsEnv } from '../dns.js';
import type { Prepared, ProtocolModule, Transport } from '../types.js';

/**
 * Data channel with an AEAD cipher (AES-256-GCM, AES-128-GCM, CHACHA20-POLY1305 — OpenVPN 2.6's default
 * data-ciphers): P_DATA_V2 opcode + peer id 4, packet id 4, tag 16. No compression framing. CBC ciphers (legacy)
 * cost more and vary with padding: such a hop needs the spec.mtu override.
 */
export const OPENVPN_AEAD_DATA_HEADER = 24;
/** Over TCP every packet carries a 2-byte length prefix. */
export const OPENVPN_TCP_LENGTH_PREFIX = 2;

/** Directives the hop decides itself (device, MTU, server, routes, scripts, logging, privileges): dropped. */
const DROPPED = new Set([
  'remote',
  'proto',
  'port',
  'rport',
  'dev',
  'dev-type',
  'dev-node',
  'tun-mtu',
  'link-mtu',
  'daemon',
  'log',
  'log-append',
  'syslog',
  'redirect-gateway',
  'route',
  'route-ipv6',
  'up',
  'down',
  'route-up',
  'route-pre-down',
  'ipchange',
  'script-security',
  'writepid',
  'user',
  'group',
  'chroot',
  'management',
  'remote-random',
  'remote-random-hostname',
  'persist-tun',
  // Programs OpenVPN would run: the hop that serves DNS runs with --script-security 2 for its own --up script, so
  // no script of the config may come along (on the other hops --script-security 1 refuses them anyway).
  'tls-verify',
  'auth-user-pass-verify',
  'client-connect',
  'client-disconnect',
  'learn-address',
  'tls-crypt-v2-verify',
  'plugin',
]);

interface Line {
  text: string;
  /** First word, for directive lines outside inline blocks. */
  directive?: string;
  args: string[];
}

/** The config's lines; the contents of inline blocks (<ca>…</ca>) are passed through and never read as directives. */
function lines(config: string): Line[] | { error: string } {
  const out: Line[] = [];
  let block: string | undefined;
  for (const raw of config.split(/\r?\n/)) {
    const text = raw;
    const trimmed = raw.trim();
    if (block) {
      out.push({ text, args: [] });
      if (trimmed.toLowerCase() === `</${block}>`) block = undefined;
      continue;
    }
    const open = /^<([A-Za-z0-9-]+)>$/.exec(trimmed);
    if (open) {
      block = open[1]!.toLowerCase();
      if (block === 'connection')
        return {
          error: 'OpenVPN config uses <connection> blocks; give one server per config (one pool entry per server)',
        };
      out.push({ text, args: [] });
      continue;
    }
    if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      out.push({ text, args: [] });
      continue;
    }
    const [directive, ...args] = trimmed.replace(/^--/, '').split(/\s+/);
    out.push({ text, directive: directive!.toLowerCase(), args });
  }
  if (block) return { error: `OpenVPN config: <${block}> is never closed` };
  return out;
}

function transportOf(value: string | undefined): Transport | undefined {
  if (value === undefined) return undefined;
  if (/^udp[46]?$/.test(value)) return 'udp';
  if (/^tcp[46]?(-client)?$/.test(value)) return 'tcp';
  return undefined;
}

export const openvpn: ProtocolModule = {
  name: 'openvpn',
  transports: ['udp', 'tcp'],
  interfacePrefix: 'tun',
  defaultConfigFileName: () => 'client.ovpn',
  overhead(transport, family) {
    const framing = transport === 'tcp' ? OPENVPN_TCP_LENGTH_PREFIX : 0;
    return IP_HEADER[family] + transportHeader(transport) + framing + OPENVPN_AEAD_DATA_HEADER;
  },
  prepare(config, vaultEndpoint): Prepared {
    const parsed = lines(config);
    if ('error' in parsed) return { ok: false, error: parsed.error };
    let remote: string[] | undefined;
    let port = '1194';
    let proto: Transport = 'udp';
    const has = new Set<string>();
    const resolvers: string[] = [];
    for (const l of parsed) {
      if (!l.directive) continue;
      has.add(l.directive);
      if (l.directive === 'dhcp-option' && l.args[0]?.toUpperCase() === 'DNS' && l.args[1]) resolvers.push(l.args[1]);
      if (l.directive === 'remote' && !remote) remote = l.args;
      else if ((l.directive === 'port' || l.directive === 'rport') && l.args[0]) port = l.args[0];
      else if (l.directive === 'proto') {
        const p = transportOf(l.args[0]);
        if (!p)
          return {
            ok: false,
            error: `OpenVPN config: unsupported "proto ${l.args[0] ?? ''}" (udp, tcp or tcp-client)`,
          };
        proto = p;
      }
    }
    if (remote?.[2] !== undefined) {
      const p = transportOf(remote[2]);
      if (!p) return { ok: false, error: `OpenVPN config: unsupported protocol "${remote[2]}" on the remote line` };
      proto = p;
    }
    let ep: EndpointResult;
    if (vaultEndpoint) ep = vaultEndpointOf(vaultEndpoint);
    else if (!remote?.[0])
      return { ok: false, error: 'OpenVPN config has no "remote" line: add one or set "endpoint" in Vault' };
    else ep = endpointOf(remote[0], remote[1] ?? port, 'OpenVPN config "remote"');
    if (!ep.ok) return ep;
    const e = ep.value;

    const run = parsed.filter((l) => !l.directive || !DROPPED.has(l.directive)).map((l) => l.text);
    while (run.length && run[run.length - 1]!.trim() === '') run.pop();
    run.push(
      '# torchain: the server is the endpoint the hop kill switch admits',
      `remote ${e.address} ${String(e.port)}`,
      `proto ${proto === 'udp' ? 'udp' : 'tcp-client'}`,
    );
    // OpenVPN's own default ping-restart is 120 s: detect a dead server fast unless the config (or a server push) says.
    if (!['ping', 'ping-restart', 'keepalive', 'ping-exit', 'inactive'].some((d) => has.has(d)))
      run.push('ping 5', 'ping-restart 15');
    if (!has.has('verb')) run.push('verb 3');
    if (proto === 'tcp' && !has.has('connect-retry')) run.push('connect-retry 1 5');
    return {
      ok: true,
      value: {
        ...e,
        proto,
        protos: [proto],
        runConfig: run.join('\n') + '\n',
        companions: {},
        env: dnsEnv(resolvers),
      },
    };
  },
};
