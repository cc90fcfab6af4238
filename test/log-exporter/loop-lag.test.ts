// The exporter's event loop lag gauge (log-exporter/src/loop-lag.ts): the histogram's percentiles, and the sampler
// measuring how late its timer fires.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LagHistogram, sampleLoopLag } from '../../log-exporter/src/loop-lag.js';

describe('event loop lag', () => {
  afterEach(() => vi.useRealTimers());

  it('reads 0 without samples, and the p99 to the millisecond', () => {
    const h = new LagHistogram();
    expect(h.percentileSeconds(99)).toBe(0);
    for (let i = 0; i < 99; i++) h.record(1.7);
    h.record(250);
    expect(h.count).toBe(100);
    expect(h.percentileSeconds(99)).toBe(0.001);
    expect(h.percentileSeconds(100)).toBe(0.25);
    const stepped = new LagHistogram();
    stepped.record(-5); // a clock step back counts as no lag
    expect(stepped.percentileSeconds(99)).toBe(0);
  });

  it('reports lags beyond the last bucket by their maximum, and forgets everything on reset', () => {
    const h = new LagHistogram();
    h.record(4200);
    h.record(1500);
    expect(h.percentileSeconds(99)).toBe(4.2);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.percentileSeconds(99)).toBe(0);
  });

  it('samples how late its timer fires', () => {
    vi.useFakeTimers();
    let clock = 0;
    const h = new LagHistogram();
    const stop = sampleLoopLag(h, 20, () => clock);
    // Three ticks on time, then one 30 ms late (a busy loop), then on time again.
    for (const late of [0, 0, 0, 30, 0]) {
      clock += 20 + late;
      vi.advanceTimersByTime(20);
    }
    expect(h.count).toBe(5);
    expect(h.percentileSeconds(100)).toBe(0.03);
    expect(h.percentileSeconds(50)).toBe(0);
    stop();
    vi.advanceTimersByTime(100);
    expect(h.count).toBe(5);
  });
});
