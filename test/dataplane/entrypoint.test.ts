// The hop entrypoint's contract: bad input is refused with a clear error before anything changes; wg-quick-only
// keys are not executed; a restart with another server of the pool swaps the kill switch's endpoint atomically.
import { writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../support/env.js';
import {
  buildTopology,
  Daemon,
  ENTRYPOINT,
  nsRun,
  run,
  sleep,
  startCapture,
  startHop,
  waitFor,
  wgLatestHandshake,
  type HopHandle,
  type Topology,
} from '../../lab/netns/index.js';
import { protocolModule } from '../../operator/src/protocols/index.js';
import { DATAPLANE_BINARIES, PREFIX } from './support.js';

/** Runs the entrypoint to completion (for inputs it must refuse) and returns its exit status and stderr. */
async function runEntrypoint(
  hop: HopHandle,
  env: Record<string, string | undefined>,
): Promise<{ code: number; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>;
  try {
    await run('ip', ['netns', 'exec', hop.netns, 'bash', ENTRYPOINT], {
      env: { PATH: process.env.PATH, ...clean },
      timeoutMs: 10_000,
    });
    return { code: 0, stderr: '' };
  } catch (e) {
    const m = /command failed \((\d+)\)/.exec((e as Error).message);
    return { code: Number(m?.[1] ?? -1), stderr: (e as Error).message };
  }
}

/** What the entrypoint would change in a hop namespace, to prove that a refusal changed nothing. */
async function netnsState(ns: string): Promise<string> {
  const parts = await Promise.all([
    nsRun(ns, 'nft', ['list', 'ruleset']).then((r) => r.stdout),
    nsRun(ns, 'ip', ['-o', 'link', 'show']).then((r) => r.stdout.replace(/\s+state \S+/g, '')),
    nsRun(ns, 'ip', ['-o', 'address', 'show']).then((r) => r.stdout),
    nsRun(ns, 'ip', ['route', 'show', 'table', 'all']).then((r) => r.stdout),
    nsRun(ns, 'ip', ['rule', 'show']).then((r) => r.stdout),
    nsRun(ns, 'sysctl', ['-n', 'net.ipv4.ip_forward', 'net.ipv4.conf.in0.forwarding']).then((r) => r.stdout),
  ]);
  return parts.join('\n---\n');
}

describe.skipIf(skipUnless({ root: true, binaries: DATAPLANE_BINARIES }))('hop entrypoint', () => {
  let topo: Topology;
  let hop: HopHandle;
  let base: Record<string, string>;

  beforeAll(async () => {
    topo = await buildTopology({ hops: [{ type: 'wireguard' }], id: 'ep', serversPerHop: 2, prefix: PREFIX });
    hop = topo.hops[0]!;
    base = await hop.env({ mtu: 1440 });
    await nsRun(hop.netns, 'mkdir', ['-p', hop.tmpDir]);
  });
  afterAll(async () => {
    await topo?.teardown();
  });

  const badInputs: [string, (dir: string) => Promise<Record<string, string | undefined>>, RegExp][] = [
    [
      'an unknown type',
      async () => ({ TORCHAIN_TYPE: 'ipsec' }),
      /TORCHAIN_TYPE must be one of: openconnect openvpn wireguard/,
    ],
    ['a type that is a path', async () => ({ TORCHAIN_TYPE: '../entrypoint' }), /TORCHAIN_TYPE must be one of/],
    ['a missing endpoint', async () => ({ TORCHAIN_ENDPOINT: undefined }), /TORCHAIN_ENDPOINT is not set/],
    [
      'a host name as endpoint',
      async () => ({ TORCHAIN_ENDPOINT: 'vpn.example.com:51820' }),
      /address literal, not a host name/,
    ],
    ['an invalid IPv4 endpoint', async () => ({ TORCHAIN_ENDPOINT: '300.1.1.1:51820' }), /invalid IPv4 address/],
    [
      'an endpoint port out of range',
      async () => ({ TORCHAIN_ENDPOINT: '198.18.1.10:70000' }),
      /port must be 1..65535/,
    ],
    ['an unknown transport', async () => ({ TORCHAIN_PROTO: 'sctp' }), /TORCHAIN_PROTO must be udp, tcp/],
    ['WireGuard over TCP', async () => ({ TORCHAIN_PROTO: 'tcp' }), /WireGuard is UDP only/],
    ['a non-numeric MTU', async () => ({ TORCHAIN_MTU: '1400b' }), /TORCHAIN_MTU must be an integer/],
    ['an MTU below 576', async () => ({ TORCHAIN_MTU: '500' }), /TORCHAIN_MTU must be an integer in 576..9000/],
    ['an MTU above 9000', async () => ({ TORCHAIN_MTU: '9001' }), /TORCHAIN_MTU must be an integer in 576..9000/],
    [
      'an interface name with shell characters',
      async () => ({ TORCHAIN_IN_IF: 'in0;reboot' }),
      /TORCHAIN_IN_IF is not a plain interface name/,
    ],
    ['a missing out interface', async () => ({ TORCHAIN_OUT_IF: 'eth9' }), /interface eth9 does not exist/],
    ['the same interface twice', async () => ({ TORCHAIN_TUN_IF: 'in0' }), /must be three different interfaces/],
    [
      'a tunnel route that is not a CIDR',
      async () => ({ TORCHAIN_TUNNEL_ROUTES: '198.18.0.100/32,example.com' }),
      /TORCHAIN_TUNNEL_ROUTES must be/,
    ],
    ['a gateway without prefix', async () => ({ TORCHAIN_GATEWAY: '10.200.0.1' }), /TORCHAIN_GATEWAY must be an IPv4/],
    ['an IPv6 gateway', async () => ({ TORCHAIN_GATEWAY: 'fd00::1/64' }), /TORCHAIN_GATEWAY must be an IPv4/],
    ['a /32 gateway', async () => ({ TORCHAIN_GATEWAY: '10.200.0.1/32' }), /prefix of \/30 or shorter/],
    ['an out gateway that is no address', async () => ({ TORCHAIN_OUT_GATEWAY: 'router' }), /must be an IP address/],
    [
      'an out gateway of the other family',
      async () => ({ TORCHAIN_OUT_GATEWAY: 'fd00::1' }),
      /must be of the same address family/,
    ],
    [
      'a missing config file',
      async (d) => ({ TORCHAIN_CONFIG: join(d, 'nope.conf') }),
      /TORCHAIN_CONFIG is not a readable file/,
    ],
    ['no WireGuard addresses', async () => ({ TORCHAIN_WG_ADDRESSES: undefined }), /TORCHAIN_WG_ADDRESSES is not set/],
    [
      'a WireGuard address without prefix',
      async () => ({ TORCHAIN_WG_ADDRESSES: '10.101.0.2' }),
      /TORCHAIN_WG_ADDRESSES must be comma-separated address\/prefix/,
    ],
    [
      'OpenVPN over two transports',
      async () => ({ TORCHAIN_TYPE: 'openvpn', TORCHAIN_PROTO: 'tcp,udp' }),
      /openvpn is udp or tcp, one of them/,
    ],
    [
      'OpenConnect without credentials beside its config',
      async () => ({ TORCHAIN_TYPE: 'openconnect', TORCHAIN_PROTO: 'tcp,udp' }),
      /no credentials beside TORCHAIN_CONFIG/,
    ],
    [
      'OpenConnect over UDP alone',
      async () => ({ TORCHAIN_TYPE: 'openconnect', TORCHAIN_PROTO: 'udp' }),
      /openconnect is tcp \(TLS\) or tcp,udp/,
    ],
  ];

  it.each(badInputs)(
    'refuses %s with exit 64, a JSON error naming the problem, and changes nothing',
    async (_name, make, message) => {
      const before = await netnsState(hop.netns);
      const { code, stderr } = await runEntrypoint(hop, { ...base, ...(await make(topo.dir)) });
      expect(code).toBe(64);
      expect(stderr).toMatch(message);
      const line = stderr.split('\n').find((l) => l.startsWith('{'))!;
      expect(JSON.parse(line)).toMatchObject({ level: 'error', component: 'torchain-hop' });
      expect(await netnsState(hop.netns)).toBe(before);
    },
  );

  it('runs a wg-quick style config as the operator prepares it: no PostUp, its own MTU, the endpoint it was given, no key copy', async () => {
    const marker = join(topo.dir, 'postup-ran');
    const original = hop.servers[0]!.clientConfig;
    const hostile = original
      .replace('[Interface]\n', `[Interface]\nPostUp = touch ${marker}\nTable = off\nSaveConfig = true\n`)
      // A stale endpoint in the file: the hop must use the pool entry's endpoint, the one the kill switch allows.
      .replace(/Endpoint = .*/, 'Endpoint = 198.18.9.9:51820');
    const prepared = protocolModule('wireguard').prepare(hostile, hop.servers[0]!.endpoint);
    if (!prepared.ok) throw new Error(prepared.error);
    const file = join(topo.dir, 'hostile.conf');
    await writeFile(file, prepared.value.runConfig, { mode: 0o600 });
    const p = await startHop(hop, { mtu: 1440, extraEnv: { TORCHAIN_CONFIG: file } });
    try {
      await p.waitUp(20_000);
      const ping = await nsRun(topo.client.netns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', topo.internet.address]);
      expect(ping.stdout).toMatch(/2 received/);
      expect(existsSync(marker)).toBe(false);
      const { stdout: link } = await nsRun(hop.netns, 'ip', ['-o', 'link', 'show', hop.tunIf]);
      expect(link).toMatch(/mtu 1440 /);
      const { stdout: endpoints } = await nsRun(hop.netns, 'wg', ['show', hop.tunIf, 'endpoints']);
      expect(endpoints).toContain(hop.servers[0]!.endpoint);
      // The private key is read from the Secret where it lies: no copy of it in the scratch directory.
      expect(readdirSync(hop.tmpDir)).toEqual([]);
    } finally {
      await p.stop();
    }
  });

  it('refuses a config that is not `wg setconf` syntax (a wg-quick file the operator did not prepare) without running its hooks', async () => {
    const marker = join(topo.dir, 'raw-postup-ran');
    const raw = join(topo.dir, 'raw.conf');
    await writeFile(
      raw,
      hop.servers[0]!.clientConfig.replace('[Interface]\n', `[Interface]\nPostUp = touch ${marker}\n`),
    );
    const { code, stderr } = await runEntrypoint(hop, { ...base, TORCHAIN_CONFIG: raw });
    expect(code).toBe(1);
    expect(stderr).toMatch(/could not configure wireguard-go with TORCHAIN_CONFIG/);
    expect(existsSync(marker)).toBe(false);
  });

  it('enables forwarding through rtnetlink where /proc/sys is read-only (as runc mounts it for a NET_ADMIN container)', async () => {
    await nsRun(hop.netns, 'sysctl', ['-qw', 'net.ipv4.conf.all.forwarding=0']);
    const env = await hop.env({ mtu: 1440 });
    // A mount namespace of its own with /proc/sys read-only, then the entrypoint: what a container sees.
    const script = `mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec bash ${ENTRYPOINT}`;
    const daemon = new Daemon({
      netns: hop.netns,
      cmd: 'unshare',
      args: ['-m', 'bash', '-c', script],
      env: { PATH: process.env.PATH, ...env },
    });
    daemon.start();
    try {
      await waitFor(
        'a WireGuard handshake',
        async () => (await wgLatestHandshake(hop.netns, hop.tunIf).catch(() => 0)) > 0,
        20_000,
        100,
      );
      const { stdout } = await nsRun(hop.netns, 'sysctl', [
        '-n',
        'net.ipv4.conf.all.forwarding',
        `net.ipv4.conf.${hop.inIf}.forwarding`,
        `net.ipv4.conf.${hop.tunIf}.forwarding`,
        `net.ipv4.conf.${hop.outIf}.forwarding`,
      ]);
      // Only the two interfaces that must forward do.
      expect(stdout.trim().split('\n')).toEqual(['0', '1', '1', '0']);
      const ping = await nsRun(topo.client.netns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', topo.internet.address]);
      expect(ping.stdout).toMatch(/2 received/);
      expect(daemon.stderr.join('\n')).not.toMatch(/"level":"error"/);
    } finally {
      await daemon.close();
    }
  });

  it('while the hop is switched to another server under a steady ping, its link carries only tunnel packets, to the old server and then the new one', async () => {
    const [s0, s1] = [hop.servers[0]!, hop.servers[1]!];
    const first = await startHop(hop, { mtu: 1440, server: 0 });
    await first.waitUp(20_000);
    const cap = await startCapture(hop.externalLink.netns, hop.externalLink.iface, join(topo.dir, 'switch-x1.pcap'));
    const pinger = new Daemon({
      netns: topo.client.netns,
      cmd: 'ping',
      args: ['-i', '0.05', '-W', '1', topo.internet.address],
    });
    pinger.start();
    let second: Awaited<ReturnType<typeof startHop>> | undefined;
    try {
      await sleep(1_000);
      await first.stop();
      await sleep(1_000); // the pod being replaced: no client at all
      second = await startHop(hop, { mtu: 1440, server: 1 });
      await second.waitUp(20_000);
      const mark = pinger.stdout.length;
      await waitFor(
        'replies through the new server',
        async () => pinger.stdout.slice(mark).some((l) => /bytes from/.test(l)),
        10_000,
      );
    } finally {
      await pinger.close();
      await first.stop();
      await second?.stop();
    }
    const packets = (await cap.stop()).filter((p) => p.srcMac === hop.outMac);
    const to = (srv: typeof s0) =>
      packets.filter((p) => p.dst === srv.spec.address && p.proto === 'udp' && p.dport === srv.spec.port);
    expect(packets.length).toBeGreaterThan(0);
    expect(packets.filter((p) => p.kind !== 'arp' && !to(s0).includes(p) && !to(s1).includes(p))).toEqual([]);
    expect(to(s0).length).toBeGreaterThan(0);
    expect(to(s1).length).toBeGreaterThan(0);
    expect(Math.max(...to(s0).map((p) => p.time))).toBeLessThan(Math.min(...to(s1).map((p) => p.time)));
  });

  it('switching to the next server of the pool moves the kill switch and the server route to it, and nothing else', async () => {
    const s1 = hop.servers[1]!;
    const p = await startHop(hop, {
      mtu: 1440,
      server: 1,
      extraEnv: { TORCHAIN_TUNNEL_ROUTES: `${topo.internet.address}/32` },
    });
    try {
      await p.waitUp(20_000);
      const ping = await nsRun(topo.client.netns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', topo.internet.address]);
      expect(ping.stdout).toMatch(/2 received/);
      // TORCHAIN_TUNNEL_ROUTES: the hop's own traffic to that address goes through the tunnel too.
      const own = await nsRun(hop.netns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', topo.internet.address]);
      expect(own.stdout).toMatch(/2 received/);
      const { stdout: ruleset } = await nsRun(hop.netns, 'nft', ['list', 'ruleset']);
      expect(ruleset.match(/table inet torchain/g)).toHaveLength(1);
      expect(ruleset).toContain(`ip daddr ${s1.spec.address} udp dport ${s1.spec.port} accept`);
      expect(ruleset).not.toContain(hop.servers[0]!.spec.address);
      const { stdout: routes } = await nsRun(hop.netns, 'ip', ['route', 'show', 'proto', '73']);
      expect(
        routes
          .trim()
          .split('\n')
          .map((l) => l.trim())
          .sort(),
      ).toEqual(
        [`${s1.spec.address} dev out0 scope link`, `${topo.internet.address} dev ${hop.tunIf} scope link`].sort(),
      );
      const { stdout: rules } = await nsRun(hop.netns, 'ip', ['rule', 'show', 'pref', '188']);
      expect(rules.trim().split('\n')).toHaveLength(1);
    } finally {
      await p.stop();
    }
  });
});
