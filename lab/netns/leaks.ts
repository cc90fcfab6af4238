// What may cross a hop's external link, and what is a leak. Shared by the data-plane tests and the lab's leak-check.
import type { CapturedPacket } from './capture.js';
import { SERVER_MODULES } from './servers/index.js';
import type { Topology } from './topology.js';

/** One hop's side of its external link, and the server endpoints it may talk to (one, or its whole pool). */
export interface LinkParties {
  hopAddress: string;
  hopMac: string;
  servers: Array<{ address: string; port: number }>;
  /** The L4 protocols of the tunnel (OpenConnect: TLS and DTLS). */
  protos: Array<'udp' | 'tcp'>;
  /** The hop's next hop toward its servers (hop k-1's inInterface address), whose ICMP errors may reach it. */
  gateway?: string;
}

/** Hop k's link parties: `server` picks one server of its pool; without it, any server of the pool is allowed. */
export function linkParties(topo: Topology, k: number, server?: number): LinkParties {
  const hop = topo.hops[k - 1]!;
  const pool = server === undefined ? hop.servers : [hop.servers[server]!];
  return {
    hopAddress: hop.outAddress.split('/')[0]!,
    hopMac: hop.outMac,
    servers: pool.map((s) => ({ address: s.spec.address, port: s.spec.port })),
    protos: SERVER_MODULES[hop.type].protos(hop.transport),
    ...(hop.outGateway ? { gateway: hop.outGateway } : {}),
  };
}

/**
 * Why a packet seen on a hop's external link is not allowed there, or undefined when it is. Frames the hop sends
 * (its MAC as source) must be tunnel packets to a server endpoint of its own (or ICMP errors about that server's own
 * packets), whatever their IP addresses; frames sent
 * to the hop must come from such an endpoint (or be an ICMP error about our tunnel packets: from the server's host, as
 * a killed server's host answers, or from the hop above while its tunnel is down). Other frames on the wire (a bridge floods unknown destinations to every port)
 * are not the hop's. ARP is link plumbing and carries no payload.
 */
export function violation(p: CapturedPacket, l: LinkParties): string | undefined {
  if (p.kind === 'arp') return undefined;
  const desc = `${p.kind} ${p.srcMac} ${p.src} -> ${p.dstMac} ${p.dst} ${p.proto ?? ''} ${p.sport ?? ''}->${p.dport ?? ''} len ${p.ipLength ?? '?'}`;
  const endpoints = l.servers.map((s) => `${s.address}:${s.port}`).join(', ');
  if (p.srcMac === l.hopMac) {
    const toServer = l.servers.some((s) => p.dst === s.address && p.dport === s.port);
    if (p.kind === 'ipv4' && p.src === l.hopAddress && toServer && l.protos.some((x) => x === p.proto))
      return undefined;
    // An ICMP error about the server's own tunnel packets (a fresh pod sandbox, whose kill switch is not loaded yet,
    // answers a late packet of its previous server with "port unreachable"): it carries nothing but that packet's
    // headers, to that same endpoint — the mirror of the ICMP errors the server's host may send us.
    if (
      p.kind === 'ipv4' &&
      p.src === l.hopAddress &&
      p.proto === 'icmp' &&
      p.icmpType === 3 &&
      l.servers.some((s) => p.dst === s.address)
    )
      return undefined;
    return `the hop sent a packet that is not a tunnel packet to ${endpoints}/${l.protos.join('+')}: ${desc}`;
  }
  if (p.dstMac === l.hopMac) {
    const server = l.servers.find((s) => p.src === s.address);
    if (p.kind === 'ipv4' && server && p.dst === l.hopAddress) {
      if (l.protos.some((x) => x === p.proto) && p.sport === server.port) return undefined;
      if (p.proto === 'icmp' && p.icmpType === 3) return undefined;
    }
    // The hop above answers "unreachable" for our tunnel packets while its own tunnel is down: no payload of ours.
    if (
      p.kind === 'ipv4' &&
      l.gateway &&
      p.src === l.gateway &&
      p.dst === l.hopAddress &&
      p.proto === 'icmp' &&
      p.icmpType === 3
    )
      return undefined;
    return `the hop received a packet that is not from its server endpoints ${endpoints}: ${desc}`;
  }
  // Not the hop's frame; but client traffic in the clear must never be on an external link at all.
  return undefined;
}
