import { describe, expect, it } from 'vitest';
import { computeStatus, failoverDuration, statusChanged, type StatusInput } from '../../operator/src/core/status.js';
import { deploymentHealth } from '../../operator/src/core/deployment-health.js';
import { hopMtu } from '../../operator/src/core/chain-mtu.js';
import { torchain } from './support/fixtures.js';

const T0 = new Date('2026-01-01T12:00:00Z');
const later = (s: number) => new Date(T0.getTime() + s * 1000);

const base = (extra: Partial<StatusInput> = {}): StatusInput => ({
  generation: 3,
  dropped: false,
  server: 'srv-a',
  mtu: 1420,
  failover: { switches: 0, quarantine: {} },
  pool: { state: 'ok' },
  deployment: { exists: true, ready: true, progressing: false },
  now: T0,
  ...extra,
});
const cond = (s: ReturnType<typeof computeStatus>, type: string) => s.conditions!.find((c) => c.type === type)!;

describe('status and conditions', () => {
  it('a ready hop is Running with Ready and TunnelUp True, every condition carrying the generation', () => {
    const s = computeStatus(undefined, base());
    expect(s).toMatchObject({
      observedGeneration: 3,
      phase: 'Running',
      currentServer: 'srv-a',
      mtu: 1420,
      switches: 0,
    });
    expect(s.conditions!.map((c) => [c.type, c.status, c.observedGeneration])).toEqual([
      ['Ready', 'True', 3],
      ['TunnelUp', 'True', 3],
      ['PoolExhausted', 'False', 3],
    ]);
    expect(cond(s, 'Ready').lastTransitionTime).toBe('2026-01-01T12:00:00Z');
  });

  it('lastTransitionTime moves only when the status of a condition changes', () => {
    const s1 = computeStatus(undefined, base());
    const s2 = computeStatus(
      s1,
      base({ now: later(30), deployment: { exists: true, ready: false, progressing: false } }),
    );
    expect(cond(s2, 'Ready').status).toBe('False');
    expect(cond(s2, 'Ready').lastTransitionTime).toBe('2026-01-01T12:00:30Z');
    expect(cond(s2, 'PoolExhausted').lastTransitionTime).toBe('2026-01-01T12:00:00Z');
    const s3 = computeStatus(
      s2,
      base({ now: later(60), deployment: { exists: true, ready: false, progressing: true } }),
    );
    expect(cond(s3, 'Ready').lastTransitionTime).toBe('2026-01-01T12:00:30Z');
    expect(cond(s3, 'Ready').reason).toBe('RolloutInProgress');
  });

  it('a dropped hop says only what is true: scaled to 0, pods still stopping, or not scaled yet; the pool is not read', () => {
    const dropped = (deployment: StatusInput['deployment']) =>
      computeStatus(undefined, base({ dropped: true, pool: { state: 'not-read' }, deployment }));
    const scaled = dropped({ exists: true, ready: false, progressing: false, replicas: 0, pods: 0 });
    expect(scaled.phase).toBe('Dropped');
    expect(cond(scaled, 'TunnelUp')).toMatchObject({
      status: 'False',
      reason: 'Dropped',
      message: expect.stringMatching(/scaled to 0$/),
    });
    expect(cond(scaled, 'PoolExhausted')).toMatchObject({ status: 'Unknown', reason: 'NotChecked' });
    const stopping = dropped({ exists: true, ready: false, progressing: false, replicas: 0, pods: 1 });
    expect(cond(stopping, 'TunnelUp').message).toMatch(/scaled to 0; 1 pod\(s\) still stopping/);
    const notYet = dropped({ exists: true, ready: true, progressing: false, replicas: 1, pods: 1 });
    expect(cond(notYet, 'TunnelUp')).toMatchObject({
      reason: 'Dropping',
      message: expect.not.stringMatching(/scaled to 0/),
    });
    expect(notYet.phase).toBe('Dropped');
    const none = dropped({ exists: false, ready: false, progressing: false });
    expect(cond(none, 'TunnelUp').message).toMatch(/no workload/);
    expect(deploymentHealth({ spec: { replicas: 0 }, status: { replicas: 2 }, metadata: {} } as never)).toMatchObject({
      replicas: 0,
      pods: 2,
    });
  });

  it('nothing to write when nothing changed, even later', () => {
    const s1 = computeStatus(undefined, base());
    expect(statusChanged(s1, computeStatus(s1, base({ now: later(600) })))).toBe(false);
    expect(statusChanged(s1, computeStatus(s1, base({ now: later(600), server: 'srv-b' })))).toBe(true);
    expect(statusChanged(undefined, s1)).toBe(true);
  });

  it.each([
    [
      'dropped',
      base({ dropped: true, deployment: { exists: true, ready: false, progressing: false } }),
      'Dropped',
      'Dropped',
      'False',
    ],
    [
      'pool exhausted',
      base({ pool: { state: 'exhausted' }, deployment: { exists: true, ready: false, progressing: false } }),
      'PoolExhausted',
      'TunnelDown',
      'True',
    ],
    [
      'empty pool, nothing running',
      base({ pool: { state: 'empty' }, deployment: { exists: false, ready: false, progressing: false } }),
      'PoolExhausted',
      'PoolExhausted',
      'True',
    ],
    [
      'Vault down before the first Secret',
      base({
        vaultError: 'Vault unreachable',
        pool: { state: 'unknown' },
        deployment: { exists: false, ready: false, progressing: false },
      }),
      'Error',
      'VaultUnavailable',
      'Unknown',
    ],
    [
      'Vault down while running keeps Ready',
      base({ vaultError: 'Vault unreachable', pool: { state: 'unknown' } }),
      'Running',
      'Ready',
      'Unknown',
    ],
    ['a bad server config', base({ configError: 'no remote' }), 'Error', 'InvalidServerConfig', 'False'],
    [
      'switching',
      base({ switching: true, deployment: { exists: true, ready: false, progressing: true } }),
      'Switching',
      'RolloutInProgress',
      'False',
    ],
    [
      'not ready, no switch',
      base({ deployment: { exists: true, ready: false, progressing: false } }),
      'Degraded',
      'TunnelDown',
      'False',
    ],
    [
      'no workload yet',
      base({ deployment: { exists: false, ready: false, progressing: false } }),
      'Pending',
      'NoWorkload',
      'False',
    ],
  ] as const)('%s', (_n, input, phase, readyReason, exhausted) => {
    const s = computeStatus(undefined, input);
    expect(s.phase).toBe(phase);
    expect(cond(s, 'Ready').reason).toBe(readyReason);
    expect(cond(s, 'PoolExhausted').status).toBe(exhausted);
  });

  it('measures a failover once: from the alert startsAt to the first Ready after the switch', () => {
    const failover = {
      switches: 1,
      lastSwitchTime: later(20).toISOString(),
      lastAlert: { startsAt: T0.toISOString() },
      quarantine: {},
    };
    const down = computeStatus(
      undefined,
      base({ now: later(10), deployment: { exists: true, ready: false, progressing: false } }),
    );
    const rolling = computeStatus(
      down,
      base({ now: later(21), failover, deployment: { exists: true, ready: false, progressing: true } }),
    );
    expect(failoverDuration(down, rolling, failover)).toBeUndefined();
    const up = computeStatus(rolling, base({ now: later(47), failover }));
    expect(failoverDuration(rolling, up, failover)).toBe(47);
    const still = computeStatus(up, base({ now: later(90), failover }));
    expect(failoverDuration(up, still, failover)).toBeUndefined();
    // A Ready turn long before the last switch is not this failover's end.
    const old = { ...failover, lastSwitchTime: later(500).toISOString() };
    expect(failoverDuration(rolling, up, old)).toBeUndefined();
  });
});

