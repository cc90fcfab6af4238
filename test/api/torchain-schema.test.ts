import { describe, expect, it } from 'vitest';
import { validateTorChain, validateTorChainSpec } from '../../operator/src/api/validate.js';
import { API_VERSION, KIND, type TorChain } from '../../operator/src/api/torchain.js';

const hop = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown => ({
  apiVersion: API_VERSION,
  kind: KIND,
  metadata: { name: 'chain-a-hop-1', namespace: 'vpn' },
  spec: { numberNode: 1, typeNode: 'openvpn', nameTorChain: 'chain-a', inInterface: 'net1', ...spec },
  ...extra,
});

describe('TorChain schema: valid objects are accepted', () => {
  it.each([
    ['the minimal hop', {}],
    [
      'every seed field',
      {
        drop: 0,
        numberNode: 3,
        typeNode: 'wireguard',
        switchServer: 7,
        vpnFileConfig: 'wg-chain-a-3.conf',
        tmpDir: '/tmp/vpn',
        inInterface: 'net1',
        ipGateWay: '192.168.50.1/24',
        outInterface: 'net2',
        image: 'registry.local/torchain/wireguard:0.1.0',
        nameK8sNode: 'worker-1',
      },
    ],
    ['an inner hop gateway on a /30', { ipGateWay: '10.254.0.5/30' }],
    ['an openconnect hop', { typeNode: 'openconnect' }],
    ['a 15-character interface name', { inInterface: 'abcdefghijklmno' }],
    ['interface names the hop takes', { inInterface: 'br-lan.10', outInterface: 'macvlan@x' }],
    ['the largest MTU the hop takes', { mtu: 9000 }],
    ['a dropped hop', { drop: 1 }],
    ['the optional overrides', { mtu: 1380, poolPath: 'custom/pool/hop-1', outGateway: '10.201.1.1' }],
    ['a hop far down a long chain', { numberNode: 12 }],
    ['DNS for the LAN with the server’s resolver', { ipGateWay: '192.168.50.1/24', dns: {} }],
    ['DNS for the LAN with the chain’s resolvers', { ipGateWay: '192.168.50.1/24', dns: { servers: ['9.9.9.9'] } }],
  ])('%s', (_name, spec) => {
    const r = validateTorChain(hop(spec));
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it('accepts a status in the Kubernetes condition shape', () => {
    const obj = hop(
      {},
      {
        status: {
          observedGeneration: 2,
          phase: 'Running',
          currentServer: 'srv-b',
          switches: 1,
          lastSwitchTime: '2026-11-26T10:00:00Z',
          mtu: 1420,
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'TunnelUp',
              message: 'tunnel to srv-b is up',
              lastTransitionTime: '2026-11-26T10:00:05Z',
              observedGeneration: 2,
            },
          ],
        },
      },
    ) as TorChain;
    const r = validateTorChain(obj);
    expect(r.ok ? [] : r.errors).toEqual([]);
  });
});

