// lab/kube's ClusterIP allocator (lab/kube/cluster-ip.ts) against kube-apiserver's bitmap allocator with the static
// subrange (pkg/registry/core/service/ipallocator): the band sizes, the upper band first, the static band only when
// the upper is full, "range is full", and the refusals of an address asked for.
import { describe, expect, it } from 'vitest';
import { RangeFullError, allocateClusterIp, clusterIpRefusal, serviceRange } from '../../lab/kube/cluster-ip.js';

describe('the ClusterIP allocator', () => {
  it('sizes the range and its static band as calculateRangeOffset does', () => {
    expect(serviceRange('10.96.0.0/12')).toEqual({
      cidr: '10.96.0.0/12',
      base: (10 << 24) + (96 << 16) + 1,
      size: 2 ** 20 - 2,
      offset: 256,
    });
    // min(max(16, size/16), 256); no static band up to 16 addresses.
    expect(serviceRange('10.0.0.0/20').offset).toBe(256);
    expect(serviceRange('10.0.0.0/22').offset).toBe(64);
    expect(serviceRange('10.0.0.0/24').offset).toBe(16);
    expect(serviceRange('10.0.0.0/27').offset).toBe(16);
    expect(serviceRange('10.0.0.0/28').offset).toBe(0);
    expect(serviceRange('10.0.0.7/24').cidr).toBe('10.0.0.0/24');
    expect(() => serviceRange('fd00::/112')).toThrow(/expected an IPv4 CIDR/);
  });

  it('takes the upper band first, scanning forward from a random start and wrapping', () => {
    const r = serviceRange('10.0.0.0/27'); // usable .1-.30, static band .1-.16, upper .17-.30 (14 addresses)
    expect(allocateClusterIp(r, new Set(), () => 0)).toBe('10.0.0.17');
    expect(allocateClusterIp(r, new Set(), () => 0.999)).toBe('10.0.0.30');
    // From the last address of the band, the scan wraps to its first free one.
    expect(allocateClusterIp(r, new Set(['10.0.0.30', '10.0.0.17']), () => 0.999)).toBe('10.0.0.18');
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(allocateClusterIp(r, new Set()));
    for (const ip of seen) expect(Number(ip.split('.')[3])).toBeGreaterThanOrEqual(17);
  });

  it('falls back to the static band only when the upper band is full, then reports a full range', () => {
    const r = serviceRange('10.0.0.0/27');
    const upper = Array.from({ length: 14 }, (_, i) => `10.0.0.${17 + i}`);
    const inUse = new Set([...upper, '10.0.0.1', '10.0.0.10']);
    const got = allocateClusterIp(r, inUse, () => 0);
    expect(got).toBe('10.0.0.2');
    const all = new Set(Array.from({ length: 30 }, (_, i) => `10.0.0.${i + 1}`));
    expect(() => allocateClusterIp(r, all)).toThrow(RangeFullError);
    expect(() => allocateClusterIp(r, all)).toThrow('failed to allocate a serviceIP: range is full');
  });

  it('refuses an address in use or outside the range (network and broadcast included) with the real texts', () => {
    const r = serviceRange('10.96.0.0/12');
    const inUse = new Set(['10.96.0.1', '10.96.0.10']);
    expect(clusterIpRefusal(r, '10.96.0.10', inUse)).toBe('provided IP is already allocated');
    expect(clusterIpRefusal(r, '10.96.0.11', inUse)).toBeUndefined();
    expect(clusterIpRefusal(r, '10.111.255.254', inUse)).toBeUndefined();
    for (const ip of ['10.96.0.0', '10.111.255.255', '10.112.0.1', '192.168.0.1'])
      expect(clusterIpRefusal(r, ip, inUse)).toBe(
        `the provided IP (${ip}) is not in the valid range. The range of valid IPs is 10.96.0.0/12`,
      );
  });
});
