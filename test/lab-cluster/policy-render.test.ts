// The pure NetworkPolicy renderer: golden nftables text for a realistic cluster (the chart's default-deny shape),
// plus targeted checks of each semantic of https://kubernetes.io/docs/concepts/services-networking/network-policies/
// without I/O. `UPDATE_GOLDEN=1 npx vitest run test/lab-cluster/policy-render.test.ts` rewrites the golden file.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  namespacesFromApi,
  podsFromApi,
  type NamespaceInfo,
  type PodInfo,
  type PolicyInfo,
} from '../../lab/cluster/policy/model.js';
import { policyTypes, renderPolicyTable } from '../../lab/cluster/policy/render.js';

const GOLDEN = join(import.meta.dirname, 'golden');

const pod = (
  namespace: string,
  name: string,
  ip: string,
  labels: Record<string, string>,
  ports: PodInfo['ports'] = [],
) => ({ namespace, name, ip, labels, ports }) satisfies PodInfo;

const namespaces: NamespaceInfo[] = [
  { name: 'chain-a', labels: { 'kubernetes.io/metadata.name': 'chain-a', team: 'vpn' } },
  { name: 'monitoring', labels: { 'kubernetes.io/metadata.name': 'monitoring' } },
  { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } },
  { name: 'torchain-system', labels: { 'kubernetes.io/metadata.name': 'torchain-system' } },
];
const pods = [
  pod('chain-a', 'hop-1', '10.250.0.11', { 'app.kubernetes.io/name': 'torchain-hop', 'torchain.dev/hop': '1' }, [
    { name: 'metrics', containerPort: 9108, protocol: 'TCP' },
  ]),
  pod('chain-a', 'hop-2', '10.250.0.12', { 'app.kubernetes.io/name': 'torchain-hop', 'torchain.dev/hop': '2' }, [
    { name: 'metrics', containerPort: 9109, protocol: 'TCP' },
  ]),
  pod('monitoring', 'prometheus-0', '10.250.0.20', { 'app.kubernetes.io/name': 'prometheus' }),
  pod('kube-system', 'coredns', '10.250.0.2', { 'k8s-app': 'kube-dns' }, [
    { name: 'dns', containerPort: 53, protocol: 'UDP' },
  ]),
  pod('torchain-system', 'operator', '10.250.0.30', { 'app.kubernetes.io/component': 'operator' }, [
    { name: 'http', containerPort: 8080, protocol: 'TCP' },
  ]),
];
const policies: PolicyInfo[] = [
  { namespace: 'chain-a', name: 'default-deny', spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
  {
    namespace: 'chain-a',
    name: 'hops',
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'torchain-hop' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
              podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
            },
          ],
          ports: [{ protocol: 'TCP', port: 'metrics' }],
        },
      ],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        { to: [{ ipBlock: { cidr: '10.251.0.1/32' } }, { ipBlock: { cidr: '::/0' } }], ports: [{ port: 6443 }] },
      ],
    },
  },
  {
    namespace: 'torchain-system',
    name: 'operator',
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/component': 'operator' } },
      ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 'http' }] }],
      egress: [
        { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.250.0.0/24', '10.250.0.0/16', '10.96.0.0/12'] } }] },
        {
          to: [{ podSelector: {}, namespaceSelector: { matchLabels: { team: 'vpn' } } }],
          ports: [{ port: 'metrics' }],
        },
        { ports: [{ protocol: 'UDP', port: 30000, endPort: 30010 }] },
      ],
    },
  },
];

const input = { podIfWildcard: 'tcl-*', pods, namespaces, policies };

