// The pure service-proxy renderer: golden nftables text, endpoint choice (ready, else serving terminating), port
// matching by name and protocol; and both golden rulesets accepted by the real `nft -c` (root).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../lab/netns/exec.js';
import { servicesFromApi, slicesFromApi } from '../../lab/cluster/service/model.js';
import { endpointsFor, renderServiceTable } from '../../lab/cluster/service/render.js';
import { skipUnless } from '../support/env.js';

const GOLDEN = join(import.meta.dirname, 'golden');

const services = servicesFromApi([
  {
    metadata: { namespace: 'torchain-system', name: 'torchain-operator' },
    spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
  },
  {
    metadata: { namespace: 'kube-system', name: 'kube-dns' },
    spec: {
      clusterIP: '10.96.0.10',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    },
  },
  { metadata: { namespace: 'vault', name: 'vault' }, spec: { clusterIP: '10.96.0.30', ports: [{ port: 8200 }] } },
  { metadata: { namespace: 'x', name: 'headless' }, spec: { clusterIP: 'None', ports: [{ port: 1 }] } },
  { metadata: { namespace: 'x', name: 'ext' }, spec: { type: 'ExternalName', ports: [{ port: 1 }] } },
]);
const slices = slicesFromApi([
  {
    metadata: {
      namespace: 'torchain-system',
      name: 'op-1',
      labels: { 'kubernetes.io/service-name': 'torchain-operator' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8081, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.250.0.31'], conditions: { ready: true } },
      { addresses: ['10.250.0.32'], conditions: { ready: false } },
      { addresses: ['10.250.0.33'], conditions: {} },
    ],
  },
  {
    metadata: { namespace: 'kube-system', name: 'dns-1', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
    addressType: 'IPv4',
    ports: [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
    ],
    endpoints: [{ addresses: ['10.250.0.2'], conditions: { ready: false, serving: true, terminating: true } }],
  },
  {
    metadata: { namespace: 'vault', name: 'vault-host', labels: { 'kubernetes.io/service-name': 'vault' } },
    addressType: 'IPv4',
    ports: [{ name: '', port: 18200, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.251.0.1'] }],
  },
]);
const input = { services, slices, hairpinSnatIP: '10.251.0.1' };

describe('service proxy renderer (pure)', () => {
  it('renders the golden ruleset', () => {
    const file = join(GOLDEN, 'services.nft');
    const body = renderServiceTable(input).body;
    if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, body);
    expect(body).toBe(readFileSync(file, 'utf8'));
  });

  it('uses ready endpoints (unset ready counts as ready), else serving terminating ones', () => {
    const op = services.find((s) => s.name === 'torchain-operator')!;
    expect(endpointsFor(op, op.ports[0]!, slices)).toEqual(['10.250.0.31:8081', '10.250.0.33:8081']);
    const dns = services.find((s) => s.name === 'kube-dns')!;
    expect(endpointsFor(dns, dns.ports[0]!, slices)).toEqual(['10.250.0.2:53']);
    expect(services.map((s) => s.name)).toEqual(['kube-dns', 'torchain-operator', 'vault']);
  });

  it('reports two Services on one ClusterIP and port, and keeps the first', () => {
    const dup = servicesFromApi([
      {
        metadata: { namespace: 'a', name: 'one' },
        spec: { clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }] },
      },
      {
        metadata: { namespace: 'b', name: 'two' },
        spec: { clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }] },
      },
    ]);
    const r = renderServiceTable({ services: dup, slices: [], hairpinSnatIP: '10.251.0.1' });
    expect(r.errors).toEqual([
      "Service b/two port 10.96.0.10:53/UDP is also Service a/one's: b/two gets no traffic there; give it another ClusterIP",
    ]);
    expect(r.targets.map((t) => t.service)).toEqual(['a/one']);
  });

  it('matches slice ports by name and protocol', () => {
    const vault = services.find((s) => s.name === 'vault')!;
    expect(endpointsFor(vault, vault.ports[0]!, slices)).toEqual(['10.251.0.1:18200']);
    expect(endpointsFor(vault, { name: 'other', port: 8200, protocol: 'TCP' }, slices)).toEqual([]);
    expect(endpointsFor(vault, { name: '', port: 8200, protocol: 'UDP' }, slices)).toEqual([]);
  });
});

describe.skipIf(skipUnless({ root: true, binaries: ['/usr/sbin/nft'] }))('golden rulesets against the real nft', () => {
  it.each(['services.nft', 'policy-chain.nft'])('nft -c accepts %s', async (name) => {
    const body = readFileSync(join(GOLDEN, name), 'utf8');
    await run('nft', ['-c', '-f', '-'], { input: `table ip tkgcheck {\n${body}}\n` });
  });
});
