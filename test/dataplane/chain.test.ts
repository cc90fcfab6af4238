// Traffic through 1, 2 and 3 hops of mixed types, with the real daemons and the real hop entrypoint.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../support/env.js';
import { nsRun, startCapture, type HopSpec } from '../../lab/netns/index.js';
import { layerOverhead } from '../../operator/src/core/mtu.js';
import { clientPing, DATAPLANE_BINARIES, linkParties, startChain, violation, type Chain } from './support.js';

/**
 * Size on hop k's external link of one inner packet of `size` bytes: wrapped by hops N..k, where a WireGuard hop
 * pads its plaintext to a multiple of 16 capped at its own MTU. result[k-1] is hop k's link.
 */
function predictOuterSizes(spec: HopSpec[], mtus: number[], size: number): number[] {
  const out: number[] = [];
  let s = size;
  for (let k = spec.length; k >= 1; k--) {
    const hop = spec[k - 1]!;
    const plain = hop.type === 'wireguard' ? Math.min(Math.ceil(s / 16) * 16, mtus[k - 1]!) : s;
    s = plain + layerOverhead(hop);
    out[k - 1] = s;
  }
  return out;
}

const CHAINS: [string, string, HopSpec[]][] = [
  ['1 hop (wireguard)', 'c1', [{ type: 'wireguard' }]],
  ['1 hop (openconnect)', 'o1', [{ type: 'openconnect' }]],
  [
    '3 hops (openvpn, openconnect, wireguard)',
    'o3',
    [{ type: 'openvpn' }, { type: 'openconnect' }, { type: 'wireguard' }],
  ],
  ['2 hops (openvpn/tcp, wireguard)', 'c2', [{ type: 'openvpn', transport: 'tcp' }, { type: 'wireguard' }]],
  [
    '3 hops (openvpn/udp, wireguard, openvpn/tcp)',
    'c3',
    [{ type: 'openvpn' }, { type: 'wireguard' }, { type: 'openvpn', transport: 'tcp' }],
  ],
];

