// One VPN protocol, as the operator (and the namespace lab) sees it: what a pool entry's `config` holds and how the hop
// runs it, how many bytes a layer of it costs, and the names that follow from the protocol. Every module is pure: it
// parses text and does arithmetic, nothing else. The hop entrypoint's side of a protocol is images/hop/vpn/<type>.sh.
import type { Protocol } from '../../../common/contracts/protocols.js';

export type Transport = 'udp' | 'tcp';
export type Family = 'ipv4' | 'ipv6';

/** A server of a hop's pool, ready for the hop: the endpoint the kill switch admits and the config the client runs. */
export interface PreparedServer {
  /** address:port with an IP literal; IPv6 in brackets ([fd00::1]:51820). TORCHAIN_ENDPOINT. */
  endpoint: string;
  address: string;
  port: number;
  family: Family;
  /** The transport the tunnel MTU is computed for (the layer's packets that could fragment). */
  proto: Transport;
  /** Every L4 protocol the client sends to the endpoint: the kill switch admits exactly these (TORCHAIN_PROTO). */
  protos: Transport[];
  /**
   * The config the client runs (the hop's Secret holds it): the pool entry's config with the server set to
   * `endpoint` and without what the hop decides itself (device, MTU, routes, scripts, logging).
   */
  runConfig: string;
  /** Files the run config needs beside it, by suffix: the Secret holds them as `<config file name>.<suffix>`. */
  companions: Record<string, string>;
  /** Protocol facts the entrypoint reads (TORCHAIN_* variables besides the common contract). */
  env: Record<string, string>;
}

export type Prepared = { ok: true; value: PreparedServer } | { ok: false; error: string };

export interface ProtocolModule {
  readonly name: Protocol;
  /** Transports a server of this protocol may use; the first is the default. */
  readonly transports: readonly Transport[];
  /** First letters of the hop's tunnel interface name (operator/src/core/naming.ts tunnelInterfaceName). */
  readonly interfacePrefix: string;
  /** Config file name in the hop's Secret when spec.vpnFileConfig is not set. */
  defaultConfigFileName(chain: string, hop: number | string): string;
  /** Bytes one packet of this layer adds around an inner packet over `transport`, measured (docs/dataplane.md). */
  overhead(transport: Transport, family: Family): number;
  /**
   * Bytes to reserve for this layer in the tunnel MTU computation: the worst case over what the client may fall
   * back to. Default: overhead(transport, family).
   */
  mtuOverhead?(transport: Transport, family: Family): number;
  /** Rounds a tunnel MTU down where the protocol pads (WireGuard: to a multiple of 16). */
  roundMtu?(mtu: number): number;
  /** A pool entry's `config` (and optional `endpoint` from Vault) → the server as the hop runs it, or why not. */
  prepare(config: string, vaultEndpoint?: string): Prepared;
  /** Environment that depends on the hop's tunnel MTU (OpenConnect: the path MTU it tells its server). */
  mtuEnv?(server: PreparedServer, mtu: number): Record<string, string>;
}
