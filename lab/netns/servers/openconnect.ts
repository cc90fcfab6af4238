// ocserv servers (the anyconnect protocol): a server certificate from the lab PKI that clients pin by its public
// key (never by a CA), client certificate AND password authentication, DTLS with TLS fallback, short DPD. Each
// server's client is pinned to the tunnel address .2 (config-per-user), like the other protocols.
import { createHash, X509Certificate } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatEndpoint } from '../../../operator/src/protocols/endpoint.js';
import { nsRun, run } from '../exec.js';
import type { Pki } from '../pki.js';
import type { ServerModule } from './types.js';

/** Debian's ocserv default: TLS 1.2 only (what the measured overheads assume). */
export const OCSERV_TLS_PRIORITIES =
  'NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-TLS1.3';

/** openconnect's `--servercert pin-sha256:…`: SHA-256 of the certificate's SubjectPublicKeyInfo, base64. */
export function pinOf(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return `pin-sha256:${createHash('sha256').update(spki).digest('base64')}`;
}

export const openconnectServer: ServerModule = {
  type: 'openconnect',
  globalTunnelNames: false,
  // Authenticated and configured, DTLS up when admitted, and the tunnel address in place (the hop's script sets it).
  clientUp: async (ctx, timeoutMs) => {
    await ctx.waitForLine(/Configured as /, timeoutMs);
    if (ctx.env.TORCHAIN_PROTO!.includes('udp')) await ctx.waitForLine(/Established DTLS connection/, timeoutMs);
    await ctx.waitFor(
      `the tunnel address on ${ctx.tunIf}`,
      async () => /inet /.test((await nsRun(ctx.netns, 'ip', ['-4', 'address', 'show', 'dev', ctx.tunIf])).stdout),
      timeoutMs,
    );
  },
  port: 443,
  transports: ['udp', 'tcp'],
  protos: (t) => (t === 'udp' ? ['tcp', 'udp'] : ['tcp']),
  needsPki: true,
  async create(spec, dir, net, pki: Pki | undefined) {
    if (!pki) throw new Error(`VPN server ${spec.name}: an ocserv server needs a PKI`);
    const user = `${spec.name}-client`;
    const server = await pki.issue(`${spec.name}-server`, 'server');
    const client = await pki.issue(user, 'client');
    const base = join(dir, `${spec.name}.ocserv`);
    await mkdir(`${base}-users`, { recursive: true, mode: 0o700 });
    await writeFile(`${base}.crt`, server.cert);
    await writeFile(`${base}.key`, server.key, { mode: 0o600 });
    await writeFile(`${base}.ca`, pki.caCert);
    const password = createHash('sha256').update(`${spec.name}:${server.key}`).digest('hex').slice(0, 20);
    const hash = (await run('openssl', ['passwd', '-5', '-stdin'], { input: `${password}\n` })).stdout.trim();
    await writeFile(`${base}.passwd`, `${user}:*:${hash}\n`, { mode: 0o600 });
    await writeFile(join(`${base}-users`, user), `explicit-ipv4 = ${net.client}\n`);
    const dtls = spec.transport === 'udp';
    const conf = [
      `# torchain lab server ${spec.name}`,
      // Both: the client certificate (CN = user name) and the user's password.
      'auth = "certificate"',
      `auth = "plain[passwd=${base}.passwd]"`,
      `listen-host = ${spec.address}`,
      `tcp-port = ${spec.port}`,
      ...(dtls ? [`udp-port = ${spec.port}`] : []),
      // Workers read the certificate and per-user files from the lab's directory, which only root may enter.
      'run-as-user = root',
      'run-as-group = root',
      `socket-file = ${base}.sock`,
      `pid-file = ${base}.pid`,
      `server-cert = ${base}.crt`,
      `server-key = ${base}.key`,
      `ca-cert = ${base}.ca`,
      'cert-user-oid = 2.5.4.3',
      'isolate-workers = false',
      'max-clients = 16',
      'max-same-clients = 4',
      'keepalive = 32400',
      'dpd = 5',
      'mobile-dpd = 5',
      'switch-to-tcp-timeout = 25',
      'try-mtu-discovery = false',
      `tls-priorities = "${OCSERV_TLS_PRIORITIES}"`,
      'auth-timeout = 240',
      'cookie-timeout = 300',
      'deny-roaming = false',
      'rekey-time = 172800',
      'use-occtl = false',
      'device = vpns',
      `config-per-user = ${base}-users/`,
      `ipv4-network = ${spec.tunnelNet.replace(/\/24$/, '')}`,
      `ipv4-netmask = ${net.mask}`,
      ...(spec.dns ? [`dns = ${spec.dns}`] : []),
      'ping-leases = false',
      `mtu = ${spec.tunMtu ?? 1500}`,
      'cisco-client-compat = true',
      'dtls-legacy = true',
      'log-level = 2',
      '',
    ].join('\n');
    await writeFile(`${base}.conf`, conf, { mode: 0o600 });
    const clientConfig = [
      `# torchain lab client for ${spec.name}: an openconnect --config file, plus <cert> and <password>`,
      `server = https://${formatEndpoint(spec.address, spec.port)}/`,
      `servercert = ${pinOf(server.cert)}`,
      `user = ${user}`,
      ...(dtls ? [] : ['no-dtls']),
      '<cert>',
      client.cert.trim(),
      client.key.trim(),
      '</cert>',
      '<password>',
      password,
      '</password>',
      '',
    ].join('\n');
    return {
      clientConfig,
      clientExtension: 'conf',
      command: { cmd: 'ocserv', args: ['-f', '-c', `${base}.conf`] },
      ready: async (ctx) => {
        await ctx.waitForLine(/listening \(TCP\) on/, 15_000);
      },
    };
  },
};
