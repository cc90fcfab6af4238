// Tunnel MTU of every hop of a chain, from the outer link MTU and the type of every hop above it.
//
// Hop 1's tunnel packets travel on the outer link; hop k's tunnel packets travel inside hop k-1's tunnel. Each layer
// costs a fixed overhead, so hop k's tunnel MTU is the link MTU minus the overheads of hops 1..k. With these MTUs an
// inner packet of the maximum size fills every outer layer exactly: nothing is fragmented and nothing is dropped
// silently (a bigger packet gets "fragmentation needed" from the hop it enters). The overheads and any rounding come
// from the protocol modules (operator/src/protocols/<type>/), measured with the real clients in network namespaces
// (test/dataplane/overhead.test.ts, docs/dataplane.md).
//
// Pure: no I/O. The operator calls tunnelMtus() and writes each result into TORCHAIN_MTU of the hop's pod.
import { PROTOCOLS, isProtocol, type Protocol } from '../../../common/contracts/protocols.js';
import { protocolModule, type Family, type Transport } from '../protocols/index.js';

export type { Family, Transport };

/** One layer of the chain: the hop's VPN type, its transport to the server and the address family of that transport. */
export interface MtuLayer {
  type: Protocol;
  /** Transport to the server; default: the protocol's first (udp). */
  transport?: Transport;
  /** Address family of the server endpoint (the outer header of this layer). Default ipv4. */
  family?: Family;
}

/** Smallest tunnel MTU this computes: below it IPv4 stops being useful (RFC 791 576-byte datagrams). */
export const MIN_TUNNEL_MTU = 576;
/** Linux refuses IPv6 on a link below 1280 bytes, so a tunnel carrying an IPv6 transport needs at least that. */
export const MIN_IPV6_LINK_MTU = 1280;
export const MAX_LINK_MTU = 65535;

/** Bytes one layer reserves around an inner packet. */
export function layerOverhead(layer: MtuLayer): number {
  if (!isProtocol(layer.type))
    throw new Error(`MTU: type ${String(layer.type)} is not a protocol; expected one of ${PROTOCOLS.join(', ')}`);
  const m = protocolModule(layer.type);
  const transport = layer.transport ?? m.transports[0]!;
  if (!m.transports.includes(transport))
    throw new Error(
      `MTU: a ${m.name} hop cannot use transport ${transport}; it runs over ${m.transports.join(' or ')}`,
    );
  const family = layer.family ?? 'ipv4';
  return m.mtuOverhead ? m.mtuOverhead(transport, family) : m.overhead(transport, family);
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
    if (!isProtocol(hop.type)) {
      throw new Error(`MTU: hop ${hopNumber} has type ${String(hop.type)}; expected one of ${PROTOCOLS.join(', ')}`);
    }
    if ((hop.family ?? 'ipv4') === 'ipv6' && outer < MIN_IPV6_LINK_MTU) {
      const carrier = hopNumber === 1 ? 'the outer link' : `hop ${hopNumber - 1}'s tunnel`;
      throw new Error(
        `MTU: hop ${hopNumber} reaches its server over IPv6, but ${carrier} has MTU ${outer} < ${MIN_IPV6_LINK_MTU}; use an IPv4 server endpoint for hop ${hopNumber} or a shorter chain`,
      );
    }
    const raw = outer - layerOverhead(hop);
    const round = protocolModule(hop.type).roundMtu;
    const mtu = round ? round(raw) : raw;
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
