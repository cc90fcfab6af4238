// WireGuard configs as providers ship them (wg-quick syntax). The hop runs `wg setconf` syntax: the wg-quick-only keys
// are taken out (their hooks are never run), the addresses go to the entrypoint as TORCHAIN_WG_ADDRESSES, and the one
// peer's Endpoint is the endpoint the kill switch admits.
import { endpointOf, IP_HEADER, splitHostPort, UDP_HEADER, vaultEndpointOf, type EndpointResult } from '../endpoint.js';
import { dnsEnv } from '../dns.js';
import type { Prepared, ProtocolModule } from '../types.js';

/** Transport data message: type 4, receiver index 4, counter 8, Poly1305 tag 16. */
export const WIREGUARD_DATA_HEADER = 32;
/**
 * WireGuard pads every plaintext to a multiple of 16 bytes, capped at the *sender's* interface MTU. The server caps
 * at its own MTU (1420 or more) and so pads a reply of our maximum size up to 15 bytes beyond it, which then no longer
 * fits the layer above (seen in the lab: fragments on hop 1's link). A tunnel MTU that is itself a multiple of 16 is
 * safe in both directions.
 */
export const WIREGUARD_PADDING = 16;

/** [Interface] keys of wg-quick that `wg setconf` does not know: the hop decides these (or ignores them). */
const WG_QUICK_ONLY = new Set([
  'address',
  'dns',
  'mtu',
  'table',
  'preup',
  'postup',
  'predown',
  'postdown',
  'saveconfig',
]);
const ADDRESS = /^[0-9A-Fa-f:.]+\/[0-9]{1,3}$/;

export const wireguard: ProtocolModule = {
  name: 'wireguard',
  transports: ['udp'],
  interfacePrefix: 'wg',
  defaultConfigFileName: (chain, hop) => `wg-${chain}-${String(hop)}.conf`,
  overhead: (_transport, family) => IP_HEADER[family] + UDP_HEADER + WIREGUARD_DATA_HEADER,
  roundMtu: (mtu) => mtu - (mtu % WIREGUARD_PADDING),
  prepare(config, vaultEndpoint): Prepared {
    const run: string[] = [];
    const addresses: string[] = [];
    const resolvers: string[] = [];
    let section = '';
    let peers = 0;
    let peerKey = false;
    let endpointText: string | undefined;
    for (const raw of config.split(/\r?\n/)) {
      const bare = raw.replace(/#.*/, '').trim();
      const lower = bare.toLowerCase().replace(/\s+/g, '');
      if (lower === '[interface]' || lower === '[peer]') {
        section = lower.slice(1, -1);
        if (section === 'peer') peers++;
        run.push(bare);
        continue;
      }
      const eq = bare.indexOf('=');
      if (eq < 0) {
        if (bare) return { ok: false, error: `WireGuard config: line ${JSON.stringify(bare)} is not "Key = Value"` };
        continue;
      }
      const key = bare.slice(0, eq).trim().toLowerCase();
      const value = bare.slice(eq + 1).trim();
      if (section === 'interface' && key === 'address') {
        addresses.push(
          ...value
            .split(',')
            .map((a) => a.trim())
            .filter(Boolean),
        );
        continue;
      }
      // wg-quick's DNS lists resolvers and search domains: the resolvers go to the hop that serves DNS.
      if (section === 'interface' && key === 'dns') resolvers.push(...value.split(','));
      if (section === 'interface' && WG_QUICK_ONLY.has(key)) continue;
      if (section === 'peer' && key === 'endpoint') {
        endpointText ??= value;
        continue;
      }
      if (section === 'peer' && key === 'publickey' && value) peerKey = true;
      run.push(bare);
    }
    let ep: EndpointResult;
    if (vaultEndpoint) ep = vaultEndpointOf(vaultEndpoint);
    else if (endpointText === undefined)
      return { ok: false, error: 'WireGuard config has no "Endpoint" line: add one or set "endpoint" in Vault' };
    else {
      const hp = splitHostPort(endpointText);
      if (!hp)
        return { ok: false, error: `WireGuard config: Endpoint ${JSON.stringify(endpointText)} is not host:port` };
      ep = endpointOf(hp.host, hp.port, 'WireGuard config "Endpoint"');
    }
    if (!ep.ok) return ep;
    if (peers !== 1)
      return {
        ok: false,
        error: `WireGuard config must have exactly one [Peer] (the hop's server), found ${String(peers)}`,
      };
    if (!peerKey) return { ok: false, error: "WireGuard config's [Peer] has no PublicKey" };
    if (addresses.length === 0)
      return { ok: false, error: "WireGuard config's [Interface] has no Address; the hop needs its tunnel address" };
    const bad = addresses.find((a) => !ADDRESS.test(a));
    if (bad) return { ok: false, error: `WireGuard config has an Address that is not address/prefix: ${bad}` };

    // The endpoint goes into the config (not a later `wg set`): the first handshake goes out at once.
    const peerAt = run.findIndex((l) => l.toLowerCase().replace(/\s+/g, '') === '[peer]');
    run.splice(peerAt + 1, 0, `Endpoint = ${ep.value.endpoint}`);
    return {
      ok: true,
      value: {
        ...ep.value,
        proto: 'udp',
        protos: ['udp'],
        runConfig: run.join('\n') + '\n',
        companions: {},
        env: { TORCHAIN_WG_ADDRESSES: addresses.join(','), ...dnsEnv(resolvers) },
      },
    };
  },
};
