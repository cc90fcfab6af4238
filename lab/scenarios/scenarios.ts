// Scripted fault scenarios on a running lab. Each one breaks something real (kills a VPN server process, stops Vault,
// Alertmanager or the operator), lets the loop heal the chain, and reports what happened as one JSON-able object:
// whether traffic flows end to end again, how long that took, how many times each hop was switched.
import { linkParties, violation } from '../netns/leaks.js';
import { startCapture } from '../netns/index.js';
import { sleep, waitFor } from '../runtime/wait.js';
import type { Lab } from '../stack.js';

export interface ScenarioResult {
  scenario: string;
  passed: boolean;
  /** Server death → traffic flowing end to end again (failover scenarios). */
  recoverySeconds?: number;
  /** Switches per hop during the scenario (hop number → count). */
  switches: Record<string, number>;
  leakedPackets?: number;
  /** Why it failed, or notes on what was checked. */
  checks: Array<{ check: string; ok: boolean; detail?: string }>;
  [figure: string]: unknown;
}

export interface ScenarioOptions {
  /** Seconds to wait for recovery before the scenario fails. */
  recoveryTimeoutSeconds?: number;
  /** Seconds to keep watching after recovery for switches that should not happen. */
  settleSeconds?: number;
}

type Scenario = (lab: Lab, opts: Required<ScenarioOptions>) => Promise<ScenarioResult>;

async function switchCounts(lab: Lab): Promise<Map<number, number>> {
  const tcs = await lab.torchains();
  return new Map([...tcs].map(([hop, tc]) => [hop, tc.spec.switchServer ?? 0]));
}

function diff(before: Map<number, number>, after: Map<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [hop, n] of after) out[String(hop)] = n - (before.get(hop) ?? 0);
  return out;
}

function expectSwitches(got: Record<string, number>, want: Record<string, number>) {
  const ok = Object.keys(got).every((hop) => got[hop] === (want[hop] ?? 0));
  return { check: `switches per hop are ${JSON.stringify(want)} (others 0)`, ok, detail: JSON.stringify(got) };
}

/** Restarts every dead server so the next scenario starts from a whole pool. */
async function restoreServers(lab: Lab): Promise<void> {
  for (const hop of lab.topology.hops)
    for (const name of lab.deadServers(hop.number)) await lab.startServer(hop.number, name);
}

async function killAndRecover(
  lab: Lab,
  hops: number[],
  opts: Required<ScenarioOptions>,
  name: string,
  during?: () => Promise<void>,
) {
  await lab.waitForTraffic(120_000);
  const before = await switchCounts(lab);
  const killedAt = Date.now();
  const killed: string[] = [];
  for (const hop of hops) killed.push(await lab.killActiveServer(hop));
  await during?.();
  const back = await lab.traffic
    .waitFlowing(killedAt + 1500, opts.recoveryTimeoutSeconds * 1000)
    .catch(() => undefined);
  const recoverySeconds = back ? (back - killedAt) / 1000 : undefined;
  await sleep(opts.settleSeconds * 1000);
  const switches = diff(before, await switchCounts(lab));
  await restoreServers(lab);
  return { scenario: name, killed, recoverySeconds, switches };
}

const failover =
  (hop: number): Scenario =>
  async (lab, opts) => {
    const r = await killAndRecover(lab, [hop], opts, `failover-hop${hop}`);
    const checks = [
      {
        check: 'traffic flows end to end again',
        ok: r.recoverySeconds !== undefined,
        detail: `${r.recoverySeconds ?? 'never'} s`,
      },
      expectSwitches(r.switches, { [hop]: 1 }),
    ];
    return { ...r, passed: checks.every((c) => c.ok), checks };
  };

