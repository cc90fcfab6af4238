// What the exporter knows about one VPN protocol, behind one small interface. One folder per protocol
// (protocols/<type>/), collected in protocols/index.ts over the protocol registry (common/contracts/protocols.ts).
import type { Pattern } from './pattern.js';

/** Which reader of the latest handshake to use (`--handshake-reader`). */
export const HANDSHAKE_READERS = ['auto', 'uapi', 'wg', 'off'] as const;
export type HandshakeReaderKind = (typeof HANDSHAKE_READERS)[number];

/** Reads the tunnel interface's latest handshake: unix seconds, 0 = never. Rejects when it cannot read it. */
export type HandshakeRead = () => Promise<number>;

export interface ProtocolModule {
  /** The client's log lines → metric effects, first match wins (the exporter, Vector and mtail all use it). */
  patterns: readonly Pattern[];
  liveness: {
    /**
     * How the client's own log shows a dead server, silent death included (documentation for the README and the
     * report; the lines themselves are in `patterns`).
     */
    deadPeer: string;
    /** Probe through the tunnel (target derived from the tunnel interface) unless told otherwise. */
    probeByDefault: boolean;
    /**
     * Reader of the interface's latest handshake, loaded only by the long-running mode (it needs sockets and child
     * processes the one-shot mode never uses). Undefined: the protocol has no handshake to read.
     */
    handshakeReader?: (kind: HandshakeReaderKind, ifname: string) => Promise<HandshakeRead | undefined>;
  };
  /** Exports torchain_vpn_last_handshake_timestamp_seconds (from the log's handshake lines and the reader). */
  handshakeGauge: boolean;
}
