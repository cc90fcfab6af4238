// Prometheus duration strings ("30s", "1m30s", "2h") as used in rule files and Alertmanager routes.
// Rules and routes keep the strings (they are what users write in values.yaml); the timing budget needs seconds.

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
// Same grammar as Prometheus' model.ParseDuration: units in decreasing order, each at most once.
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;

/** True when `text` is a Prometheus duration ("0s" included). */
export function isDuration(text: string): boolean {
  return text !== '' && DURATION.test(text);
}

/** Seconds in a Prometheus duration; throws naming the offending text. */
export function durationSeconds(text: string, what = 'duration'): number {
  const m = DURATION.exec(text);
  if (!m || text === '') {
    throw new Error(`${what}: "${text}" is not a Prometheus duration; write it like 30s, 2m or 1m30s`);
  }
  let total = 0;
  ORDER.forEach((unit, i) => {
    const n = m[i + 1];
    if (n !== undefined) total += Number(n) * (UNIT_SECONDS[unit] ?? 0);
  });
  return total;
}
