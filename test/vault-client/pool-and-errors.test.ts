// Pure parts of the operator's Vault adapter: pool paths and entries, and how Vault failures are classified.
import { describe, expect, it } from 'vitest';
import { hopPoolPath, parseEndpoint, parsePoolEntry, toVaultError } from '../../operator/src/adapters/vault/index.js';

describe('hop pool layout', () => {
  it('is <prefix>/<namespace>/<chain>/hop-<k>, or the TorChain poolPath when set', () => {
    expect(hopPoolPath({ namespace: 'ns', chain: 'c', hop: 3 })).toBe('torchain/ns/c/hop-3');
    expect(hopPoolPath({ prefix: 'team/vpn/', namespace: 'ns', chain: 'c', hop: 1 })).toBe('team/vpn/ns/c/hop-1');
    expect(hopPoolPath({ namespace: 'ns', chain: 'c', hop: 1, poolPath: 'custom/pool' })).toBe('custom/pool');
    expect(() => hopPoolPath({ namespace: 'ns', chain: 'c', hop: 0 })).toThrow(/hop number/);
  });

  it.each([
    ['192.0.2.1:1194', { host: '192.0.2.1', port: 1194 }],
    ['[2001:db8::1]:51820', { host: '2001:db8::1', port: 51820 }],
    [' 10.0.0.1:1 ', { host: '10.0.0.1', port: 1 }],
    ['vpn.example.com:1194', undefined],
    ['2001:db8::1:51820', undefined],
    ['[192.0.2.1]:1194', undefined],
    ['192.0.2.1', undefined],
    ['192.0.2.1:0', undefined],
    ['192.0.2.1:65536', undefined],
    ['999.0.2.1:1194', undefined],
  ])('endpoint %s → %o', (text, expected) => {
    expect(parseEndpoint(text)).toEqual(expected);
  });

  it('an entry needs a non-empty config; an endpoint must be an IP literal with a port', () => {
    expect(parsePoolEntry('a', { config: 'x', endpoint: '192.0.2.1:1194' }, 2)).toEqual({
      server: { name: 'a', config: 'x', endpoint: '192.0.2.1:1194', version: 2 },
    });
    expect(parsePoolEntry('a', { config: 'x' }, 1)).toEqual({ server: { name: 'a', config: 'x', version: 1 } });
    expect(parsePoolEntry('a', { config: 'x', probe: '10.8.0.1:53' }, 1)).toEqual({
      server: { name: 'a', config: 'x', probe: '10.8.0.1:53', version: 1 },
    });
    expect(parsePoolEntry('a', { config: 'x', probe: '[fd00::1]:53' }, 1)).toMatchObject({
      reason: expect.stringMatching(/key "probe"/),
    });
    expect(parsePoolEntry('a', { config: 'x', probe: 'vpn.example:53' }, 1)).toMatchObject({
      reason: expect.stringMatching(/IPv4 host:port/),
    });
    expect(parsePoolEntry('a', { config: '  ' }, 1)).toEqual({ reason: expect.stringContaining('"config"') });
    expect(parsePoolEntry('a', { config: 'x', endpoint: 'host:1' }, 1)).toEqual({
      reason: expect.stringContaining('"endpoint"'),
    });
  });
});

describe('VaultError classification', () => {
  const api = (statusCode: number, errors: string[]) => ({
    message: errors[0],
    response: { statusCode, body: { errors } },
  });
  it.each([
    [api(404, []), 'read', 'not_found', false],
    [api(403, ['1 error occurred:\n\t* permission denied\n\n']), 'read', 'forbidden', false],
    [api(403, ['2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n']), 'list', 'token_invalid', false],
    [api(403, ['service account name not authorized']), 'login', 'login_denied', false],
    [api(400, ['invalid role name "x"']), 'login', 'login_denied', false],
    [api(400, ['bad']), 'read', 'bad_request', false],
    [api(503, ['Vault is sealed']), 'read', 'sealed', true],
    [api(503, ['Vault is in standby']), 'read', 'unavailable', true],
    [api(502, []), 'read', 'unavailable', true],
    [api(500, ['boom']), 'read', 'server_error', true],
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'read', 'unavailable', true],
    [{ code: 'ECONNABORTED', message: 'timeout of 5000ms exceeded' }, 'list', 'unavailable', true],
    [{ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND vault' }, 'login', 'unavailable', true],
  ] as const)('%o during %s → %s', (err, operation, kind, retryable) => {
    const ve = toVaultError(err, operation, 'secret/data/torchain/ns/c/hop-1/a');
    expect(ve.kind).toBe(kind);
    expect(ve.retryable).toBe(retryable);
    expect(ve.path).toBe('secret/data/torchain/ns/c/hop-1/a');
    expect(ve.message).toContain('secret/data/torchain/ns/c/hop-1/a');
  });
});
