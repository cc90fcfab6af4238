// OpenVPN 2.6: everything is in the log. A dead server shows as ICMP "Connection refused" at once (UDP, host up), a
// reset or refused connection (TCP), or, when it dies silently, only as "Inactivity timeout (--ping-restart)"; the
// probe catches the silent case sooner than ping-restart.
import type { ProtocolModule } from '../protocol.js';
import { OPENVPN_PATTERNS } from './patterns.js';

export const openvpn: ProtocolModule = {
  patterns: OPENVPN_PATTERNS,
  liveness: {
    deadPeer:
      '"Inactivity timeout (--ping-restart), restarting" after --ping-restart seconds of silence; ' +
      '"Connection refused" / "Connection reset" when the host still answers',
    probeByDefault: true,
  },
  handshakeGauge: false,
};
