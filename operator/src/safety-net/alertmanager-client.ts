// Alertmanager's v2 API for the safety net: the switch alerts it holds (with their silenced/inhibited state) and its
// silences. Any failure (refused, timeout, non-2xx, not JSON) is thrown; the poller decides what that means.
import type { AmAlert, AmSilence } from './alertmanager-screen.js';

const SWITCH_FILTER = 'torchain_action="switch"';

async function getJson<T>(url: string, timeoutMs: number): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${String(res.status)} ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
}

export function alertmanagerState(
  baseUrl: string,
  timeoutMs = 5000,
): () => Promise<{ alerts: AmAlert[]; silences: AmSilence[] }> {
  const base = baseUrl.replace(/\/+$/, '');
  const alertsUrl = `${base}/api/v2/alerts?${new URLSearchParams({ filter: SWITCH_FILTER }).toString()}`;
  const silencesUrl = `${base}/api/v2/silences`;
  return async () => {
    const [alerts, silences] = await Promise.all([
      getJson<AmAlert[]>(alertsUrl, timeoutMs),
      getJson<AmSilence[]>(silencesUrl, timeoutMs),
    ]);
    if (!Array.isArray(alerts) || !Array.isArray(silences))
      throw new Error(`${base}: /api/v2/alerts or /api/v2/silences did not answer a JSON list`);
    return { alerts, silences };
  };
}
