// wireguard-go: says nothing while idle when its server dies (keepalives are not answered, and nothing is logged about
// it), and re-handshakes only when data is sent. So the probe sends data, and the interface's latest handshake (UAPI or
// `wg show dump`) is read: none, or one older than REJECT_AFTER_TIME, is down.
import type { ProtocolModule } from '../protocol.js';
import { WIREGUARD_PATTERNS } from './patterns.js';

export const wireguard: ProtocolModule = {
  patterns: WIREGUARD_PATTERNS,
  liveness: {
    deadPeer:
      'nothing while idle; with data flowing, "Handshake did not complete after 5 seconds" 15-20 s after the death ' +
      '(the probe is the data)',
    probeByDefault: true,
    handshakeReader: async (kind, ifname) => (await import('./handshake.js')).handshakeReader(kind, ifname),
  },
  handshakeGauge: true,
};
