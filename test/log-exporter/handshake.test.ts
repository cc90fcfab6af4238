import { describe, expect, it } from 'vitest';
import { parseUapiGet, parseWgDump } from '../../log-exporter/src/protocols/wireguard/handshake.js';

describe('WireGuard handshake parsers', () => {
  it('reads the latest handshake over all peers from a UAPI get=1 answer', () => {
    const answer = [
      'private_key=aa',
      'listen_port=0',
      'public_key=bb',
      'endpoint=10.213.0.1:51820',
      'last_handshake_time_sec=1795690900',
      'last_handshake_time_nsec=5',
      'public_key=cc',
      'last_handshake_time_sec=1795690950',
      'errno=0',
      '',
      '',
    ].join('\n');
    expect(parseUapiGet(answer)).toBe(1795690950);
    expect(parseUapiGet('private_key=aa\npublic_key=bb\nlast_handshake_time_sec=0\nerrno=0\n\n')).toBe(0);
    expect(() => parseUapiGet('errno=2\n\n')).toThrow(/errno 2/);
    expect(() => parseUapiGet('private_key=aa\n')).toThrow(/incomplete/);
  });

  it('reads the latest handshake from wg show dump', () => {
    const dump =
      'privkey\tpubkey\t0\toff\n' +
      'peer1\t(none)\t10.213.0.1:51820\t10.215.0.0/24\t1795690900\t1000\t2000\t5\n' +
      'peer2\t(none)\t(none)\t10.216.0.0/24\t0\t0\t0\toff\n';
    expect(parseWgDump(dump)).toBe(1795690900);
    expect(parseWgDump('privkey\tpubkey\t0\toff\n')).toBe(0);
    expect(() => parseWgDump('')).toThrow(/empty/);
    expect(() => parseWgDump('i\nbad\tline\n')).toThrow(/fields/);
  });
});
