// DNS through the chain (issue 16): the last hop answers DNS on the LAN gateway and forwards every query through
// the chain to the exit's resolver; plain DNS to any other resolver is redirected to it; the resolver's own packets
// leave only into the tunnel; with the chain down DNS fails closed; after a switch the forwarder follows the new
// exit resolver. Real unbound (the `dns` container as a process, non-root), real dnsmasq resolvers on the internet
// side (lab/netns/resolvers.ts), real dig on the LAN client, captures on every link.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../support/env.js';
import {
  buildTopology,
  dnsQuery,
  ENTRYPOINT,
  nsRun,
  RESOLVER_UID,
  run,
  sleep,
  startCapture,
  startHop,
  startHopResolver,
  waitFor,
  type Capture,
  type CapturedPacket,
  type DnsResult,
  type HopHandle,
  type HopProcess,
  type ResolverProcess,
  type Topology,
} from '../../lab/netns/index.js';
import { tunnelMtus } from '../../operator/src/core/mtu.js';
import { DATAPLANE_BINARIES } from './support.js';

/** This suite's own prefix: its namespaces and interfaces never meet another engineer's. */
const PREFIX = 'tkh';
const BINARIES = [...DATAPLANE_BINARIES, '/usr/sbin/unbound', '/usr/sbin/dnsmasq', '/usr/bin/dig', '/usr/bin/setpriv'];

let seq = 0;
/** A name that exists only at the internet side's resolvers, never asked before (nothing can answer it from a cache). */
const fresh = (topo: Topology) => `q${++seq}-${Date.now()}.${topo.resolvers.domain}`;

const isDns = (p: CapturedPacket) => p.sport === 53 || p.dport === 53;
const describePacket = (p: CapturedPacket) =>
  `${p.kind} ${p.src ?? ''}:${p.sport ?? ''} -> ${p.dst ?? ''}:${p.dport ?? ''} ${p.proto ?? ''}`;

async function counter(ns: string, name: string): Promise<number> {
  const { stdout } = await nsRun(ns, 'nft', ['list', 'counter', 'inet', 'torchain', name]);
  return Number(/packets (\d+)/.exec(stdout)?.[1] ?? NaN);
}

/** Queries until one is answered with `answer` (the forwarder picks a new upstream up within about a second). */
async function resolvesTo(topo: Topology, answer: string, timeoutMs = 20_000): Promise<DnsResult> {
  return waitFor(
    `the gateway to answer ${answer}`,
    async () => {
      const r = await dnsQuery(topo.client.netns, topo.client.gateway, fresh(topo));
      return r.answers.includes(answer) ? r : undefined;
    },
    timeoutMs,
    250,
  );
}

