// Shared pieces of the data-plane suites: a running chain (topology + hop entrypoints with computed MTUs) and
// the classification of captured packets on a hop's external link.
import { tunnelMtus } from '../../operator/src/core/mtu.js';
import { buildTopology, nsRun, startHop, type HopProcess, type HopSpec, type Topology } from '../../lab/netns/index.js';
import type { CapturedPacket } from '../../lab/netns/capture.js';

export const DATAPLANE_BINARIES = [
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
  opts: { id: string; mtus?: number[]; serversPerHop?: number; extraEnv?: Record<string, string> },
): Promise<Chain> {
  const topo = await buildTopology({ hops: spec, id: opts.id, serversPerHop: opts.serversPerHop });
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

/** Addresses of one hop's external link: its own address and its current server's endpoint. */
export interface LinkParties {
  hopAddress: string;
  hopMac: string;
  serverAddress: string;
  serverPort: number;
  proto: 'udp' | 'tcp';
}

export function linkParties(topo: Topology, k: number, server = 0): LinkParties {
  const hop = topo.hops[k - 1]!;
  const s = hop.servers[server]!;
  return {
    hopAddress: hop.outAddress.split('/')[0]!,
    hopMac: hop.outMac,
    serverAddress: s.spec.address,
    serverPort: s.spec.port,
    proto: hop.transport,
  };
}

/**
 * Why a packet seen on a hop's external link is not allowed there, or undefined when it is. Frames the hop sends
 * (its MAC as source) must be tunnel packets to its server endpoint, whatever their IP addresses; frames sent to
 * the hop must come from that endpoint (or be an ICMP error from the server's host about our tunnel packets).
 * Other frames on the wire (a bridge floods unknown destinations to every port) are not the hop's. ARP is link
 * plumbing and carries no payload.
 */
export function violation(p: CapturedPacket, l: LinkParties): string | undefined {
  if (p.kind === 'arp') return undefined;
  const desc = `${p.kind} ${p.srcMac} ${p.src} -> ${p.dstMac} ${p.dst} ${p.proto ?? ''} ${p.sport ?? ''}->${p.dport ?? ''} len ${p.ipLength ?? '?'}`;
  if (p.srcMac === l.hopMac) {
    if (
      p.kind === 'ipv4' &&
      p.src === l.hopAddress &&
      p.dst === l.serverAddress &&
      p.proto === l.proto &&
      p.dport === l.serverPort
    )
      return undefined;
    return `the hop sent a packet that is not a tunnel packet to ${l.serverAddress}:${l.serverPort}/${l.proto}: ${desc}`;
  }
  if (p.dstMac === l.hopMac) {
    if (p.kind === 'ipv4' && p.src === l.serverAddress && p.dst === l.hopAddress) {
      if (p.proto === l.proto && p.sport === l.serverPort) return undefined;
      if (p.proto === 'icmp' && p.icmpType === 3) return undefined;
    }
    return `the hop received a packet that is not from its server endpoint: ${desc}`;
  }
  // Not the hop's frame; but client traffic in the clear must never be on an external link at all.
  return undefined;
}
