// OpenConnect (the AnyConnect protocol, as ocserv and Cisco servers speak it). A pool entry's `config` is an
// openconnect `--config` file — one long option per line, `name = value` or `name value`, `#` comments — that must
// name the `server` URL and pin its certificate (`servercert pin-sha256:…`), plus two inline blocks for the
// secrets: `<cert>` (client certificate and its key, PEM) and `<password>`. The hop gets the options without the
// secrets (they become companion files of the Secret), without what the hop decides itself, and with the server
// pinned to the endpoint the kill switch admits (`resolve` when the URL names a host).
import { isIP } from 'node:net';
import {
  endpointOf,
  formatEndpoint,
  IP_HEADER,
  transportHeader,
  vaultEndpointOf,
  type EndpointResult,
} from '../endpoint.js';
import type { Prepared, ProtocolModule } from '../types.js';

/** DTLS 1.2 record with AES-GCM: header 13, explicit nonce 8, tag 16; plus the 1-byte CSTP packet type. */
export const OPENCONNECT_DTLS_HEADER = 38;
/** TLS 1.2 record with AES-GCM: header 5, explicit nonce 8, tag 16; plus the 8-byte CSTP header. */
export const OPENCONNECT_TLS_HEADER = 37;
/** Dead peer detection interval (s) when the entry sets none: a dead server is seen within about two of them. */
export const DEFAULT_DPD_SECONDS = 2;

/** Options the hop decides itself (device, script, MTU, name resolution, non-interactive auth, daemon, logging). */
const DROPPED = new Set([
  'interface',
  'script',
  'script-tun',
  'background',
  'pid-file',
  'setuid',
  'syslog',
  'timestamp',
  'mtu',
  'base-mtu',
  'resolve',
  'non-inter',
  'passwd-on-stdin',
  'certificate',
  'sslkey',
  'cookie',
  'cookie-on-stdin',
  'authenticate',
  'cookieonly',
  'printcookie',
  'config',
  'csd-wrapper',
  'csd-user',
  'external-browser',
]);
const PIN = /^(pin-sha256:[A-Za-z0-9+/]{43}=|sha256:[0-9A-Fa-f]{64}|sha1:[0-9A-Fa-f]{40})$/;

interface Option {
  name: string;
  value: string;
}

type Parsed = { options: Option[]; blocks: Record<string, string> } | { error: string };

