// The nftables adapter: one atomic `nft -f -` transaction per change, table removal, listing.
import { run } from '../netns/exec.js';

/**
 * Replaces table `family name` with `body` (the text inside `table … { }`) in one transaction: the table is created
 * if missing, deleted and re-created, so a failed script leaves the previous ruleset in place.
 */
export async function replaceTable(family: 'ip' | 'inet', name: string, body: string): Promise<void> {
  const script = `table ${family} ${name}\ndelete table ${family} ${name}\ntable ${family} ${name} {\n${body}}\n`;
  await run('nft', ['-f', '-'], { input: script });
}

/** Deletes a table; absent is fine. */
export async function deleteTable(family: 'ip' | 'inet', name: string): Promise<boolean> {
  try {
    await run('nft', ['delete', 'table', family, name]);
    return true;
  } catch {
    return false;
  }
}

/** Names of the tables of one family whose name starts with `prefix`. */
export async function listTables(family: 'ip' | 'inet', prefix: string): Promise<string[]> {
  const { stdout } = await run('nft', ['list', 'tables', family]);
  return stdout
    .split('\n')
    .map((l) => /^table \S+ (\S+)/.exec(l.trim())?.[1])
    .filter((n): n is string => !!n && n.startsWith(prefix));
}

/** Packet counts of the named counters of a table (`nft -j list counters table …`). */
export async function readCounters(family: 'ip' | 'inet', table: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let stdout: string;
  try {
    ({ stdout } = await run('nft', ['-j', 'list', 'counters', 'table', family, table]));
  } catch {
    return out;
  }
  const items = (JSON.parse(stdout) as { nftables?: Array<{ counter?: { name: string; packets: number } }> }).nftables;
  for (const item of items ?? []) if (item.counter) out.set(item.counter.name, item.counter.packets);
  return out;
}
