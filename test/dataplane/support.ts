// Shared pieces of the data-plane suites: a running chain (topology + hop entrypoints with computed MTUs) and
// the classification of captured packets on a hop's external link.
import { tunnelMtus } from '../../operator/src/core/mtu.js';
import { buildTopology, nsRun, startHop, type HopProcess, type HopSpec, type Topology } from '../../lab/netns/index.js';

/** Every namespace and interface these tests create starts with this (lab/netns/names.ts). */
export const PREFIX = 'tke';

export const DATAPLANE_BINARIES = [
  '/usr/sbin/openconnect',
  '/usr/sbin/ocserv',
  '/usr/sbin/openvpn',
  '/usr/bin/wireguard-go',
  '/usr/bin/wg',
  '/usr/sbin/nft',
  '/usr/sbin/ip',
  '/usr/bin/tcpdump',
  '/usr/bin/openssl',
  '/usr/bin/ping',
  '/usr/bin/iperf3',
];

export interface Chain {
  topo: Topology;
  hops: HopProcess[];
  mtus: number[];
  close(): Promise<void>;
}

/** Builds the topology and starts every hop (hop 1 first: each needs the tunnel above it) with computed MTUs. */
export async function startChain(
  spec: HopSpec[],
  opts: {
    id: string;
    mtus?: number[];
    serversPerHop?: number;
    extraEnv?: Record<string, string>;
    podNetwork?: boolean;
  },
): Promise<Chain> {
  const topo = await buildTopology({
    hops: spec,
    id: opts.id,
    prefix: PREFIX,
    serversPerHop: opts.serversPerHop,
    podNetwork: opts.podNetwork,
  });
  const mtus = opts.mtus ?? tunnelMtus(topo.linkMtu, spec);
  const hops: HopProcess[] = [];
  const close = async () => {
    for (const h of [...hops].reverse()) await h.stop().catch(() => undefined);
    await topo.teardown();
  };
  try {
    for (const hop of topo.hops) {
      const p = await startHop(hop, { mtu: mtus[hop.number - 1]!, extraEnv: opts.extraEnv });
      hops.push(p);
      await p.waitUp(30_000);
    }
  } catch (e) {
    const logs = hops.map(
      (h) => `hop ${h.hop.number}:\n${h.daemon.stderr.slice(-10).join('\n')}\n${h.daemon.stdout.slice(-10).join('\n')}`,
    );
    await close();
    throw new Error(`${(e as Error).message}\n${logs.join('\n')}`);
  }
  return { topo, hops, mtus, close };
}

/** ping from the LAN client; resolves with ping's combined output and exit status (never throws). */
export async function clientPing(topo: Topology, args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const r = await nsRun(topo.client.netns, 'ping', [...args, topo.internet.address], { timeoutMs: 30_000 });
    return { ok: true, output: r.stdout + r.stderr };
  } catch (e) {
    return { ok: false, output: (e as Error).message };
  }
}

export { linkParties, violation, type LinkParties } from '../../lab/netns/leaks.js';
