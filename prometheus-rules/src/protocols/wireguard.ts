// WireGuard: the hop runs wireguard-go verbosely with a persistent keepalive, so a live client logs
// "Sending keepalive packet" at least every keepalive interval (25 s); five minutes of silence means it hangs.
import type { AlertingProtocol } from './types.js';

export const wireguard = {
  logSilence: {
    seconds: 300,
    doc: 'Seconds without a log line from a WireGuard hop before TorchainVpnLogSilent (verbose wireguard-go logs keepalives)',
  },
} as const satisfies AlertingProtocol;
