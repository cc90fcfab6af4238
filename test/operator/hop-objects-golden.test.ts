// Golden files of the hop Secret and Deployment the operator builds (operator/src/core/hop-objects.ts), through the
// protocol modules (operator/src/protocols/) and the tunnel MTU computation the reconciler uses, for a few chain
// shapes: a single OpenVPN hop, a 3-hop openvpn/openconnect/wireguard chain (each hop), a dropped hop, and a hop with
// mtu/image/poolPath overrides. Inputs are fixed (no random, no time), so a change of a golden is a change of what the
// operator writes into a cluster: review it as such.
//
// Update after an intended change: `npx vitest run -u test/operator/hop-objects-golden.test.ts`, then read the diff
// of test/operator/__golden__/hop-objects/ before committing it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { TorChain } from '../../operator/src/api/torchain.js';
import { validateTorChain } from '../../operator/src/api/validate.js';
import { hopMtu, type MtuLayer } from '../../operator/src/core/chain-mtu.js';
import { buildDeployment, buildSecret, type HopBuildInput } from '../../operator/src/core/hop-objects.js';
import { tunnelMtus } from '../../operator/src/core/mtu.js';
import { serverEndpoint } from '../../operator/src/core/vpn-config.js';
import { ovpnConfig, torchain, wgConfig } from './support/fixtures.js';

const GOLDEN = join(import.meta.dirname, '__golden__', 'hop-objects');
/** The operator's default outer link MTU (TORCHAIN_LINK_MTU). */
const LINK_MTU = 1500;

const images = {
  openvpn: 'registry.example/torchain/hop-openvpn:0.1.0',
  wireguard: 'registry.example/torchain/hop-wireguard:0.1.0',
  openconnect: 'registry.example/torchain/hop-openconnect:0.1.0',
  logExporter: 'registry.example/torchain/log-exporter:0.1.0',
  pullPolicy: 'IfNotPresent' as const,
};

/** An openconnect `--config` pool entry (fixed pin, certificate and password: never a real secret). */
function ocConfig(url: string): string {
  return [
    `server = ${url}`,
    `servercert = pin-sha256:${'Q'.repeat(43)}=`,
    'user = hop2',
    '<cert>',
    '-----BEGIN CERTIFICATE-----\nMIIBfixture\n-----END CERTIFICATE-----',
    '-----BEGIN PRIVATE KEY-----\nMIGHfixture\n-----END PRIVATE KEY-----',
    '</cert>',
    '<password>',
    'not-a-real-password',
    '</password>',
    '',
  ].join('\n');
}

interface Hop {
  tc: TorChain;
  server: string;
  config: string;
  probe?: string;
}

/** The build inputs of every hop of a chain, each with the MTU the reconciler computes from the hops above it. */
function chainInputs(hops: Hop[], serviceAccountName?: string): HopBuildInput[] {
  const prepared = hops.map((h) => {
    const valid = validateTorChain(h.tc);
    if (!valid.ok) throw new Error(`fixture ${h.tc.metadata.name}: ${JSON.stringify(valid.errors)}`);
    const ep = serverEndpoint(h.tc.spec.typeNode, h.config);
    if (!ep.ok) throw new Error(`fixture ${h.tc.metadata.name}: ${ep.error}`);
    return { ...h, endpoint: ep.value };
  });
  const known = new Map<number, MtuLayer>(
    prepared.map((h) => [
      h.tc.spec.numberNode,
      { type: h.tc.spec.typeNode, transport: h.endpoint.proto, family: h.endpoint.family },
    ]),
  );
  const chain = hops.map((h) => h.tc);
  return prepared.map((h) => ({
    tc: h.tc,
    server: h.server,
    config: h.config,
    endpoint: h.endpoint,
    ...(h.probe ? { probe: h.probe } : {}),
    mtu: hopMtu(h.tc, chain, known, LINK_MTU, tunnelMtus),
    images,
    ...(serviceAccountName ? { serviceAccountName } : {}),
  }));
}

/** The Secret then the Deployment, as YAML; the Secret's files are shown decoded in a comment for review. */
function golden(input: HopBuildInput): string {
  const secret = buildSecret(input);
  const decoded = Object.entries(secret.data ?? {})
    .map(([file, b64]) => `${file}:\n${Buffer.from(b64, 'base64').toString('utf8').replace(/\n$/, '')}`)
    .join('\n\n')
    .split('\n')
    .map((line) => `#   ${line}`.trimEnd())
    .join('\n');
  return [
    `# The Secret's data, decoded (the object below holds it base64-encoded):\n${decoded}`,
    stringify(secret).trimEnd(),
    '---',
    stringify(buildDeployment(input)).trimEnd(),
    '',
  ].join('\n');
}