describe.skipIf(skipUnless({ root: true, binaries: BINARIES }))(
  'DNS through a wireguard → openvpn chain (the exit pushes its resolver)',
  () => {
    let topo: Topology;
    let hop1: HopProcess;
    let hop2: HopProcess;
    let resolver: ResolverProcess;
    let mtus: number[];
    const captures: Array<{ what: string; capture: Capture; packets?: CapturedPacket[] }> = [];

    const startExit = async (server: number, extraEnv: Record<string, string> = {}) => {
      hop2 = await startHop(topo.hops[1]!, {
        mtu: mtus[1]!,
        server,
        extraEnv: { TORCHAIN_DNS: '1', TORCHAIN_DNS_DIR: resolver.dnsDir, ...extraEnv },
      });
      await hop2.waitUp(30_000);
    };
    const unboundStarts = () => resolver.daemon.stderr.filter((l) => /"resolver started"/.test(l)).length;

    beforeAll(async () => {
      topo = await buildTopology({
        hops: [{ type: 'wireguard' }, { type: 'openvpn' }],
        id: 'd2',
        prefix: PREFIX,
        serversPerHop: 2,
        podNetwork: true,
      });
      mtus = tunnelMtus(topo.linkMtu, [{ type: 'wireguard' }, { type: 'openvpn' }]);
      // Every link out of the hops, and the resolvers' own, watched from before the first hop starts.
      for (const h of topo.hops) {
        captures.push({
          what: `hop ${h.number} external link`,
          capture: await startCapture(h.externalLink.netns, h.externalLink.iface, join(topo.dir, `x${h.number}.pcap`)),
        });
        captures.push({
          what: `hop ${h.number} pod network`,
          capture: await startCapture(h.podLink!.netns, h.podLink!.iface, join(topo.dir, `p${h.number}.pcap`)),
        });
      }
      captures.push({
        what: 'the resolvers',
        capture: await startCapture(
          topo.resolvers.link.netns,
          topo.resolvers.link.iface,
          join(topo.dir, 'resolvers.pcap'),
        ),
      });
      hop1 = await startHop(topo.hops[0]!, { mtu: mtus[0]! });
      await hop1.waitUp(30_000);
      resolver = await startHopResolver(topo.hops[1]!);
      await startExit(0);
    });
    afterAll(async () => {
      await Promise.allSettled(captures.map((c) => c.capture.stop()));
      await hop2?.stop().catch(() => undefined);
      await resolver?.stop().catch(() => undefined);
      await hop1?.stop().catch(() => undefined);
      await topo?.teardown();
    });

    it('a LAN client resolves at the gateway, over UDP and TCP, with the answer of the exit’s resolver', async () => {
      const udp = await resolvesTo(topo, topo.resolvers.answers.exit);
      expect(udp.status).toBe('NOERROR');
      const tcp = await dnsQuery(topo.client.netns, topo.client.gateway, fresh(topo), { tcp: true });
      expect(tcp).toMatchObject({ status: 'NOERROR', answers: [topo.resolvers.answers.exit] });
      // A name that exists nowhere: NXDOMAIN from the exit, not a failure.
      const missing = await dnsQuery(topo.client.netns, topo.client.gateway, 'nowhere.invalid-zone.example');
      expect(missing.status).toBe('NXDOMAIN');
      // The exit resolver heard every query from the exit's VPN server, never from anywhere else.
      const sources = new Set(topo.resolvers.queries('exit').map((l) => / from (\S+)$/.exec(l)?.[1]));
      expect([...sources]).toEqual([topo.hops[1]!.servers[0]!.spec.address]);
      // The upstream came from the server's push (openvpn-up.sh), routed into the tunnel.
      expect(hop2.daemon.stderr.join('\n')).toMatch(/"DNS upstream set","source":"pushed by the openvpn server"/);
      const route = await nsRun(topo.hops[1]!.netns, 'ip', ['-4', 'route', 'get', topo.resolvers.addresses.exit]);
      expect(route.stdout).toContain(`dev ${topo.hops[1]!.tunIf}`);
    });

    it('a hard-coded resolver is answered by the gateway: plain DNS to any address is redirected', async () => {
      const before = await counter(topo.hops[1]!.netns, 'dns_redirected');
      for (const [server, tcp] of [
        [topo.resolvers.addresses.outside, false],
        [topo.resolvers.addresses.outside, true],
        ['9.9.9.9', false],
        [topo.internet.address, true],
      ] as const) {
        const r = await dnsQuery(topo.client.netns, server, fresh(topo), { tcp });
        expect(r, `asked ${server} over ${tcp ? 'TCP' : 'UDP'}`).toMatchObject({
          status: 'NOERROR',
          answers: [topo.resolvers.answers.exit],
        });
      }
      expect(await counter(topo.hops[1]!.netns, 'dns_redirected')).toBeGreaterThanOrEqual(before + 4);
      expect(topo.resolvers.queries('outside')).toEqual([]);
    });

    it('the resolver’s own packets leave only into the tunnel', async () => {
      const hop = topo.hops[1]!;
      const before = await counter(hop.netns, 'dns_blocked');
      // As the resolver's user, straight at a resolver the main table routes out of the pod network (eth0).
      const r = await dnsQuery(hop.netns, topo.resolvers.addresses.outside, fresh(topo), {
        uid: RESOLVER_UID,
        timeoutSeconds: 1,
      });
      expect(r.answers).toEqual([]);
      expect(await counter(hop.netns, 'dns_blocked')).toBeGreaterThan(before);
      // Another user of the pod (the exporter's, say) is not confined: the guard is the resolver's alone.
      const blocked = await counter(hop.netns, 'dns_blocked');
      await dnsQuery(hop.netns, '10.202.0.1', fresh(topo), { uid: 65532, port: 5300, timeoutSeconds: 1 });
      expect(await counter(hop.netns, 'dns_blocked')).toBe(blocked);
      // The resolver's port answers on the LAN side and loopback only.
      const viaPod = await dnsQuery(topo.hops[0]!.netns, '10.202.0.12', fresh(topo), { port: 1053, timeoutSeconds: 1 });
      expect(viaPod.answers).toEqual([]);
    });

    it('with hop 1 down DNS fails closed, and answers again once it is back, with no restart of anything', async () => {
      const starts = unboundStarts();
      const server = topo.hops[0]!.servers[0]!;
      await server.kill();
      try {
        await sleep(1000); // queries already in flight may still return
        const down: DnsResult[] = [];
        for (let i = 0; i < 6; i++)
          down.push(await dnsQuery(topo.client.netns, topo.client.gateway, fresh(topo), { timeoutSeconds: 2 }));
        expect(down.filter((r) => r.answers.length > 0)).toEqual([]);
        // No answer of any kind but a failure: a timeout or SERVFAIL, never NXDOMAIN made up on the way.
        for (const r of down) expect(['timeout', 'SERVFAIL']).toContain(r.status);
      } finally {
        await server.start();
      }
      const back = await resolvesTo(topo, topo.resolvers.answers.exit, 60_000);
      expect(back.status).toBe('NOERROR');
      expect(unboundStarts()).toBe(starts); // the same forwarder: it wrote nothing off
      expect(resolver.daemon.running).toBe(true);
    });

    it('a switch of the exit hop: the forwarder follows the new server’s resolver', async () => {
      const starts = unboundStarts();
      await hop2.stop();
      await startExit(1); // server 1 pushes the alternate resolver
      const r = await resolvesTo(topo, topo.resolvers.answers.alternate);
      expect(r.status).toBe('NOERROR');
      expect(unboundStarts()).toBeGreaterThan(starts);
      // Nothing answers from the old upstream any more.
      for (let i = 0; i < 3; i++)
        expect((await dnsQuery(topo.client.netns, topo.client.gateway, fresh(topo))).answers).toEqual([
          topo.resolvers.answers.alternate,
        ]);
    });

    it('the chain’s own resolver wins over what the server pushes', async () => {
      await hop2.stop();
      await startExit(0, { TORCHAIN_DNS_SERVERS: topo.resolvers.addresses.alternate });
      await resolvesTo(topo, topo.resolvers.answers.alternate);
      expect(hop2.daemon.stderr.join('\n')).toMatch(/"source":"set for the chain \(TORCHAIN_DNS_SERVERS\)"/);
      // Server 0 pushes the exit resolver; it was not taken.
      expect((await dnsQuery(topo.client.netns, topo.client.gateway, fresh(topo))).answers).toEqual([
        topo.resolvers.answers.alternate,
      ]);
    });

    it('no DNS packet ever crossed a hop’s external link or the pod network in clear; only the exit asked', async () => {
      const exits = new Set(topo.hops[1]!.servers.map((s) => s.spec.address));
      const outside = topo.resolvers.addresses.outside;
      const bad: string[] = [];
      let atResolvers = 0;
      for (const c of captures) {
        c.packets ??= await c.capture.stop();
        for (const p of c.packets.filter(isDns)) {
          if (c.what !== 'the resolvers') bad.push(`${c.what}: ${describePacket(p)}`);
          else {
            atResolvers++;
            const peer = p.dport === 53 ? p.src : p.dst;
            const resolverSide = p.dport === 53 ? p.dst : p.src;
            if (!exits.has(peer ?? '') || resolverSide === outside) bad.push(`${c.what}: ${describePacket(p)}`);
          }
        }
      }
      expect(bad).toEqual([]);
      expect(atResolvers).toBeGreaterThan(10); // the capture was listening
      for (const c of captures.filter((x) => x.what.includes('external')))
        expect(c.packets!.length, `${c.what} saw traffic`).toBeGreaterThan(0);
    });
  },
);

