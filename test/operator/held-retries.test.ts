// HeldRetries: a decision that holds a switch for N seconds is taken again when the hold ends, with the alerts that
// were firing; a newer decision for the chain supersedes it; only the leader acts; old alerts are not retried forever.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HeldRetries, heldChains } from '../../operator/src/failover/held-retries.js';
import type { ChainOutcome, FailoverSummary } from '../../operator/src/failover/executor.js';
import type { SwitchAlert } from '../../operator/src/core/failover.js';
import { createLogger } from '../../common/log.js';

const alert = (torchain: string, hop: number): SwitchAlert => ({
  namespace: 'vpn',
  torchain,
  hop,
  startsAt: '2026-11-30T10:00:00Z',
});
const held = (chain: string, reason: string, retryInSeconds?: number): ChainOutcome =>
  ({
    action: 'none',
    namespace: 'vpn',
    chain,
    hop: 2,
    name: `${chain}-2`,
    reason,
    ...(retryInSeconds !== undefined ? { retryInSeconds } : {}),
  }) as ChainOutcome;
const summary = (...chains: ChainOutcome[]): FailoverSummary => ({
  source: 'webhook',
  received: { firing: 0, resolved: 0, ignored: 0, truncated: 0, malformed: 0 },
  switched: 0,
  chains,
});
const log = createLogger({ level: 'error', base: { component: 'test' } });

describe('heldChains', () => {
  it('picks the chains told to wait, each after its hold and a margin; a final answer is no hold', () => {
    expect(
      heldChains([held('a', 'settling', 5), held('b', 'hop-ready'), held('c', 'cooldown', 17), held('d', 'gone')]),
    ).toEqual([
      { chain: 'vpn/a', delayMs: 5250 },
      { chain: 'vpn/c', delayMs: 17250 },
    ]);
  });
});

describe('HeldRetries', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("decides again when the hold ends, with only that chain's alerts", async () => {
    const run = vi.fn(async (_alerts: SwitchAlert[]) => summary());
    const r = new HeldRetries({ run, isLeader: () => true, log, maxAgeMs: 120_000 });
    r.track([alert('a', 1), alert('a', 2), alert('b', 1)], summary(held('a', 'settling', 5), held('b', 'hop-ready')));
    expect(r.pending).toEqual(['vpn/a']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(300);
    expect(run).toHaveBeenCalledTimes(1);
    expect(run.mock.calls[0]![0]).toEqual([alert('a', 1), alert('a', 2)]);
    expect(r.pending).toEqual([]);
  });

  it('a newer decision for the chain replaces the pending retry; a still-held result is retried again', async () => {
    const run = vi.fn(async (_alerts: SwitchAlert[]) => summary(held('a', 'cooldown', 2)));
    const r = new HeldRetries({ run, isLeader: () => true, log, maxAgeMs: 120_000 });
    r.track([alert('a', 1)], summary(held('a', 'cooldown', 10)));
    r.track([alert('a', 1)], summary(held('a', 'hop-ready')));
    expect(r.pending).toEqual([]);
    r.track([alert('a', 1)], summary(held('a', 'cooldown', 1)));
    await vi.advanceTimersByTimeAsync(1300);
    expect(run).toHaveBeenCalledTimes(1);
    expect(r.pending).toEqual(['vpn/a']); // the retry said "2 more seconds"
    await vi.advanceTimersByTimeAsync(2300);
    expect(run).toHaveBeenCalledTimes(2);
    r.stop();
    expect(r.pending).toEqual([]);
  });

  it('a replica that does not lead does nothing; alerts older than maxAge are not retried', async () => {
    const run = vi.fn(async (_alerts: SwitchAlert[]) => summary(held('a', 'cooldown', 30)));
    const follower = new HeldRetries({ run, isLeader: () => false, log, maxAgeMs: 120_000 });
    follower.track([alert('a', 1)], summary(held('a', 'cooldown', 1)));
    await vi.advanceTimersByTimeAsync(2000);
    expect(run).not.toHaveBeenCalled();

    const leader = new HeldRetries({ run, isLeader: () => true, log, maxAgeMs: 45_000 });
    leader.track([alert('a', 1)], summary(held('a', 'cooldown', 30)));
    await vi.advanceTimersByTimeAsync(31_000); // first retry at 30 s: held for 30 s more, but 60 s > maxAge
    expect(run).toHaveBeenCalledTimes(1);
    expect(leader.pending).toEqual([]);
  });

  it('a failing retry (Vault down) is logged and leaves nothing pending: the next notification or poll retries', async () => {
    const run = vi.fn(async (_alerts: SwitchAlert[]): Promise<FailoverSummary> => {
      throw new Error('Vault sealed');
    });
    const r = new HeldRetries({ run, isLeader: () => true, log, maxAgeMs: 120_000 });
    r.track([alert('a', 1)], summary(held('a', 'settling', 1)));
    await vi.advanceTimersByTimeAsync(1300);
    expect(run).toHaveBeenCalledTimes(1);
    expect(r.pending).toEqual([]);
  });
});
