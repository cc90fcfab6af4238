// Zero packets leave a hop outside its tunnel, at any instant, while hops are switched and restarted again and again.
// A mixed chain (openvpn, openconnect, wireguard) with a pod network on every hop (eth0 with a default route into
// the cluster network: exactly where a hop that forwards before its kill switch would send things). Captures on every
// external link and every pod-network link run from before the first hop starts until after the last round; the LAN
// client pings throughout. Each round either restarts a hop's container (same namespace: the old kill switch stays
// until the new one replaces it) or replaces its pod (a fresh sandbox, as the operator's Deployment defines it, with
// the next server of the pool), in an order that hits every hop both ways.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../support/env.js';
import {
  buildTopology,
  Daemon,
  sleep,
  startCapture,
  startHop,
  waitFor,
  type Capture,
  type CapturedPacket,
  type HopProcess,
  type Topology,
} from '../../lab/netns/index.js';
import { API_VERSION, KIND, type TorChain } from '../../operator/src/api/torchain.js';
import { buildDeployment } from '../../operator/src/core/hop-objects.js';
import { tunnelMtus } from '../../operator/src/core/mtu.js';
import { PROTOCOLS } from '../../common/contracts/protocols.js';
import { DATAPLANE_BINARIES, linkParties, PREFIX, violation } from './support.js';

const SPEC = [{ type: 'openvpn' as const }, { type: 'openconnect' as const }, { type: 'wireguard' as const }];
const MTUS = tunnelMtus(1500, SPEC);

/** ping's per-reply lines carry icmp_seq: the sequence numbers answered after line `from`. */
function answered(lines: string[], from = 0): number {
  return lines.slice(from).filter((l) => /icmp_seq=\d+ ttl=/.test(l)).length;
}

/** The pod-level sysctls of hop k as the operator builds its Deployment: what a new sandbox starts with. */
function podSysctls(topo: Topology, k: number): Array<{ name: string; value: string }> {
  const hop = topo.hops[k - 1]!;
  const tc: TorChain = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: `sw-hop-${k}`, namespace: 'vpn', uid: `uid-${k}` },
    spec: {
      numberNode: k,
      typeNode: hop.type,
      nameTorChain: 'sw',
      inInterface: 'in0',
      outInterface: 'out0',
      ipGateWay: hop.lanGateway,
    },
  };
  const images = Object.fromEntries(PROTOCOLS.map((p) => [p, `img/${p}`])) as Record<
    (typeof PROTOCOLS)[number],
    string
  >;
  const d = buildDeployment({
    tc,
    server: 's0',
    config: hop.servers[0]!.clientConfig,
    endpoint: hop.prepared(0),
    mtu: MTUS[k - 1]!,
    images: { ...images, logExporter: 'img/exporter' },
  });
  return (d.spec!.template.spec!.securityContext?.sysctls ?? []).map((s) => ({ name: s.name, value: s.value }));
}