describe.skipIf(skipUnless({ root: true, binaries: BINARIES })).each([
  ['wireguard', 'the resolver its config names (DNS =)', 'dw'],
  ['openconnect', 'the resolver the server pushes (INTERNAL_IP4_DNS)', 'do'],
] as const)('DNS on a one-hop %s chain: %s', (type, _how, id) => {
  let topo: Topology;
  let hop: HopProcess | undefined;
  let resolver: ResolverProcess;

  beforeAll(async () => {
    topo = await buildTopology({ hops: [{ type }], id, prefix: PREFIX });
    resolver = await startHopResolver(topo.hops[0]!);
    hop = await startHop(topo.hops[0]!, {
      mtu: tunnelMtus(topo.linkMtu, [{ type }])[0]!,
      extraEnv: { TORCHAIN_DNS: '1', TORCHAIN_DNS_DIR: resolver.dnsDir },
    });
    await hop.waitUp(30_000);
  });
  afterAll(async () => {
    await hop?.stop().catch(() => undefined);
    await resolver?.stop().catch(() => undefined);
    await topo?.teardown();
  });

  it('answers at the gateway with the exit resolver’s answer, for the gateway and a hard-coded resolver', async () => {
    await resolvesTo(topo, topo.resolvers.answers.exit);
    const hardCoded = await dnsQuery(topo.client.netns, topo.resolvers.addresses.outside, fresh(topo), { tcp: true });
    expect(hardCoded.answers).toEqual([topo.resolvers.answers.exit]);
    expect(topo.resolvers.queries('outside')).toEqual([]);
    const source = type === 'wireguard' ? 'named in the config' : 'pushed by the openconnect server';
    expect(hop!.daemon.stderr.join('\n')).toContain(`"DNS upstream set","source":"${source}`);
  });
});

