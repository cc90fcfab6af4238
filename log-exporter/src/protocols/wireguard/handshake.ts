// Reading the latest handshake of a WireGuard interface. Parsers are pure; the readers are thin adapters:
// - uapi: wireguard-go's UAPI socket /var/run/wireguard/<if>.sock ("get=1"), no binary needed; the socket is root-only
//   (mode 0700 directory), so in the non-root sidecar it is usually out of reach;
// - wg: `wg show <if> dump`, which also covers the kernel module but needs CAP_NET_ADMIN there.
// Where neither works the active probe carries tunnel detection alone (see README).
import type { HandshakeRead, HandshakeReaderKind } from '../protocol.js';
import { builtins } from '../../builtins.js';

/** Latest handshake (unix seconds, 0 = never) over all peers of a UAPI "get=1" answer. Throws on errno != 0. */
export function parseUapiGet(text: string): number {
  let latest = 0;
  let errno: number | undefined;
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq === -1) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'last_handshake_time_sec') latest = Math.max(latest, Number(value) || 0);
    else if (key === 'errno') errno = Number(value);
  }
  if (errno === undefined) throw new Error('incomplete UAPI answer (no errno line)');
  if (errno !== 0) throw new Error(`UAPI get failed with errno ${errno}`);
  return latest;
}

/** Latest handshake over all peers of `wg show <if> dump` (first line: the interface; then one line per peer). */
export function parseWgDump(text: string): number {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines.length === 0) throw new Error('empty wg dump');
  let latest = 0;
  for (const line of lines.slice(1)) {
    const fields = line.split('\t');
    if (fields.length < 8) throw new Error(`unexpected wg dump peer line with ${fields.length} fields`);
    latest = Math.max(latest, Number(fields[4]) || 0);
  }
  return latest;
}

export function uapiSocketPath(ifname: string): string {
  return `/var/run/wireguard/${ifname}.sock`;
}

export async function readUapi(ifname: string, timeoutMs = 2000): Promise<number> {
  const { connect } = builtins.net(); // serve mode only (builtins.ts)
  return new Promise((resolve, reject) => {
    const sock = connect(uapiSocketPath(ifname));
    let text = '';
    const timer = setTimeout(() => sock.destroy(new Error(`UAPI ${uapiSocketPath(ifname)} did not answer`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write('get=1\n\n'));
    sock.on('data', (d: string) => {
      text += d;
      if (text.endsWith('\n\n')) sock.end();
      if (text.length > 1 << 20) sock.destroy(new Error('UAPI answer too large'));
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot read ${uapiSocketPath(ifname)}: ${err.message}`));
    });
    sock.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseUapiGet(text));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

export async function readWgDump(ifname: string, timeoutMs = 2000): Promise<number> {
  const { execFile } = builtins.childProcess(); // serve mode only (builtins.ts)
  return new Promise((resolve, reject) => {
    execFile('wg', ['show', ifname, 'dump'], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wg show ${ifname} dump failed: ${(stderr || err.message).trim()}`));
      try {
        resolve(parseWgDump(stdout));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

export function handshakeReader(kind: HandshakeReaderKind, ifname: string): HandshakeRead | undefined {
  if (kind === 'off') return undefined;
  if (kind === 'uapi') return () => readUapi(ifname);
  if (kind === 'wg') return () => readWgDump(ifname);
  const { existsSync } = builtins.fs();
  return () => (existsSync(uapiSocketPath(ifname)) ? readUapi(ifname) : readWgDump(ifname));
}
