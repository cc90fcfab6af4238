// Scripted fault scenarios on a running lab. Each one breaks something real (kills or blackholes a VPN server, stops
// Vault or Alertmanager, kills the leading operator), lets the loop heal the chain, keeps watching for the longest
// alert lookback (no false switch may follow), and reports one JSON-able object: whether traffic flows end to end
// again, how long that took, and every switch of every hop over the whole run. Every scenario runs on any chain the
// lab was given (`--chain`), with lab or production timings.
import { KubeConfig, CoreV1Api } from '@kubernetes/client-node';
import { sleep, waitFor } from '../runtime/wait.js';
import type { Lab, LabChain } from '../stack.js';
import {
  expectSwitches,
  failAndRecover,
  scenarioTimings,
  SwitchRecorder,
  type Check,
  type ScenarioOutcome,
  type ScenarioResult,
} from './harness.js';
import { DNS_SCENARIOS } from './dns-leak.js';
import { LeakWatch } from './leak-watch.js';
import { soak } from './soak.js';

export type { ScenarioResult } from './harness.js';

type Scenario = (lab: Lab, recorder: SwitchRecorder) => Promise<ScenarioOutcome>;

const first = (lab: Lab): LabChain => lab.chains[0]!;
const lastHop = (c: LabChain) => c.types.length;
const flowed = (s: number | undefined): Check => ({
  check: 'traffic flows end to end again',
  ok: s !== undefined,
  detail: `${s ?? 'never'} s`,
});

const failover =
  (hop: number, how: 'kill' | 'blackhole', chainOf: (lab: Lab) => LabChain = first): Scenario =>
  async (lab, recorder) => {
    const chain = chainOf(lab);
    if (hop > chain.types.length) throw new Error(`chain ${chain.name} has no hop ${hop}: give a longer --chain`);
    const r = await failAndRecover(lab, chain, recorder, { hops: [hop], how });
    const checks = [flowed(r.recoverySeconds), expectSwitches(r.switches, { [hop]: 1 })];
    return { ...r, chain: chain.name, passed: checks.every((c) => c.ok), checks };
  };

const twoHopsDown: Scenario = async (lab, recorder) => {
  const chain = first(lab);
  const last = lastHop(chain);
  const since = Date.now();
  const r = await failAndRecover(lab, chain, recorder, { hops: [1, last], how: 'kill' });
  const at = (hop: number) => recorder.events.find((e) => e.chain === chain.name && e.hop === hop && e.at >= since)?.at;
  const t1 = at(1);
  const tN = at(last);
  const checks = [
    flowed(r.recoverySeconds),
    expectSwitches(r.switches, { 1: 1, [last]: 1 }),
    {
      check: `hop 1 was switched before hop ${last} (top-down)`,
      ok: t1 !== undefined && tN !== undefined && t1 < tN,
      detail: `hop 1 at +${t1 ? (t1 - since) / 1000 : '—'} s, hop ${last} at +${tN ? (tN - since) / 1000 : '—'} s`,
    },
  ];
  return { ...r, passed: checks.every((c) => c.ok), checks };
};

