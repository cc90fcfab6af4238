// npm run bench:failover [-- --timings lab|production] [--kills K] [--cases hop1-kill,hop2-blackhole,…] [--servers N]
//                        [--twin | --no-twin]
// On one real lab (the chart installed into lab/kube), for each case (a hop of a chain, its active server killed or
// blackholed), K times: the time from the server's death to traffic flowing end to end again, split into
//   detection  death → the hop's exporter reads tunnel_up 0
//   alert      → Prometheus has the hop's switch alert firing
//   switch     → the operator moved spec.switchServer (webhook or poll, decision, patch)
//   reconnect  → traffic flows LAN → internet again (reconcile, Secret, rollout, new tunnel, hops below)
// The peer, in the same run: the VPN client's own reconnect to a restarted server (no failover involved).
// Cases: hop1-kill / hop1-blackhole (chain lab hop 1: OpenVPN by default), hop2-kill / hop2-blackhole (WireGuard),
// oc-kill / oc-blackhole (chain edge hop 1: OpenConnect). Prints p50/p95 per case and segment, and the ratios.
import { parseArgs } from 'node:util';
import { cleanupLab } from '../lab/cleanup.js';
import { MAX_SERVERS_PER_HOP } from '../lab/netns/topology.js';
import { scenarioTimings, waitForAlternative } from '../lab/scenarios/harness.js';
import { sleep, waitFor } from '../lab/runtime/wait.js';
import {
  DEFAULT_CHAIN,
  DEFAULT_PREFIX,
  DEFAULT_STATE_DIR,
  serversForRepeatedFailover,
  startLab,
  type Lab,
  type LabChain,
} from '../lab/stack.js';
import { labelValue } from '../operator/src/core/naming.js';
import { defaultCooldownSeconds } from '../prometheus-rules/src/render.js';

const CASES: Record<string, { chain: number; hop: number; how: 'kill' | 'blackhole' }> = {
  'hop1-kill': { chain: 0, hop: 1, how: 'kill' },
  'hop1-blackhole': { chain: 0, hop: 1, how: 'blackhole' },
  'hop2-kill': { chain: 0, hop: 2, how: 'kill' },
  'hop2-blackhole': { chain: 0, hop: 2, how: 'blackhole' },
  'oc-kill': { chain: 1, hop: 1, how: 'kill' },
  'oc-blackhole': { chain: 1, hop: 1, how: 'blackhole' },
};

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '10' },
    timings: { type: 'string', default: 'lab' },
    cases: { type: 'string', default: Object.keys(CASES).join(',') },
    servers: { type: 'string' },
    twin: { type: 'boolean' },
  },
  allowNegative: true,
});
const K = Number(values.kills);
if (!Number.isInteger(K) || K < 1) throw new Error(`--kills ${values.kills}: a whole number >= 1`);
if (values.timings !== 'lab' && values.timings !== 'production')
  throw new Error(`--timings ${values.timings}: lab or production`);
const timings = values.timings;
const cases = values.cases.split(',');
const serversPerHop = Number(values.servers ?? serversForRepeatedFailover(timings));
if (!Number.isInteger(serversPerHop) || serversPerHop < 2 || serversPerHop > MAX_SERVERS_PER_HOP)
  throw new Error(`--servers ${values.servers}: a whole number from 2 to ${MAX_SERVERS_PER_HOP}`);
// --twin (default with production timings, where one failover and its quiet period take a minute and a half): the
// second chain gets the first chain's protocols, the kill cases run on the first chain and the blackhole cases on the
// second, both at once. The chains share nothing but the machine (own namespace, node, alert group), so the run
// takes half the time; the peer still runs beside them.
const twin = values.twin ?? timings === 'production';
if (twin && cases.some((c) => CASES[c]!.chain !== 0))
  throw new Error("--twin runs the first chain's cases on both chains: leave out the oc-* cases or pass --no-twin");
for (const c of cases) if (!CASES[c]) throw new Error(`--cases: unknown case ${c} (${Object.keys(CASES).join(', ')})`);