describe.skipIf(skipUnless({ root: true, binaries: DATAPLANE_BINARIES }))(
  'no packet outside the tunnel while hops are switched and restarted',
  () => {
    let topo: Topology;
    const hops: HopProcess[] = [];
    const current: number[] = [0, 0, 0];
    let externals: Capture[] = [];
    let pods: Capture[] = [];
    let pinger: Daemon | undefined;

    beforeAll(async () => {
      topo = await buildTopology({ hops: SPEC, id: 'sw', prefix: PREFIX, serversPerHop: 2, podNetwork: true });
    });
    afterAll(async () => {
      await pinger?.close();
      await Promise.allSettled([...externals, ...pods].map((c) => c.stop()));
      for (const h of [...hops].reverse()) await h?.stop().catch(() => undefined);
      await topo?.teardown();
    });

    const start = async (k: number) => {
      const p = await startHop(topo.hops[k - 1]!, { mtu: MTUS[k - 1]!, server: current[k - 1]! });
      hops[k - 1] = p;
      await p.waitUp(30_000);
    };

    it('every external link carries only its hop’s tunnel and the pod network carries nothing, across 6 switches and restarts', async () => {
      const capture = (link: { netns: string; iface: string }, name: string) =>
        startCapture(link.netns, link.iface, join(topo.dir, `${name}.pcap`));
      externals = await Promise.all(topo.hops.map((h) => capture(h.externalLink, `sw-x${h.number}`)));
      pods = await Promise.all(topo.hops.map((h) => capture(h.podLink!, `sw-p${h.number}`)));
      pinger = new Daemon({
        netns: topo.client.netns,
        cmd: 'ping',
        args: ['-i', '0.05', '-W', '1', '-O', topo.internet.address],
      });
      pinger.start();
      for (let k = 1; k <= SPEC.length; k++) await start(k);
      await waitFor('replies through the chain', async () => answered(pinger!.stdout) >= 10, 30_000);

      // [hop, how]: a new pod (fresh sandbox, next server) or a container restart (same namespace, same server).
      const rounds: Array<[number, 'pod' | 'restart']> = [
        [2, 'pod'],
        [1, 'restart'],
        [3, 'pod'],
        [1, 'pod'],
        [2, 'restart'],
        [3, 'restart'],
      ];
      const recoveries: number[] = [];
      for (const [k, how] of rounds) {
        await hops[k - 1]!.stop();
        if (how === 'pod') {
          await topo.hops[k - 1]!.newPodSandbox(podSysctls(topo, k));
          current[k - 1] = (current[k - 1]! + 1) % 2;
        }
        // The sandbox exists, the vpn container has not started yet: traffic from the LAN and the hops below goes on.
        await sleep(1_000);
        const mark = pinger.stdout.length;
        const t0 = Date.now();
        await start(k);
        await waitFor(`replies after hop ${k}'s ${how}`, async () => answered(pinger!.stdout, mark) >= 5, 60_000);
        recoveries.push(Date.now() - t0);
        console.log(`hop ${k} ${how}: traffic again after ${Date.now() - t0} ms`);
      }
      await sleep(500);
      await pinger.stop();
      const ext = await Promise.all(externals.map((c) => c.stop()));
      const pod = await Promise.all(pods.map((c) => c.stop()));
      externals = [];
      pods = [];
      console.log(`recovery after each round (ms): ${recoveries.join(', ')}`);

      ext.forEach((packets, i) => {
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
        ).toBeGreaterThan(50);
      });
      pod.forEach((packets, i) => {
        const ip = packets.filter((p: CapturedPacket) => p.kind !== 'arp');
        expect(ip.slice(0, 5), `hop ${i + 1}'s pod network link`).toEqual([]);
      });
    }, 300_000);

    it('the design it replaces would leak: a new sandbox that forwards and has its inInterface address from IPAM', async () => {
      // Hop 2 replaced by a pod that forwards from its first instant (net.ipv4.ip_forward=1) and whose LAN-side
      // attachment has an address: hop 3's tunnel packets leave through the pod network until its entrypoint runs.
      const cap = await startCapture(
        topo.hops[1]!.podLink!.netns,
        topo.hops[1]!.podLink!.iface,
        join(topo.dir, 'old.pcap'),
      );
      const ping = new Daemon({ netns: topo.client.netns, cmd: 'ping', args: ['-i', '0.1', topo.internet.address] });
      ping.start();
      await hops[1]!.stop();
      await topo.hops[1]!.newPodSandbox([{ name: 'net.ipv4.ip_forward', value: '1' }], { ipamInAddress: true });
      await sleep(3_000);
      await ping.close();
      const leaked = (await cap.stop()).filter((p) => p.kind === 'ipv4');
      expect(leaked.length).toBeGreaterThan(0);
      expect(
        leaked.some(
          (p) => p.dst === topo.hops[2]!.servers[0]!.spec.address || p.dst === topo.hops[2]!.servers[1]!.spec.address,
        ),
      ).toBe(true);
    });
  },
);