async function prometheusHas(lab: Lab, query: string): Promise<boolean> {
  const res = await fetch(`${lab.endpoints.prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { data: { result: unknown[] } };
  return body.data.result.length > 0;
}

const poolExhausted: Scenario = async (lab, recorder) => {
  const chain = first(lab);
  const t = scenarioTimings(lab);
  await chain.traffic.waitFlowing(0, t.recoveryTimeoutMs);
  const since = Date.now();
  const pool = chain.node.world.pools[0]!.servers;
  for (const s of pool) if (s.running) await s.kill();
  const exhausted = await waitFor(
    'PoolExhausted=True on hop 1',
    async () =>
      (await chain.torchains())
        .get(1)
        ?.status?.conditions?.find((c) => c.type === 'PoolExhausted' && c.status === 'True'),
    { timeoutMs: t.recoveryTimeoutMs * 3 },
  ).catch(() => undefined);
  const alert = await waitFor(
    'TorchainPoolExhausted firing',
    () => prometheusHas(lab, 'ALERTS{alertname="TorchainPoolExhausted",alertstate="firing"}'),
    { timeoutMs: t.recoveryTimeoutMs },
  ).catch(() => false);
  await chain.restoreServers();
  const back = await chain.traffic.waitFlowing(Date.now(), t.recoveryTimeoutMs * 6).catch(() => undefined);
  if (back) await sleep(t.quietMs);
  const switches = recorder.counts(chain, since);
  const checks = [
    { check: 'hop 1 reports PoolExhausted=True', ok: !!exhausted, detail: exhausted?.message },
    { check: 'the pool-exhausted alert fires', ok: alert === true },
    { check: 'traffic flows again once servers are back and quarantine ends', ok: back !== undefined },
    {
      check: 'hops below hop 1 were not switched',
      ok: Object.entries(switches).every(([h, n]) => h === '1' || n === 0),
      detail: JSON.stringify(switches),
    },
  ];
  return {
    passed: checks.every((c) => c.ok),
    switches,
    quietSeconds: back ? t.quietMs / 1000 : 0,
    recoverySeconds: back ? (back - since) / 1000 : undefined,
    checks,
  };
};

async function hopSecretData(lab: Lab, chain: LabChain, hop: number): Promise<string | undefined> {
  const kc = new KubeConfig();
  kc.loadFromFile(lab.endpoints.kubeconfig);
  const secrets = await kc.makeApiClient(CoreV1Api).listNamespacedSecret({
    namespace: chain.namespace,
    labelSelector: `torchain.dev/chain=${chain.name},torchain.dev/hop=${hop}`,
  });
  const s = secrets.items[0];
  return s ? JSON.stringify(s.data ?? {}) : undefined;
}

const vaultDown: Scenario = async (lab, recorder) => {
  const chain = first(lab);
  const before = await hopSecretData(lab, chain, 1);
  let during: string | undefined;
  const t = scenarioTimings(lab);
  const r = await failAndRecover(lab, chain, recorder, {
    hops: [1],
    how: 'kill',
    extraTimeoutMs: 60_000,
    during: async () => {
      await lab.vault.stop();
      // Long enough for the alert to fire and the operator to try (and fail) to read the pool.
      await sleep(Math.min(t.recoveryTimeoutMs / 2, lab.timings === 'production' ? 90_000 : 15_000));
      during = await hopSecretData(lab, chain, 1);
      await lab.vault.start();
    },
  });
  const checks = [
    {
      check: 'the running hop Secret was never emptied or changed while Vault was down',
      ok: !!during && during === before,
    },
    flowed(r.recoverySeconds),
    expectSwitches(r.switches, { 1: 1 }),
  ];
  return { ...r, passed: checks.every((c) => c.ok), checks };
};

/** SIGKILLs the leading operator's process right after it moved switchServer; the kubelet restarts it. */
const operatorRestart: Scenario = async (lab, recorder) => {
  const chain = first(lab);
  const since = Date.now();
  let killed = '';
  const r = await failAndRecover(lab, chain, recorder, {
    hops: [1],
    how: 'kill',
    during: async () => {
      await waitFor('the switch patch', () => recorder.events.some((e) => e.chain === chain.name && e.at >= since), {
        timeoutMs: scenarioTimings(lab).recoveryTimeoutMs,
        intervalMs: 50,
      }).catch(() => undefined);
      const leader = await lab.leader();
      if (leader) {
        killed = leader;
        await lab.killOperatorProcess(leader);
      }
    },
  });
  const checks = [
    { check: 'the leading operator was killed mid-failover', ok: killed !== '', detail: killed },
    flowed(r.recoverySeconds),
    expectSwitches(r.switches, { 1: 1 }),
  ];
  return { ...r, passed: checks.every((c) => c.ok), checks };
};

const alertmanagerDown: Scenario = async (lab, recorder) => {
  const chain = first(lab);
  await lab.monitoring.stopAlertmanager();
  try {
    const r = await failAndRecover(lab, chain, recorder, { hops: [1], how: 'kill', extraTimeoutMs: 60_000 });
    const checks = [
      { ...flowed(r.recoverySeconds), check: 'the Prometheus poll recovers the chain without Alertmanager' },
      expectSwitches(r.switches, { 1: 1 }),
    ];
    return { ...r, passed: checks.every((c) => c.ok), checks };
  } finally {
    await lab.monitoring.startAlertmanager();
  }
};

const leakCheck: Scenario = async (lab, recorder) => {
  const chain = first(lab);
  await chain.traffic.waitFlowing(0, scenarioTimings(lab).recoveryTimeoutMs);
  const watch = new LeakWatch(lab, chain);
  await watch.start();
  const r = await failAndRecover(lab, chain, recorder, { hops: [1], how: 'kill' }).catch(async (err: unknown) => {
    await watch.stop();
    throw err;
  });
  const report = await watch.stop();
  const checks = [
    {
      check:
        'no packet left any hop but tunnel packets to its own servers (external links) and cluster traffic (pod network), through every pod restart',
      ok: report.leaked === 0,
      detail: JSON.stringify({ perHop: report.perHop, examples: report.examples }),
    },
    {
      check: 'the captures saw traffic (they were really listening)',
      ok:
        Object.values(report.captured).every((n) => n > 0) &&
        Object.keys(report.captured).length === chain.types.length,
      detail: JSON.stringify(report.captured),
    },
    flowed(r.recoverySeconds),
  ];
  return {
    ...r,
    leakedPackets: report.leaked,
    capturedPackets: report.captured,
    passed: checks.every((c) => c.ok),
    checks,
  };
};

export const SCENARIOS: Record<string, Scenario> = {
  'failover-hop1': failover(1, 'kill'),
  'failover-hop2': failover(2, 'kill'),
  'blackhole-hop1': failover(1, 'blackhole'),
  'blackhole-hop2': failover(2, 'blackhole'),
  'failover-second-chain': failover(1, 'kill', (lab) => {
    const c = lab.chains[1];
    if (!c) throw new Error('failover-second-chain needs a second chain (do not pass --second-chain none)');
    return c;
  }),
  'two-hops-down': twoHopsDown,
  'pool-exhausted': poolExhausted,
  'vault-down-during-failover': vaultDown,
  'operator-restart-mid-failover': operatorRestart,
  'alertmanager-down': alertmanagerDown,
  'leak-check': leakCheck,
  ...DNS_SCENARIOS,
  soak,
};

export async function runScenario(lab: Lab, name: string): Promise<ScenarioResult> {
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`unknown scenario ${name}: use one of ${Object.keys(SCENARIOS).join(', ')}`);
  const recorder = new SwitchRecorder(lab.chains);
  await recorder.start();
  try {
    const result = await scenario(lab, recorder);
    return { scenario: name, timings: lab.timings, ...result };
  } finally {
    recorder.stop();
  }
}
