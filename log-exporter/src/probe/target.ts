// Where the probe goes when no target is configured: the first host of the tunnel interface's IPv4 subnet, which is
// where WireGuard and OpenVPN (topology subnet) servers conventionally sit, on TCP port 53 (gateways of VPN providers
// commonly serve DNS there; any other host answers with a RST, which counts as success too). Pure.
import type { HostPort } from '../config.js';

export const AUTO_PROBE_PORT = 53;

export interface InterfaceAddress {
  address: string;
  family: string | number;
  cidr: string | null;
  internal?: boolean;
}

function toInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** The derived target, or a reason it cannot be derived (no IPv4 address, or a /31-/32 tunnel address). */
export function autoProbeTarget(addresses: InterfaceAddress[] | undefined): HostPort | { reason: string } {
  const v4 = (addresses ?? []).find((a) => (a.family === 'IPv4' || a.family === 4) && a.cidr);
  if (!v4 || !v4.cidr) return { reason: 'the tunnel interface has no IPv4 address' };
  const prefix = Number(v4.cidr.split('/')[1]);
  if (!(prefix >= 0 && prefix <= 30)) {
    return { reason: `the tunnel address ${v4.cidr} is a /${prefix}: no subnet to find the server in` };
  }
  const own = toInt(v4.address);
  const size = 2 ** (32 - prefix);
  const network = own - (own % size);
  const first = network + 1;
  const host = first === own ? first + 1 : first;
  return { host: toIp(host), port: AUTO_PROBE_PORT };
}
