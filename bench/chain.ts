// `npm run bench:chain` (root): throughput (iperf3, TCP) and round-trip time through 1, 2 and 3 hops, once with
// the computed tunnel MTUs (operator/src/core/mtu.ts) and once with MTU 1500 on every tunnel, all in one run on
// this machine; plus the plain link without any tunnel as the floor. Prints the figures, IP fragments created
// along the way, and every ratio against a single tunnel with computed MTU. Compare, don't clock: the machine
// is shared and noisy.
import { isProtocol } from '../common/contracts/protocols.js';
import { tunnelMtus } from '../operator/src/core/mtu.js';
import {
  buildTopology,
  Daemon,
  nsRun,
  startHop,
  type HopProcess,
  type HopSpec,
  type Topology,
} from '../lab/netns/index.js';

/** BENCH_CHAIN: the protocols of hops 1..N, comma-separated (default openvpn,openconnect,wireguard). */
const CHAIN: HopSpec[] = (process.env.BENCH_CHAIN ?? 'openvpn,openconnect,wireguard').split(',').map((type) => {
  if (!isProtocol(type)) throw new Error(`BENCH_CHAIN: ${type} is not a protocol of the registry`);
  return { type };
});
/** BENCH_PREFIX: namespace and interface prefix (lab/netns/names.ts), default tcd. */
const PREFIX = process.env.BENCH_PREFIX ?? 'tcd';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PINGS = 100;

interface Row {
  hops: number;
  mtu: 'computed' | '1500';
  mtus: number[];
  mbps: number;
  retransmits: number;
  rttMs: number;
  fragments: number;
}