const common = { nameTorChain: 'office', nameK8sNode: 'worker-1' };

const CASES: Record<string, HopBuildInput[]> = {
  'single-openvpn': chainInputs([
    {
      tc: torchain('solo-1', {
        ...common,
        nameTorChain: 'solo',
        numberNode: 1,
        typeNode: 'openvpn',
        inInterface: 'net1',
        outInterface: 'ext0',
        ipGateWay: '192.168.50.1/24',
        outGateway: '203.0.113.1',
      }),
      server: 'nl-ams-01',
      config: ovpnConfig('198.51.100.11'),
      probe: '10.8.0.1:7',
    },
  ]),
  'mixed-three-hop': chainInputs(
    [
      {
        tc: torchain('office-1', {
          ...common,
          numberNode: 1,
          typeNode: 'openvpn',
          switchServer: 2,
          inInterface: 'net2',
          outInterface: 'ext0',
          ipGateWay: '10.254.0.1/30',
          outGateway: '203.0.113.1',
        }),
        server: 'se-sto-02',
        config: ovpnConfig('198.51.100.21', 443, 'tcp'),
        probe: '10.8.0.1:7',
      },
      {
        tc: torchain('office-2', {
          ...common,
          numberNode: 2,
          typeNode: 'openconnect',
          inInterface: 'net2',
          outInterface: 'up0',
          ipGateWay: '10.254.0.5/30',
          outGateway: '10.254.0.1',
        }),
        server: 'ch-zrh-01',
        config: ocConfig('https://198.51.100.22:443/ra'),
      },
      {
        tc: torchain('office-3', {
          ...common,
          numberNode: 3,
          typeNode: 'wireguard',
          inInterface: 'lan0',
          outInterface: 'up0',
          ipGateWay: '192.168.50.1/24',
          outGateway: '10.254.0.5',
        }),
        server: 'IS:rey.03',
        config: wgConfig('198.51.100.23:51820'),
        probe: '10.99.0.1:7',
      },
    ],
    'torchain-hop',
  ),
  dropped: chainInputs([
    {
      tc: torchain('paused-1', {
        ...common,
        nameTorChain: 'paused',
        numberNode: 1,
        typeNode: 'wireguard',
        drop: 1,
        switchServer: 5,
        inInterface: 'net1',
        outInterface: 'ext0',
        ipGateWay: '192.168.60.1/24',
      }),
      server: 'de-fra-01',
      config: wgConfig('198.51.100.31:51820'),
    },
  ]),
  overrides: chainInputs([
    {
      tc: torchain(
        'custom-1',
        {
          ...common,
          nameTorChain: 'custom',
          numberNode: 1,
          typeNode: 'openvpn',
          mtu: 1280,
          image: 'registry.example/own/openvpn:2.6.12',
          poolPath: 'torchain/shared/openvpn-eu',
          vpnFileConfig: 'custom.ovpn',
          tmpDir: '/run/torchain',
          inInterface: 'lan0',
          outInterface: 'ext0',
          ipGateWay: '192.168.70.1/24',
        },
        { annotations: { 'torchain.dev/out-network': 'kube-system/uplink' } },
      ),
      server: 'fr-par-04',
      config: ovpnConfig('198.51.100.41'),
    },
  ]),
};

describe('hop objects (golden files)', () => {
  for (const [name, inputs] of Object.entries(CASES))
    for (const input of inputs)
      it(`${name}: hop ${String(input.tc.spec.numberNode)} (${input.tc.spec.typeNode})`, async () => {
        await expect(golden(input)).toMatchFileSnapshot(
          join(GOLDEN, name, `hop-${String(input.tc.spec.numberNode)}.yaml`),
        );
      });

  it('the inputs differ where the shapes say they do (a guard on the fixtures, not on the goldens)', () => {
    const [h1, h2, h3] = CASES['mixed-three-hop']!;
    // Nested layers: each hop's tunnel is smaller than the one above it; the override wins over the computation.
    expect(h1!.mtu).toBeGreaterThan(h2!.mtu);
    expect(h2!.mtu).toBeGreaterThan(h3!.mtu);
    expect(CASES.overrides![0]!.mtu).toBe(1280);
    expect(buildDeployment(CASES.dropped![0]!).spec!.replicas).toBe(0);
    expect(buildDeployment(h3!).spec!.replicas).toBe(1);
  });
});
