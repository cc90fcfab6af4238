// What the hop needs to know about a pool entry besides its raw config: the endpoint (for the route and the kill
// switch, which must name an address), the transport, and the config as the client runs it. Parsing lives in the
// protocol modules (operator/src/protocols/<type>/) — the one place server configs are read; the hop entrypoint only
// runs what they produce.
import type { HopType } from '../api/torchain.js';
import { protocolModule, type Prepared, type PreparedServer } from '../protocols/index.js';

export { splitHostPort } from '../protocols/endpoint.js';

export type ServerEndpoint = PreparedServer;
export type EndpointResult = Prepared;

/**
 * The pool entry prepared for the hop: `endpoint` from Vault when present (address:port) wins over the config's; the
 * transport always comes from the config.
 */
export function serverEndpoint(type: HopType, config: string, vaultEndpoint?: string): EndpointResult {
  return protocolModule(type).prepare(config, vaultEndpoint === '' ? undefined : vaultEndpoint);
}
