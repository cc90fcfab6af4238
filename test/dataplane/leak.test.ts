// The kill switch under fire: traffic keeps flowing from the LAN client while hop 1's server is killed and
// restarted. Captures on every hop's external link, running from before the hops start until after recovery, must
// hold nothing but each hop's own tunnel packets to its own server endpoint.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../support/env.js';
import {
  buildTopology,
  Daemon,
  nsRun,
  sleep,
  startCapture,
  startHop,
  waitFor,
  type Capture,
  type HopProcess,
  type HopSpec,
  type Topology,
} from '../../lab/netns/index.js';
import { tunnelMtus } from '../../operator/src/core/mtu.js';
import { DATAPLANE_BINARIES, linkParties, PREFIX, violation } from './support.js';

const SPECS: [string, string, HopSpec[]][] = [
  [
    'openvpn, wireguard, openvpn/tcp',
    'lk',
    [{ type: 'openvpn' }, { type: 'wireguard' }, { type: 'openvpn', transport: 'tcp' }],
  ],
  ['openconnect, openvpn', 'lo', [{ type: 'openconnect' }, { type: 'openvpn' }]],
];

/** ping's per-reply lines carry icmp_seq: the set of sequence numbers answered so far. */
function answered(lines: string[]): Set<number> {
  return new Set(
    lines
      .map((l) => /icmp_seq=(\d+) ttl=/.exec(l)?.[1])
      .filter((x): x is string => !!x)
      .map(Number),
  );
}

describe.skipIf(skipUnless({ root: true, binaries: DATAPLANE_BINARIES })).each(SPECS)(
  'kill switch (%s): hop 1 server dies and comes back',
  (_title, id, SPEC) => {
    let topo: Topology;
    const hops: HopProcess[] = [];
    let captures: Capture[] = [];
    let pinger: Daemon | undefined;

    beforeAll(async () => {
      topo = await buildTopology({ hops: SPEC, id, prefix: PREFIX });
    });
    afterAll(async () => {
      await pinger?.close();
      await Promise.allSettled(captures.map((c) => c.stop()));
      for (const h of hops.reverse()) await h.stop().catch(() => undefined);
      await topo?.teardown();
    });

    it('no external link ever carries anything but its hop’s tunnel, before, during and after the outage', async () => {
      captures = await Promise.all(
        topo.hops.map((h) =>
          startCapture(h.externalLink.netns, h.externalLink.iface, join(topo.dir, `leak-x${h.number}.pcap`)),
        ),
      );
      // The LAN client sends from the start, before any hop is up: nothing may pass in the clear meanwhile either.
      pinger = new Daemon({
        netns: topo.client.netns,
        cmd: 'ping',
        args: ['-i', '0.05', '-W', '1', '-O', topo.internet.address],
      });
      pinger.start();

      const mtus = tunnelMtus(1500, SPEC);
      for (const hop of topo.hops) {
        const p = await startHop(hop, { mtu: mtus[hop.number - 1]! });
        hops.push(p);
        await p.waitUp(30_000);
      }
      await waitFor('replies through the chain', async () => answered(pinger!.stdout).size >= 10, 20_000);

      const server1 = topo.hops[0]!.servers[0]!;
      await server1.kill();
      // Replies already in flight when the server died may still land: count from a moment later.
      await sleep(300);
      const killedAt = pinger.stdout.length;
      await sleep(3_700);
      const duringOutage = answered(pinger.stdout.slice(killedAt));
      await server1.start();
      const restartedAt = pinger.stdout.length;
      // A client that gives up (OpenConnect: the restarted server no longer knows its session cookie) exits, and its
      // container is restarted, as the kubelet would: the kill switch stays in place all along.
      let restarting: Promise<void> | undefined;
      const keepRunning = () => {
        if (hops[0]!.daemon.running || restarting) return;
        restarting = startHop(topo.hops[0]!, { mtu: mtus[0]! })
          .then((p) => {
            hops[0] = p;
          })
          .finally(() => (restarting = undefined));
      };
      // Recovery: hop 1 reconnects on its own (OpenVPN restart), the inner tunnels follow.
      await waitFor(
        'replies after the restart',
        async () => {
          keepRunning();
          return answered(pinger!.stdout.slice(restartedAt)).size >= 10;
        },
        60_000,
      );
      await restarting;
      await sleep(500);
      await pinger.stop();
      const links = await Promise.all(captures.map((c) => c.stop()));
      captures = [];

      expect(duringOutage.size, 'replies while hop 1 had no server').toBe(0);
      if (SPEC[0]!.type === 'openvpn')
        expect(
          hops[0]!.daemon.stdout.some((l) => /process restarting|Restart pause/.test(l)),
          'hop 1 client restarted',
        ).toBe(true);
      links.forEach((packets, i) => {
        const parties = linkParties(topo, i + 1);
        const bad = packets.map((p) => violation(p, parties)).filter(Boolean);
        expect(
          bad.slice(0, 5).join('\n'),
          `hop ${i + 1}'s external link (${bad.length} bad of ${packets.length})`,
        ).toBe('');
        expect(packets.filter((p) => p.src === topo.client.address || p.dst === topo.client.address)).toEqual([]);
        expect(
          packets.filter((p) => p.src === parties.hopAddress).length,
          `hop ${i + 1} tunnel packets`,
        ).toBeGreaterThan(10);
      });
    }, 120_000);

    it('the kill switch dropped what tried to leave while the tunnel was down, and still holds with the client stopped', async () => {
      const hop1 = hops[0]!;
      // Stop hop 1's client altogether: the kill switch, routes and tun device stay.
      await hop1.stop();
      const { stdout: ruleset } = await nsRun(topo.hops[0]!.netns, 'nft', ['list', 'table', 'inet', 'torchain']);
      const s0 = topo.hops[0]!.servers[0]!.spec;
      for (const proto of linkParties(topo, 1).protos)
        expect(ruleset).toContain(`ip daddr ${s0.address} ${proto} dport ${s0.port} accept`);
      const cap = await startCapture(topo.hops[0]!.externalLink.netns, 'x1', join(topo.dir, 'stopped-x1.pcap'));
      const r = await nsRun(topo.client.netns, 'ping', [
        '-c',
        '5',
        '-i',
        '0.1',
        '-W',
        '1',
        topo.internet.address,
      ]).catch((e: Error) => e.message);
      // The hop itself cannot reach the internet host around the tunnel either.
      const direct = await nsRun(topo.hops[0]!.netns, 'ping', [
        '-c',
        '2',
        '-i',
        '0.2',
        '-W',
        '1',
        topo.internet.address,
      ]).catch((e: Error) => e.message);
      const packets = await cap.stop();
      expect(String(r)).toMatch(/100% packet loss|Network is unreachable|Operation not permitted/);
      expect(String(direct)).toMatch(/100% packet loss|Network is unreachable|Operation not permitted/);
      const parties = linkParties(topo, 1);
      expect(packets.map((p) => violation(p, parties)).filter(Boolean)).toEqual([]);
      const { stdout: counters } = await nsRun(topo.hops[0]!.netns, 'nft', [
        'list',
        'counter',
        'inet',
        'torchain',
        'out_blocked',
      ]);
      expect(Number(/packets (\d+)/.exec(counters)?.[1])).toBeGreaterThan(0);
    });
  },
);
