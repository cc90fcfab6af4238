// The exporter's protocol modules, one per protocol of the registry (common/contracts/protocols.ts). Typed over
// `Protocol`, so a protocol added to the registry fails the type check here until it has its module.
import { PROTOCOLS, type Protocol } from '../../../common/contracts/protocols.js';
import { openconnect } from './openconnect/index.js';
import { openvpn } from './openvpn/index.js';
import type { Pattern } from './pattern.js';
import type { ProtocolModule } from './protocol.js';
import { wireguard } from './wireguard/index.js';

export const PROTOCOL_MODULES: Record<Protocol, ProtocolModule> = { openvpn, wireguard, openconnect };

export function protocolModule(type: Protocol): ProtocolModule {
  return PROTOCOL_MODULES[type];
}

/** Every pattern with its protocol, in registry order (for renderers and tests). */
export function allPatterns(): { type: Protocol; pattern: Pattern }[] {
  return PROTOCOLS.flatMap((type) => PROTOCOL_MODULES[type].patterns.map((pattern) => ({ type, pattern })));
}
