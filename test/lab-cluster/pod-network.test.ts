// The Calico-style pod network with real namespaces: pods reach each other and the node IP and nothing else, IPs
// come back on removal, and nothing is left after close() or after a crash and cleanupPodNetwork().
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupPodNetwork, createPodNetwork, type PodNetwork } from '../../lab/cluster/pod-network.js';
import { run } from '../../lab/netns/exec.js';
import { waitFor } from '../../lab/runtime/wait.js';
import { skipUnless } from '../support/env.js';
import { hostProbe, TestPod } from './pods.js';

const STEM = 'tkgpn';
const NODE_IP = '100.65.0.1';
const OUTSIDE = 'tkgo-outside'; // a namespace routed from the host but not part of the pod network

async function leftovers(stem: string): Promise<string[]> {
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(`${stem}-`) || n === `${stem}node`);
  const tables = (await run('nft', ['list', 'tables'])).stdout.split('\n').filter((l) => l.includes(`${stem}_`));
  const routes = (await run('ip', ['route', 'show'])).stdout.split('\n').filter((l) => l.includes(`${stem}`));
  return [...links, ...tables, ...routes];
}

describe.skipIf(skipUnless({ root: true, binaries: ['/usr/sbin/nft', '/usr/sbin/ip'] }))(
  'pod network (real namespaces)',
  () => {
    let net: PodNetwork;
    let hostServer: Server;
    const logs: Array<Record<string, unknown>> = [];
    const a = new TestPod(`${STEM}-a`, { namespace: 'n', name: 'pod-a', tcp: [8080] });
    const b = new TestPod(`${STEM}-b`, { namespace: 'n', name: 'pod-b', tcp: [8080] });

    beforeAll(async () => {
      await cleanupPodNetwork(STEM);
      net = await createPodNetwork({ stem: STEM, podCIDR: '100.64.1.0/24', nodeIP: NODE_IP, log: (e) => logs.push(e) });
      await a.start(net);
      await b.start(net);
      // a host process listening on every address: pods may reach it only at the node IP
      hostServer = createServer((s) => s.end('host\n')).listen(18080, '0.0.0.0');
      await run('ip', ['netns', 'del', OUTSIDE]).catch(() => undefined);
      await run('ip', ['netns', 'add', OUTSIDE]);
      await run('ip', ['link', 'add', 'tkgoh', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', OUTSIDE]);
      await run('ip', ['addr', 'add', '100.66.0.1/24', 'dev', 'tkgoh']);
      await run('ip', ['link', 'set', 'tkgoh', 'up']);
      await run('ip', ['-n', OUTSIDE, 'addr', 'add', '100.66.0.2/24', 'dev', 'eth0']);
      await run('ip', ['-n', OUTSIDE, 'link', 'set', 'eth0', 'up']);
      await run('ip', ['-n', OUTSIDE, 'route', 'add', 'default', 'via', '100.66.0.1']);
    });
    afterAll(async () => {
      hostServer?.close();
      await a.stop(net).catch(() => undefined);
      await b.stop(net).catch(() => undefined);
      await net?.close();
      await run('ip', ['netns', 'del', OUTSIDE]).catch(() => undefined);
    });

    it('gives each pod eth0 with a /32 and a default route via 169.254.1.1, answered by proxy ARP', async () => {
      expect(a.ip).toMatch(/^100\.64\.1\.\d+$/);
      const addr = (await run('ip', ['-n', a.netns, '-o', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout;
      expect(addr).toContain(`inet ${a.ip}/32`);
      const routes = (await run('ip', ['-n', a.netns, 'route'])).stdout;
      expect(routes).toMatch(/^default via 169\.254\.1\.1 dev eth0/m);
      expect(await a.probe('tcp', b.ip, 8080)).toBe('pod-b');
      const neigh = (await run('ip', ['-n', a.netns, 'neigh', 'show', '169.254.1.1'])).stdout;
      const hostMac = (await run('ip', ['-o', 'link', 'show', net.names.hostVeth(a.netns)])).stdout;
      expect(hostMac).toContain(/lladdr (\S+)/.exec(neigh)![1]);
    });

    it('pods reach each other and host processes at the node IP, in both directions', async () => {
      expect(await b.probe('tcp', a.ip, 8080)).toBe('pod-a');
      expect(await a.probe('tcp', NODE_IP, 18080)).toBe('host');
      expect(await hostProbe('tcp', a.ip, 8080)).toBe('pod-a');
    });

    it('pods reach nothing else: not other host addresses, not networks the host routes to', async () => {
      expect(await hostProbe('tcp', '100.66.0.1', 18080)).toBe('host'); // the host itself reaches both
      expect(await a.probe('tcp', '100.66.0.1', 18080)).toBe('timeout');
      expect(await a.probe('tcp', '100.66.0.2', 9)).toBe('timeout');
      expect(await a.probe('tcp', '192.0.2.1', 80, 800)).toMatch(/timeout|EHOSTUNREACH|ENETUNREACH/);
    });

    it('puts forwarding back when something resets it on every interface', async () => {
      const hostIf = net.names.hostVeth(a.netns);
      await run('sysctl', ['-q', '-w', `net.ipv4.conf.${hostIf}.forwarding=0`]);
      await waitFor('forwarding back on', async () => (await a.probe('tcp', b.ip, 8080, 500)) === 'pod-b', {
        timeoutMs: 10_000,
      });
      expect(logs.some((l) => String(l.msg).startsWith('forwarding was turned off'))).toBe(true);
    });

    it('releases a pod IP on removal and hands it out again', async () => {
      const ip = b.ip;
      await b.stop(net);
      expect(await a.probe('tcp', ip, 8080)).toBe('timeout');
      const c = await new TestPod(`${STEM}-c`, { namespace: 'n', name: 'pod-c', tcp: [8080] }).start(net);
      expect(c.ip).toBe(ip);
      expect(await a.probe('tcp', c.ip, 8080)).toBe('pod-c');
      await c.stop(net);
    });

    it('refuses bad options with an error naming them', async () => {
      await expect(createPodNetwork({ stem: 'Bad-Stem' })).rejects.toThrow(/stem "Bad-Stem" must match/);
      await expect(createPodNetwork({ stem: 'tkgpx', podCIDR: '100.64.1.1/24' })).rejects.toThrow(/host bits set/);
      await expect(createPodNetwork({ stem: 'tkgpx', podCIDR: '100.64.1.0/24', nodeIP: '100.64.1.3' })).rejects.toThrow(
        /inside the pod CIDR/,
      );
      expect(await leftovers('tkgpx')).toEqual([]);
    });

    it('close() leaves nothing behind', async () => {
      await net.close();
      expect(await leftovers(STEM)).toEqual([]);
    });

    it('cleanupPodNetwork() removes what a SIGKILLed process left', async () => {
      const stem = 'tkgpc';
      const netns = `${stem}-crash`;
      await run('ip', ['netns', 'add', netns]);
      try {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'crash-pod-network.ts'), stem, netns],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        await new Promise<void>((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`crash fixture exited with ${code}`)));
          createInterface({ input: child.stdout! }).on('line', (l) => l === 'ready' && resolve());
        });
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        expect((await leftovers(stem)).length).toBeGreaterThan(2);
        const r = await cleanupPodNetwork(stem);
        expect(r.tables).toEqual([`${stem}_pod`]);
        expect(await leftovers(stem)).toEqual([]);
      } finally {
        await run('ip', ['netns', 'del', netns]).catch(() => undefined);
      }
    });
  },
);
