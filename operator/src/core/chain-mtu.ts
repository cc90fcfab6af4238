// The tunnel MTU of one hop: spec.mtu when set, else the data plane's tunnelMtus() over the layers of hops 1..k
// (each nested layer costs its overhead; hop k's tunnel runs inside hops 1..k-1).
import type { TorChain } from '../api/torchain.js';
import type { MtuLayer } from './mtu.js';

export type { MtuLayer };

export type TunnelMtus = (linkMtu: number, hops: MtuLayer[]) => number[];

/**
 * @param chain every known hop of the chain (any order)
 * @param known the layer each hop's current server actually uses (transport, family), when already resolved
 */
export function hopMtu(
  tc: TorChain,
  chain: readonly TorChain[],
  known: ReadonlyMap<number, MtuLayer>,
  linkMtu: number,
  tunnelMtus: TunnelMtus,
): number {
  if (tc.spec.mtu !== undefined) return tc.spec.mtu;
  const k = tc.spec.numberNode;
  const byHop = new Map<number, TorChain>();
  for (const h of chain) if (h.spec.numberNode <= k && !byHop.has(h.spec.numberNode)) byHop.set(h.spec.numberNode, h);
  byHop.set(k, tc);
  const hops = [...byHop.keys()].sort((a, b) => a - b);
  const layers = hops.map((n) => known.get(n) ?? { type: byHop.get(n)!.spec.typeNode });
  const mtus = tunnelMtus(linkMtu, layers);
  const mine = mtus[mtus.length - 1];
  if (mine === undefined || !Number.isFinite(mine)) throw new Error(`tunnelMtus returned no MTU for hop ${String(k)}`);
  return mine;
}
