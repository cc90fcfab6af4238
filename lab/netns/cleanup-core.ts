// Removes everything a topology (or all topologies of a prefix) created, also after a crash: the processes inside
// its namespaces (by pid, found with `ip netns pids`), the namespaces themselves (their interfaces go with them),
// stale wireguard-go UAPI sockets and the key directories.
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, sleep } from './exec.js';
import { checkId, checkPrefix } from './names.js';

export interface CleanupReport {
  namespaces: string[];
  killed: number[];
  sockets: string[];
  dirs: string[];
}

async function listNetns(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

async function pidsIn(ns: string): Promise<number[]> {
  try {
    const { stdout } = await run('ip', ['netns', 'pids', ns]);
    return stdout
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((p) => Number.isInteger(p) && p > 1);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `stem` is either a prefix (`tcd`: every topology of that prefix) or `prefix-id` (`tcd-a1b`: one topology).
 */
export async function cleanupPrefix(stem: string, opts: { quiet?: boolean } = {}): Promise<CleanupReport> {
  const [prefix, id] = stem.split('-', 2) as [string, string | undefined];
  checkPrefix(prefix);
  if (id !== undefined) checkId(id);
  const nsStart = id ? `${prefix}-${id}-` : `${prefix}-`;
  const sockStart = id ? `${prefix}wg${id}` : `${prefix}wg`;
  const dirStart = id ? `torchain-netns-${prefix}-${id}-` : `torchain-netns-${prefix}-`;
  const report: CleanupReport = { namespaces: [], killed: [], sockets: [], dirs: [] };

  const namespaces = (await listNetns()).filter((ns) => ns.startsWith(nsStart));
  const pids = (await Promise.all(namespaces.map(pidsIn))).flat();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
      report.killed.push(pid);
    } catch {
      /* already gone */
    }
  }
  for (let i = 0; i < 30 && pids.some(alive); i++) await sleep(100);
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const ns of namespaces) {
    await run('ip', ['netns', 'delete', ns]).catch(() => undefined);
    report.namespaces.push(ns);
  }
  const sockDir = '/var/run/wireguard';
  for (const f of await readdir(sockDir).catch(() => [] as string[])) {
    if (f.startsWith(sockStart) && f.endsWith('.sock')) {
      await rm(join(sockDir, f), { force: true });
      report.sockets.push(f);
    }
  }
  for (const d of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (d.startsWith(dirStart)) {
      await rm(join(tmpdir(), d), { recursive: true, force: true });
      report.dirs.push(d);
    }
  }
  if (!opts.quiet) console.log(JSON.stringify({ msg: 'netns cleanup', stem, ...report }));
  return report;
}