interface Sample {
  total: number;
  detection: number;
  alert: number;
  switch: number;
  reconnect: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
};

async function exporterSaysDown(chain: LabChain, hop: number): Promise<boolean> {
  const pod = chain.node.kubelet
    .runningPods()
    .find((p) => p.labels['torchain.dev/chain'] === chain.name && p.labels['torchain.dev/hop'] === String(hop));
  if (!pod) return true;
  try {
    const text = await (await fetch(`http://${pod.podIP}:9108/metrics`, { signal: AbortSignal.timeout(500) })).text();
    return /^torchain_vpn_tunnel_up 0$/m.test(text);
  } catch {
    return true;
  }
}

async function alertFiring(lab: Lab, chain: LabChain, hop: number, server?: string): Promise<boolean> {
  const q = `ALERTS{alertstate="firing",torchain_action="switch",namespace="${chain.namespace}",torchain="${chain.name}",hop="${hop}"${server ? `,server="${labelValue(server)}"` : ''}}`;
  const res = await fetch(`${lab.endpoints.prometheusUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  return ((await res.json()) as { data: { result: unknown[] } }).data.result.length > 0;
}

const switchServer = async (chain: LabChain, hop: number) => (await chain.torchains()).get(hop)?.spec.switchServer ?? 0;

/** Is any switch alert of the chain in Prometheus, pending or firing (or of one hop)? */
async function switchAlerts(lab: Lab, chain: LabChain, hop?: number): Promise<boolean> {
  const q = `ALERTS{torchain_action="switch",namespace="${chain.namespace}",torchain="${chain.name}"${hop ? `,hop="${hop}"` : ''}}`;
  const res = await fetch(`${lab.endpoints.prometheusUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  return ((await res.json()) as { data: { result: unknown[] } }).data.result.length > 0;
}

/** Waits until no chain of `chains` has a switch alert, pending or firing, twice in a row 5 s apart. */
async function waitQuiet(lab: Lab, chains: LabChain[]): Promise<void> {
  const quiet = async () => {
    for (const c of chains) if (await switchAlerts(lab, c)) return false;
    return true;
  };
  const t = scenarioTimings(lab);
  await waitFor(
    'no switch alert, pending or firing',
    async () => ((await quiet()) && (await sleep(5000), await quiet())) || undefined,
    { timeoutMs: t.quietMs + t.recoveryTimeoutMs, intervalMs: 1000 },
  );
}

/**
 * The chain whole again: its servers restored, traffic flowing, no switch alert left in any state (a
 * connection-errors alert outlives the outage by its window), and past the operator's cooldown after its last
 * switch: the next failure counts alone.
 */
async function settle(lab: Lab, chain: LabChain): Promise<void> {
  const t = scenarioTimings(lab);
  await chain.restoreServers();
  await chain.traffic.waitFlowing(0, t.recoveryTimeoutMs);
  await waitQuiet(lab, [chain]);
  // Usually long over: the quiet wait lasts a whole window.
  const cooldownMs = defaultCooldownSeconds(t.params) * 1000 + 2000;
  await sleep(Math.max(0, (lastSwitchAt.get(chain.name) ?? 0) + cooldownMs - Date.now()));
}

const lastSwitchAt = new Map<string, number>();

async function failoverOnce(lab: Lab, chain: LabChain, hop: number, how: 'kill' | 'blackhole'): Promise<Sample> {
  const t = scenarioTimings(lab);
  await waitForAlternative(chain, hop);
  const before = await switchServer(chain, hop);
  const t0 = Date.now();
  const server = await chain.failActiveServer(hop, how);
  const marks = { detection: 0, alert: 0, switch: 0 };
  const poll = { timeoutMs: t.recoveryTimeoutMs, intervalMs: 100 };
  const watch = (async () => {
    await waitFor('exporter tunnel_up 0', async () => (await exporterSaysDown(chain, hop)) || undefined, poll);
    marks.detection = Date.now();
    await waitFor(
      'switch alert firing',
      async () =>
        (await alertFiring(lab, chain, hop, server)) || (await switchServer(chain, hop)) > before || undefined,
      poll,
    );
    marks.alert = Date.now();
    await waitFor('switchServer moved', async () => (await switchServer(chain, hop)) > before || undefined, poll);
    marks.switch = Date.now();
    lastSwitchAt.set(chain.name, marks.switch);
  })();
  const back = await chain.traffic.waitFlowing(t0 + 1000, t.recoveryTimeoutMs);
  await watch;
  return {
    total: (back - t0) / 1000,
    detection: (marks.detection - t0) / 1000,
    alert: (marks.alert - marks.detection) / 1000,
    switch: (marks.switch - marks.alert) / 1000,
    reconnect: (back - marks.switch) / 1000,
  };
}

/**
 * Silences the switch alerts of a chain in Alertmanager (API v2; the hops below read down too) and returns a function
 * that expires the silence.
 * The operator skips silenced alerts in its webhook path (Alertmanager sends none) and in its poll (it asks
 * Alertmanager), so the peer's outage, longer than `for` with production timings, switches nothing.
 */
async function silenceChain(lab: Lab, chain: LabChain): Promise<() => Promise<void>> {
  const am = lab.endpoints.alertmanagerUrl;
  const matcher = (name: string, value: string) => ({ name, value, isRegex: false, isEqual: true });
  const res = await fetch(`${am}/api/v2/silences`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      matchers: [
        matcher('namespace', chain.namespace),
        matcher('torchain', chain.name),
        matcher('torchain_action', 'switch'),
      ],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'bench:failover',
      comment: 'peer run: a plain reconnect, no failover wanted',
    }),
  });
  if (!res.ok) throw new Error(`Alertmanager ${am} refused the peer's silence: ${res.status} ${await res.text()}`);
  const { silenceID } = (await res.json()) as { silenceID: string };
  return async () => {
    const del = await fetch(`${am}/api/v2/silence/${silenceID}`, { method: 'DELETE' });
    if (!del.ok) throw new Error(`Alertmanager ${am} did not expire silence ${silenceID}: ${del.status}`);
  };
}

