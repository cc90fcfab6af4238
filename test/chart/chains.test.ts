// The chains of the values become a consistent topology: Multus attachments that join hop k's out side to hop k-1's
// in side on one host bridge, the LAN entry with the fixed gateway IP on the last hop, the external bridge on hop 1,
// and one TorChain per hop naming those interfaces. Bad chain values fail with a message naming the field.
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultNetworkName } from '../../operator/src/core/naming.js';
import { HELM } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { ciValueFiles, one, ofKind, render, renderError, RELEASE_NAMESPACE, type Manifest } from './render.js';

const ciFile = (name: string): string => ciValueFiles().find((p) => basename(p) === name)!;

interface Attachment {
  type: string;
  capabilities?: Record<string, boolean>;
  bridge?: string;
  master?: string;
  mode?: string;
  ipam: { type: string; addresses?: Array<{ address: string; gateway?: string }> };
}

function attachment(objects: Manifest[], namespace: string, name: string): Attachment {
  const nad = one(objects, 'NetworkAttachmentDefinition', name, namespace);
  const config = JSON.parse(nad.spec.config as string) as Attachment & { name: string; cniVersion: string };
  expect(config.name).toBe(name);
  expect(config.cniVersion).toBe('0.3.1');
  return config;
}

function torChains(objects: Manifest[], namespace: string, chain: string): Manifest[] {
  return ofKind(objects, 'TorChain')
    .filter((t) => t.metadata.namespace === namespace && t.spec.nameTorChain === chain)
    .sort((a, b) => a.spec.numberNode - b.spec.numberNode);
}

/** Checks every invariant of one rendered chain; returns its hops. */
function checkChain(objects: Manifest[], namespace: string, chain: string, types: string[]): Manifest[] {
  const hops = torChains(objects, namespace, chain);
  expect(hops.map((h) => h.spec.typeNode)).toEqual(types);
  const n = hops.length;
  const bridges = new Set<string>();
  hops.forEach((hop, i) => {
    const k = i + 1;
    expect(hop.metadata.name).toBe(`${chain}-hop-${k}`);
    expect(hop.spec.numberNode).toBe(k);
    expect(hop.spec).not.toHaveProperty('switchServer');
    const out = attachment(objects, namespace, defaultNetworkName(chain, k, 'out'));
    const inn = attachment(objects, namespace, defaultNetworkName(chain, k, 'in'));
    // Interface names live on the NetworkAttachmentDefinition too, so `kubectl get net-attach-def -o yaml` explains them.
    expect(
      one(objects, 'NetworkAttachmentDefinition', defaultNetworkName(chain, k, 'out'), namespace).metadata.annotations[
        'torchain.dev/interface'
      ],
    ).toBe(hop.spec.outInterface);
    // No inInterface attachment has IPAM: the entrypoint assigns spec.ipGateWay (TORCHAIN_GATEWAY) once the kill
    // switch holds, so neither LAN clients nor the hop below can reach a hop before it does.
    expect(inn.ipam).toEqual({});
    expect(inn.capabilities).toBeUndefined();
    expect(hop.spec.ipGateWay).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    if (k === n) expect(inn.type).toBe('macvlan');
    else expect(inn.type).toBe('bridge');
    if (k === 1) {
      expect(out.type).toBe('bridge');
    } else {
      // hop k reaches its server through hop k-1: both ends of one host bridge, in one /30, hop k-1 the gateway.
      const above = attachment(objects, namespace, defaultNetworkName(chain, k - 1, 'in'));
      expect(out.type).toBe('bridge');
      expect(out.bridge).toBe(above.bridge);
      // hop k-1's address on that link: its ipGateWay, assigned by its entrypoint.
      const upper = hops[i - 1]!.spec.ipGateWay as string;
      const lower = out.ipam.addresses![0]!;
      expect(lower.gateway).toBe(upper.split('/')[0]);
      // The hop's entrypoint routes its server through this next hop (TORCHAIN_OUT_GATEWAY, from spec.outGateway).
      expect(hop.spec.outGateway).toBe(upper.split('/')[0]);
      expect(upper.endsWith('/30') && lower.address.endsWith('/30')).toBe(true);
      const [a, b] = [upper, lower.address].map((x) => Number(x.split('/')[0]!.split('.')[3]));
      expect(b! - a!).toBe(1);
      expect(Math.floor(a! / 4)).toBe(Math.floor(b! / 4));
      expect(bridges.has(out.bridge!)).toBe(false);
      bridges.add(out.bridge!);
      expect(Buffer.byteLength(out.bridge!)).toBeLessThanOrEqual(15);
    }
  });
  return hops;
}

