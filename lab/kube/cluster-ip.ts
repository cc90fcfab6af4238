// Service ClusterIP allocation as kube-apiserver 1.31 does it with its default bitmap allocator
// (pkg/registry/core/service/ipallocator, ServiceIPStaticSubrange): the service CIDR without its network and
// broadcast addresses; the lowest min(max(16, size/16), 256) addresses are the static band that Services ask for by
// address (10.96.0.1 the `kubernetes` Service, 10.96.0.10 kube-dns); a Service without a ClusterIP gets a random free
// address of the upper band, scanning forward from a random start, and of the lower band only once the upper is full.
// An address already held by a Service, or outside the range, is refused with the real messages. Pure: the caller
// passes the addresses in use (lab/kube derives them from the stored Services, so a deletion frees its address).
import { isIPv4 } from 'node:net';

/** kubeadm's default service CIDR (`--service-cluster-ip-range`). */
export const SERVICE_CIDR = '10.96.0.0/12';

export interface ServiceRange {
  cidr: string;
  /** First usable address (network + 1) as a 32-bit number. */
  base: number;
  /** Usable addresses (the CIDR without network and broadcast). */
  size: number;
  /** Addresses below base + offset form the static band. */
  offset: number;
}

const toNumber = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const toAddress = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export function serviceRange(cidr: string = SERVICE_CIDR): ServiceRange {
  const [net, bits] = cidr.split('/');
  const prefix = Number(bits);
  if (!net || !isIPv4(net) || !Number.isInteger(prefix) || prefix < 1 || prefix > 30)
    throw new Error(`service CIDR ${JSON.stringify(cidr)}: expected an IPv4 CIDR with a prefix of /1 to /30`);
  const total = 2 ** (32 - prefix);
  const network = toNumber(net) - (toNumber(net) % total);
  // calculateRangeOffset: 0 up to 16 addresses, else min(max(16, size/16), 256).
  const offset = total <= 16 ? 0 : Math.min(Math.max(16, Math.floor(total / 16)), 256);
  return { cidr: `${toAddress(network)}/${prefix}`, base: network + 1, size: total - 2, offset };
}

/** Thrown when every address of the range is taken (the API server answers 500, "range is full"). */
export class RangeFullError extends Error {}

/** A free address: random in the upper band, scanning forward (wrapping in the band), then the static band. */
export function allocateClusterIp(range: ServiceRange, inUse: ReadonlySet<string>, random = Math.random): string {
  const free = (at: number) => !inUse.has(toAddress(range.base + at));
  const scan = (from: number, length: number): number | undefined => {
    const start = Math.floor(random() * length);
    for (let i = 0; i < length; i++) {
      const at = from + ((start + i) % length);
      if (free(at)) return at;
    }
    return undefined;
  };
  const at = scan(range.offset, range.size - range.offset) ?? (range.offset > 0 ? scan(0, range.offset) : undefined);
  if (at === undefined) throw new RangeFullError('failed to allocate a serviceIP: range is full');
  return toAddress(range.base + at);
}

/** Why `ip` cannot be a new Service's ClusterIP (the allocator's error text), or undefined when it can. */
export function clusterIpRefusal(range: ServiceRange, ip: string, inUse: ReadonlySet<string>): string | undefined {
  const n = isIPv4(ip) ? toNumber(ip) : NaN;
  if (!(n >= range.base && n < range.base + range.size))
    return `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${range.cidr}`;
  if (inUse.has(ip)) return 'provided IP is already allocated';
  return undefined;
}