describe('TorChain schema: each kind of invalid object is rejected with the field named', () => {
  it.each([
    ['numberNode below 1', { numberNode: 0 }, 'spec.numberNode', /must be >= 1/],
    ['numberNode not an integer', { numberNode: 1.5 }, 'spec.numberNode', /integer/],
    ['typeNode outside the enum', { typeNode: 'ipsec' }, 'spec.typeNode', /Unsupported value: "ipsec"/],
    ['negative switchServer', { switchServer: -1 }, 'spec.switchServer', /must be >= 0/],
    ['negative drop', { drop: -2 }, 'spec.drop', /must be >= 0/],
    ['a gateway that is not an IP', { ipGateWay: 'gateway.local/24' }, 'spec.ipGateWay', /pattern/],
    ['an IPv4 octet above 255', { ipGateWay: '192.168.300.1/24' }, 'spec.ipGateWay', /pattern/],
    ['a gateway without prefix', { ipGateWay: '10.0.0.1' }, 'spec.ipGateWay', /pattern/],
    ['a /31 gateway', { ipGateWay: '10.0.0.1/31' }, 'spec.ipGateWay', /pattern/],
    ['an IPv6 gateway', { ipGateWay: 'fd00:50::1/64' }, 'spec.ipGateWay', /pattern/],
    ['an MTU above what the hop takes', { mtu: 9001 }, 'spec.mtu', /must be <= 9000/],
    ['an interface name starting with a dash', { inInterface: '-in0' }, 'spec.inInterface', /pattern/],
    ['an interface name with a semicolon', { inInterface: 'in0;x' }, 'spec.inInterface', /pattern/],
    ['a 16-character interface name', { inInterface: 'abcdefghijklmnop' }, 'spec.inInterface', /16 characters|15/],
    ['an interface name with a slash', { outInterface: 'eth/0' }, 'spec.outInterface', /pattern/],
    ['an interface name with a colon', { outInterface: 'eth0:1' }, 'spec.outInterface', /pattern/],
    ['the interface name ".."', { inInterface: '..' }, 'spec.inInterface', /pattern/],
    ['an empty interface name', { inInterface: '' }, 'spec.inInterface', /fewer than 1/],
    ['a chain name that is not a DNS label', { nameTorChain: 'Chain_A' }, 'spec.nameTorChain', /pattern/],
    ['a config file name with a path', { vpnFileConfig: '../etc/passwd' }, 'spec.vpnFileConfig', /pattern/],
    ['a relative tmpDir', { tmpDir: 'tmp' }, 'spec.tmpDir', /pattern/],
    ['an outGateway with a prefix', { outGateway: '10.0.0.1/24' }, 'spec.outGateway', /must match one of/],
    ['an MTU below the IPv4 minimum', { mtu: 500 }, 'spec.mtu', /must be >= 576/],
    ['a pool path escaping the mount', { poolPath: '../other' }, 'spec.poolPath', /pattern/],
    ['an unknown spec field', { gateway: '10.0.0.1' }, 'spec.gateway', /field not declared in schema/],
    ['a loopback DNS server', { dns: { servers: ['127.0.0.53'] } }, 'spec.dns.servers[0]', /pattern/],
    ['a DNS server host name', { dns: { servers: ['dns.example'] } }, 'spec.dns.servers[0]', /pattern/],
    ['an IPv6 DNS server', { dns: { servers: ['2001:db8::53'] } }, 'spec.dns.servers[0]', /pattern/],
    [
      'four DNS servers',
      { dns: { servers: ['1.1.1.1', '1.0.0.1', '9.9.9.9', '8.8.8.8'] } },
      'spec.dns.servers',
      /more than 3/,
    ],
    ['an unknown DNS field', { dns: { upstream: ['9.9.9.9'] } }, 'spec.dns.upstream', /field not declared/],
  ])('%s', (_name, spec, field, message) => {
    const r = validateTorChain(hop(spec));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const hit = r.errors.find((e) => e.field === field);
    expect(hit, JSON.stringify(r.errors)).toBeDefined();
    expect(hit!.message).toMatch(message);
  });

  it.each(['numberNode', 'typeNode', 'nameTorChain', 'inInterface'])('a missing %s', (field) => {
    const spec: Record<string, unknown> = {
      numberNode: 1,
      typeNode: 'openvpn',
      nameTorChain: 'a',
      inInterface: 'net1',
    };
    delete spec[field];
    const r = validateTorChainSpec(spec);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toContainEqual({ field: `spec.${field}`, message: 'Required value' });
  });

  it('a condition with a status outside True/False/Unknown', () => {
    const r = validateTorChain(
      hop(
        {},
        {
          status: {
            conditions: [
              { type: 'Ready', status: 'yes', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
            ],
          },
        },
      ),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field)).toContain('status.conditions[0].status');
  });

  it('the wrong apiVersion', () => {
    const r = validateTorChain(hop({}, { apiVersion: 'torchain.dev/v1' }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field)).toContain('apiVersion');
  });
});
