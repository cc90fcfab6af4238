// Which server of its pool a hop runs (failover rule 4): the pool sorted by name, index switchServer mod size,
// skipping quarantined servers; all quarantined means the pool is exhausted until the first quarantine ends.

/** Server name → quarantine end (ms since epoch). */
export type Quarantine = Readonly<Record<string, number>>;

/** The server a hop already runs and the switchServer value it was chosen for (kept on the hop's Secret). */
export interface StickyChoice {
  switchServer: number;
  server: string;
}

export type ServerChoice =
  | { kind: 'chosen'; server: string; index: number; skipped: string[] }
  | { kind: 'empty' }
  | { kind: 'exhausted'; retryAt: number; quarantined: string[] };

/** Byte-wise order, the same on every machine and locale (Vault lists keys that way too). */
export function sortPool(names: readonly string[]): string[] {
  return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function isQuarantined(quarantine: Quarantine, server: string, now: number): boolean {
  const until = quarantine[server];
  return until !== undefined && until > now;
}

export function chooseServer(
  pool: readonly string[],
  switchServer: number,
  quarantine: Quarantine,
  now: number,
  sticky?: StickyChoice,
): ServerChoice {
  const sorted = sortPool(pool);
  if (sorted.length === 0) return { kind: 'empty' };
  // A quarantine that ends must not move a healthy hop: once chosen for this switchServer, a server stays.
  if (sticky && sticky.switchServer === switchServer) {
    const index = sorted.indexOf(sticky.server);
    if (index >= 0) return { kind: 'chosen', server: sticky.server, index, skipped: [] };
  }
  const start = ((switchServer % sorted.length) + sorted.length) % sorted.length;
  const skipped: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const index = (start + i) % sorted.length;
    const server = sorted[index]!;
    if (!isQuarantined(quarantine, server, now)) return { kind: 'chosen', server, index, skipped };
    skipped.push(server);
  }
  const retryAt = Math.min(...sorted.map((s) => quarantine[s] ?? now));
  return { kind: 'exhausted', retryAt, quarantined: skipped };
}

/** Counts for torchain_operator_pool_servers{state}. */
export function poolCounts(
  pool: readonly string[],
  quarantine: Quarantine,
  now: number,
): { available: number; quarantined: number } {
  const sorted = sortPool(pool);
  const quarantined = sorted.filter((s) => isQuarantined(quarantine, s, now)).length;
  return { available: sorted.length - quarantined, quarantined };
}
