// OpenConnect: no silence rule. A healthy idle openconnect client logs nothing: its dead-peer detection and keepalives
// are silent below -v, and it only writes again when it rekeys (at the server's rekey-time, 48 h for ocserv by default)
// or reconnects. Silence is therefore the normal state of a working hop, and any threshold short enough to be useful
// would fire on healthy tunnels. A hung or dead tunnel is caught where it matters, by the exporter's probe through the
// tunnel: tunnel_up drops to 0 and TorchainHopTunnelDown asks for a switch. The log age stays on the dashboard.
import type { AlertingProtocol } from './types.js';

export const openconnect = {
  logSilence: {
    none: 'a healthy idle openconnect client logs nothing until it rekeys; the probe through the tunnel detects a hang',
  },
} as const satisfies AlertingProtocol;
