// Tunnel MTU of every hop of a chain, from the outer link MTU and the type of every hop above it.
//
// Hop 1's tunnel packets travel on the outer link; hop k's tunnel packets travel inside hop k-1's tunnel. Each layer
// costs a fixed overhead, so hop k's tunnel MTU is the link MTU minus the overheads of hops 1..k. With these MTUs an
// inner packet of the maximum size fills every outer layer exactly: nothing is fragmented and nothing is dropped
// silently (a bigger packet gets "fragmentation needed" from the hop it enters). A WireGuard layer rounds its MTU
// down to a multiple of 16 (see WIREGUARD_PADDING). The overheads below were measured
// with real wireguard-go and OpenVPN 2.6 in network namespaces (test/dataplane/overhead.test.ts, docs/dataplane.md).
//
// Pure: no I/O. The operator calls tunnelMtus() and writes each result into TORCHAIN_MTU of the hop's pod.

export type HopKind = 'openvpn' | 'wireguard';
export type Transport = 'udp' | 'tcp';
export type Family = 'ipv4' | 'ipv6';

/** One layer of the chain: the hop's VPN type, its transport to the server and the address family of that transport. */
export interface MtuLayer {
  type: HopKind;
  /** Transport to the server. WireGuard is always UDP; default udp. */
  transport?: Transport;
  /** Address family of the server endpoint (the outer header of this layer). Default ipv4. */
  family?: Family;
}

/** Outer IP header. */
export const IP_HEADER: Record<Family, number> = { ipv4: 20, ipv6: 40 };
export const UDP_HEADER = 8;
/** TCP header with the timestamp option Linux puts on every segment (20 + 12). */
export const TCP_HEADER_WITH_TIMESTAMPS = 32;
/** WireGuard transport data message: type 4, receiver index 4, counter 8, Poly1305 tag 16. */
export const WIREGUARD_DATA_HEADER = 32;
/**
 * WireGuard pads every plaintext to a multiple of 16 bytes, capped at the *sender's* interface MTU. The hop caps at
 * its own MTU, but the server caps at its own (usually 1420 or more) and so pads a reply of our maximum size up to
 * 15 bytes beyond it, which then no longer fits the layer above (seen in the lab: fragments on hop 1's link). A
 * WireGuard tunnel MTU that is itself a multiple of 16 is safe in both directions.
 */
export const WIREGUARD_PADDING = 16;
/**
 * OpenVPN data channel with an AEAD cipher (AES-256-GCM, AES-128-GCM, CHACHA20-POLY1305 — the ciphers of OpenVPN
 * 2.6's default data-ciphers): P_DATA_V2 opcode + peer id 4, packet id 4, tag 16. No compression framing: the
 * generated configs and the entrypoint never enable compression. CBC ciphers (legacy) cost more and vary with
 * padding; a hop using one needs the spec.mtu override.
 */
export const OPENVPN_AEAD_DATA_HEADER = 24;
/** OpenVPN over TCP prefixes every packet with a 2-byte length. */
export const OPENVPN_TCP_LENGTH_PREFIX = 2;

/** Smallest tunnel MTU this computes: below it IPv4 stops being useful (RFC 791 576-byte datagrams). */
export const MIN_TUNNEL_MTU = 576;
/** Linux refuses IPv6 on a link below 1280 bytes, so a tunnel carrying an IPv6 transport needs at least that. */
export const MIN_IPV6_LINK_MTU = 1280;
export const MAX_LINK_MTU = 65535;

/** Bytes one layer adds around an inner packet. */
export function layerOverhead(layer: MtuLayer): number {
  const family = layer.family ?? 'ipv4';
  const transport = layer.transport ?? 'udp';
  if (layer.type === 'wireguard') {
    if (transport !== 'udp')
      throw new Error(`MTU: a wireguard hop cannot use transport ${transport}; WireGuard is UDP only`);
    return IP_HEADER[family] + UDP_HEADER + WIREGUARD_DATA_HEADER;
  }
  if (transport === 'udp') return IP_HEADER[family] + UDP_HEADER + OPENVPN_AEAD_DATA_HEADER;
  return IP_HEADER[family] + TCP_HEADER_WITH_TIMESTAMPS + OPENVPN_TCP_LENGTH_PREFIX + OPENVPN_AEAD_DATA_HEADER;
}

/**
 * Tunnel MTU of each hop. `hops[0]` is hop 1 (outermost); `result[i]` is hop i+1's tunnel MTU.
 * Throws (naming the hop and what to do) when the link MTU is invalid or the chain is too deep for it.
 */
export function tunnelMtus(linkMtu: number, hops: MtuLayer[]): number[] {
  if (!Number.isInteger(linkMtu) || linkMtu < MIN_TUNNEL_MTU || linkMtu > MAX_LINK_MTU) {
    throw new Error(
      `MTU: link MTU ${linkMtu} is not an integer in ${MIN_TUNNEL_MTU}..${MAX_LINK_MTU}; set TORCHAIN_LINK_MTU to the MTU of the node's external link`,
    );
  }
  const result: number[] = [];
  let outer = linkMtu;
  hops.forEach((hop, i) => {
    const hopNumber = i + 1;
    if (hop.type !== 'openvpn' && hop.type !== 'wireguard') {
      throw new Error(`MTU: hop ${hopNumber} has type ${String(hop.type)}; expected openvpn or wireguard`);
    }
    if ((hop.family ?? 'ipv4') === 'ipv6' && outer < MIN_IPV6_LINK_MTU) {
      const carrier = hopNumber === 1 ? 'the outer link' : `hop ${hopNumber - 1}'s tunnel`;
      throw new Error(
        `MTU: hop ${hopNumber} reaches its server over IPv6, but ${carrier} has MTU ${outer} < ${MIN_IPV6_LINK_MTU}; use an IPv4 server endpoint for hop ${hopNumber} or a shorter chain`,
      );
    }
    let mtu = outer - layerOverhead(hop);
    if (hop.type === 'wireguard') mtu -= mtu % WIREGUARD_PADDING;
    if (mtu < MIN_TUNNEL_MTU) {
      throw new Error(
        `MTU: hop ${hopNumber}'s tunnel MTU would be ${mtu} (< ${MIN_TUNNEL_MTU}) with link MTU ${linkMtu}; shorten the chain or raise the link MTU`,
      );
    }
    result.push(mtu);
    outer = mtu;
  });
  return result;
}

/** TCP MSS that fits a tunnel MTU (what the hop clamps SYNs to): MTU minus the inner IP and TCP headers. */
export function clampedMss(tunnelMtu: number, family: Family = 'ipv4'): number {
  return tunnelMtu - IP_HEADER[family] - 20;
}
