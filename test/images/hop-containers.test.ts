// The hop images run as a pod would run them: a podman container in the hop's network namespace (made by lab/netns),
// NET_ADMIN as its only capability, a read-only root filesystem with the pod's volumes (the VPN config read-only,
// emptyDirs for TORCHAIN_TMP_DIR and /var/run/wireguard), /dev/net/tun, the pod's env and sysctls. The tunnel comes
// up through a real server, the MTU is the one given, the kill switch lets nothing out in the clear when the server
// dies, and bad input exits 64.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTopology,
  nsRun,
  sleep,
  startCapture,
  waitFor,
  type HopHandle,
  type Topology,
} from '../../lab/netns/index.js';
import { linkParties, violation } from '../../lab/netns/leaks.js';
import {
  containerProcessIds,
  removeContainers,
  runContainer,
  type Container,
  type ContainerExit,
} from '../../lab/runtime/containers.js';
import { skipUnless } from '../support/env.js';
import { IMAGE_BINARIES, ensureImages } from './support.js';

const PREFIX = 'tkf';
const CAP_NET_ADMIN = 1n << 12n;

interface Running {
  container: Container;
  lines: string[];
}

/** The hop's `vpn` container as the operator's pod spec describes it. */
async function startHopContainer(
  image: string,
  hop: HopHandle,
  dir: string,
  opts: { mtu: number; name: string; env?: Record<string, string> },
): Promise<Running> {
  const cfg = join(dir, 'vpn');
  const tmp = join(dir, 'tmp');
  const wg = join(dir, 'wireguard');
  for (const d of [cfg, tmp, wg]) await mkdir(d, { recursive: true });
  // The config as the topology hands it to the entrypoint (TORCHAIN_CONFIG), with its companions (`<name>.*`, e.g.
  // a password file), becomes the pod's read-only Secret volume. `await`: env() is async on newer lab/netns.
  const env = await hop.env({ mtu: opts.mtu });
  const source = env.TORCHAIN_CONFIG!;
  const file = basename(source);
  for (const f of await readdir(dirname(source)))
    if (f === file || f.startsWith(`${file}.`)) await copyFile(join(dirname(source), f), join(cfg, f));
  const lines: string[] = [];
  const container = runContainer({
    name: opts.name,
    image,
    network: { netns: hop.netns },
    env: {
      ...env,
      TORCHAIN_CONFIG: `/etc/torchain/vpn/${file}`,
      TORCHAIN_TMP_DIR: '/tmp',
      ...opts.env,
    },
    mounts: [
      { hostPath: cfg, mountPath: '/etc/torchain/vpn', readOnly: true },
      { hostPath: tmp, mountPath: '/tmp' },
      { hostPath: wg, mountPath: '/var/run/wireguard' },
    ],
    capabilities: ['NET_ADMIN'],
    readOnlyRootFilesystem: true,
    tun: true,
    onLine: (l) => lines.push(l),
  });
  return { container, lines };
}

async function pingsThrough(topo: Topology, count = 3): Promise<boolean> {
  return nsRun(topo.client.netns, 'ping', ['-c', String(count), '-i', '0.2', '-W', '2', topo.internet.address]).then(
    () => true,
    () => false,
  );
}

const CASES = [
  { type: 'openvpn' as const, id: 'ov', mtu: 1400 },
  { type: 'wireguard' as const, id: 'wg', mtu: 1376 },
  { type: 'openconnect' as const, id: 'oc', mtu: 1300 },
];

