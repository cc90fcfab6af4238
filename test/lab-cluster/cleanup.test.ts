// cleanupCluster() after a crash: a process running the whole cluster network (and dnsmasq beside it) is SIGKILLed;
// the cleanup removes the tables, interfaces, the DNS namespace and its dnsmasq, and the pods' resolv.conf files.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { cleanupCluster } from '../../lab/cluster/cleanup.js';
import { run } from '../../lab/netns/exec.js';
import { skipUnless } from '../support/env.js';

const STEM = 'tkgcc';

async function state() {
  const tables = (await run('nft', ['list', 'tables'])).stdout
    .split('\n')
    .filter((l) => l.includes(`${STEM}_`))
    .map((l) => l.split(' ').pop()!)
    .sort();
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout.split('\n').filter((l) => l.includes(STEM)).length;
  const netns = (await run('ip', ['netns', 'list'])).stdout.includes(`${STEM}-dns`);
  const dnsmasq = netns ? (await run('ip', ['netns', 'pids', `${STEM}-dns`])).stdout.trim().length > 0 : false;
  return { tables, links, netns, dnsmasq, resolvConf: existsSync(`/etc/netns/${STEM}-somepod/resolv.conf`) };
}

describe.skipIf(skipUnless({ root: true, binaries: ['/usr/sbin/nft', '/usr/sbin/dnsmasq'] }))(
  'cluster network crash cleanup',
  () => {
    it('removes everything a SIGKILLed lab left', async () => {
      await cleanupCluster(STEM);
      const dir = mkdtempSync(join(tmpdir(), 'tkg-cc-'));
      try {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'crash-cluster.ts'), STEM, dir],
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
        expect(await state()).toEqual({
          tables: [`${STEM}_pod`, `${STEM}_policy`, `${STEM}_svc`],
          links: 2, // the node interface and the DNS pod's veth
          netns: true,
          dnsmasq: true,
          resolvConf: true,
        });
        const report = await cleanupCluster(STEM);
        expect(report.tables.sort()).toEqual([`${STEM}_pod`, `${STEM}_policy`, `${STEM}_svc`]);
        expect(await state()).toEqual({ tables: [], links: 0, netns: false, dnsmasq: false, resolvConf: false });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
