// Reads a Prometheus text exposition into { 'name{label="v"}': value } for assertions.
export type Samples = Map<string, number>;

export function parseExposition(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

export function sample(samples: Samples, key: string): number {
  const v = samples.get(key);
  if (v === undefined) throw new Error(`no sample ${key}; have ${[...samples.keys()].join(', ')}`);
  return v;
}

/** { reason: value } of a reason-labelled counter. */
export function byReason(samples: Samples, metric: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of samples) {
    const m = new RegExp(`^${metric}\\{reason="([a-z_]+)"\\}$`).exec(k);
    if (m) out[m[1] as string] = v;
  }
  return out;
}

export function nonZero(counts: Record<string, number>): string[] {
  return Object.keys(counts)
    .filter((k) => (counts[k] ?? 0) > 0)
    .sort();
}
