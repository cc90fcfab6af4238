// The alerting side of the protocol registry (common/contracts/protocols.ts): one module per protocol, typed over
// `Protocol`, so a new protocol fails to compile until it has its module here. The log-silence parameters, the
// TorchainVpnLogSilent rule, the chart values and docs/alerting.md are generated from it.
import type { Protocol } from '../../../common/contracts/protocols.js';
import { openconnect } from './openconnect.js';
import { openvpn } from './openvpn.js';
import type { AlertingProtocol } from './types.js';
import { wireguard } from './wireguard.js';

export const ALERTING_PROTOCOLS = { openvpn, wireguard, openconnect } as const satisfies Record<
  Protocol,
  AlertingProtocol
>;

type Registry = typeof ALERTING_PROTOCOLS;

/** Protocols that have a log-silence rule. */
export type SilenceProtocol = {
  [K in Protocol]: Registry[K]['logSilence'] extends { seconds: number } ? K : never;
}[Protocol];

/** `alerting.logSilence.<type>Seconds` for every protocol with a silence rule (the values keys kept from before). */
export type LogSilenceSeconds = { [K in SilenceProtocol as `${K}Seconds`]: number };

export const silenceProtocols = (): SilenceProtocol[] =>
  (Object.keys(ALERTING_PROTOCOLS) as Protocol[]).filter(
    (p): p is SilenceProtocol => 'seconds' in ALERTING_PROTOCOLS[p].logSilence,
  );

/** Protocols without a silence rule, each with the reason. */
export const unsilencedProtocols = (): Array<{ protocol: Protocol; why: string }> =>
  (Object.keys(ALERTING_PROTOCOLS) as Protocol[]).flatMap((p) => {
    const s = ALERTING_PROTOCOLS[p].logSilence;
    return 'none' in s ? [{ protocol: p, why: s.none }] : [];
  });

export const silenceKey = (p: SilenceProtocol) => `${p}Seconds` as const;

/** The defaults of every `<type>Seconds`. */
export function defaultSilenceSeconds(): LogSilenceSeconds {
  return Object.fromEntries(
    silenceProtocols().map((p) => [silenceKey(p), (ALERTING_PROTOCOLS[p].logSilence as { seconds: number }).seconds]),
  ) as LogSilenceSeconds;
}

export type { AlertingProtocol, LogSilence } from './types.js';
