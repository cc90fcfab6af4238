// lab/runtime/containers.ts, the lab's container runtime: one container of a pod inside a given network namespace,
// with env (kept off podman's command line), volume mounts read-only or not, capabilities dropped but the listed
// ones, read-only root filesystem, runAsUser, /dev/net/tun on request, output as lines, stop with a grace period,
// exit code. Runs on the hop-openvpn image (it has bash to play the container's process).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../lab/netns/exec.js';
import {
  containerProcessIds,
  removeContainers,
  runContainer,
  type ContainerSpec,
} from '../../lab/runtime/containers.js';
import { waitFor } from '../../lab/runtime/wait.js';
import { skipUnless } from '../support/env.js';
import { IMAGE_BINARIES, ensureImages } from './support.js';

const PREFIX = 'tkf-rt-';
const NETNS = 'tkf-rt-pod';

describe.skipIf(skipUnless({ root: true, binaries: IMAGE_BINARIES }))('lab/runtime/containers.ts', () => {
  let image: string;
  let dir: string;

  beforeAll(async () => {
    await removeContainers(PREFIX);
    image = (await ensureImages(['hop-openvpn'])).refs['hop-openvpn']!;
    dir = await mkdtemp(join(tmpdir(), 'torchain-tkf-rt-'));
    await run('ip', ['netns', 'del', NETNS]).catch(() => undefined);
    await run('ip', ['netns', 'add', NETNS]);
    await run('ip', ['-n', NETNS, 'link', 'add', 'tkfrt0', 'type', 'veth', 'peer', 'name', 'tkfrt1']);
  }, 600_000);
  afterAll(async () => {
    await removeContainers(PREFIX);
    await run('ip', ['netns', 'del', NETNS]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `script` with bash in a container and collects its output. */
  async function sh(script: string, spec: Partial<ContainerSpec> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const c = runContainer({
      name: `${PREFIX}sh`,
      image,
      network: 'none',
      command: ['/bin/bash', '-c', script],
      onLine: (l, s) => (s === 'stdout' ? out : err).push(l),
      ...spec,
    });
    const exit = await c.exited;
    return { exit, out, err };
  }

  it('joins the given network namespace', async () => {
    const r = await sh('ip -o link', { network: { netns: NETNS } });
    expect(r.exit.code).toBe(0);
    expect(r.out.join('\n')).toContain('tkfrt0');
  });

  it('passes env values to the container but not on podman’s command line', async () => {
    const secret = 'tkf-very-secret-value';
    const lines: string[] = [];
    const c = runContainer({
      name: `${PREFIX}env`,
      image,
      network: 'none',
      command: ['/bin/bash', '-c', 'echo "v=$TKF_SECRET"; sleep 30'],
      env: { TKF_SECRET: secret },
      onLine: (l) => lines.push(l),
    });
    await waitFor('the echo', () => lines.length > 0, { timeoutMs: 20_000 });
    const cmdline = await readFile(`/proc/${c.pid}/cmdline`, 'utf8');
    await c.stop(0);
    expect(lines[0]).toBe(`v=${secret}`);
    expect(cmdline).toContain('TKF_SECRET');
    expect(cmdline).not.toContain(secret);
  });

  it('mounts host folders read-only or writable, on a read-only root filesystem', async () => {
    await writeFile(join(dir, 'config'), 'from-the-host\n');
    const rw = await mkdtemp(join(dir, 'rw-'));
    const r = await sh(
      'cat /cfg/config; echo x > /cfg/new && echo cfg-writable; echo y > /data/out && echo data-writable; ' +
        'echo z > /etc/zz && echo root-writable; true',
      {
        readOnlyRootFilesystem: true,
        mounts: [
          { hostPath: dir, mountPath: '/cfg', readOnly: true },
          { hostPath: rw, mountPath: '/data' },
        ],
      },
    );
    expect(r.out).toEqual(['from-the-host', 'data-writable']);
    expect(r.err.join('\n')).toMatch(/Read-only file system/);
    expect(await readFile(join(rw, 'out'), 'utf8')).toBe('y\n');
  });

  it('drops every capability but the listed ones, runs as runAsUser, and passes /dev/net/tun only on request', async () => {
    // bash builtins only: the image has no grep.
    const caps =
      'while read -r k v; do case $k in CapEff:|CapBnd:) echo "$k $v";; esac; done </proc/self/status; ' +
      'id -u; id -g; test -c /dev/net/tun && echo tun';
    const admin = await sh(caps, { capabilities: ['NET_ADMIN'], tun: true });
    expect(admin.out).toEqual(['CapEff: 0000000000001000', 'CapBnd: 0000000000001000', '0', '0', 'tun']);
    const nobody = await sh(caps, { runAsUser: 65534, runAsGroup: 65534 });
    expect(nobody.out).toEqual(['CapEff: 0000000000000000', 'CapBnd: 0000000000000000', '65534', '65534']);
  });

  it('reports the exit code, and stops with a grace period: SIGTERM first, SIGKILL when it is ignored', async () => {
    expect((await sh('exit 7')).exit.code).toBe(7);

    const polite = runContainer({
      name: `${PREFIX}polite`,
      image,
      network: 'none',
      command: ['/bin/bash', '-c', 'trap "echo bye; exit 0" TERM; echo ready; while :; do sleep 0.1; done'],
      onLine: () => undefined,
    });
    const stubborn = runContainer({
      name: `${PREFIX}stubborn`,
      image,
      network: 'none',
      command: ['/bin/bash', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.1; done'],
    });
    await waitFor('both running', async () => {
      try {
        await containerProcessIds(polite.name);
        await containerProcessIds(stubborn.name);
        return true;
      } catch {
        return false;
      }
    });
    await polite.stop(10_000);
    // 0: its TERM trap ran (a SIGKILL would read 137).
    expect((await polite.exited).code).toBe(0);
    const t = Date.now();
    await stubborn.stop(2000);
    const stubbornMs = Date.now() - t;
    expect((await stubborn.exited).code).toBe(137);
    // It was given its grace period before the SIGKILL.
    expect(stubbornMs).toBeGreaterThanOrEqual(1900);
    expect(polite.isRunning() || stubborn.isRunning()).toBe(false);
  });

  it('says when podman cannot start the container (unknown image): exit 125 and podman’s message', async () => {
    const r = await sh('true', { image: 'localhost/tkf-no-such-image:0' });
    expect(r.exit.code).toBe(125);
    expect(r.err.join('\n')).toMatch(/no-such-image/);
  });
});
