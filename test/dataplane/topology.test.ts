// The namespace topology builder: hop k's server only through hop k-1's tunnel, bad specs refused, and a crashed
// run fully removed by the cleanup command.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../support/env.js';
import { buildTopology, nsRun, run, type Topology } from '../../lab/netns/index.js';
import { DATAPLANE_BINARIES, PREFIX } from './support.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSX = `${REPO}node_modules/.bin/tsx`;

async function netnsList(): Promise<string[]> {
  return (await run('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

/** Opens a TCP connection from `ns` (bash's /dev/tcp), true when it connects within 2 s. */
async function tcpConnects(ns: string, address: string, port: number): Promise<boolean> {
  try {
    await nsRun(ns, 'timeout', ['2', 'bash', '-c', `exec 3<>/dev/tcp/${address}/${port}`]);
    return true;
  } catch {
    return false;
  }
}

describe('topology spec validation', () => {
  it.each([
    [{ hops: [] }, /hops must list 1..9 hops/],
    [{ hops: [{ type: 'wireguard', transport: 'tcp' }] }, /is wireguard, which runs over udp only/],
    [{ hops: [{ type: 'ipsec' }] }, /type ipsec is not one of openvpn, wireguard, openconnect/],
    [{ hops: [{ type: 'openvpn' }], serversPerHop: 0 }, /serversPerHop 0/],
    [{ hops: [{ type: 'openvpn' }], linkMtu: 100 }, /linkMtu 100/],
    [{ hops: [{ type: 'openvpn' }], prefix: 'Bad!' }, /netns prefix "Bad!"/],
    [{ hops: [{ type: 'wireguard' }], prefix: 'abcdef', id: 'wxyz' }, /longer than 15 bytes/],
  ])('refuses %j before creating anything', async (spec, message) => {
    const before = await netnsList();
    await expect(buildTopology(spec as never)).rejects.toThrow(message);
    expect(await netnsList()).toEqual(before);
  });
});

describe.skipIf(skipUnless({ root: true, binaries: DATAPLANE_BINARIES }))('topology', () => {
  let topo: Topology;
  beforeAll(async () => {
    topo = await buildTopology({
      hops: [{ type: 'wireguard' }, { type: 'openvpn', transport: 'tcp' }],
      id: 'tp',
      prefix: PREFIX,
    });
  });
  afterAll(async () => {
    await topo?.teardown();
  });

  it("hop 2's server admits only hop 1's servers: not hop 1 itself, not the internet host", async () => {
    const s2 = topo.hops[1]!.servers[0]!.spec;
    expect(await tcpConnects(topo.hops[0]!.servers[0]!.spec.netns, s2.address, s2.port)).toBe(true);
    expect(await tcpConnects(topo.hops[0]!.netns, s2.address, s2.port)).toBe(false);
    expect(await tcpConnects(topo.internet.netns, s2.address, s2.port)).toBe(false);
  });

  it('joins the hops like the pods: macvlan LAN entry on hop N, hop k-1 as hop k’s next hop, hop 1 on the internet segment, no inInterface address before the entrypoint', async () => {
    const { stdout: lan } = await nsRun(topo.hops[1]!.netns, 'ip', ['-d', 'link', 'show', 'in0']);
    expect(lan).toMatch(/macvlan mode bridge/);
    expect(topo.hops[1]!.outGateway).toBe(topo.hops[0]!.inAddress.split('/')[0]);
    expect(topo.hops[1]!.lanGateway).toBe('10.200.0.1/24');
    // Like a pod whose LAN-side attachment has no IPAM: until hop 1's entrypoint has its kill switch in place and
    // assigns the address, hop 2 cannot even reach its next hop.
    for (const h of topo.hops) {
      const { stdout } = await nsRun(h.netns, 'ip', ['-4', '-o', 'address', 'show', 'dev', 'in0']);
      expect(stdout.trim()).toBe('');
    }
    await expect(nsRun(topo.hops[1]!.netns, 'ping', ['-c', '1', '-W', '1', topo.hops[1]!.outGateway!])).rejects.toThrow(
      /command failed/,
    );
    const inet = await nsRun(topo.hops[0]!.netns, 'ping', ['-c', '1', '-W', '1', topo.internet.address]);
    expect(inet.stdout).toMatch(/1 received/);
  });
});

describe.skipIf(skipUnless({ root: true, binaries: DATAPLANE_BINARIES }))('cleanup after a crash', () => {
  it('`tsx lab/netns/cleanup.ts --prefix tke-cr` removes namespaces, daemons, sockets and keys of a killed run', async () => {
    // node itself (not the tsx wrapper, whose SIGKILL would orphan the real process) is what gets killed.
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/dataplane/fixtures/crash-child.ts', 'cr', PREFIX], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const ready = await new Promise<{ pids: number[]; dir: string }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line) as { pids: number[]; dir: string });
      });
      child.on('exit', (code) => reject(new Error(`crash-child exited early with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect((await netnsList()).filter((n) => n.startsWith('tke-cr-')).length).toBeGreaterThan(0);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(ready.pids.every(alive)).toBe(true);

    const { stdout } = await run(TSX, ['lab/netns/cleanup.ts', '--prefix', 'tke-cr']);
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as { namespaces: string[]; killed: number[] };
    expect(report.namespaces.length).toBeGreaterThan(5);
    expect((await netnsList()).filter((n) => n.startsWith('tke-cr-'))).toEqual([]);
    expect(ready.pids.filter(alive)).toEqual([]);
    expect(existsSync(ready.dir)).toBe(false);
    expect(readdirSync('/var/run/wireguard').filter((f) => f.startsWith('tkewgcr'))).toEqual([]);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('torchain-netns-tke-cr-'))).toEqual([]);
    // A second run finds nothing and succeeds.
    const again = JSON.parse((await run(TSX, ['lab/netns/cleanup.ts', '--prefix', 'tke-cr'])).stdout.trim()) as {
      namespaces: string[];
    };
    expect(again.namespaces).toEqual([]);
  });

  it('refuses a malformed prefix', async () => {
    await expect(run(TSX, ['lab/netns/cleanup.ts', '--prefix', '../etc'], { env: { ...process.env } })).rejects.toThrow(
      /netns prefix/,
    );
  });
});
