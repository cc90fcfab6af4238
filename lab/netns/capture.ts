// Packet captures with the real tcpdump, written to a pcap file and decoded here (Ethernet, IPv4/IPv6, ARP,
// TCP/UDP/ICMP), so tests assert on exact addresses, ports and IP lengths instead of parsing tcpdump's text.
import { readFile } from 'node:fs/promises';
import { Daemon } from './daemon.js';
import { StopWaiting, waitFor } from './exec.js';

export interface CapturedPacket {
  /** Seconds since the epoch (microsecond precision). */
  time: number;
  kind: 'ipv4' | 'ipv6' | 'arp' | 'other';
  /** Ethernet source and destination MAC (lower case, colon separated): who sent it on this link, and to whom. */
  srcMac: string;
  dstMac: string;
  src?: string;
  dst?: string;
  /** 'udp' | 'tcp' | 'icmp' | 'icmpv6' | protocol number as a string. */
  proto?: string;
  sport?: number;
  dport?: number;
  /** Length of the IP packet (IPv4 total length; IPv6 payload length + 40). */
  ipLength?: number;
  /** IPv4 don't-fragment bit. */
  df?: boolean;
  /** IPv4 fragment (more-fragments set or a non-zero offset). */
  fragment?: boolean;
  icmpType?: number;
  icmpCode?: number;
}

export interface Capture {
  file: string;
  /** Stops tcpdump (flushing the file) and returns the decoded packets. */
  stop(): Promise<CapturedPacket[]>;
}

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6' };

function ipv6String(b: Buffer, off: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(off + i).toString(16));
  // Compress the longest run of zero groups, as inet_ntop does.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (parts[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return parts.join(':');
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
}

function transport(p: CapturedPacket, b: Buffer, off: number, proto: number): void {
  p.proto = PROTO[proto] ?? String(proto);
  if ((proto === 6 || proto === 17) && b.length >= off + 4) {
    p.sport = b.readUInt16BE(off);
    p.dport = b.readUInt16BE(off + 2);
  } else if ((proto === 1 || proto === 58) && b.length >= off + 2) {
    p.icmpType = b[off];
    p.icmpCode = b[off + 1];
  }
}

/** Decodes a pcap file (LINKTYPE_ETHERNET, either byte order, micro- or nanosecond timestamps). */
export function decodePcap(buf: Buffer): CapturedPacket[] {
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const be = buf.readUInt32BE(0) === 0xa1b2c3d4 || buf.readUInt32BE(0) === 0xa1b23c4d;
  if (!le && !be) throw new Error('capture: not a pcap file');
  const nano = (le ? magic : buf.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20);
  if (linkType !== 1) throw new Error(`capture: link type ${linkType} is not Ethernet`);
  const out: CapturedPacket[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const time = u32(off) + u32(off + 4) / (nano ? 1e9 : 1e6);
    const incl = u32(off + 8);
    const frame = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (frame.length < 14) continue;
    let etherType = frame.readUInt16BE(12);
    let l3 = 14;
    if (etherType === 0x8100 && frame.length >= 18) {
      etherType = frame.readUInt16BE(16);
      l3 = 18;
    }
    const mac = (o: number) => Array.from(frame.subarray(o, o + 6), (b) => b.toString(16).padStart(2, '0')).join(':');
    const p: CapturedPacket = { time, kind: 'other', dstMac: mac(0), srcMac: mac(6) };
    if (etherType === 0x0800 && frame.length >= l3 + 20) {
      p.kind = 'ipv4';
      const ihl = (frame[l3]! & 0x0f) * 4;
      p.ipLength = frame.readUInt16BE(l3 + 2);
      const flags = frame.readUInt16BE(l3 + 6);
      p.df = (flags & 0x4000) !== 0;
      p.fragment = (flags & 0x2000) !== 0 || (flags & 0x1fff) !== 0;
      p.src = Array.from(frame.subarray(l3 + 12, l3 + 16)).join('.');
      p.dst = Array.from(frame.subarray(l3 + 16, l3 + 20)).join('.');
      transport(p, frame, l3 + ihl, frame[l3 + 9]!);
    } else if (etherType === 0x86dd && frame.length >= l3 + 40) {
      p.kind = 'ipv6';
      p.ipLength = frame.readUInt16BE(l3 + 4) + 40;
      p.src = ipv6String(frame, l3 + 8);
      p.dst = ipv6String(frame, l3 + 24);
      transport(p, frame, l3 + 40, frame[l3 + 6]!);
    } else if (etherType === 0x0806) {
      p.kind = 'arp';
    }
    out.push(p);
  }
  return out;
}

/** Starts tcpdump on `iface` in `netns`, writing `file`; resolves once it is listening. */
export async function startCapture(
  netns: string,
  iface: string,
  file: string,
  filter: string[] = [],
): Promise<Capture> {
  const daemon = new Daemon({
    netns,
    cmd: 'tcpdump',
    args: ['-i', iface, '-nn', '--immediate-mode', '-U', '-s', '256', '-w', file, ...filter],
  });
  daemon.start();
  await waitFor(
    `tcpdump listening on ${iface} in ${netns}`,
    async () => {
      if (!daemon.running) throw new StopWaiting(`tcpdump exited: ${daemon.stderr.join(' | ')}`);
      return daemon.stderr.some((l) => l.includes('listening on'));
    },
    10_000,
    50,
  );
  return {
    file,
    async stop() {
      await daemon.stop();
      return decodePcap(await readFile(file));
    },
  };
}
