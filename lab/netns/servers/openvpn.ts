// OpenVPN 2.6 servers: EC certificates from the lab PKI, AES-256-GCM data channel, fast keepalive.
import { writeFile } from 'node:fs/promises';
import type { Pki } from '../pki.js';
import type { ServerModule, TunnelAddresses, VpnServerSpec } from './types.js';

const inline = (tag: string, body: string) => `<${tag}>\n${body.trim()}\n</${tag}>`;

/** OpenVPN server and client configs (AES-256-GCM data channel, EC certificates, fast keepalive). */
export function openvpnConfigs(
  spec: VpnServerSpec,
  net: TunnelAddresses,
  pki: { ca: string; server: { cert: string; key: string }; client: { cert: string; key: string } },
): { server: string; client: string } {
  const fam = spec.address.includes(':') ? '6' : '4';
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
    ...(spec.dns ? [`push "dhcp-option DNS ${spec.dns}"`] : []),
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

export const openvpnServer: ServerModule = {
  type: 'openvpn',
  globalTunnelNames: false,
  clientUp: async (ctx, timeoutMs) => {
    await ctx.waitForLine(/Initialization Sequence Completed/, timeoutMs);
  },
  port: 1194,
  transports: ['udp', 'tcp'],
  protos: (t) => [t],
  needsPki: true,
  async create(spec, dir, net, pki: Pki | undefined) {
    if (!pki) throw new Error(`VPN server ${spec.name}: an OpenVPN server needs a PKI`);
    const server = await pki.issue(`${spec.name}-server`, 'server');
    const client = await pki.issue(`${spec.name}-client`, 'client');
    const configs = openvpnConfigs(spec, net, { ca: pki.caCert, server, client });
    const file = `${dir}/${spec.name}.server.conf`;
    await writeFile(file, configs.server, { mode: 0o600 });
    return {
      clientConfig: configs.client,
      clientExtension: 'ovpn',
      command: { cmd: 'openvpn', args: ['--config', file] },
      ready: async (ctx) => {
        await ctx.waitForLine(/Initialization Sequence Completed/, 15_000);
      },
    };
  },
};
