// Vault's duration fields accept whole seconds as a number or string ("3600") or a Go duration ("1h30m", "90s");
// responses carry whole seconds, and warnings print Go's Duration.String() form ("1h0m0s").
// https://developer.hashicorp.com/vault/docs/concepts/duration-format

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds (floored) of a Vault duration, or an Error naming the field. Empty/undefined → undefined. */
export function parseDuration(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`invalid duration for "${field}": ${value}`);
    return Math.floor(value);
  }
  if (typeof value !== 'string') throw new Error(`invalid duration for "${field}": expected a number or a string`);
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT_SECONDS[m[2] as string] as number);
    consumed = re.lastIndex;
  }
  if (consumed !== text.length || consumed === 0) throw new Error(`invalid duration for "${field}": "${value}"`);
  return Math.floor(total);
}

/** Go's time.Duration String() for whole seconds: 0s, 45s, 2m5s, 1h0m0s. */
export function formatGoDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
