// openconnect: the client's own dead-peer detection (DPD, forced short with --force-dpd) reports a silent server as
// "CSTP Dead Peer Detection detected dead peer!"; a killed server shows as a read error and refused reconnects. The
// client reconnects by itself for --reconnect-timeout seconds, keeping its tun device, so the probe covers the rest.
import type { ProtocolModule } from '../protocol.js';
import { OPENCONNECT_PATTERNS } from './patterns.js';

export const openconnect: ProtocolModule = {
  patterns: OPENCONNECT_PATTERNS,
  liveness: {
    deadPeer:
      '"CSTP Dead Peer Detection detected dead peer!" one to two DPD intervals after a silent death (--force-dpd N); ' +
      '"Read error on SSL session" and "Failed to reconnect to host …: Connection refused" when the server is killed',
    probeByDefault: true,
  },
  handshakeGauge: false,
};
