import { describe, expect, it } from 'vitest';
import { ResumeCursor } from '../../log-exporter/src/sources/kube-cursor.js';

const s = (sec: number, ns = 0) => BigInt(sec) * 1_000_000_000n + BigInt(ns);

describe('ResumeCursor', () => {
  it('has no sinceTime before the first line, then the second of the last line', () => {
    const c = new ResumeCursor();
    expect(c.sinceTime()).toBeUndefined();
    c.reconnect();
    expect(c.accept(s(1795690860, 930248000))).toBe(true);
    expect(c.sinceTime()).toBe('2026-11-26T11:01:00Z');
  });

  it('skips exactly the replayed lines after a reconnect, including lines sharing the last timestamp', () => {
    const c = new ResumeCursor();
    c.reconnect();
    const first = [s(100, 1), s(100, 5), s(100, 5), s(101, 0)];
    expect(first.map((t) => c.accept(t))).toEqual([true, true, true, true]);
    // Stream dropped after s(101,0); the API resends from second 101 (and another line at 101.0 that was not seen).
    c.reconnect();
    expect(c.sinceTime()).toBe(new Date(101_000).toISOString().replace('.000Z', 'Z'));
    expect([s(101, 0), s(101, 0), s(101, 7), s(102, 0)].map((t) => c.accept(t))).toEqual([false, true, true, true]);
  });

  it('skips lines older than the cursor that a coarse sinceTime brings back', () => {
    const c = new ResumeCursor();
    c.reconnect();
    c.accept(s(200, 500));
    c.accept(s(200, 900));
    c.reconnect();
    expect([s(200, 100), s(200, 500), s(200, 900), s(200, 901)].map((t) => c.accept(t))).toEqual([
      false,
      false,
      false,
      true,
    ]);
  });

  it('loses nothing and doubles nothing over many random drops', () => {
    // Non-decreasing, with runs of equal timestamps, as the API sends them.
    const lines = Array.from({ length: 500 }, (_, i) => s(1000 + Math.floor(i / 7), Math.floor((i % 7) / 2) * 1000));
    const c = new ResumeCursor();
    const seen: bigint[] = [];
    let pos = 0;
    let seed = 7;
    while (pos < lines.length) {
      c.reconnect();
      const since = c.sinceTime();
      const sinceNs = since ? BigInt(Date.parse(since)) * 1_000_000n : 0n;
      // The API sends every line at or after sinceTime (second precision), then the stream drops somewhere.
      let i = lines.findIndex((t) => t >= sinceNs);
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const dropAt = Math.min(lines.length, pos + 1 + (seed % 40));
      for (; i < dropAt; i++) if (c.accept(lines[i] as bigint)) seen.push(lines[i] as bigint);
      pos = dropAt;
    }
    expect(seen).toEqual(lines);
  });
});