/**
 * The peer: the active server killed, then started again at once; the client reconnects on its own. The chain's
 * switch alerts are silenced meanwhile, and the silence expires only once none is left, pending or firing.
 */
async function reconnectOnce(lab: Lab, chain: LabChain, hop: number): Promise<number> {
  const t = scenarioTimings(lab);
  const name = await chain.activeServer(hop);
  if (!name) throw new Error(`${chain.name} hop ${hop} has no active server`);
  const server = chain.server(hop, name);
  const switchesOf = async () => Promise.all(chain.types.map((_, i) => switchServer(chain, i + 1)));
  const before = JSON.stringify(await switchesOf());
  const unsilence = await silenceChain(lab, chain);
  try {
    await server.kill();
    await waitFor('traffic to stop', async () => !chain.traffic.state.flowing || undefined, {
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    const t0 = Date.now();
    await server.start();
    const back = await chain.traffic.waitFlowing(t0, t.recoveryTimeoutMs);
    await waitQuiet(lab, [chain]);
    // A peer that failed over measured a failover, not a reconnect: refuse it rather than report it.
    if (JSON.stringify(await switchesOf()) !== before)
      throw new Error(`peer run on ${chain.name} hop ${hop} switched servers despite the silence`);
    return (back - t0) / 1000;
  } finally {
    await unsilence();
  }
}

async function main(): Promise<void> {
  await cleanupLab(DEFAULT_PREFIX, DEFAULT_STATE_DIR);
  const lab = await startLab({
    timings,
    serversPerHop,
    ...(twin ? { secondChain: DEFAULT_CHAIN } : {}),
    progress: (s) => process.stderr.write(`[lab] ${s}\n`),
  });
  const results = new Map<string, Sample[]>();
  const where = new Map<string, LabChain>();
  const peer: number[] = [];
  const t0 = Date.now();
  // One lane per chain; the lanes run at once, each case of a lane in turn.
  const lanes = new Map<LabChain, string[]>();
  for (const name of cases) {
    const { chain: ci, hop, how } = CASES[name]!;
    const chain = lab.chains[twin && how === 'blackhole' ? 1 : ci];
    if (!chain || hop > chain.types.length) throw new Error(`case ${name}: the lab has no such chain/hop`);
    where.set(name, chain);
    lanes.set(chain, [...(lanes.get(chain) ?? []), name]);
  }
  const lane = async (chain: LabChain, names: string[]) => {
    for (const name of names) {
      const { hop, how } = CASES[name]!;
      const samples: Sample[] = [];
      for (let i = 0; i < K; i++) {
        await settle(lab, chain);
        const s = await failoverOnce(lab, chain, hop, how);
        samples.push(s);
        process.stderr.write(`${name} ${i + 1}/${K} (${chain.name}, ${chain.types[hop - 1]}): ${JSON.stringify(s)}\n`);
        // The peer runs between failovers, so both see the same machine load.
        if (name === cases[0] && i % 2 === 0) {
          await settle(lab, chain);
          const r = await reconnectOnce(lab, chain, hop);
          peer.push(r);
          process.stderr.write(`peer: plain reconnect ${r.toFixed(2)} s\n`);
        }
      }
      results.set(name, samples);
    }
  };
  try {
    await Promise.all([...lanes].map(([chain, names]) => lane(chain, names)));
  } catch (err) {
    process.stderr.write(`bench:failover: the lab's logs are kept in ${lab.keepLogs()}\n`);
    throw err;
  } finally {
    await lab.close();
  }
  const fmt = (xs: number[]) => `${quantile(xs, 0.5).toFixed(1)} / ${quantile(xs, 0.95).toFixed(1)}`;
  const lines = [
    `failover, ${K} failures per case, ${timings} timings, p50 / p95 in seconds (${((Date.now() - t0) / 60_000).toFixed(0)} min):`,
    '| case | protocol | total | detection | alert | webhook + switch | reconnect |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const name of cases) {
    const s = results.get(name)!;
    const { hop } = CASES[name]!;
    const chain = where.get(name)!;
    const col = (k: keyof Sample) => s.map((x) => x[k]);
    lines.push(
      `| ${name} | ${chain.types[hop - 1]} (${chain.name}) | ${fmt(col('total'))} | ${fmt(col('detection'))} | ${fmt(col('alert'))} | ${fmt(col('switch'))} | ${fmt(col('reconnect'))} |`,
    );
  }
  lines.push(`| peer: plain reconnect of a restarted server | | ${fmt(peer)} | | | | |`, '');
  const first = results.get(cases[0]!)!.map((s) => s.total);
  lines.push(
    `ratio ${cases[0]} total / peer: p50 ${(quantile(first, 0.5) / quantile(peer, 0.5)).toFixed(2)}, p95 ${(quantile(first, 0.95) / quantile(peer, 0.95)).toFixed(2)}`,
  );
  if (timings === 'production') {
    const kill = results.get('hop1-kill')?.map((s) => s.total) ?? [];
    const wg = [...(results.get('hop2-kill') ?? []), ...(results.get('hop2-blackhole') ?? [])].map((s) => s.total);
    lines.push(
      `targets (production): hop-1 kill p50 <= 20 s ${kill.length ? (quantile(kill, 0.5) <= 20 ? 'met' : 'MISSED') : 'n/a'}, p95 <= 30 s ${kill.length ? (quantile(kill, 0.95) <= 30 ? 'met' : 'MISSED') : 'n/a'}; WireGuard p95 <= 30 s ${wg.length ? (quantile(wg, 0.95) <= 30 ? 'met' : 'MISSED') : 'n/a'}`,
    );
  }
  const measured = [...results.values()].reduce((n, s) => n + s.length, 0);
  process.stdout.write(lines.join('\n') + '\n');
  // A benchmark that did not measure what it names fails.
  if (measured !== cases.length * K || peer.length === 0) {
    process.stderr.write(
      `bench:failover measured ${measured} failovers of ${cases.length * K} and ${peer.length} peers\n`,
    );
    process.exit(1);
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`bench:failover failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
