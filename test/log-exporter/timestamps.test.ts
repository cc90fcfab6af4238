import { describe, expect, it } from 'vitest';
import { lineTimestampSeconds, splitKubeTimestamp } from '../../log-exporter/src/timestamps.js';

describe('line timestamps', () => {
  it('reads OpenVPN default, machine-readable and wireguard-go prefixes, local time', () => {
    const local = new Date(2026, 10, 26, 11, 0, 52).getTime() / 1000;
    expect(lineTimestampSeconds('2026-11-26 11:00:52 Initialization Sequence Completed')).toBe(local);
    expect(lineTimestampSeconds('DEBUG: (tcxwgc0) 2026/11/26 11:00:52 Device started')).toBe(local);
    expect(lineTimestampSeconds('INFO: 2026/11/26 11:00:52 Device started')).toBe(local);
    expect(lineTimestampSeconds('1795690860.930248 2b000003 Socket Buffers')).toBeCloseTo(1795690860.930248, 5);
    expect(lineTimestampSeconds('Initialization Sequence Completed')).toBeUndefined();
    expect(lineTimestampSeconds('2026-11-26 11:00:52')).toBeUndefined();
  });

  it('splits Kubernetes RFC3339Nano timestamps exactly', () => {
    const t = splitKubeTimestamp('2026-11-26T11:00:52.123456789Z hello world');
    expect(t).toEqual({
      text: '2026-11-26T11:00:52.123456789Z',
      nanos: BigInt(Date.parse('2026-11-26T11:00:52Z')) * 1_000_000n + 123456789n,
      line: 'hello world',
    });
    expect(splitKubeTimestamp('2026-11-26T11:00:52Z ')?.line).toBe('');
    expect(splitKubeTimestamp('2026-11-26T12:00:52+01:00 x')?.nanos).toBe(
      BigInt(Date.parse('2026-11-26T11:00:52Z')) * 1_000_000n,
    );
    expect(splitKubeTimestamp('not a timestamp')).toBeUndefined();
    expect(splitKubeTimestamp('2026-13-45T11:00:52Z x')).toBeUndefined();
  });
});