describe.skipIf(skipUnless({ root: true, binaries: DATAPLANE_BINARIES }))('chain data plane', () => {
  describe.each(CHAINS)('%s', (_title, id, spec) => {
    let chain: Chain;
    const N = spec.length;
    beforeAll(async () => {
      chain = await startChain(spec, { id });
    });
    afterAll(async () => {
      await chain?.close();
    });

    it("reaches the internet host, which sees the last hop's server as the source; every external link carries only its hop's tunnel", async () => {
      const { topo } = chain;
      const captures = await Promise.all([
        startCapture(topo.fabricNetns, 'inet', join(topo.dir, 'inet.pcap')),
        ...topo.hops.map((h) =>
          startCapture(h.externalLink.netns, h.externalLink.iface, join(topo.dir, `x${h.number}.pcap`)),
        ),
      ]);
      const ping = await clientPing(topo, ['-c', '5', '-i', '0.1', '-W', '2']);
      const [inet, ...links] = await Promise.all(captures.map((c) => c.stop()));
      expect(ping.ok, ping.output).toBe(true);
      expect(ping.output).toMatch(/5 received/);

      const lastServer = topo.hops[N - 1]!.servers[0]!.spec.address;
      const requests = inet!.filter((p) => p.proto === 'icmp' && p.icmpType === 8 && p.dst === topo.internet.address);
      expect(requests.length).toBeGreaterThanOrEqual(5);
      expect(new Set(requests.map((p) => p.src))).toEqual(new Set([lastServer]));
      // The client's own address never reaches the internet segment.
      expect(inet!.filter((p) => p.src === topo.client.address || p.dst === topo.client.address)).toEqual([]);

      links.forEach((packets, i) => {
        const parties = linkParties(topo, i + 1);
        expect(packets.filter((p) => p.kind === 'ipv4').length, `hop ${i + 1} link saw tunnel traffic`).toBeGreaterThan(
          0,
        );
        const bad = packets.map((p) => violation(p, parties)).filter(Boolean);
        if (bad.length) console.error(bad.join('\n'));
        expect(bad.join('\n'), `hop ${i + 1}'s external link`).toBe('');
        expect(packets.filter((p) => p.src === topo.client.address || p.dst === topo.client.address)).toEqual([]);
      });
    });

    it('a do-not-fragment ping of the computed maximum crosses the chain filling every layer exactly; one byte more is refused', async () => {
      const { topo, mtus } = chain;
      const innerMtu = mtus[N - 1]!;
      const captures = await Promise.all(
        topo.hops.map((h) =>
          startCapture(h.externalLink.netns, h.externalLink.iface, join(topo.dir, `mtu-x${h.number}.pcap`)),
        ),
      );
      const fits = await clientPing(topo, ['-c', '3', '-i', '0.2', '-W', '2', '-M', 'do', '-s', String(innerMtu - 28)]);
      const links = await Promise.all(captures.map((c) => c.stop()));
      expect(fits.ok, fits.output).toBe(true);
      expect(fits.output).toMatch(/3 received/);
      // The largest packet on each external link is exactly the maximum inner packet wrapped by the hops below
      // that link (predicted from the measured overheads), and it fits the layer above.
      const expected = predictOuterSizes(spec, mtus, innerMtu);
      links.forEach((packets, i) => {
        const limit = i === 0 ? topo.linkMtu : mtus[i - 1]!;
        const lengths = packets.filter((p) => p.kind === 'ipv4').map((p) => p.ipLength ?? 0);
        expect(Math.max(...lengths), `largest packet on hop ${i + 1}'s external link`).toBe(expected[i]);
        expect(expected[i]).toBeLessThanOrEqual(limit);
        expect(
          packets.filter((p) => p.fragment),
          `fragments on hop ${i + 1}'s external link`,
        ).toEqual([]);
      });

      const tooBig = await clientPing(topo, [
        '-c',
        '2',
        '-i',
        '0.3',
        '-W',
        '2',
        '-M',
        'do',
        '-s',
        String(innerMtu - 27),
      ]);
      expect(tooBig.ok).toBe(false);
      // The first packet gets ICMP "fragmentation needed" from hop N, the next a local EMSGSIZE: never silence.
      expect(tooBig.output).toMatch(
        new RegExp(`Frag needed and DF set \\(mtu = ${innerMtu}\\)|message too long, mtu=${innerMtu}`),
      );
    });

    if (id === 'c3' || id === 'o3') {
      it("hop 2's server is reached only through hop 1's tunnel (from hop 1's server)", async () => {
        const { topo } = chain;
        const server1 = topo.hops[0]!.servers[0]!.spec.address;
        const s2 = topo.hops[1]!.servers[0]!;
        const cap = await startCapture(topo.fabricNetns, 's2-0', join(topo.dir, 's2.pcap'));
        const ping = await clientPing(topo, ['-c', '3', '-i', '0.1', '-W', '2']);
        const packets = await cap.stop();
        expect(ping.ok, ping.output).toBe(true);
        const toServer2 = packets.filter((p) => p.dst === s2.spec.address && p.dport === s2.spec.port);
        expect(toServer2.length).toBeGreaterThan(0);
        expect(new Set(toServer2.map((p) => p.src))).toEqual(new Set([server1]));
      });

      it('a bulk TCP transfer (iperf3) completes through the 3 hops without a single fragment on the outer link', async () => {
        const { topo } = chain;
        const server = await import('../../lab/netns/daemon.js').then(
          ({ Daemon }) =>
            new Daemon({
              netns: topo.internet.netns,
              cmd: 'iperf3',
              args: ['-s', '-1', '--forceflush', '-B', topo.internet.address],
            }),
        );
        server.start();
        try {
          await server.waitForLine(/Server listening/, 10_000);
          const cap = await startCapture(topo.fabricNetns, 'x1', join(topo.dir, 'iperf-x1.pcap'));
          const { stdout } = await nsRun(topo.client.netns, 'iperf3', ['-c', topo.internet.address, '-t', '3', '-J'], {
            timeoutMs: 30_000,
          });
          const packets = await cap.stop();
          const result = JSON.parse(stdout) as { end: { sum_received: { bytes: number } } };
          expect(result.end.sum_received.bytes).toBeGreaterThan(1_000_000);
          expect(packets.filter((p) => p.fragment)).toEqual([]);
          expect(Math.max(...packets.map((p) => p.ipLength ?? 0))).toBeLessThanOrEqual(topo.linkMtu);
        } finally {
          await server.close();
        }
      });
    }
  });
});
