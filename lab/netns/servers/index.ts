// Real VPN servers for the lab, one module per protocol (servers/<type>.ts, typed over the protocol registry), each
// server run in its own network namespace. Every server also yields the client config a provider would hand out:
// the lab puts those into its Vault pools; the data-plane tests prepare them with the operator's protocol module
// and hand them to the hop entrypoint. This file does what is the same for every protocol: files, firewall, NAT,
// start and stop.
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Protocol } from '../../../common/contracts/protocols.js';
import { formatEndpoint } from '../../../operator/src/protocols/endpoint.js';
import { Daemon } from '../daemon.js';
import { nsRun, run, waitFor, StopWaiting } from '../exec.js';
import type { Pki } from '../pki.js';
import { openconnectServer } from './openconnect.js';
import { openvpnServer } from './openvpn.js';
import type { ServerModule, TunnelAddresses, VpnServerSpec } from './types.js';
import { wireguardServer } from './wireguard.js';

export type { Family, ServerModule, Transport, VpnServerSpec, VpnType } from './types.js';
export { openvpnConfigs } from './openvpn.js';
export { wireguardConfigs } from './wireguard.js';
export { pinOf } from './openconnect.js';
export { formatEndpoint };

export const SERVER_MODULES: Record<Protocol, ServerModule> = {
  openvpn: openvpnServer,
  wireguard: wireguardServer,
  openconnect: openconnectServer,
};

export interface VpnServer {
  spec: VpnServerSpec;
  /** host:port as the hop entrypoint's TORCHAIN_ENDPOINT wants it ([v6]:port for IPv6). */
  endpoint: string;
  /** The client config file's name and full text (contains the client's secrets: keep it in the lab's dir). */
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
  /** SIGKILL: the server dies without a goodbye (its host still answers: ICMP port unreachable). */
  kill(): Promise<void>;
  /**
   * Silent death: every packet to and from the server's host is dropped, no ICMP (a host that vanished); `false`
   * brings it back. The daemon keeps running, unaware.
   */
  blackhole(on: boolean): Promise<void>;
  readonly blackholed: boolean;
  /** Stops the server for good and closes its log file. */
  close(): Promise<void>;
  readonly running: boolean;
  readonly pid: number | undefined;
}

function tunnelAddresses(net: string): TunnelAddresses {
  const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(net);
  if (!m) throw new Error(`VPN server: tunnelNet ${net} must be an IPv4 a.b.c.0/24`);
  return { server: `${m[1]}.1`, client: `${m[1]}.2`, mask: '255.255.255.0' };
}

/** Server-side firewall and NAT: masquerade decrypted traffic; optionally admit the VPN port only from `allowFrom`. */
function serverRuleset(spec: VpnServerSpec, protos: string[]): string {
  const lines = [
    'table inet torchain_lab_server',
    'delete table inet torchain_lab_server',
    'table inet torchain_lab_server {',
  ];
  if (spec.allowFrom && spec.allowFrom.length > 0) {
    const v4 = spec.allowFrom.filter((a) => !a.includes(':'));
    const v6 = spec.allowFrom.filter((a) => a.includes(':'));
    lines.push('  chain input {', '    type filter hook input priority filter; policy accept;');
    for (const proto of protos) {
      if (v4.length)
        lines.push(`    meta nfproto ipv4 ${proto} dport ${spec.port} ip saddr != { ${v4.join(', ')} } counter drop`);
      else lines.push(`    meta nfproto ipv4 ${proto} dport ${spec.port} counter drop`);
      if (v6.length)
        lines.push(`    meta nfproto ipv6 ${proto} dport ${spec.port} ip6 saddr != { ${v6.join(', ')} } counter drop`);
      else lines.push(`    meta nfproto ipv6 ${proto} dport ${spec.port} counter drop`);
    }
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
  const m = SERVER_MODULES[spec.type];
  if (!m) throw new Error(`VPN server ${spec.name}: no server module for type ${String(spec.type)}`);
  if (!m.transports.includes(spec.transport))
    throw new Error(
      `VPN server ${spec.name}: ${spec.type} runs over ${m.transports.join(' or ')}, not ${spec.transport}`,
    );
  const net = tunnelAddresses(spec.tunnelNet);
  const files = await m.create(spec, dir, net, pki);
  const clientFileName = `${spec.name}.${files.clientExtension}`;
  const clientConfigPath = join(dir, clientFileName);
  const logFile = join(dir, `${spec.name}.server.log`);
  await writeFile(clientConfigPath, files.clientConfig, { mode: 0o600 });
  await chmod(dir, 0o700);

  await nsRun(spec.netns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  await nsRun(spec.netns, 'nft', ['-f', '-'], { input: serverRuleset(spec, m.protos(spec.transport)) });

  const daemon = new Daemon({ netns: spec.netns, ...files.command, logFile });
  const start = async () => {
    await m.beforeStart?.(spec);
    const fromOut = daemon.stdout.length;
    const fromErr = daemon.stderr.length;
    daemon.start();
    await files.ready({
      waitForLine: (pattern, timeoutMs) =>
        waitFor(
          `a line matching ${pattern} from ${files.command.cmd} (${spec.name})`,
          async () => {
            const hit = [...daemon.stdout.slice(fromOut), ...daemon.stderr.slice(fromErr)].find((l) => pattern.test(l));
            if (hit) return hit;
            if (!daemon.running)
              throw new StopWaiting(
                `${files.command.cmd} exited with ${String(daemon.exitCode)}: ${daemon.stderr.slice(-5).join(' | ')}`,
              );
            return undefined;
          },
          timeoutMs,
          100,
        ),
    });
  };

  let blackholed = false;
  return {
    spec,
    endpoint: formatEndpoint(spec.address, spec.port),
    clientFileName,
    clientConfig: files.clientConfig,
    clientConfigPath,
    clientTunnelAddress: net.client,
    serverTunnelAddress: net.server,
    logFile,
    start,
    stop: () => daemon.stop(),
    // A crash takes the whole server down: ocserv's workers (which carry the sessions) die with it.
    kill: async () => {
      await daemon.kill();
      const { stdout } = await run('ip', ['netns', 'pids', spec.netns]);
      for (const pid of stdout.split('\n').filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
    close: () => daemon.close(),
    async blackhole(on: boolean) {
      const rules = on
        ? `table inet torchain_blackhole {\n  chain in { type filter hook prerouting priority -400; iifname "${spec.egressIf}" drop; }\n  chain out { type filter hook postrouting priority 400; oifname "${spec.egressIf}" drop; }\n}\n`
        : 'table inet torchain_blackhole {}\ndelete table inet torchain_blackhole\n';
      await run('ip', ['netns', 'exec', spec.netns, 'nft', '-f', '-'], { input: rules });
      blackholed = on;
    },
    get blackholed() {
      return blackholed;
    },
    get running() {
      return daemon.running;
    },
    get pid() {
      return daemon.pid;
    },
  };
}
