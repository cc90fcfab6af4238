// Real VPN servers for the lab: configs and keys generated on the spot (openssl PKI for OpenVPN, `wg genkey` for
// WireGuard), each server run in its own network namespace. Every server also yields the client config a provider
// would hand out (a .ovpn file, or a wg-quick style .conf with Address/DNS/MTU): the lab puts those into its Vault
// pools, the data-plane tests hand them to the hop entrypoint.
import { access, chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Daemon } from './daemon.js';
import { nsRun, run, waitFor } from './exec.js';
import type { Pki } from './pki.js';

export type VpnType = 'openvpn' | 'wireguard';
export type Transport = 'udp' | 'tcp';
export type Family = 'ipv4' | 'ipv6';

export interface VpnServerSpec {
  /** File-name-safe name, e.g. hop2-s0; the client config is <name>.ovpn or <name>.conf. */
  name: string;
  type: VpnType;
  transport: Transport;
  netns: string;
  /** Address the clients connect to (IPv4 or IPv6 literal), on `egressIf`. */
  address: string;
  port: number;
  /** Server tunnel interface; for WireGuard it must be unique machine-wide (wireguard-go UAPI socket). */
  tunnelIf: string;
  /** IPv4 tunnel subnet as a.b.c.0/24: the server takes .1, the client .2. */
  tunnelNet: string;
  /** Interface the server forwards decrypted traffic out of (masqueraded). */
  egressIf: string;
  /** When set, only these source addresses may reach the VPN port (the only way in is through the hop above). */
  allowFrom?: string[];
  /** Server-side tunnel MTU (default 1500). */
  tunMtu?: number;
}