function golden(name: string, text: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const chainOf = (body: string, name: string): string => {
  const m = new RegExp(`chain ${name.replace(/[./]/g, '\\$&')} \\{\\n([\\s\\S]*?)\\n  \\}`).exec(body);
  return m?.[1] ?? '';
};

describe('NetworkPolicy renderer (pure)', () => {
  it('renders the golden ruleset of a chain namespace with default deny, DNS, API server and monitoring', () => {
    const r = renderPolicyTable(input);
    expect(r.errors).toEqual([]);
    expect(r.summary).toEqual({ pods: 5, policies: 3, isolatedIngress: 3, isolatedEgress: 3 });
    golden('policy-chain.nft', r.body);
  });

  it('defaults policyTypes like the API server: Ingress always, Egress only with egress rules', () => {
    expect(policyTypes({ namespace: 'a', name: 'p', spec: {} })).toEqual(['ingress']);
    expect(policyTypes({ namespace: 'a', name: 'p', spec: { egress: [] } })).toEqual(['ingress']);
    expect(policyTypes({ namespace: 'a', name: 'p', spec: { egress: [{}] } })).toEqual(['ingress', 'egress']);
    expect(policyTypes({ namespace: 'a', name: 'p', spec: { policyTypes: ['Egress'] } })).toEqual(['egress']);
  });

  it('leaves pods no policy selects unisolated, per direction', () => {
    const r = renderPolicyTable(input);
    expect(r.body).toContain('10.250.0.20 : accept'); // prometheus: in both maps
    expect(r.body.match(/10\.250\.0\.20 : accept/g)).toHaveLength(2);
    // the operator: policy without policyTypes but with egress rules → isolated both ways
    expect(r.body).toContain('10.250.0.30 : goto in.torchain-system/operator');
    expect(r.body).toContain('10.250.0.30 : goto eg.torchain-system/operator');
  });

  it('resolves a named ingress port on each destination pod the policy selects', () => {
    const r = renderPolicyTable(input);
    expect(chainOf(r.body, 'policy.chain-a/hops.ingress')).toContain(
      'ip saddr { 10.250.0.20 } meta l4proto tcp ip daddr . th dport { 10.250.0.11 . 9108, 10.250.0.12 . 9109 }',
    );
  });

  it('gives each isolated pod a chain that jumps to the chains of the policies selecting it, then drops', () => {
    expect(
      chainOf(renderPolicyTable(input).body, 'eg.chain-a/hop-1')
        .split('\n')
        .map((l) => l.trim()),
    ).toEqual([
      'comment "egress of pod chain-a/hop-1 (10.250.0.11)"',
      'ip daddr 10.250.0.11 accept comment "a pod can always reach itself"',
      'jump policy.chain-a/default-deny.egress',
      'jump policy.chain-a/hops.egress',
      'counter name drop.egress.chain-a/hop-1 drop',
    ]);
  });

  it('resolves a named egress port on each destination pod the peer selects', () => {
    const eg = chainOf(renderPolicyTable(input).body, 'policy.torchain-system/operator.egress');
    expect(eg).toContain(
      'ip daddr { 10.250.0.11, 10.250.0.12 } meta l4proto tcp ip daddr . th dport { 10.250.0.11 . 9108, 10.250.0.12 . 9109 }',
    );
  });

  it('renders ipBlock except as a disjoint set and endPort as a range; IPv6 blocks never match', () => {
    const body = renderPolicyTable(input).body;
    expect(chainOf(body, 'policy.torchain-system/operator.egress')).toContain(
      'ip daddr 10.0.0.0/8 ip daddr != { 10.96.0.0/12, 10.250.0.0/16 } counter',
    );
    expect(chainOf(body, 'policy.torchain-system/operator.egress')).toContain(
      'meta l4proto udp th dport 30000-30010 counter',
    );
    expect(chainOf(body, 'policy.chain-a/hops.egress')).not.toContain('::');
  });

  it('a namespaceSelector peer without podSelector takes every pod of the selected namespaces', () => {
    const inOp = chainOf(renderPolicyTable(input).body, 'policy.torchain-system/operator.ingress');
    expect(inOp).toContain('ip saddr { 10.250.0.2, 10.250.0.11, 10.250.0.12, 10.250.0.20, 10.250.0.30 }');
  });

  it('unions the rules of every policy that selects a pod', () => {
    const body = renderPolicyTable(input).body;
    expect(chainOf(body, 'eg.chain-a/hop-1')).toContain('jump policy.chain-a/default-deny.egress');
    const eg = chainOf(body, 'policy.chain-a/hops.egress');
    expect(eg).toContain('ip daddr { 10.250.0.2 } meta l4proto udp th dport 53');
    expect(eg).toContain('ip daddr 10.251.0.1/32 meta l4proto tcp th dport 6443');
  });

  it('reports broken policies per field and lets the broken part allow nothing, while still isolating', () => {
    const r = renderPolicyTable({
      ...input,
      policies: [
        {
          namespace: 'chain-a',
          name: 'broken',
          spec: {
            podSelector: {},
            ingress: [
              { from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] },
              { from: [{ podSelector: { matchExpressions: [{ key: 'a', operator: 'Like' }] } }] },
              { from: [{}] },
              { ports: [{ protocol: 'ICMP' }] },
            ],
          },
        },
      ],
    });
    expect(r.errors).toEqual([
      'NetworkPolicy chain-a/broken: spec.ingress[0].from[0].ipBlock: "10.0.0.0/33" is not an IPv4 CIDR (a.b.c.d/n); this peer matches nothing',
      'NetworkPolicy chain-a/broken: spec.ingress[1].from[0].podSelector: matchExpressions key a: unknown operator "Like"; it selects nothing',
      'NetworkPolicy chain-a/broken: spec.ingress[2].from[0]: a peer needs podSelector, namespaceSelector or ipBlock; this peer matches nothing',
      'NetworkPolicy chain-a/broken: spec.ingress[3].ports[0].protocol: "ICMP" is not TCP, UDP or SCTP; this port matches nothing',
    ]);
    expect(chainOf(r.body, 'policy.chain-a/broken.ingress').split('\n')).toHaveLength(1); // its comment, no rule
    expect(chainOf(r.body, 'in.chain-a/hop-1')).toContain('jump policy.chain-a/broken.ingress');
    expect(chainOf(r.body, 'in.chain-a/hop-1')).toContain('drop');
  });

  it('keeps host-network and finished pods out, and gives a reused IP to the newest pod', () => {
    const out = podsFromApi([
      { metadata: { name: 'host', namespace: 'a' }, spec: { hostNetwork: true }, status: { podIP: '10.251.0.1' } },
      {
        metadata: { name: 'done', namespace: 'a', creationTimestamp: '2024-01-01T00:00:00Z' },
        status: { podIP: '10.250.0.5', phase: 'Succeeded' },
      },
      {
        metadata: { name: 'old', namespace: 'a', creationTimestamp: '2024-01-01T00:00:00Z' },
        status: { podIP: '10.250.0.6', phase: 'Running' },
      },
      {
        metadata: {
          name: 'new',
          namespace: 'a',
          creationTimestamp: new Date('2024-02-01T00:00:00Z') as unknown as string,
        },
        status: { podIP: '10.250.0.6', phase: 'Pending' },
      },
      { metadata: { name: 'noip', namespace: 'a' }, status: {} },
    ]);
    expect(out.map((p) => p.name)).toEqual(['new']);
    expect(namespacesFromApi([{ metadata: { name: 'b' } }, { metadata: { name: 'a', labels: { x: 'y' } } }])).toEqual([
      { name: 'a', labels: { x: 'y' } },
      { name: 'b', labels: {} },
    ]);
  });
});
