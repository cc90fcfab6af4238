// The protocol modules (operator/src/protocols/<type>/): the one place pool entry configs are parsed. What the hop
// runs is the module's output; these tests pin what it keeps, what it takes out and what it refuses.
import { describe, expect, it } from 'vitest';
import { PROTOCOLS } from '../../common/contracts/protocols.js';
import { PROTOCOL_MODULES, protocolModule } from '../../operator/src/protocols/index.js';

const prep = (type: string, config: string, vault?: string) => {
  const r = protocolModule(type).prepare(config, vault);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const refusal = (type: string, config: string, vault?: string) => {
  const r = protocolModule(type).prepare(config, vault);
  return r.ok ? 'accepted' : r.error;
};

describe('the registry', () => {
  it('has one module per protocol, each named after it, with distinct interface prefixes', () => {
    expect(Object.keys(PROTOCOL_MODULES).sort()).toEqual([...PROTOCOLS].sort());
    for (const p of PROTOCOLS) expect(PROTOCOL_MODULES[p].name).toBe(p);
    const prefixes = PROTOCOLS.map((p) => PROTOCOL_MODULES[p].interfacePrefix);
    expect(new Set(prefixes).size).toBe(prefixes.length);
    expect(() => protocolModule('ipsec')).toThrow(
      /unknown protocol "ipsec": expected one of openvpn, wireguard, openconnect/,
    );
  });
});

describe('openvpn', () => {
  const config = [
    'client',
    'dev tun',
    'proto udp',
    'remote vpn.example.net 1194',
    'remote 192.0.2.9 1194',
    'script-security 2',
    'up /etc/openvpn/up.sh',
    'redirect-gateway def1',
    'user nobody',
    'tun-mtu 1500',
    '<ca>',
    'remote this-is-certificate-text',
    '</ca>',
    '',
  ].join('\n');

  it('runs exactly one remote — the endpoint — and drops what the hop decides, leaving inline blocks alone', () => {
    const s = prep('openvpn', config, '198.51.100.7:1194');
    expect(s).toMatchObject({ endpoint: '198.51.100.7:1194', proto: 'udp', protos: ['udp'], family: 'ipv4' });
    const directives = s.runConfig.split('\n').filter((l) => /^remote /.test(l));
    expect(directives).toEqual(['remote this-is-certificate-text', 'remote 198.51.100.7 1194']);
    for (const gone of ['dev tun', 'script-security', 'up /etc', 'redirect-gateway', 'user nobody', 'tun-mtu'])
      expect(s.runConfig).not.toContain(gone);
    expect(s.runConfig).toMatch(/^<ca>\nremote this-is-certificate-text\n<\/ca>$/m);
    expect(s.runConfig).toMatch(/^ping 5\nping-restart 15\nverb 3$/m);
  });

  it('keeps its own ping and verb settings, adds connect-retry over TCP', () => {
    const s = prep('openvpn', 'remote 192.0.2.1 443 tcp\nkeepalive 10 60\nverb 4\n');
    expect(s).toMatchObject({ proto: 'tcp', protos: ['tcp'], endpoint: '192.0.2.1:443' });
    expect(s.runConfig).not.toMatch(/^ping /m);
    expect(s.runConfig).toMatch(/^proto tcp-client$/m);
    expect(s.runConfig).toMatch(/^connect-retry 1 5$/m);
  });

  it.each([
    ['<connection> blocks', 'client\n<connection>\nremote 192.0.2.1\n</connection>\n', /<connection> blocks/],
    ['an unclosed block', 'remote 192.0.2.1\n<ca>\nabc\n', /<ca> is never closed/],
    ['a host name without Vault endpoint', 'remote vpn.example.net 1194\n', /not an IP address.*Vault/],
  ])('refuses %s', (_n, c, message) => {
    expect(refusal('openvpn', c)).toMatch(message);
  });
});

describe('wireguard', () => {
  const config = [
    '[Interface]',
    'PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=',
    'Address = 10.99.0.2/32, fd00:99::2/128',
    'DNS = 10.99.0.1',
    'MTU = 1420',
    'PostUp = touch /tmp/pwned',
    'Table = off',
    '',
    '[Peer]',
    'PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
    'AllowedIPs = 0.0.0.0/0',
    'Endpoint = 198.51.100.9:51820',
    '',
  ].join('\n');

  it('runs `wg setconf` syntax: wg-quick keys out, addresses to the entrypoint, the endpoint in the peer', () => {
    const s = prep('wireguard', config);
    expect(s.env).toEqual({
      TORCHAIN_WG_ADDRESSES: '10.99.0.2/32,fd00:99::2/128',
      TORCHAIN_DNS_CONFIGURED: '10.99.0.1', // for the hop that serves DNS (dns-config.test.ts)
    });
    for (const gone of ['Address', 'DNS', 'MTU', 'PostUp', 'Table'])
      expect(s.runConfig).not.toMatch(new RegExp(`^${gone}`, 'm'));
    expect(s.runConfig).toMatch(/^\[Peer\]\nEndpoint = 198\.51\.100\.9:51820\n/m);
    expect(s.runConfig).toContain('PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=');
  });

  it('puts a Vault endpoint in place of the config’s', () => {
    expect(prep('wireguard', config, '[fd00::1]:51820').runConfig).toMatch(/^Endpoint = \[fd00::1\]:51820$/m);
  });

  it.each([
    ['two peers', config + '[Peer]\nPublicKey = x\n', /exactly one \[Peer\].*found 2/],
    ['no Address', config.replace(/^Address.*\n/m, ''), /has no Address/],
    ['a bad Address', config.replace('10.99.0.2/32', '10.99.0.2'), /not address\/prefix: 10\.99\.0\.2/],
    ['no PublicKey', config.replace(/^PublicKey.*\n/m, ''), /no PublicKey/],
    ['a line that is not Key = Value', config.replace('Table = off', 'garbage'), /"garbage" is not "Key = Value"/],
  ])('refuses %s', (_n, c, message) => {
    expect(refusal('wireguard', c)).toMatch(message);
  });
});

describe('openconnect', () => {
  const pin = `pin-sha256:${'A'.repeat(43)}=`;
  const pem =
    '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----';
  const entry = (extra: string[] = [], server = 'https://198.51.100.30:443/ra') =>
    [
      `server = ${server}`,
      `servercert = ${pin}`,
      'user = alice',
      ...extra,
      '<cert>',
      pem,
      '</cert>',
      '<password>',
      's3cret',
      '</password>',
      '',
    ].join('\n');

  it('pins the server to the endpoint, keeps the secrets out of the run config (companion files), DTLS and TLS admitted', () => {
    const s = prep(
      'openconnect',
      entry(['interface = tun9', 'script = /bin/evil', 'csd-wrapper /bin/evil', 'useragent = x']),
    );
    expect(s).toMatchObject({ endpoint: '198.51.100.30:443', proto: 'udp', protos: ['tcp', 'udp'], family: 'ipv4' });
    expect(s.runConfig).toMatch(/^server = https:\/\/198\.51\.100\.30\/ra$/m);
    expect(s.runConfig).toContain(`servercert = ${pin}`);
    expect(s.runConfig).toMatch(/^user = alice$/m);
    expect(s.runConfig).toMatch(/^useragent = x$/m);
    expect(s.runConfig).toMatch(/^force-dpd = 2$/m);
    for (const gone of ['interface', 'script', 'csd-wrapper', 's3cret', 'PRIVATE KEY'])
      expect(s.runConfig).not.toContain(gone);
    expect(s.companions).toEqual({ 'cert.pem': `${pem}\n`, password: 's3cret\n' });
  });

  it('resolves a host name to the Vault endpoint and keeps the name for TLS; no-dtls means TLS only', () => {
    const s = prep('openconnect', entry(['no-dtls'], 'vpn.example.net'), '192.0.2.44:8443');
    expect(s.runConfig).toMatch(/^server = https:\/\/vpn\.example\.net:8443\/$/m);
    expect(s.runConfig).toMatch(/^resolve = vpn\.example\.net:192\.0\.2\.44$/m);
    expect(s).toMatchObject({ proto: 'tcp', protos: ['tcp'], endpoint: '192.0.2.44:8443' });
  });

  it('reports the path MTU its server should size the tunnel for', () => {
    const s = prep('openconnect', entry());
    expect(PROTOCOL_MODULES.openconnect.mtuEnv!(s, 1382)).toEqual({ TORCHAIN_OC_BASE_MTU: '1448' });
  });

  it.each([
    ['no server', entry().replace(/^server.*\n/m, ''), /no "server = https/],
    ['no pin', entry().replace(/^servercert.*\n/m, ''), /must pin the server certificate/],
    ['a bad pin', entry().replace(pin, 'pin-sha256:short'), /must pin the server certificate/],
    ['no credentials', [`server = https://192.0.2.1/`, `servercert = ${pin}`].join('\n'), /no credentials/],
    [
      'a <cert> without key',
      entry().replace(/-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----/, ''),
      /certificate and its private key/,
    ],
    ['another protocol', entry(['protocol = gp']), /protocol gp is not supported/],
    ['an http URL', entry([], 'http://192.0.2.1/'), /must be an https:\/\/ URL/],
    ['a host name without Vault endpoint', entry([], 'https://vpn.example.net/'), /not an IP address.*Vault/],
    ['an unknown block', entry(['<script>', 'x', '</script>']), /unknown block <script>/],
  ])('refuses %s', (_n, c, message) => {
    expect(refusal('openconnect', c)).toMatch(message);
  });
});
