// OpenVPN: the client renegotiates its data channel keys every reneg-sec (3600 s by default) and logs it, so a client
// that has written nothing for longer than that plus a margin hangs, or the exporter's log stream stalled.
import type { AlertingProtocol } from './types.js';

export const openvpn = {
  logSilence: {
    seconds: 3900,
    doc: 'Seconds without a log line from an OpenVPN hop before TorchainVpnLogSilent (OpenVPN logs at least every reneg-sec, 3600 s)',
  },
} as const satisfies AlertingProtocol;
