import { describe, expect, it } from 'vitest';
import { layerOverhead, tunnelMtus, type MtuLayer } from '../../operator/src/core/mtu.js';

const wg: MtuLayer = { type: 'wireguard' };
const ovUdp: MtuLayer = { type: 'openvpn', transport: 'udp' };
const ovTcp: MtuLayer = { type: 'openvpn', transport: 'tcp' };
const oc: MtuLayer = { type: 'openconnect' };

describe('layerOverhead (figures measured by test/dataplane/overhead.test.ts)', () => {
  it.each([
    [{ type: 'wireguard', family: 'ipv4' }, 60],
    [{ type: 'wireguard', family: 'ipv6' }, 80],
    [{ type: 'openvpn', transport: 'udp', family: 'ipv4' }, 52],
    [{ type: 'openvpn', transport: 'udp', family: 'ipv6' }, 72],
    [{ type: 'openvpn', transport: 'tcp', family: 'ipv4' }, 78],
    [{ type: 'openvpn', transport: 'tcp', family: 'ipv6' }, 98],
    [{ type: 'openvpn' }, 52],
    [{ type: 'openconnect', transport: 'udp', family: 'ipv4' }, 66],
    [{ type: 'openconnect', transport: 'udp', family: 'ipv6' }, 86],
    [{ type: 'openconnect', transport: 'tcp', family: 'ipv4' }, 89],
    [{ type: 'openconnect', transport: 'tcp', family: 'ipv6' }, 109],
    [{ type: 'openconnect' }, 66],
    [{ type: 'wireguard', transport: 'udp' }, 60],
  ] as [MtuLayer, number][])('%o costs %i bytes', (layer, bytes) => {
    expect(layerOverhead(layer)).toBe(bytes);
  });

  it('refuses WireGuard over TCP', () => {
    expect(() => layerOverhead({ type: 'wireguard', transport: 'tcp' })).toThrow(
      /cannot use transport tcp; it runs over udp/,
    );
  });
});

describe('tunnelMtus', () => {
  it.each([
    [1500, [wg], [1440]],
    [1500, [ovUdp], [1448]],
    [1500, [ovTcp], [1422]],
    // 1448 - 60 = 1388, rounded down to a multiple of 16: 1376.
    [1500, [ovUdp, wg, ovTcp], [1448, 1376, 1298]],
    [1500, [wg, wg, wg], [1440, 1376, 1312]],
    [1500, [wg, ovUdp], [1440, 1388]],
    [1500, [{ type: 'wireguard', family: 'ipv6' }, ovUdp], [1408, 1356]],
    [1420, [wg], [1360]],
    [9000, [wg, ovTcp], [8928, 8850]],
    [1280, [ovUdp], [1228]],
    [1500, [], []],
    [1500, [oc], [1434]],
    // The mixed chain of the data-plane tests: 1448 - 66 = 1382, 1382 - 60 = 1322 -> 1312.
    [1500, [ovUdp, oc, wg], [1448, 1382, 1312]],
    [1500, [{ type: 'openconnect', transport: 'tcp' }], [1411]],
  ] as [number, MtuLayer[], number[]][])('link %i, hops %j -> %j', (link, hops, want) => {
    expect(tunnelMtus(link, hops)).toEqual(want);
  });

  it('each hop loses its own layer against the hop above (WireGuard: then down to a multiple of 16)', () => {
    const hops = [ovTcp, wg, ovUdp, { type: 'wireguard', family: 'ipv6' } as MtuLayer];
    const mtus = tunnelMtus(1500, hops);
    mtus.forEach((m, i) => {
      const room = (i === 0 ? 1500 : mtus[i - 1]!) - layerOverhead(hops[i]!);
      if (hops[i]!.type === 'wireguard') {
        expect(m % 16).toBe(0);
        expect(room - m).toBeLessThan(16);
        expect(room - m).toBeGreaterThanOrEqual(0);
      } else expect(m).toBe(room);
    });
  });

  it.each([
    [575, [wg], /link MTU 575/],
    [1500.5, [wg], /not an integer/],
    [70000, [wg], /not an integer in/],
    [Number.NaN, [wg], /link MTU/],
    [600, [wg], /hop 1's tunnel MTU would be 528/],
    [
      1500,
      [{ type: 'ipsec' } as unknown as MtuLayer],
      /hop 1 has type ipsec; expected one of openvpn, wireguard, openconnect/,
    ],
    [
      1300,
      [wg, { type: 'wireguard', family: 'ipv6' }],
      /hop 2 reaches its server over IPv6, but hop 1's tunnel has MTU 1232/,
    ],
    [1279, [{ type: 'openvpn', family: 'ipv6' }], /outer link has MTU 1279/],
  ] as [number, MtuLayer[], RegExp][])('link %s with %j is refused', (link, hops, message) => {
    expect(() => tunnelMtus(link, hops)).toThrow(message);
  });

  it('a chain too deep for the link names the first hop that does not fit', () => {
    const deep = Array.from({ length: 20 }, () => wg);
    expect(() => tunnelMtus(1500, deep)).toThrow(/hop 15's tunnel MTU would be 544/);
  });
});