const twoHopsDown: Scenario = async (lab, opts) => {
  const last = lab.topology.hops.length;
  const r = await killAndRecover(lab, [1, last], opts, 'two-hops-down');
  const tcs = await lab.torchains();
  const t1 = Date.parse(tcs.get(1)?.status?.lastSwitchTime ?? '');
  const tN = Date.parse(tcs.get(last)?.status?.lastSwitchTime ?? '');
  const checks = [
    {
      check: 'traffic flows end to end again',
      ok: r.recoverySeconds !== undefined,
      detail: `${r.recoverySeconds ?? 'never'} s`,
    },
    expectSwitches(r.switches, { 1: 1, [last]: 1 }),
    {
      check: `hop 1 was switched before hop ${last}`,
      ok: t1 < tN,
      detail: `hop 1 at ${tcs.get(1)?.status?.lastSwitchTime}, hop ${last} at ${tcs.get(last)?.status?.lastSwitchTime}`,
    },
  ];
  return { ...r, passed: checks.every((c) => c.ok), checks };
};

const poolExhausted: Scenario = async (lab, opts) => {
  await lab.waitForTraffic(120_000);
  const before = await switchCounts(lab);
  const hop = lab.topology.hops[0]!;
  const killedAt = Date.now();
  for (const s of hop.servers) if (s.running) await s.kill();
  const exhausted = await waitFor(
    'PoolExhausted=True on hop 1',
    async () => {
      const tc = (await lab.torchains()).get(1);
      return tc?.status?.conditions?.find((c) => c.type === 'PoolExhausted' && c.status === 'True');
    },
    { timeoutMs: opts.recoveryTimeoutSeconds * 3000 },
  ).catch(() => undefined);
  const alert = await waitFor(
    'the TorchainPoolExhausted alert in Prometheus',
    async () => {
      const res = await fetch(
        `${lab.prometheus.url}/api/v1/query?query=${encodeURIComponent('ALERTS{alertname="TorchainPoolExhausted",alertstate="firing"}')}`,
      );
      const body = (await res.json()) as { data: { result: unknown[] } };
      return body.data.result.length > 0 ? true : undefined;
    },
    { timeoutMs: 60_000 },
  ).catch(() => false);
  await restoreServers(lab);
  const back = await lab.traffic.waitFlowing(Date.now(), opts.recoveryTimeoutSeconds * 1000 * 6).catch(() => undefined);
  const switches = diff(before, await switchCounts(lab));
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
    scenario: 'pool-exhausted',
    passed: checks.every((c) => c.ok),
    switches,
    recoverySeconds: back ? (back - killedAt) / 1000 : undefined,
    checks,
  };
};

const vaultDown: Scenario = async (lab, opts) => {
  const secretBefore = await hopSecret(lab, 1);
  let secretDuring: string | undefined;
  const r = await killAndRecover(
    lab,
    [1],
    { ...opts, recoveryTimeoutSeconds: opts.recoveryTimeoutSeconds + 20 },
    'vault-down-during-failover',
    async () => {
      await lab.vault.stop();
      // Long enough for the alert to fire and the operator to try (and fail) to read the pool.
      await sleep(15_000);
      secretDuring = await hopSecret(lab, 1);
      await lab.vault.start();
    },
  );
  const checks = [
    {
      check: 'the running hop Secret was never emptied while Vault was down',
      ok: !!secretDuring && secretDuring === secretBefore,
    },
    {
      check: 'traffic flows end to end again once Vault is back',
      ok: r.recoverySeconds !== undefined,
      detail: `${r.recoverySeconds ?? 'never'} s`,
    },
    expectSwitches(r.switches, { 1: 1 }),
  ];
  return { ...r, passed: checks.every((c) => c.ok), checks };
};

