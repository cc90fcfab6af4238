// The protocol modules of the operator, one per protocol of the registry (common/contracts/protocols.ts). Adding a
// protocol to the registry makes this map fail to type-check until its module exists (docs/architecture.md).
import { PROTOCOLS, type Protocol } from '../../../common/contracts/protocols.js';
import { openconnect } from './openconnect/index.js';
import { openvpn } from './openvpn/index.js';
import type { ProtocolModule } from './types.js';
import { wireguard } from './wireguard/index.js';

export const PROTOCOL_MODULES: Record<Protocol, ProtocolModule> = { openvpn, wireguard, openconnect };

/** The module of `type`; throws naming the known protocols (callers hold a validated typeNode). */
export function protocolModule(type: string): ProtocolModule {
  const m = (PROTOCOL_MODULES as Record<string, ProtocolModule | undefined>)[type];
  if (!m) throw new Error(`unknown protocol ${JSON.stringify(type)}: expected one of ${PROTOCOLS.join(', ')}`);
  return m;
}

export type { Family, Prepared, PreparedServer, ProtocolModule, Transport } from './types.js';
