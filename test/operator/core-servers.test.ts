import { describe, expect, it } from 'vitest';
import { chooseServer, poolCounts, sortPool } from '../../operator/src/core/server-choice.js';
import { serverEndpoint, splitHostPort } from '../../operator/src/core/vpn-config.js';
import { ovpnConfig, wgConfig } from './support/fixtures.js';

const NOW = 1_000_000;

describe('server choice', () => {
  const pool = ['charlie', 'alpha', 'bravo'];

  it('sorts the pool by name (byte order, not locale) and takes switchServer mod size', () => {
    expect(sortPool(['b', 'B', 'a', 'a'])).toEqual(['B', 'a', 'b']);
    expect([0, 1, 2, 3, 4, 7].map((n) => chooseServer(pool, n, {}, NOW))).toMatchObject(
      ['alpha', 'bravo', 'charlie', 'alpha', 'bravo', 'bravo'].map((server) => ({ kind: 'chosen', server })),
    );
  });

  it('skips quarantined servers, in pool order, and says which', () => {
    const c = chooseServer(pool, 1, { bravo: NOW + 1, charlie: NOW + 1 }, NOW);
    expect(c).toEqual({ kind: 'chosen', server: 'alpha', index: 0, skipped: ['bravo', 'charlie'] });
  });

  it('a quarantine that ended no longer counts', () => {
    expect(chooseServer(pool, 1, { bravo: NOW }, NOW)).toMatchObject({ server: 'bravo' });
  });

  it('all quarantined: exhausted until the first quarantine ends', () => {
    const c = chooseServer(pool, 0, { alpha: NOW + 50, bravo: NOW + 10, charlie: NOW + 30 }, NOW);
    expect(c).toEqual({ kind: 'exhausted', retryAt: NOW + 10, quarantined: ['alpha', 'bravo', 'charlie'] });
  });

  it('an empty pool says so', () => {
    expect(chooseServer([], 3, {}, NOW)).toEqual({ kind: 'empty' });
  });

  it('keeps the server already chosen for this switchServer when a quarantine ends (no surprise restart)', () => {
    const sticky = { switchServer: 1, server: 'charlie' };
    expect(chooseServer(pool, 1, {}, NOW, sticky)).toMatchObject({ server: 'charlie' });
    // ... but not for another switchServer, nor when the server left the pool.
    expect(chooseServer(pool, 0, {}, NOW, sticky)).toMatchObject({ server: 'alpha' });
    expect(chooseServer(['alpha', 'bravo'], 1, {}, NOW, sticky)).toMatchObject({ server: 'bravo' });
  });

  it('counts available and quarantined servers', () => {
    expect(poolCounts(pool, { alpha: NOW + 1, zulu: NOW + 1, bravo: NOW - 1 }, NOW)).toEqual({
      available: 2,
      quarantined: 1,
    });
  });
});

describe('server endpoint', () => {
  it.each([
    ['OpenVPN udp', 'openvpn', ovpnConfig('198.51.100.7', 1194), undefined, '198.51.100.7:1194', 'udp', 'ipv4'],
    [
      'OpenVPN tcp-client',
      'openvpn',
      ovpnConfig('198.51.100.7', 443, 'tcp-client'),
      undefined,
      '198.51.100.7:443',
      'tcp',
      'ipv4',
    ],
    [
      'OpenVPN proto on the remote line',
      'openvpn',
      'remote 10.0.0.1 1300 tcp\nproto udp\n',
      undefined,
      '10.0.0.1:1300',
      'tcp',
      'ipv4',
    ],
    ['OpenVPN default port', 'openvpn', 'client\nremote 10.0.0.1\n', undefined, '10.0.0.1:1194', 'udp', 'ipv4'],
    ['OpenVPN port directive', 'openvpn', 'port 1195\nremote 10.0.0.1\n', undefined, '10.0.0.1:1195', 'udp', 'ipv4'],
    ['OpenVPN IPv6', 'openvpn', 'remote fd00::5 1194 udp6\n', undefined, '[fd00::5]:1194', 'udp', 'ipv6'],
    [
      'OpenVPN first remote wins',
      'openvpn',
      '# remote 9.9.9.9\nremote 10.0.0.1 1\nremote 10.0.0.2 2\n',
      undefined,
      '10.0.0.1:1',
      'udp',
      'ipv4',
    ],
    ['WireGuard', 'wireguard', wgConfig('203.0.113.9:51820'), undefined, '203.0.113.9:51820', 'udp', 'ipv4'],
    ['WireGuard IPv6', 'wireguard', wgConfig('[fd00::9]:51820'), undefined, '[fd00::9]:51820', 'udp', 'ipv6'],
    [
      'Vault endpoint over a hostname remote',
      'openvpn',
      ovpnConfig('vpn.example.net', 443, 'tcp'),
      '192.0.2.1:443',
      '192.0.2.1:443',
      'tcp',
      'ipv4',
    ],
    [
      'Vault endpoint for WireGuard',
      'wireguard',
      wgConfig('wg.example.net:51820'),
      '[fd00::1]:51820',
      '[fd00::1]:51820',
      'udp',
      'ipv6',
    ],
  ] as const)('%s', (_n, type, config, vault, endpoint, proto, family) => {
    const r = serverEndpoint(type, config, vault);
    expect(r).toMatchObject({ ok: true, value: { endpoint, proto, family } });
  });

  it.each([
    [
      'a hostname without Vault endpoint',
      'openvpn',
      ovpnConfig('vpn.example.net'),
      undefined,
      /not an IP address.*Vault/,
    ],
    ['no remote', 'openvpn', 'client\ndev tun\n', undefined, /no "remote" line/],
    ['bad proto', 'openvpn', 'proto sctp\nremote 10.0.0.1\n', undefined, /unsupported "proto sctp"/],
    ['bad port', 'openvpn', 'remote 10.0.0.1 99999\n', undefined, /not a port number/],
    ['no Endpoint', 'wireguard', '[Interface]\nPrivateKey = x\n', undefined, /no "Endpoint" line/],
    ['unbracketed IPv6 Endpoint', 'wireguard', wgConfig('fd00::1:51820'), undefined, /not host:port/],
    ['a bad Vault endpoint', 'openvpn', ovpnConfig('10.0.0.1'), 'nonsense', /Vault "endpoint" "nonsense"/],
  ] as const)('refuses %s with a message that says what to do', (_n, type, config, vault, message) => {
    const r = serverEndpoint(type, config, vault);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it('splits host:port forms', () => {
    expect(splitHostPort('[::1]:80')).toEqual({ host: '::1', port: '80' });
    expect(splitHostPort('1.2.3.4:5')).toEqual({ host: '1.2.3.4', port: '5' });
    expect(splitHostPort('::1:80')).toBeUndefined();
    expect(splitHostPort('host')).toBeUndefined();
  });
});
