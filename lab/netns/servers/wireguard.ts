// wireguard-go servers: keys from `wg genkey`, configured through the UAPI socket once the daemon runs.
import { access, rm, writeFile } from 'node:fs/promises';
import { formatEndpoint } from '../../../operator/src/protocols/endpoint.js';
import { nsRun, run, waitFor } from '../exec.js';
import type { ServerModule, TunnelAddresses, VpnServerSpec } from './types.js';

/** WireGuard server config (wg setconf format) and a wg-quick style client config, as providers ship them. */
export function wireguardConfigs(
  spec: VpnServerSpec,
  net: TunnelAddresses,
  keys: { serverPrivate: string; serverPublic: string; clientPrivate: string; clientPublic: string },
): { server: string; client: string } {
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
    `DNS = ${spec.dns ?? net.server}`,
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

/** Latest WireGuard handshake (unix seconds) on `iface` in `netns`; 0 when none yet. */
export async function latestHandshake(netns: string, iface: string): Promise<number> {
  const { stdout } = await nsRun(netns, 'wg', ['show', iface, 'latest-handshakes']).catch(() => ({ stdout: '' }));
  return Math.max(0, ...stdout.split('\n').map((l) => Number(l.trim().split(/\s+/)[1] ?? 0) || 0));
}

const socketOf = (spec: VpnServerSpec) => `/var/run/wireguard/${spec.tunnelIf}.sock`;

export const wireguardServer: ServerModule = {
  type: 'wireguard',
  globalTunnelNames: true,
  // wireguard-go says nothing when its tunnel is up: the first handshake says it.
  clientUp: (ctx, timeoutMs) =>
    ctx.waitFor(
      `a WireGuard handshake on ${ctx.tunIf}`,
      async () => (await latestHandshake(ctx.netns, ctx.tunIf)) > 0,
      timeoutMs,
    ),
  port: 51820,
  transports: ['udp'],
  protos: () => ['udp'],
  needsPki: false,
  // A killed wireguard-go leaves its socket behind; waiting for it must see the new daemon's socket.
  beforeStart: (spec) => rm(socketOf(spec), { force: true }),
  async create(spec, dir, net) {
    const s = await wgKeyPair();
    const c = await wgKeyPair();
    const configs = wireguardConfigs(spec, net, {
      serverPrivate: s.priv,
      serverPublic: s.pub,
      clientPrivate: c.priv,
      clientPublic: c.pub,
    });
    const file = `${dir}/${spec.name}.server.conf`;
    await writeFile(file, configs.server, { mode: 0o600 });
    return {
      clientConfig: configs.client,
      clientExtension: 'conf',
      command: {
        cmd: 'wireguard-go',
        args: ['-f', spec.tunnelIf],
        env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1', LOG_LEVEL: 'verbose' },
      },
      ready: async () => {
        const sock = socketOf(spec);
        await waitFor(`wireguard-go socket ${sock}`, () => access(sock).then(() => true), 10_000, 50);
        await nsRun(spec.netns, 'wg', ['setconf', spec.tunnelIf, file]);
        await nsRun(spec.netns, 'ip', ['address', 'replace', `${net.server}/24`, 'dev', spec.tunnelIf]);
        await nsRun(spec.netns, 'ip', ['link', 'set', spec.tunnelIf, 'mtu', String(spec.tunMtu ?? 1500), 'up']);
      },
    };
  },
};