describe.skipIf(skipUnless({ binaries: [HELM] }))('chains from values', () => {
  it('a 3-hop mixed chain: attachments, gateway IP on the last hop, external bridge on hop 1, overrides kept', async () => {
    const all = await render({ valuesFiles: [ciFile('three-hop-mixed-values.yaml')] });
    const hops = checkChain(all, RELEASE_NAMESPACE, 'office', ['openvpn', 'wireguard', 'openvpn']);
    expect(hops[2]!.spec).toMatchObject({
      inInterface: 'lan0',
      ipGateWay: '192.168.50.1/24',
      vpnFileConfig: 'office.ovpn',
      tmpDir: '/run/torchain',
      nameK8sNode: 'worker-1',
    });
    expect(hops[1]!.spec).toMatchObject({ mtu: 1380, poolPath: 'torchain/shared/wireguard-eu' });
    expect(hops[0]!.spec).toMatchObject({ outInterface: 'ext0', outGateway: '203.0.113.1' });
    const lan = attachment(all, RELEASE_NAMESPACE, 'office-hop3-in');
    expect(lan).toMatchObject({ type: 'macvlan', master: 'eth1', mode: 'bridge' });
    expect(attachment(all, RELEASE_NAMESPACE, 'office-hop1-out')).toMatchObject({
      type: 'bridge',
      bridge: 'br-ext',
      ipam: { type: 'static', addresses: [{ address: '203.0.113.10/24', gateway: '203.0.113.1' }] },
    });
    // MultiNetworkPolicy guards the LAN and external attachments of this chain.
    const policies = ofKind(all, 'MultiNetworkPolicy');
    expect(policies.map((p) => p.metadata.annotations['k8s.v1.cni.cncf.io/policy-for']).sort()).toEqual([
      `${RELEASE_NAMESPACE}/office-hop1-out`,
      `${RELEASE_NAMESPACE}/office-hop3-in`,
    ]);
    for (const p of policies)
      one(all, 'NetworkAttachmentDefinition', p.metadata.annotations['k8s.v1.cni.cncf.io/policy-for'].split('/')[1]);
  });

  it('a 5-hop chain in its own namespace, with DHCP outside and its own bridge prefix', async () => {
    const all = await render({ valuesFiles: [ciFile('five-hop-values.yaml')] });
    checkChain(all, 'torchain-deep', 'deep', ['wireguard', 'wireguard', 'openvpn', 'wireguard', 'openvpn']);
    expect(attachment(all, 'torchain-deep', 'deep-hop1-out')).toMatchObject({
      bridge: 'br-wan',
      ipam: { type: 'dhcp' },
    });
    // DHCP and no external.gateway: the entrypoint takes the gateway DHCP installs on the interface.
    expect(torChains(all, 'torchain-deep', 'deep')[0]!.spec).not.toHaveProperty('outGateway');
    expect(attachment(all, 'torchain-deep', 'deep-hop2-out').bridge).toBe('tcdeep-1');
    expect(attachment(all, 'torchain-deep', 'deep-hop5-in')).toMatchObject({
      type: 'macvlan',
      master: 'ens4',
      mode: 'private',
    });
    expect(one(all, 'Namespace', 'torchain-deep').metadata.labels['pod-security.kubernetes.io/enforce']).toBe(
      'privileged',
    );
    expect(torChains(all, 'torchain-deep', 'deep')[4]!.spec.drop).toBe(0);
    // The operator builds the hop pods: registry credentials reach them through the hop ServiceAccount.
    expect(one(all, 'ServiceAccount', 'torchain-hop', 'torchain-deep').imagePullSecrets).toEqual([
      { name: 'mirror-credentials' },
    ]);
  });

  it('two chains in two namespaces do not share bridges, addresses or objects', async () => {
    const all = await render({ valuesFiles: [ciFile('two-chains-values.yaml')] });
    checkChain(all, 'torchain-alpha', 'alpha', ['openvpn', 'openvpn']);
    checkChain(all, 'torchain-beta', 'beta', ['wireguard']);
    const alphaLink = attachment(all, 'torchain-alpha', 'alpha-hop2-out');
    expect(alphaLink.bridge).toMatch(/^tc[0-9a-f]{8}-1$/);
    // a 1-hop chain: LAN entry and external bridge on the same hop
    const beta = torChains(all, 'torchain-beta', 'beta')[0]!;
    expect(beta.spec).toMatchObject({ inInterface: 'lan0', outInterface: 'ext0', ipGateWay: '192.168.20.1/24' });
    expect(ofKind(all, 'Namespace')).toEqual([]);
  });

  it.each([
    [
      { 'chains[0].hops[0].type': 'ipsec' },
      /chains\.0\.hops\.0\.type|must be one of the following: "openvpn", "wireguard", "openconnect"/,
    ],
    [{ 'chains[0].hops[0].switchServer': '3' }, /switchServer/],
    [{ 'chains[0].bridgePrefix': 'much-too-long-prefix' }, /bridgePrefix/],
    [{ 'chains[0].linkNetwork': '10.254.0.0/16' }, /linkNetwork/],
    [{ 'chains[0].name': 'Office_1' }, /chains\.0\.name/],
  ])('refuses bad chain values %j with a message naming the field', async (set, message) => {
    const error = await renderError({ valuesFiles: [ciFile('three-hop-mixed-values.yaml')], set });
    expect(error).toMatch(message);
  });

  it('refuses a chain without hops, and the same chain twice', async () => {
    const base = {
      name: 'x',
      node: 'n',
      lan: { parentInterface: 'eth1', gatewayIP: '10.0.0.1/24' },
      external: { bridge: 'br', address: '192.0.2.2/24' },
    };
    expect(await renderError({ setJson: { chains: [{ ...base, hops: [] }] } })).toMatch(/hops/);
    const twice = { ...base, hops: [{ type: 'openvpn' }] };
    expect(await renderError({ setJson: { chains: [twice, twice] } })).toMatch(
      /chain torchain-system\/x is listed twice/,
    );
  });

  it('refuses token auth without a token Secret and multiNetworkPolicy without the allowed addresses', async () => {
    expect(await renderError({ set: { 'global.vault.authMethod': 'token' } })).toMatch(
      /global\.vault\.tokenSecret\.name is required/,
    );
    expect(
      await renderError({
        valuesFiles: [ciFile('two-chains-values.yaml')],
        set: { 'multiNetworkPolicy.enabled': 'true' },
      }),
    ).toMatch(/clientCIDRs is required/);
  });

  it('DNS for the LAN: on the last hop only, on by default, with the chain’s own resolvers, or off', async () => {
    const file = ciFile('three-hop-mixed-values.yaml');
    const dnsOf = async (opts: Parameters<typeof render>[0]) =>
      torChains(await render({ valuesFiles: [file], ...opts }), RELEASE_NAMESPACE, 'office').map((h) => h.spec.dns);
    expect(await dnsOf({})).toEqual([undefined, undefined, {}]);
    expect(
      await dnsOf({ set: { 'chains[0].dns.servers[0]': '9.9.9.9', 'chains[0].dns.servers[1]': '149.112.112.112' } }),
    ).toEqual([undefined, undefined, { servers: ['9.9.9.9', '149.112.112.112'] }]);
    expect(await dnsOf({ set: { 'chains[0].dns.enabled': 'false' } })).toEqual([undefined, undefined, undefined]);
    for (const bad of ['127.0.0.53', 'dns.example'])
      expect(await renderError({ valuesFiles: [file], set: { 'chains[0].dns.servers[0]': bad } })).toMatch(
        /chains\.0\.dns\.servers\.0/,
      );
  });
});
