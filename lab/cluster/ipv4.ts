// IPv4 arithmetic for the cluster network: CIDR parsing and membership, as plain functions.

export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  bits: number;
  text: string;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255))
    throw new Error(`${JSON.stringify(ip)} is not an IPv4 address`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isIPv4(text: string): boolean {
  try {
    ipToInt(text);
    return true;
  } catch {
    return false;
  }
}

const mask = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** Parses `a.b.c.d/n` (or a bare address as /32); host bits must be zero unless `loose`. */
export function parseCidr(text: string, loose = false): Cidr {
  const [addr, len = '32', extra] = text.split('/');
  const bits = Number(len);
  if (extra !== undefined || !/^\d{1,2}$/.test(len) || bits > 32)
    throw new Error(`${JSON.stringify(text)} is not an IPv4 CIDR (a.b.c.d/n)`);
  const ip = ipToInt(addr!);
  const base = (ip & mask(bits)) >>> 0;
  if (!loose && base !== ip)
    throw new Error(`${JSON.stringify(text)} has host bits set: did you mean ${intToIp(base)}/${bits}?`);
  return { base, bits, text: `${intToIp(base)}/${bits}` };
}

export function cidrContains(c: Cidr, ip: string | number): boolean {
  const n = typeof ip === 'number' ? ip : ipToInt(ip);
  return (n & mask(c.bits)) >>> 0 === c.base;
}

/** Allocates addresses of a CIDR to keys, lowest free first; the network and broadcast addresses are never used. */
export class Ipam {
  private readonly cidr: Cidr;
  private readonly byKey = new Map<string, number>();
  private readonly used = new Set<number>();

  constructor(cidr: string, reserved: string[] = []) {
    this.cidr = parseCidr(cidr);
    if (this.cidr.bits > 30) throw new Error(`pod CIDR ${cidr} is too small: use a /30 or larger`);
    for (const r of reserved) if (cidrContains(this.cidr, r)) this.used.add(ipToInt(r));
  }

  get size(): number {
    return 2 ** (32 - this.cidr.bits) - 2;
  }

  allocate(key: string): string {
    const had = this.byKey.get(key);
    if (had !== undefined) return intToIp(had);
    const first = this.cidr.base + 1;
    const last = this.cidr.base + 2 ** (32 - this.cidr.bits) - 2;
    for (let n = first; n <= last; n++) {
      if (this.used.has(n)) continue;
      this.used.add(n);
      this.byKey.set(key, n);
      return intToIp(n);
    }
    throw new Error(`pod CIDR ${this.cidr.text} is full (${this.byKey.size} pods): remove pods or use a larger CIDR`);
  }

  release(key: string): string | undefined {
    const n = this.byKey.get(key);
    if (n === undefined) return undefined;
    this.byKey.delete(key);
    this.used.delete(n);
    return intToIp(n);
  }

  get(key: string): string | undefined {
    const n = this.byKey.get(key);
    return n === undefined ? undefined : intToIp(n);
  }
}