/** Median round-trip time of PINGS pings (after a short warm-up), in ms: the median shrugs off the noise of a shared machine. */
async function rtt(ns: string, target: string): Promise<number> {
  await nsRun(ns, 'ping', ['-c', '5', '-i', '0.02', '-W', '2', '-q', target], { timeoutMs: 30_000 });
  const { stdout } = await nsRun(ns, 'ping', ['-c', String(PINGS), '-i', '0.02', '-W', '2', target], {
    timeoutMs: 60_000,
  });
  const times = [...stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  if (times.length === 0) throw new Error(`bench: no RTT in ping output: ${stdout}`);
  return times[Math.floor(times.length / 2)]!;
}

async function iperf(ns: string, target: string): Promise<{ mbps: number; retransmits: number }> {
  const { stdout } = await nsRun(ns, 'iperf3', ['-c', target, '-t', String(SECONDS), '-O', '1', '-J'], {
    timeoutMs: (SECONDS + 30) * 1000,
  });
  const r = JSON.parse(stdout) as {
    end: { sum_received: { bits_per_second: number }; sum_sent: { retransmits?: number } };
  };
  return { mbps: r.end.sum_received.bits_per_second / 1e6, retransmits: r.end.sum_sent.retransmits ?? 0 };
}

/** IP fragments created (Ip FragCreates) in the given namespaces. */
async function fragCreates(namespaces: string[]): Promise<number> {
  let total = 0;
  for (const ns of namespaces) {
    const { stdout } = await nsRun(ns, 'cat', ['/proc/net/snmp']);
    const [head, values] = stdout.split('\n').filter((l) => l.startsWith('Ip:'));
    const idx = head!.split(/\s+/).indexOf('FragCreates');
    total += Number(values!.split(/\s+/)[idx]);
  }
  return total;
}

async function withChain<T>(
  spec: HopSpec[],
  mtus: number[],
  id: string,
  fn: (topo: Topology) => Promise<T>,
): Promise<T> {
  const topo = await buildTopology({ hops: spec, id, prefix: PREFIX });
  const hops: HopProcess[] = [];
  const iperfServer = new Daemon({
    netns: topo.internet.netns,
    cmd: 'iperf3',
    args: ['-s', '--forceflush', '-B', topo.internet.address],
  });
  try {
    for (const hop of topo.hops) {
      const p = await startHop(hop, { mtu: mtus[hop.number - 1]! });
      hops.push(p);
      await p.waitUp(30_000);
    }
    iperfServer.start();
    await iperfServer.waitForLine(/Server listening/, 10_000);
    return await fn(topo);
  } finally {
    await iperfServer.close();
    for (const h of hops.reverse()) await h.stop();
    await topo.teardown();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench:chain needs root (network namespaces); run it as root');
    process.exit(1);
  }
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const samples = new Map<string, Row[]>();
  const plains: { mbps: number; rttMs: number }[] = [];
  // Rounds interleave every configuration, so that a burst of load from someone else on the machine hits all of
  // them alike; each figure below is the median of its rounds.
  for (let round = 1; round <= ROUNDS; round++) {
    // The floor: the same link without any tunnel (server 1 to the internet host, one bridge between them).
    plains.push(
      await withChain([CHAIN[0]!], tunnelMtus(1500, [CHAIN[0]!]), 'bp', async (topo) => {
        const ns = topo.hops[0]!.servers[0]!.spec.netns;
        const r = await iperf(ns, topo.internet.address);
        return { mbps: r.mbps, rttMs: await rtt(ns, topo.internet.address) };
      }),
    );
    for (let n = 1; n <= CHAIN.length; n++) {
      const spec = CHAIN.slice(0, n);
      for (const mode of ['computed', '1500'] as const) {
        const mtus = mode === 'computed' ? tunnelMtus(1500, spec) : spec.map(() => 1500);
        const row = await withChain(spec, mtus, `b${n}${mode === 'computed' ? 'c' : 'f'}`, async (topo) => {
          const namespaces = [...topo.hops.map((h) => h.netns), ...topo.servers.map((s) => s.spec.netns)];
          const before = await fragCreates(namespaces);
          const rttMs = await rtt(topo.client.netns, topo.internet.address);
          const t = await iperf(topo.client.netns, topo.internet.address);
          const fragments = (await fragCreates(namespaces)) - before;
          return { hops: n, mtu: mode, mtus, mbps: t.mbps, retransmits: t.retransmits, rttMs, fragments };
        });
        const key = `${n}/${mode}`;
        samples.set(key, [...(samples.get(key) ?? []), row]);
        console.error(JSON.stringify({ msg: 'bench:chain run', round, ...row }));
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const plain = { mbps: median(plains.map((p) => p.mbps)), rttMs: median(plains.map((p) => p.rttMs)) };
  const rows: (Row & { range: string })[] = [...samples.values()].map((rs) => ({
    ...rs[0]!,
    mbps: median(rs.map((r) => r.mbps)),
    retransmits: median(rs.map((r) => r.retransmits)),
    rttMs: median(rs.map((r) => r.rttMs)),
    fragments: median(rs.map((r) => r.fragments)),
    range: `${Math.min(...rs.map((r) => r.mbps)).toFixed(0)}-${Math.max(...rs.map((r) => r.mbps)).toFixed(0)}`,
  }));
  const ref = rows.find((r) => r.hops === 1 && r.mtu === 'computed')!;
  const f = (x: number, d = 1) => x.toFixed(d);
  console.log(
    `\nbench:chain — chain ${CHAIN.map((h) => h.type).join(' > ')} (hop 1 first); medians of ${ROUNDS} rounds of iperf3 TCP ${SECONDS} s and of the median RTT of ${PINGS} pings`,
  );
  console.log(`plain link, no tunnel: ${f(plain.mbps)} Mbit/s, RTT ${f(plain.rttMs, 3)} ms`);
  console.log(
    'hops  tunnel MTUs        Mbit/s  (range)   retrans  RTT ms  added RTT ms  IP frags  thr/1-hop  RTT/1-hop',
  );
  for (const r of rows) {
    console.log(
      [
        String(r.hops).padEnd(5),
        `${r.mtu === 'computed' ? r.mtus.join('/') : '1500 everywhere'}`.padEnd(18),
        f(r.mbps).padStart(6),
        `(${r.range})`.padEnd(9),
        String(r.retransmits).padStart(8),
        f(r.rttMs, 3).padStart(7),
        f(r.rttMs - plain.rttMs, 3).padStart(13),
        String(r.fragments).padStart(9),
        f(r.mbps / ref.mbps, 2).padStart(10),
        f(r.rttMs / ref.rttMs, 2).padStart(10),
      ].join(' '),
    );
  }
  console.log('\ncomputed MTU vs 1500 everywhere (throughput ratio, computed / 1500):');
  for (let n = 1; n <= CHAIN.length; n++) {
    const c = rows.find((r) => r.hops === n && r.mtu === 'computed')!;
    const x = rows.find((r) => r.hops === n && r.mtu === '1500')!;
    console.log(`  ${n} hop(s): ${f(c.mbps / x.mbps, 2)}  (fragments ${c.fragments} vs ${x.fragments})`);
  }
}

await main();
