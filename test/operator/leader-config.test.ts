import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERTING, defaultCooldownSeconds } from '../../prometheus-rules/src/render.js';
import { DEFAULT_COOLDOWN_SECONDS, loadConfig } from '../../operator/src/config.js';
import { decideLease, microTime } from '../../operator/src/leader/lease-decision.js';
import { torchainChanged } from '../../operator/src/operator.js';
import { torchain } from './support/fixtures.js';

describe('lease decision', () => {
  const lease = (holder: string | undefined, rv = '5') => ({ holder, durationSeconds: 15, resourceVersion: rv });
  it('creates a missing Lease, renews its own, takes an empty one', () => {
    expect(decideLease(undefined, 'a', undefined, 0, 15)).toBe('create');
    expect(decideLease(lease('a'), 'a', undefined, 0, 15)).toBe('renew');
    expect(decideLease(lease(undefined), 'a', undefined, 0, 15)).toBe('acquire');
    expect(decideLease(lease(''), 'a', undefined, 0, 15)).toBe('acquire');
  });
  it("follows another holder until its record stayed unchanged for a whole duration, by this replica's clock", () => {
    const seen = { resourceVersion: '5', at: 1_000 };
    expect(decideLease(lease('b'), 'a', undefined, 1_000, 15)).toBe('follow');
    expect(decideLease(lease('b'), 'a', seen, 15_999, 15)).toBe('follow');
    expect(decideLease(lease('b'), 'a', seen, 16_000, 15)).toBe('acquire');
    // The holder renewed (new resourceVersion): the clock starts again.
    expect(decideLease(lease('b', '6'), 'a', seen, 16_000, 15)).toBe('follow');
  });
  it('writes MicroTime with six fractional digits', () => {
    expect(microTime(Date.parse('2026-01-01T12:00:00.123Z'))).toBe('2026-01-01T12:00:00.123000Z');
  });
});

describe('what triggers a reconcile', () => {
  const tc = torchain('a', { numberNode: 1 });
  it('spec changes (generation), annotations, labels and deletion do; status-only updates do not', () => {
    const statusOnly = {
      ...tc,
      metadata: { ...tc.metadata, resourceVersion: '11' },
      status: { phase: 'Running' as const },
    };
    expect(torchainChanged('update', statusOnly, tc)).toBe(false);
    expect(torchainChanged('update', { ...tc, metadata: { ...tc.metadata, generation: 2 } }, tc)).toBe(true);
    expect(torchainChanged('update', { ...tc, metadata: { ...tc.metadata, annotations: { x: 'y' } } }, tc)).toBe(true);
    expect(torchainChanged('update', { ...tc, metadata: { ...tc.metadata, deletionTimestamp: 'now' } }, tc)).toBe(true);
    expect(torchainChanged('add', tc, undefined)).toBe(true);
    expect(torchainChanged('resync', tc, tc)).toBe(true);
  });
});

describe('configuration', () => {
  const base = { TORCHAIN_WEBHOOK_TOKEN_FILE: '/run/token' };
  it('defaults follow the contract; the cooldown derives from the alert timing', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      httpPort: 8080,
      leaseName: 'torchain-operator',
      poolPrefix: 'torchain',
      prometheusUrl: '',
      linkMtu: 1500,
      cooldownSeconds: defaultCooldownSeconds(DEFAULT_ALERTING),
    });
    expect(DEFAULT_COOLDOWN_SECONDS).toBeGreaterThan(0);
  });
  it.each([
    [{}, /TORCHAIN_WEBHOOK_TOKEN_FILE is not set/],
    [{ ...base, TORCHAIN_HTTP_PORT: 'http' }, /TORCHAIN_HTTP_PORT=http is not an integer/],
    [{ ...base, TORCHAIN_COOLDOWN_SECONDS: '-1' }, /TORCHAIN_COOLDOWN_SECONDS=-1/],
    [{ ...base, TORCHAIN_LINK_MTU: '100' }, /TORCHAIN_LINK_MTU=100 is not an integer in 576..65535/],
    [{ ...base, TORCHAIN_PROMETHEUS_URL: 'prometheus:9090' }, /not an http\(s\) URL/],
    [{ ...base, TORCHAIN_IMAGE_PULL_POLICY: 'Sometimes' }, /Always, IfNotPresent or Never/],
    [{ ...base, TORCHAIN_LOG_LEVEL: 'loud' }, /TORCHAIN_LOG_LEVEL=loud/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadConfig(env as Record<string, string>)).toThrow(message);
  });
});