function parse(config: string): Parsed {
  const options: Option[] = [];
  const blocks: Record<string, string> = {};
  let block: { name: string; lines: string[] } | undefined;
  for (const raw of config.split(/\r?\n/)) {
    const line = raw.trim();
    if (block) {
      if (line === `</${block.name}>`) {
        blocks[block.name] = block.lines.join('\n');
        block = undefined;
      } else block.lines.push(line);
      continue;
    }
    const open = /^<([a-z]+)>$/.exec(line);
    if (open) {
      if (open[1] !== 'cert' && open[1] !== 'password')
        return { error: `OpenConnect config: unknown block <${open[1]!}> (use <cert> and <password>)` };
      if (blocks[open[1]!] !== undefined) return { error: `OpenConnect config: <${open[1]!}> given twice` };
      block = { name: open[1]!, lines: [] };
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const m = /^-{0,2}([a-z0-9-]+)\s*(?:[=\s]\s*(.*))?$/.exec(line);
    if (!m) return { error: `OpenConnect config: line ${JSON.stringify(line)} is not "option = value"` };
    options.push({ name: m[1]!, value: (m[2] ?? '').trim() });
  }
  if (block) return { error: `OpenConnect config: <${block.name}> is never closed` };
  return { options, blocks };
}

export const openconnect: ProtocolModule = {
  name: 'openconnect',
  transports: ['udp', 'tcp'],
  interfacePrefix: 'oc',
  defaultConfigFileName: () => 'openconnect.conf',
  overhead: (transport, family) =>
    IP_HEADER[family] +
    transportHeader(transport) +
    (transport === 'udp' ? OPENCONNECT_DTLS_HEADER : OPENCONNECT_TLS_HEADER),
  prepare(config, vaultEndpoint): Prepared {
    const parsed = parse(config);
    if ('error' in parsed) return { ok: false, error: parsed.error };
    const { options, blocks } = parsed;
    const one = (name: string) => options.filter((o) => o.name === name).map((o) => o.value);
    const [serverText, ...moreServers] = one('server');
    if (!serverText) return { ok: false, error: 'OpenConnect config has no "server = https://…" line' };
    if (moreServers.length)
      return { ok: false, error: 'OpenConnect config names more than one server; give one per pool entry' };
    let url: URL;
    try {
      url = new URL(serverText.includes('://') ? serverText : `https://${serverText}`);
    } catch {
      return { ok: false, error: `OpenConnect config: server ${JSON.stringify(serverText)} is not a URL` };
    }
    if (url.protocol !== 'https:')
      return { ok: false, error: `OpenConnect config: server ${JSON.stringify(serverText)} must be an https:// URL` };
    const protocol = one('protocol')[0] ?? 'anyconnect';
    if (protocol !== 'anyconnect')
      return {
        ok: false,
        error: `OpenConnect config: protocol ${protocol} is not supported; torchain runs the anyconnect protocol (ocserv, Cisco)`,
      };
    const pin = one('servercert');
    if (pin.length !== 1 || !PIN.test(pin[0]!))
      return {
        ok: false,
        error:
          'OpenConnect config must pin the server certificate with one "servercert = pin-sha256:<base64 of the SPKI sha256>" line',
      };
    const cert = blocks.cert;
    if (
      cert !== undefined &&
      !(/-----BEGIN CERTIFICATE-----/.test(cert) && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(cert))
    )
      return {
        ok: false,
        error: 'OpenConnect config: <cert> must hold the client certificate and its private key (PEM)',
      };
    const password = blocks.password;
    if (password !== undefined && (password.includes('\n') || password === ''))
      return { ok: false, error: 'OpenConnect config: <password> must hold one line' };
    if (cert === undefined && password === undefined)
      return {
        ok: false,
        error: 'OpenConnect config has no credentials: add a <cert> block, or "user" and a <password> block',
      };

    const host = url.hostname.replace(/^\[|\]$/g, '');
    const urlPort = url.port || '443';
    let ep: EndpointResult;
    if (vaultEndpoint) ep = vaultEndpointOf(vaultEndpoint);
    else ep = endpointOf(host, urlPort, 'OpenConnect config "server"');
    if (!ep.ok) return ep;
    const e = ep.value;
    // The client must go exactly where the kill switch lets it: a literal URL host becomes the endpoint; a host name
    // stays (TLS and the HTTP Host header use it) and resolves to the endpoint's address.
    const resolve = isIP(host) ? undefined : `${host}:${e.address}`;
    url.hostname = isIP(host) ? (e.family === 'ipv6' ? `[${e.address}]` : e.address) : host;
    url.port = String(e.port);
    const dtls = !options.some((o) => o.name === 'no-dtls');

    const run = ['# torchain: the server is the endpoint the hop kill switch admits', `server = ${url.href}`];
    if (resolve) run.push(`resolve = ${resolve}`);
    for (const o of options)
      if (o.name !== 'server' && !DROPPED.has(o.name)) run.push(o.value ? `${o.name} = ${o.value}` : o.name);
    if (!options.some((o) => o.name === 'force-dpd')) run.push(`force-dpd = ${String(DEFAULT_DPD_SECONDS)}`);
    const companions: Record<string, string> = {};
    if (cert !== undefined) companions['cert.pem'] = cert + '\n';
    if (password !== undefined) companions.password = password + '\n';
    return {
      ok: true,
      value: {
        ...e,
        endpoint: formatEndpoint(e.address, e.port),
        proto: dtls ? 'udp' : 'tcp',
        // TLS always; DTLS to the same port unless the entry says no-dtls (a server whose DTLS port differs falls
        // back to TLS, as the kill switch admits only this port).
        protos: dtls ? ['tcp', 'udp'] : ['tcp'],
        runConfig: run.join('\n') + '\n',
        companions,
        env: {},
      },
    };
  },
  // The server sizes its side of the tunnel from the path MTU the client reports: report ours, so both ends agree.
  mtuEnv: (server, mtu) => ({ TORCHAIN_OC_BASE_MTU: String(mtu + openconnect.overhead(server.proto, server.family)) }),
};
