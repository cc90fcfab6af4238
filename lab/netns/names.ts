// Names of everything a topology creates. All of them derive from a prefix (per engineer / per tool) and a short
// topology id, so that `cleanup.ts --prefix P` can find and remove every leftover after a crash.
import type { Protocol } from '../../common/contracts/protocols.js';
import { protocolModule } from '../../operator/src/protocols/index.js';
import { SERVER_MODULES } from './servers/index.js';

export const DEFAULT_PREFIX = 'tcd';

const PREFIX_RE = /^[a-z][a-z0-9]{1,5}$/;
const ID_RE = /^[a-z0-9]{1,4}$/;

export function checkPrefix(prefix: string): string {
  if (!PREFIX_RE.test(prefix))
    throw new Error(
      `netns prefix ${JSON.stringify(prefix)} must match ${PREFIX_RE} (it becomes part of interface names of at most 15 bytes)`,
    );
  return prefix;
}

export function checkId(id: string): string {
  if (!ID_RE.test(id)) throw new Error(`topology id ${JSON.stringify(id)} must match ${ID_RE}`);
  return id;
}

export function randomId(): string {
  return Math.random().toString(36).slice(2, 5).padEnd(3, '0');
}

export interface Names {
  netnsPrefix: string;
  fabric: string;
  client: string;
  internet: string;
  /** The internet side's DNS resolvers (lab/netns/resolvers.ts). */
  dns: string;
  hop(k: number): string;
  server(k: number, j: number): string;
  /** Hop k's tunnel interface: wireguard-go names are global (UAPI socket), so they carry prefix and id. */
  hopTunnel(k: number, type: Protocol): string;
  serverTunnel(k: number, j: number, type: Protocol): string;
  tmpDirPrefix: string;
}

function ifname(name: string): string {
  if (Buffer.byteLength(name) > 15)
    throw new Error(`interface name ${name} is longer than 15 bytes: use a shorter prefix or id`);
  return name;
}

export function names(prefix: string, id: string): Names {
  checkPrefix(prefix);
  checkId(id);
  const ns = `${prefix}-${id}-`;
  return {
    netnsPrefix: ns,
    fabric: `${ns}fabric`,
    client: `${ns}client`,
    internet: `${ns}inet`,
    dns: `${ns}dns`,
    hop: (k) => `${ns}hop${k}`,
    server: (k, j) => `${ns}srv${k}-${j}`,
    hopTunnel: (k, type) =>
      ifname(
        SERVER_MODULES[type].globalTunnelNames
          ? `${prefix}${protocolModule(type).interfacePrefix}${id}h${k}`
          : `${protocolModule(type).interfacePrefix}${k}`,
      ),
    serverTunnel: (k, j, type) =>
      ifname(
        SERVER_MODULES[type].globalTunnelNames
          ? `${prefix}${protocolModule(type).interfacePrefix}${id}s${k}-${j}`
          : `tun${k}s${j}`,
      ),
    tmpDirPrefix: `torchain-netns-${prefix}-${id}-`,
  };
}
