// The resolvers a pool entry names (operator/src/protocols/*, dns.ts): what the hop that serves DNS forwards to
// until the server pushes others. And what the OpenVPN module takes out so that the DNS hop's --script-security 2
// (for its own --up script) runs no program of the config.
import { describe, expect, it } from 'vitest';
import { dnsEnv, isResolverAddress } from '../../operator/src/protocols/dns.js';
import { protocolModule } from '../../operator/src/protocols/index.js';

const prep = (type: string, config: string) => {
  const r = protocolModule(type).prepare(config);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

const WG = (dns: string) =>
  `[Interface]\nPrivateKey = k\nAddress = 10.64.0.2/32\n${dns}\n[Peer]\nPublicKey = p\nEndpoint = 198.51.100.7:51820\n`;

describe('resolvers named in a config', () => {
  it('WireGuard: the IPv4 resolvers of DNS =, without search domains or IPv6, and never in the run config', () => {
    const p = prep('wireguard', WG('DNS = 10.64.0.1, 2001:db8::1, corp.example, 9.9.9.9'));
    expect(p.env.TORCHAIN_DNS_CONFIGURED).toBe('10.64.0.1,9.9.9.9');
    expect(p.runConfig).not.toMatch(/DNS/i);
    expect(prep('wireguard', WG('')).env.TORCHAIN_DNS_CONFIGURED).toBeUndefined();
    expect(prep('wireguard', WG('DNS = corp.example')).env.TORCHAIN_DNS_CONFIGURED).toBeUndefined();
  });

  it('OpenVPN: its own dhcp-option DNS lines (the rest arrive as the server pushes them)', () => {
    const p = prep(
      'openvpn',
      'client\nremote 198.51.100.7 1194\ndhcp-option DNS 10.8.0.1\ndhcp-option DOMAIN corp.example\ndhcp-option dns 10.8.0.2\n',
    );
    expect(p.env.TORCHAIN_DNS_CONFIGURED).toBe('10.8.0.1,10.8.0.2');
    expect(prep('openvpn', 'client\nremote 198.51.100.7 1194\n').env).toEqual({});
  });

  it('at most three, no repeats, resolver addresses only', () => {
    expect(dnsEnv(['1.1.1.1', '1.1.1.1', ' 9.9.9.9 ', '8.8.8.8', '8.8.4.4'])).toEqual({
      TORCHAIN_DNS_CONFIGURED: '1.1.1.1,9.9.9.9,8.8.8.8',
    });
    for (const bad of ['127.0.0.53', '0.0.0.0', '224.0.0.251', '255.255.255.255', '::1', 'dns.example', '1.2.3'])
      expect(isResolverAddress(bad), bad).toBe(false);
    for (const good of ['1.1.1.1', '10.8.0.1', '223.255.255.254', '126.0.0.1', '128.0.0.1'])
      expect(isResolverAddress(good), good).toBe(true);
  });
});

describe('OpenVPN: no program of the config can run', () => {
  it('takes out every directive that names a script or a plugin', () => {
    const directives = [
      'tls-verify /bin/evil',
      'auth-user-pass-verify /bin/evil via-env',
      'client-connect /bin/evil',
      'client-disconnect /bin/evil',
      'learn-address /bin/evil',
      'tls-crypt-v2-verify /bin/evil',
      'plugin /usr/lib/evil.so',
      'up /bin/evil',
      'down /bin/evil',
      'route-up /bin/evil',
      'route-pre-down /bin/evil',
      'ipchange /bin/evil',
      'script-security 3',
    ];
    const p = prep('openvpn', `client\nremote 198.51.100.7 1194\n${directives.join('\n')}\n`);
    expect(p.runConfig).not.toContain('evil');
    expect(p.runConfig).not.toContain('script-security');
  });
});
