// The hop image per protocol comes from one map, hop.images.<protocol>, and reaches the operator as one variable per
// protocol of the registry; the chart takes the protocol list from the generated CRD, never from a list of its own.
import { describe, expect, it } from 'vitest';
import { PROTOCOLS } from '../../common/contracts/protocols.js';
import { loadConfig } from '../../operator/src/config.js';
import { HELM } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { one, ofKind, render, renderError, RELEASE_NAMESPACE, type Manifest } from './render.js';

const operatorEnv = (objects: Manifest[]): Record<string, string> =>
  Object.fromEntries(
    (
      one(objects, 'Deployment', 'torchain-operator', RELEASE_NAMESPACE).spec.template.spec.containers[0]
        .env as Manifest[]
    )
      .filter((e) => e.value !== undefined)
      .map((e) => [e.name, e.value as string]),
  );

describe.skipIf(skipUnless({ binaries: [HELM] }))('hop images per protocol', () => {
  it('one TORCHAIN_IMAGE_<PROTOCOL> per protocol of the registry, from hop.images.<protocol>, read back by the operator', async () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const env = operatorEnv(await render({ set: { 'hop.images.openconnect.digest': digest } }));
    for (const p of PROTOCOLS) expect(env[`TORCHAIN_IMAGE_${p.toUpperCase()}`], p).toMatch(new RegExp(`hop-${p}[:@]`));
    expect(env.TORCHAIN_IMAGE_OPENCONNECT).toBe(`ghcr.io/torchain/hop-openconnect@${digest}`);
    const config = loadConfig({ TORCHAIN_WEBHOOK_TOKEN_FILE: '/t', ...env });
    for (const p of PROTOCOLS) expect(config.images[p]).toBe(env[`TORCHAIN_IMAGE_${p.toUpperCase()}`]);
  });

  it('a chain of every protocol renders; a type outside the registry is refused naming the known ones', async () => {
    const chain = {
      name: 'all',
      node: 'n1',
      lan: { parentInterface: 'eth1', gatewayIP: '192.168.60.1/24' },
      external: { bridge: 'br-ext', address: '203.0.113.10/24', gateway: '203.0.113.1' },
      hops: PROTOCOLS.map((type) => ({ type })),
    };
    const all = await render({ setJson: { chains: [chain] } });
    expect(ofKind(all, 'TorChain').map((t) => t.spec.typeNode)).toEqual([...PROTOCOLS]);
    const bad = await renderError({ setJson: { chains: [{ ...chain, hops: [{ type: 'ipsec' }] }] } });
    expect(bad).toMatch(/type|ipsec/);
  });
});
