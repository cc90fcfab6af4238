// The soak: for at least TORCHAIN_SOAK_MINUTES (default 20) minutes, kill or blackhole the active server of a random
// hop of a random chain, wait for the chain to heal, restore the server, repeat. Every switch the operator makes is
// judged against what was broken: a switch of a hop whose own active server was not failed is a false switch; a
// failed server its hop never left is a missed failover. It passes only with zero of either.
import { sleep } from '../runtime/wait.js';
import type { Lab } from '../stack.js';
import {
  scenarioTimings,
  usableAlternatives,
  type Check,
  type ScenarioOutcome,
  type SwitchRecorder,
} from './harness.js';

interface Failure {
  chain: string;
  hop: number;
  server: string;
  how: 'kill' | 'blackhole';
  at: number;
  recoverySeconds?: number;
}

export async function soak(lab: Lab, recorder: SwitchRecorder): Promise<ScenarioOutcome> {
  const minutes = Number(process.env.TORCHAIN_SOAK_MINUTES ?? '20');
  if (!(minutes > 0))
    throw new Error(`TORCHAIN_SOAK_MINUTES=${process.env.TORCHAIN_SOAK_MINUTES}: give a positive number of minutes`);
  const t = scenarioTimings(lab);
  const start = Date.now();
  const end = start + minutes * 60_000;
  const failures: Failure[] = [];
  const random = (n: number) => Math.floor(Math.random() * n);
  let skipped = 0;
  while (Date.now() < end) {
    const chain = lab.chains[random(lab.chains.length)]!;
    await chain.traffic.waitFlowing(0, t.recoveryTimeoutMs).catch(() => undefined);
    const hop = 1 + random(chain.types.length);
    // A hop whose every other server is dead or quarantined can only exhaust its pool (a separate scenario): pick
    // another. The operator's quarantine (10 min with the chart's defaults) outlasts several kills of one hop.
    if ((await usableAlternatives(chain, hop)).length === 0) {
      skipped += 1;
      await sleep(2000);
      continue;
    }
    const how = random(2) === 0 ? 'kill' : 'blackhole';
    const at = Date.now();
    const server = await chain.failActiveServer(hop, how);
    const f: Failure = { chain: chain.name, hop, server, how, at };
    failures.push(f);
    const back = await chain.traffic.waitFlowing(at + 1500, t.recoveryTimeoutMs).catch(() => undefined);
    if (back) f.recoverySeconds = (back - at) / 1000;
    // Some time with the server still dead (alerts of the old server age out meanwhile), then bring it back.
    await sleep(random(Math.max(1, t.quietMs / 3)));
    await chain.restoreServers();
    await sleep(random(10_000));
  }
  // The last failure's alerts must age out without a switch.
  await sleep(t.quietMs);
  const during = recorder.events.filter((e) => e.at >= start).sort((a, b) => a.at - b.at);
  // One failure justifies one switch: the first switch of its hop away from the failed server after it. A server that
  // was failed, restored, taken again later and then left once more without a new failure is a false switch.
  const used = new Set<Failure>();
  const falseSwitches = during.filter((e) => {
    const f = failures.find(
      (x) => !used.has(x) && x.chain === e.chain && x.hop === e.hop && x.server === e.from && x.at <= e.at,
    );
    if (!f) return true;
    used.add(f);
    return false;
  });
  const missed = failures.filter(
    (f) =>
      !used.has(f) ||
      !during.some(
        (e) =>
          e.chain === f.chain &&
          e.hop === f.hop &&
          e.from === f.server &&
          e.at >= f.at &&
          e.at <= f.at + t.recoveryTimeoutMs,
      ),
  );
  const switches: Record<string, number> = {};
  for (const e of during) switches[`${e.chain}/${e.hop}`] = (switches[`${e.chain}/${e.hop}`] ?? 0) + 1;
  const recoveries = failures
    .map((f) => f.recoverySeconds)
    .filter((s): s is number => s !== undefined)
    .sort((a, b) => a - b);
  const q = (p: number) => recoveries[Math.min(recoveries.length - 1, Math.floor(p * recoveries.length))];
  const checks: Check[] = [
    { check: `ran at least ${minutes} minutes`, ok: Date.now() - start >= minutes * 60_000 },
    // A soak that found nothing to break measured nothing.
    { check: 'failed a server at least once every 2 minutes', ok: failures.length >= minutes / 2 },
    {
      check: 'no false switch (every switch left a server that had been failed)',
      ok: falseSwitches.length === 0,
      detail: JSON.stringify(falseSwitches.slice(0, 5)),
    },
    {
      check: 'no missed failover (every failed active server was left by its hop)',
      ok: missed.length === 0,
      detail: JSON.stringify(missed.slice(0, 5)),
    },
  ];
  return {
    passed: checks.every((c) => c.ok),
    kills: failures.length,
    killsByHow: {
      kill: failures.filter((f) => f.how === 'kill').length,
      blackhole: failures.filter((f) => f.how === 'blackhole').length,
    },
    pickedHopsWithoutAlternative: skipped,
    serversPerHop: Object.fromEntries(lab.chains.map((c) => [c.name, c.serverNames(1).length])),
    falseSwitches: falseSwitches.length,
    missedFailovers: missed.length,
    switches,
    recoveryP50Seconds: q(0.5),
    recoveryP95Seconds: q(0.95),
    quietSeconds: t.quietMs / 1000,
    minutes: (Date.now() - start) / 60_000,
    checks,
  };
}