describe('deployment health', () => {
  const dep = (generation: number, status: Record<string, number>, replicas = 1) => ({
    metadata: { generation },
    spec: { replicas, selector: {}, template: {} },
    status,
  });
  it.each([
    [
      'not observed yet',
      dep(2, { observedGeneration: 1, updatedReplicas: 1, readyReplicas: 1, replicas: 1 }),
      false,
      true,
    ],
    [
      'old pod still there',
      dep(2, { observedGeneration: 2, updatedReplicas: 1, readyReplicas: 1, replicas: 2 }),
      false,
      true,
    ],
    [
      'updated, not ready',
      dep(2, { observedGeneration: 2, updatedReplicas: 1, readyReplicas: 0, replicas: 1 }),
      false,
      false,
    ],
    [
      'rolled out and ready',
      dep(2, { observedGeneration: 2, updatedReplicas: 1, readyReplicas: 1, replicas: 1 }),
      true,
      false,
    ],
    ['scaled to 0', dep(2, { observedGeneration: 2 }, 0), false, false],
  ])('%s', (_n, d, ready, progressing) => {
    expect(deploymentHealth(d as never)).toMatchObject({ exists: true, ready, progressing });
  });
  it('a missing Deployment', () =>
    expect(deploymentHealth(undefined)).toEqual({ exists: false, ready: false, progressing: false }));
});

describe('hop MTU input', () => {
  // A stand-in overhead table: hopMtu's job is to feed the right layers, in order, and take the right entry.
  const fake = (link: number, hops: Array<{ type: string; transport?: string }>) => {
    let m = link;
    return hops.map((h) => (m -= h.type === 'wireguard' ? 60 : h.transport === 'tcp' ? 90 : 70));
  };
  const chain = [
    torchain('h1', { numberNode: 1, typeNode: 'openvpn' }),
    torchain('h2', { numberNode: 2, typeNode: 'wireguard' }),
    torchain('h3', { numberNode: 3, typeNode: 'openvpn' }),
  ];
  it('nests the layers of hops 1..k, with the transports already known', () => {
    expect(hopMtu(chain[0]!, chain, new Map(), 1500, fake)).toBe(1430);
    expect(hopMtu(chain[2]!, chain, new Map(), 1500, fake)).toBe(1300);
    expect(hopMtu(chain[2]!, chain, new Map([[1, { type: 'openvpn', transport: 'tcp' }]]), 1500, fake)).toBe(1280);
  });
  it('spec.mtu overrides', () => {
    const h = torchain('h', { numberNode: 2, mtu: 1300 });
    expect(hopMtu(h, chain, new Map(), 1500, fake)).toBe(1300);
  });
});