async function hopSecret(lab: Lab, hop: number): Promise<string | undefined> {
  const { CoreV1Api, KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(lab.endpoints.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const secrets = await core.listNamespacedSecret({
    namespace: lab.endpoints.namespace,
    labelSelector: `torchain.dev/hop=${hop}`,
  });
  const s = secrets.items[0];
  return s ? JSON.stringify(s.data ?? {}) : undefined;
}

const operatorRestart: Scenario = async (lab, opts) => {
  const before = await switchCounts(lab);
  const r = await killAndRecover(lab, [1], opts, 'operator-restart-mid-failover', async () => {
    // Kill the operator as soon as it has moved switchServer (mid-failover: Secret and rollout still to come).
    await waitFor('the switch patch', async () => ((await switchCounts(lab)).get(1) ?? 0) > (before.get(1) ?? 0), {
      timeoutMs: 60_000,
      intervalMs: 50,
    }).catch(() => undefined);
    const proc = lab.operator.process();
    if (proc) process.kill(-proc.pid, 'SIGKILL');
    await proc?.exited;
    await lab.operator.start();
  });
  const checks = [
    {
      check: 'traffic flows end to end again after the operator restart',
      ok: r.recoverySeconds !== undefined,
      detail: `${r.recoverySeconds ?? 'never'} s`,
    },
    expectSwitches(r.switches, { 1: 1 }),
  ];
  return { ...r, passed: checks.every((c) => c.ok), checks };
};

const alertmanagerDown: Scenario = async (lab, opts) => {
  await lab.stopAlertmanager();
  try {
    const r = await killAndRecover(
      lab,
      [1],
      { ...opts, recoveryTimeoutSeconds: opts.recoveryTimeoutSeconds + 15 },
      'alertmanager-down',
    );
    const checks = [
      {
        check: 'the Prometheus poll recovers the chain without Alertmanager',
        ok: r.recoverySeconds !== undefined,
        detail: `${r.recoverySeconds ?? 'never'} s`,
      },
      expectSwitches(r.switches, { 1: 1 }),
    ];
    return { ...r, passed: checks.every((c) => c.ok), checks };
  } finally {
    await lab.startAlertmanager();
  }
};

const leakCheck: Scenario = async (lab, opts) => {
  await lab.waitForTraffic(120_000);
  const captures = await Promise.all(
    lab.topology.hops.map((h) =>
      startCapture(h.externalLink.netns, h.externalLink.iface, `${lab.endpoints.stateDir}/leak-hop${h.number}.pcap`),
    ),
  );
  const r = await killAndRecover(lab, [1], opts, 'leak-check').catch(async (err: unknown) => {
    await Promise.all(captures.map((c) => c.stop()));
    throw err;
  });
  let leaked = 0;
  const perHop: Record<string, number> = {};
  const captured: Record<string, number> = {};
  const examples: string[] = [];
  for (const [i, cap] of captures.entries()) {
    const hop = lab.topology.hops[i]!;
    const packets = await cap.stop();
    const parties = linkParties(lab.topology, hop.number);
    const bad = packets.map((p) => violation(p, parties)).filter((v): v is string => v !== undefined);
    perHop[String(hop.number)] = bad.length;
    examples.push(...bad.slice(0, 3));
    captured[String(hop.number)] = packets.length;
    leaked += bad.length;
  }
  const checks = [
    {
      check: 'no packet on any external link but tunnel packets between the hop and its own servers',
      ok: leaked === 0,
      detail: JSON.stringify({ perHop, examples }),
    },
    {
      check: 'the captures saw tunnel traffic (they were really listening)',
      ok: Object.values(captured).every((n) => n > 0),
      detail: JSON.stringify(captured),
    },
    { check: 'traffic flows end to end again', ok: r.recoverySeconds !== undefined },
  ];
  return { ...r, leakedPackets: leaked, capturedPackets: captured, passed: checks.every((c) => c.ok), checks };
};

export const SCENARIOS: Record<string, Scenario> = {
  'failover-hop1': failover(1),
  'failover-hop2': failover(2),
  'two-hops-down': twoHopsDown,
  'pool-exhausted': poolExhausted,
  'vault-down-during-failover': vaultDown,
  'operator-restart-mid-failover': operatorRestart,
  'alertmanager-down': alertmanagerDown,
  'leak-check': leakCheck,
};

export async function runScenario(lab: Lab, name: string, opts: ScenarioOptions = {}): Promise<ScenarioResult> {
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`unknown scenario ${name}: use one of ${Object.keys(SCENARIOS).join(', ')}`);
  return scenario(lab, {
    recoveryTimeoutSeconds: opts.recoveryTimeoutSeconds ?? 60,
    settleSeconds: opts.settleSeconds ?? 10,
  });
}