export interface VpnServer {
  spec: VpnServerSpec;
  /** host:port as the hop entrypoint's TORCHAIN_ENDPOINT wants it ([v6]:port for IPv6). */
  endpoint: string;
  /** The client config file's name and full text (contains the client's private key: keep it in the lab's dir). */
  clientFileName: string;
  clientConfig: string;
  clientConfigPath: string;
  /** The client's tunnel address. */
  clientTunnelAddress: string;
  serverTunnelAddress: string;
  logFile: string;
  start(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL: the server dies without a goodbye. */
  kill(): Promise<void>;
  /** Stops the server for good and closes its log file. */
  close(): Promise<void>;
  readonly running: boolean;
  readonly pid: number | undefined;
}

export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function tunnelAddresses(net: string): { server: string; client: string; mask: string } {
  const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(net);
  if (!m) throw new Error(`VPN server: tunnelNet ${net} must be an IPv4 a.b.c.0/24`);
  return { server: `${m[1]}.1`, client: `${m[1]}.2`, mask: '255.255.255.0' };
}

const inline = (tag: string, body: string) => `<${tag}>\n${body.trim()}\n</${tag}>`;

/** OpenVPN server and client configs (AES-256-GCM data channel, EC certificates, fast keepalive). */
export function openvpnConfigs(
  spec: VpnServerSpec,
  pki: { ca: string; server: { cert: string; key: string }; client: { cert: string; key: string } },
): { server: string; client: string } {
  const v6 = spec.address.includes(':');
  const fam = v6 ? '6' : '4';
  const net = tunnelAddresses(spec.tunnelNet);
  const server = [
    `# torchain lab server ${spec.name}`,
    `dev ${spec.tunnelIf}`,
    'dev-type tun',
    `proto ${spec.transport === 'udp' ? `udp${fam}` : `tcp${fam}-server`}`,
    `local ${spec.address}`,
    `port ${spec.port}`,
    'topology subnet',
    `server ${spec.tunnelNet.replace(/\/24$/, '')} ${net.mask}`,
    'keepalive 2 10',
    'data-ciphers AES-256-GCM',
    'dh none',
    `tun-mtu ${spec.tunMtu ?? 1500}`,
    'verb 3',
    inline('ca', pki.ca),
    inline('cert', pki.server.cert),
    inline('key', pki.server.key),
    '',
  ].join('\n');
  const client = [
    `# torchain lab client for ${spec.name}`,
    'client',
    'dev tun',
    `proto ${spec.transport === 'udp' ? `udp${fam}` : `tcp${fam}-client`}`,
    `remote ${spec.address} ${spec.port}`,
    'nobind',
    'remote-cert-tls server',
    'data-ciphers AES-256-GCM',
    'verb 3',
    inline('ca', pki.ca),
    inline('cert', pki.client.cert),
    inline('key', pki.client.key),
    '',
  ].join('\n');
  return { server, client };
}

/** WireGuard server config (wg setconf format) and a wg-quick style client config, as providers ship them. */
export function wireguardConfigs(
  spec: VpnServerSpec,
  keys: { serverPrivate: string; serverPublic: string; clientPrivate: string; clientPublic: string },
): { server: string; client: string } {
  const net = tunnelAddresses(spec.tunnelNet);
  const server = [
    '[Interface]',
    `PrivateKey = ${keys.serverPrivate}`,
    `ListenPort = ${spec.port}`,
    '',
    '[Peer]',
    `PublicKey = ${keys.clientPublic}`,
    `AllowedIPs = ${net.client}/32`,
    '',
  ].join('\n');
  const client = [
    `# torchain lab client for ${spec.name}`,
    '[Interface]',
    `PrivateKey = ${keys.clientPrivate}`,
    `Address = ${net.client}/32`,
    `DNS = ${net.server}`,
    'MTU = 1420',
    '',
    '[Peer]',
    `PublicKey = ${keys.serverPublic}`,
    'AllowedIPs = 0.0.0.0/0, ::/0',
    `Endpoint = ${formatEndpoint(spec.address, spec.port)}`,
    'PersistentKeepalive = 25',
    '',
  ].join('\n');
  return { server, client };
}

async function wgKeyPair(): Promise<{ priv: string; pub: string }> {
  const priv = (await run('wg', ['genkey'])).stdout.trim();
  const pub = (await run('wg', ['pubkey'], { input: priv + '\n' })).stdout.trim();
  return { priv, pub };
}

/** Server-side firewall and NAT: masquerade decrypted traffic; optionally admit the VPN port only from `allowFrom`. */
function serverRuleset(spec: VpnServerSpec): string {
  const lines = [
    'table inet torchain_lab_server',
    'delete table inet torchain_lab_server',
    'table inet torchain_lab_server {',
  ];
  if (spec.allowFrom && spec.allowFrom.length > 0) {
    const v4 = spec.allowFrom.filter((a) => !a.includes(':'));
    const v6 = spec.allowFrom.filter((a) => a.includes(':'));
    const proto = spec.transport;
    lines.push('  chain input {', '    type filter hook input priority filter; policy accept;');
    if (v4.length)
      lines.push(`    meta nfproto ipv4 ${proto} dport ${spec.port} ip saddr != { ${v4.join(', ')} } counter drop`);
    else lines.push(`    meta nfproto ipv4 ${proto} dport ${spec.port} counter drop`);
    if (v6.length)
      lines.push(`    meta nfproto ipv6 ${proto} dport ${spec.port} ip6 saddr != { ${v6.join(', ')} } counter drop`);
    else lines.push(`    meta nfproto ipv6 ${proto} dport ${spec.port} counter drop`);
    lines.push('  }');
  }
  lines.push(
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    oifname "${spec.egressIf}" ip saddr ${spec.tunnelNet} masquerade`,
    '  }',
    '}',
  );
  return lines.join('\n') + '\n';
}

/**
 * Writes a server's config, key material and client config into `dir`, and returns a handle that starts and stops
 * the real daemon in `spec.netns` (which must exist, with `spec.address` on `spec.egressIf`).
 */
export async function createVpnServer(spec: VpnServerSpec, dir: string, pki?: Pki): Promise<VpnServer> {
  if (!/^[A-Za-z0-9_.-]+$/.test(spec.name))
    throw new Error(`VPN server: name ${JSON.stringify(spec.name)} must be [A-Za-z0-9_.-]+`);
  if (spec.tunnelIf.length > 15)
    throw new Error(`VPN server ${spec.name}: tunnel interface ${spec.tunnelIf} is longer than 15 bytes`);
  if (spec.type === 'wireguard' && spec.transport !== 'udp')
    throw new Error(`VPN server ${spec.name}: WireGuard is UDP only`);
  const net = tunnelAddresses(spec.tunnelNet);
  const serverFile = join(dir, `${spec.name}.server.conf`);
  const clientFileName = `${spec.name}.${spec.type === 'openvpn' ? 'ovpn' : 'conf'}`;
  const clientConfigPath = join(dir, clientFileName);
  const logFile = join(dir, `${spec.name}.server.log`);
  let configs: { server: string; client: string };
  if (spec.type === 'openvpn') {
    if (!pki) throw new Error(`VPN server ${spec.name}: an OpenVPN server needs a PKI`);
    const server = await pki.issue(`${spec.name}-server`, 'server');
    const client = await pki.issue(`${spec.name}-client`, 'client');
    configs = openvpnConfigs(spec, { ca: pki.caCert, server, client });
  } else {
    const s = await wgKeyPair();
    const c = await wgKeyPair();
    configs = wireguardConfigs(spec, {
      serverPrivate: s.priv,
      serverPublic: s.pub,
      clientPrivate: c.priv,
      clientPublic: c.pub,
    });
  }
  await writeFile(serverFile, configs.server, { mode: 0o600 });
  await writeFile(clientConfigPath, configs.client, { mode: 0o600 });
  await chmod(dir, 0o700);

  await nsRun(spec.netns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  await nsRun(spec.netns, 'nft', ['-f', '-'], { input: serverRuleset(spec) });

  const daemon =
    spec.type === 'openvpn'
      ? new Daemon({ netns: spec.netns, cmd: 'openvpn', args: ['--config', serverFile], logFile })
      : new Daemon({
          netns: spec.netns,
          cmd: 'wireguard-go',
          args: ['-f', spec.tunnelIf],
          env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1', LOG_LEVEL: 'verbose' },
          logFile,
        });

  const startWireguard = async () => {
    const sock = `/var/run/wireguard/${spec.tunnelIf}.sock`;
    // A killed wireguard-go leaves its socket behind; waiting for it must see the new daemon's socket.
    await rm(sock, { force: true });
    daemon.start();
    await waitFor(`wireguard-go socket ${sock}`, () => access(sock).then(() => true), 10_000, 50);
    await nsRun(spec.netns, 'wg', ['setconf', spec.tunnelIf, serverFile]);
    await nsRun(spec.netns, 'ip', ['address', 'replace', `${net.server}/24`, 'dev', spec.tunnelIf]);
    await nsRun(spec.netns, 'ip', ['link', 'set', spec.tunnelIf, 'mtu', String(spec.tunMtu ?? 1500), 'up']);
  };
  const startOpenvpn = async () => {
    daemon.start();
    await daemon.waitForLine(/Initialization Sequence Completed/, 15_000, daemon.stdout.length);
  };

  return {
    spec,
    endpoint: formatEndpoint(spec.address, spec.port),
    clientFileName,
    clientConfig: configs.client,
    clientConfigPath,
    clientTunnelAddress: net.client,
    serverTunnelAddress: net.server,
    logFile,
    start: () => (spec.type === 'openvpn' ? startOpenvpn() : startWireguard()),
    stop: () => daemon.stop(),
    kill: () => daemon.kill(),
    close: () => daemon.close(),
    get running() {
      return daemon.running;
    },
    get pid() {
      return daemon.pid;
    },
  };
}