/** Runs a command to completion and returns its exit status and output (never throws). */
async function exitOf(argv: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const r = await run(argv[0]!, argv.slice(1), { env: { PATH: process.env.PATH, ...env }, timeoutMs: 15_000 });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (e) {
    const m = /command failed \((\d+)\)/.exec((e as Error).message);
    return { code: Number(m?.[1] ?? -1), output: (e as Error).message };
  }
}

describe.skipIf(skipUnless({ root: true, binaries: BINARIES }))('DNS inputs the hop refuses', () => {
  let topo: Topology;
  let hop: HopHandle;
  let base: Record<string, string>;
  let dnsDir: string;

  const state = async () =>
    (
      await Promise.all([
        nsRun(hop.netns, 'nft', ['list', 'ruleset']),
        nsRun(hop.netns, 'ip', ['-o', 'address', 'show']),
        nsRun(hop.netns, 'ip', ['route', 'show', 'table', 'all']),
        nsRun(hop.netns, 'ls', ['-A', dnsDir]),
      ])
    )
      .map((r) => r.stdout)
      .join('\n---\n');

  beforeAll(async () => {
    topo = await buildTopology({ hops: [{ type: 'wireguard' }], id: 'di', prefix: PREFIX });
    hop = topo.hops[0]!;
    base = await hop.env({ mtu: 1440 });
    await nsRun(hop.netns, 'mkdir', ['-p', hop.tmpDir]);
    dnsDir = join(topo.dir, 'dns');
    await run('mkdir', ['-p', dnsDir]);
  });
  afterAll(async () => {
    await topo?.teardown();
  });

  const refusals: [string, Record<string, string | undefined>, RegExp][] = [
    ['TORCHAIN_DNS not 0 or 1', { TORCHAIN_DNS: 'yes' }, /TORCHAIN_DNS must be 1/],
    ['DNS without a gateway', { TORCHAIN_GATEWAY: undefined }, /TORCHAIN_DNS=1 needs TORCHAIN_GATEWAY/],
    ['the resolver on port 53', { TORCHAIN_DNS_PORT: '53' }, /TORCHAIN_DNS_PORT must be a port other than 53/],
    ['a port out of range', { TORCHAIN_DNS_PORT: '70000' }, /TORCHAIN_DNS_PORT/],
    ['the resolver as root', { TORCHAIN_DNS_UID: '0' }, /TORCHAIN_DNS_UID must be the dns container's user id/],
    ['a missing shared directory', { TORCHAIN_DNS_DIR: '/nonexistent/dns' }, /TORCHAIN_DNS_DIR is not a writable/],
    ['a host name as the chain’s resolver', { TORCHAIN_DNS_SERVERS: 'dns.example' }, /TORCHAIN_DNS_SERVERS must be/],
    ['a loopback resolver', { TORCHAIN_DNS_SERVERS: '127.0.0.53' }, /TORCHAIN_DNS_SERVERS must be/],
    ['an IPv6 resolver', { TORCHAIN_DNS_CONFIGURED: '2001:db8::53' }, /TORCHAIN_DNS_CONFIGURED must be/],
    ['four resolvers', { TORCHAIN_DNS_SERVERS: '1.1.1.1,1.0.0.1,9.9.9.9,8.8.8.8' }, /more than 3 resolvers/],
  ];

  it.each(refusals)('refuses %s with exit 64 and changes nothing', async (_what, change, message) => {
    const env = Object.fromEntries(
      Object.entries({ ...base, TORCHAIN_DNS: '1', TORCHAIN_DNS_DIR: dnsDir, ...change }).filter(
        ([, v]) => v !== undefined,
      ),
    ) as Record<string, string>;
    const before = await state();
    const r = await exitOf(['ip', 'netns', 'exec', hop.netns, 'bash', ENTRYPOINT], env);
    expect(r.code).toBe(64);
    expect(r.output).toMatch(message);
    expect(await state()).toBe(before);
  });

  it.each([
    ['no gateway', { TORCHAIN_GATEWAY: '' }, /TORCHAIN_GATEWAY must be the hop's LAN address/],
    ['port 53', { TORCHAIN_DNS_PORT: '53' }, /TORCHAIN_DNS_PORT must be a port other than 53/],
    ['the control port on the DNS port', { TORCHAIN_DNS_CONTROL_PORT: '1053' }, /TORCHAIN_DNS_CONTROL_PORT/],
    ['no shared directory', { TORCHAIN_DNS_DIR: '/nonexistent/dns' }, /TORCHAIN_DNS_DIR is not a readable/],
  ])('the resolver container refuses %s with exit 64', async (_what, change, message) => {
    const env: Record<string, string> = {
      TORCHAIN_GATEWAY: hop.lanGateway,
      TORCHAIN_DNS_DIR: dnsDir,
      TORCHAIN_TMP_DIR: '/tmp',
      ...change,
    };
    const r = await exitOf(
      ['setpriv', `--reuid=${RESOLVER_UID}`, `--regid=${RESOLVER_UID}`, '--clear-groups', 'bash', ENTRYPOINT, 'dns'],
      env,
    );
    expect(r.code).toBe(64);
    expect(r.output).toMatch(message);
  });
});
