// What the alerting side must know about one VPN protocol (one module per protocol, registry in index.ts).

export type LogSilence =
  /** TorchainVpnLogSilent fires after this many seconds without a log line (chart value `alerting.logSilence.<type>Seconds`). */
  | { seconds: number; doc: string }
  /** No silence rule: silence is normal for this client, so it proves nothing; `why` says what detects a hang instead. */
  | { none: string };

export interface AlertingProtocol {
  logSilence: LogSilence;
}