describe.skipIf(
  skipUnless({
    root: true,
    binaries: [...IMAGE_BINARIES, '/usr/sbin/openvpn', '/usr/bin/wireguard-go', '/usr/sbin/ocserv'],
  }),
)('hop images in podman', () => {
  let refs: Record<string, string> = {};
  beforeAll(async () => {
    await removeContainers(`${PREFIX}-hop-`);
    ({ refs } = await ensureImages(['hop-openvpn', 'hop-wireguard', 'hop-openconnect']));
  }, 600_000);
  afterAll(async () => {
    await removeContainers(`${PREFIX}-hop-`);
  });

  describe.each(CASES)('$type', ({ type, id, mtu }) => {
    let topo: Topology;
    let dir: string;
    let hop: Running | undefined;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `torchain-${PREFIX}-${id}-`));
      topo = await buildTopology({ hops: [{ type }], prefix: PREFIX, id });
      // The pod's securityContext.sysctls, as the operator sets them: forwarding off until the kill switch holds.
      // /proc/sys is read-only inside the container, so the entrypoint turns forwarding on per interface through
      // rtnetlink (images/hop/devconf.pl, perl-base in the image).
      await nsRun(topo.hops[0]!.netns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=0', 'net.ipv4.conf.all.rp_filter=0']);
    });
    afterAll(async () => {
      await hop?.container.stop(2000);
      await topo?.teardown();
      await rm(dir, { recursive: true, force: true });
    });

    it('refuses bad input with exit status 64 before touching the namespace', async () => {
      const h = topo.hops[0]!;
      const before = (await nsRun(h.netns, 'ip', ['-o', 'link'])).stdout;
      const bad = await startHopContainer(refs[`hop-${type}`]!, h, join(dir, 'bad'), {
        mtu,
        name: `${PREFIX}-hop-${id}-bad`,
        env: { TORCHAIN_MTU: 'lots' },
      });
      const exit: ContainerExit = await bad.container.exited;
      expect(exit.code).toBe(64);
      expect(bad.lines.join('\n')).toMatch(/"level":"error".*TORCHAIN_MTU/);
      expect((await nsRun(h.netns, 'ip', ['-o', 'link'])).stdout).toBe(before);
      const tables = (await nsRun(h.netns, 'nft', ['list', 'tables'])).stdout;
      expect(tables).not.toContain('torchain');
    });

    it('brings the tunnel up through the real server, with the MTU given and NET_ADMIN as the only capability', async () => {
      const h = topo.hops[0]!;
      expect(await pingsThrough(topo, 1), 'nothing passes before the hop runs').toBe(false);
      hop = await startHopContainer(refs[`hop-${type}`]!, h, join(dir, 'run'), { mtu, name: `${PREFIX}-hop-${id}` });
      await waitFor(`a ping through the ${type} hop container`, () => pingsThrough(topo, 1), 40_000, 500);
      expect(await pingsThrough(topo, 3)).toBe(true);
      const link = (await nsRun(h.netns, 'ip', ['-o', 'link', 'show', 'dev', h.tunIf])).stdout;
      expect(link).toMatch(new RegExp(`mtu ${mtu} `));
      // The container's process: root, with exactly CAP_NET_ADMIN effective and bounded.
      const ids = await containerProcessIds(hop.container.name);
      expect(ids.uid).toBe(0);
      const status = await readFile(`/proc/${ids.pid}/status`, 'utf8');
      const cap = (n: string) => BigInt(`0x${new RegExp(`^${n}:\\s+([0-9a-f]+)`, 'm').exec(status)![1]}`);
      expect(cap('CapEff')).toBe(CAP_NET_ADMIN);
      expect(cap('CapBnd')).toBe(CAP_NET_ADMIN);
      // The client's output is on the container's stdout, where the log-exporter reads it.
      if (type === 'openvpn') expect(hop.lines.join('\n')).toContain('Initialization Sequence Completed');
      // Forwarding was switched on per interface from inside the container (read-only /proc/sys), not globally.
      expect((await nsRun(h.netns, 'sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('0');
      expect((await nsRun(h.netns, 'sysctl', ['-n', `net.ipv4.conf.${h.tunIf}.forwarding`])).stdout.trim()).toBe('1');
    });

    it('lets nothing out in the clear when the server dies (kill switch)', async () => {
      const h = topo.hops[0]!;
      const cap = await startCapture(h.externalLink.netns, h.externalLink.iface, join(dir, `${id}-x1.pcap`));
      await h.servers[0]!.kill();
      await sleep(500);
      const during = await nsRun(topo.client.netns, 'ping', ['-c', '6', '-i', '0.3', '-W', '1', topo.internet.address])
        .then((r) => r.stdout)
        .catch((e: Error) => e.message);
      const direct = await nsRun(h.netns, 'ping', ['-c', '2', '-i', '0.3', '-W', '1', topo.internet.address])
        .then((r) => r.stdout)
        .catch((e: Error) => e.message);
      const packets = await cap.stop();
      expect(during).toMatch(/100% packet loss|unreachable|not permitted/i);
      expect(direct).toMatch(/100% packet loss|unreachable|not permitted/i);
      const parties = linkParties(topo, 1);
      expect(packets.map((p) => violation(p, parties)).filter(Boolean)).toEqual([]);
      expect(packets.filter((p) => p.src === topo.client.address || p.dst === topo.client.address)).toEqual([]);
      // The capture saw the hop at work: its tunnel packets (retries, handshakes) toward the dead server.
      expect(packets.filter((p) => p.src === parties.hopAddress).length).toBeGreaterThan(0);
      expect(hop!.container.isRunning(), 'the hop keeps running and retrying').toBe(true);
    });
  });

  it('hop-openconnect: openconnect and its libraries run in the image; bad input exits 64', async () => {
    const lines: string[] = [];
    const version = runContainer({
      name: `${PREFIX}-hop-oc-version`,
      image: refs['hop-openconnect']!,
      network: 'none',
      command: ['/usr/sbin/openconnect', '--version'],
      readOnlyRootFilesystem: true,
      onLine: (l) => lines.push(l),
    });
    expect((await version.exited).code).toBe(0);
    expect(lines.join('\n')).toMatch(/OpenConnect version v\d/);
    // openconnect starts its --script with /bin/sh -c: sh must run in this image.
    const sh: string[] = [];
    const viaSh = runContainer({
      name: `${PREFIX}-hop-oc-sh`,
      image: refs['hop-openconnect']!,
      network: 'none',
      command: ['/bin/sh', '-c', 'echo "sh runs $0"'],
      readOnlyRootFilesystem: true,
      onLine: (l) => sh.push(l),
    });
    expect((await viaSh.exited).code).toBe(0);
    expect(sh).toEqual(['sh runs /bin/sh']);
    const bad = runContainer({
      name: `${PREFIX}-hop-oc-bad`,
      image: refs['hop-openconnect']!,
      network: 'none',
      capabilities: ['NET_ADMIN'],
      readOnlyRootFilesystem: true,
      env: { TORCHAIN_MTU: '1400' },
    });
    expect((await bad.exited).code).toBe(64);
  });
});
