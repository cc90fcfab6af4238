// The DNS leak test (issue 16): the LAN client resolves names that exist only at the internet side's resolvers
// (lab/netns/resolvers.ts), asking the gateway (`dns-leak`) or a resolver it has hard-coded (`dns-leak-hardcoded`),
// during normal operation, while hop 1 is down (its server killed, until the operator has switched it; a query every
// 250 ms) and after the chain has recovered (spread over the quiet period, as the other scenarios watch it). Every
// external link of every hop pod and its pod network are captured throughout (LeakWatch, following pods through
// restarts), and so is the resolvers' own link.
//
// Passes when hop 1 alone was switched, once; every query is answered through the chain while it is up (by the
// exit's resolver: the answer names it); none is answered while hop 1 is down; DNS answers again without a restart
// of anything once the chain is back; no DNS packet crosses any hop's external link or pod network in clear; and no
// query reaches the internet side but from the exit hop's servers to the exit's resolvers (the hard-coded outside
// resolver hears nothing).
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { startCapture, type CapturedPacket } from '../netns/capture.js';
import { dnsQuery, type DnsResult } from '../netns/dns-client.js';
import type { ResolverRole } from '../netns/resolvers.js';
import { sleep } from '../runtime/wait.js';
import type { Lab, LabChain } from '../stack.js';
import {
  expectSwitches,
  scenarioTimings,
  waitForAlternative,
  type Check,
  type ScenarioOutcome,
  type SwitchRecorder,
} from './harness.js';
import { LeakWatch } from './leak-watch.js';

/** Queries in each phase of normal operation (before the failure, after the recovery). */
const QUERIES_UP = 10;
/** How often a query is sent while hop 1 is down (each waits up to dig's timeout on its own). */
const DOWN_INTERVAL_MS = 250;
/** How long DNS may take to answer again once traffic flows through the chain again. */
const DNS_RECOVERY_MS = 10_000;

interface Asked extends DnsResult {
  phase: 'up' | 'down' | 'transition' | 'after';
  /** The resolver whose answer came back (exit or alternate: through the chain; outside: a leak). */
  from?: ResolverRole | 'unknown';
}

function dnsLeak(clientResolver: 'gateway' | 'hard-coded') {
  return async (lab: Lab, recorder: SwitchRecorder): Promise<ScenarioOutcome> => {
    const chain: LabChain = lab.chains[0]!;
    const { world } = chain.node;
    const resolvers = world.resolvers;
    const server = clientResolver === 'gateway' ? world.client.gateway : resolvers.addresses.outside;
    const t = scenarioTimings(lab);
    let n = 0;
    const ask = async (phase: Asked['phase']): Promise<Asked> => {
      const r = await dnsQuery(world.client.netns, server, `s${++n}-${Date.now()}.${resolvers.domain}`);
      const answer = r.answers[0];
      return { ...r, phase, ...(answer ? { from: resolvers.roleOf(answer) ?? 'unknown' } : {}) };
    };
    const answered = (a: Asked) => a.from === 'exit' || a.from === 'alternate';

    await chain.traffic.waitFlowing(0, t.recoveryTimeoutMs);
    // The gateway's resolver learns its upstream once the exit's tunnel is up: wait for its first answer.
    const ready = Date.now() + t.recoveryTimeoutMs;
    while (!answered(await ask('transition'))) {
      if (Date.now() > ready) throw new Error(`dns-leak: the gateway of ${chain.name} never answered a query`);
      await sleep(500);
    }

    // The gateway's pod (hop N) and its resolver container: a failure of hop 1 must not restart either.
    const gatewayHop = chain.types.length;
    const gatewayPod = (): { uid?: string; dnsRestarts?: number } => {
      const p = chain.hopPod(gatewayHop);
      if (!p) return {};
      const live = lab.cluster.kube.getObject(chain.namespace, 'pods', p.metadata!.name!) as V1Pod | undefined;
      const dns = live?.status?.containerStatuses?.find((c) => c.name === 'dns');
      return { uid: p.metadata!.uid, dnsRestarts: dns?.restartCount };
    };
    const gatewayBefore = gatewayPod();
    const watch = new LeakWatch(lab, chain);
    await watch.start();
    const resolverLink = await startCapture(
      resolvers.link.netns,
      resolvers.link.iface,
      join(lab.endpoints.stateDir, `dns-leak-${chain.name}-resolvers.pcap`),
    );
    const asked: Asked[] = [];
    let failedAt = 0;
    let recoverySeconds: number | undefined;
    let dnsRecoverySeconds: number | undefined;
    let switchedAt: number | undefined;
    let quietSeconds = 0;
    try {
      await waitForAlternative(chain, 1);
      for (let i = 0; i < QUERIES_UP; i++) asked.push(await ask('up'));

      // Hop 1 down: its server killed; queries keep going until traffic flows end to end again.
      failedAt = Date.now();
      await chain.failActiveServer(1, 'kill');
      let recovered = false;
      const back = chain.traffic
        .waitFlowing(failedAt + 1500, t.recoveryTimeoutMs)
        .then((at) => at)
        .catch(() => undefined)
        .finally(() => (recovered = true));
      // A query every DOWN_INTERVAL_MS, not one after the other: a query that gets no answer takes its whole
      // timeout, and the outage (lab timings: a few seconds) must be sampled densely.
      const pending: Promise<void>[] = [];
      while (!recovered) {
        pending.push(ask('down').then((a) => void asked.push(a)));
        await sleep(DOWN_INTERVAL_MS);
      }
      await Promise.all(pending);
      const backAt = await back;
      recoverySeconds = backAt ? (backAt - failedAt) / 1000 : undefined;
      // Until the operator has switched hop 1 (its spec.switchServer moved), hop 1 runs on its dead server: the
      // chain is down for sure. Between that and traffic flowing again it comes back: neither up nor down.
      switchedAt = recorder.events.find((e) => e.chain === chain.name && e.hop === 1 && e.at >= failedAt)?.at;
      // A query belongs to the outage when it was sent before that instant and either got no answer at all or got
      // one before it (an answer while hop 1 is down is exactly what must not happen).
      const downUntil = switchedAt ?? backAt;
      for (const a of asked)
        if (
          a.phase === 'down' &&
          downUntil !== undefined &&
          (a.sentAt >= downUntil || (a.answers.length > 0 && a.doneAt > downUntil))
        )
          a.phase = 'transition';

      if (backAt) {
        const until = Date.now() + DNS_RECOVERY_MS;
        for (;;) {
          const a = await ask('transition');
          if (answered(a)) {
            dnsRecoverySeconds = (a.doneAt - backAt) / 1000;
            break;
          }
          asked.push(a);
          if (Date.now() > until) break;
          await sleep(250);
        }
        // The quiet period (the longest lookback of a switch alert): no false switch may follow, and DNS keeps
        // answering all along; the queries are spread over it.
        const quietUntil = backAt + t.quietMs;
        for (let i = 0; i < QUERIES_UP; i++) {
          asked.push(await ask('after'));
          await sleep(Math.max(0, (quietUntil - Date.now()) / (QUERIES_UP - i)));
        }
        quietSeconds = t.quietMs / 1000;
      }
    } finally {
      await chain.restoreServers();
    }
    const gatewayAfter = gatewayPod();
    const report = await watch.stop();
    const atResolvers = await resolverLink.stop().catch(() => [] as CapturedPacket[]);

    const exits = new Set(world.pools[world.pools.length - 1]!.servers.map((s) => s.spec.address));
    const exitResolvers = new Set<string>([resolvers.addresses.exit, resolvers.addresses.alternate]);
    const strays = atResolvers.filter((p) => {
      if (p.sport !== 53 && p.dport !== 53) return false;
      const [peer, resolver] = p.dport === 53 ? [p.src, p.dst] : [p.dst, p.src];
      return !exits.has(peer ?? '') || !exitResolvers.has(resolver ?? '');
    });
    const of = (phase: Asked['phase']) => asked.filter((a) => a.phase === phase);
    const up = [...of('up'), ...of('after')];
    const down = of('down');
    const answeredUp = up.filter(answered).length;
    const answeredDown = down.filter((a) => a.answers.length > 0).length;
    const leakedAnswers = asked.filter((a) => a.from === 'outside' || a.from === 'unknown').length;
    const leakedPackets = report.dnsInClear + strays.length;
    const exitSources = [
      ...new Set(
        resolvers
          .queries('exit')
          .concat(resolvers.queries('alternate'))
          .map((l) => / from (\S+)$/.exec(l)?.[1]),
      ),
    ];
    const switches = recorder.counts(chain, failedAt);
    const checks: Check[] = [
      expectSwitches(switches, { 1: 1 }),
      {
        check: `every query to ${clientResolver === 'gateway' ? 'the gateway' : `the hard-coded resolver ${server}`} is answered by the exit's resolver while the chain is up (before and after the failure)`,
        ok: up.length === 2 * QUERIES_UP && answeredUp === up.length,
        detail: JSON.stringify(up.filter((a) => !answered(a)).map((a) => `${a.phase} ${a.status} ${a.from ?? ''}`)),
      },
      {
        check: 'no query is answered while hop 1 is down (DNS fails closed)',
        ok: down.length > 0 && answeredDown === 0,
        detail: `${down.length} asked: ${JSON.stringify(countBy(down.map((a) => a.status)))}`,
      },
      {
        check: `DNS answers again within ${DNS_RECOVERY_MS / 1000} s of traffic flowing through the chain again`,
        ok: dnsRecoverySeconds !== undefined,
        detail: `${dnsRecoverySeconds ?? 'never'} s after traffic flowed again (chain back after ${recoverySeconds ?? 'never'} s)`,
      },
      {
        check: `the gateway's pod (hop ${gatewayHop}) and its dns container ran through it all, never restarted`,
        ok:
          gatewayBefore.uid !== undefined &&
          gatewayBefore.dnsRestarts !== undefined &&
          gatewayAfter.uid === gatewayBefore.uid &&
          gatewayAfter.dnsRestarts === gatewayBefore.dnsRestarts,
        detail: JSON.stringify({ before: gatewayBefore, after: gatewayAfter }),
      },
      {
        check: 'no DNS packet in clear on any hop’s external link or pod network, through every pod restart',
        ok: report.dnsInClear === 0,
        detail: JSON.stringify(report.dnsExamples),
      },
      {
        check:
          "only the exit hop's servers ask the internet side's resolvers, and only the exit's ones (the outside resolver hears nothing)",
        ok: strays.length === 0 && resolvers.queries('outside').length === 0,
        detail: JSON.stringify(strays.slice(0, 5).map((p) => `${p.src}:${p.sport} -> ${p.dst}:${p.dport}`)),
      },
      {
        check: 'no answer came from anywhere but the exit’s resolvers',
        ok: leakedAnswers === 0,
      },
      {
        check: 'nothing but tunnel packets left any hop (external links), only cluster traffic on the pod network',
        ok: report.leaked === 0,
        detail: JSON.stringify(report.examples.slice(0, 5)),
      },
      {
        check: 'the captures saw traffic (they were really listening)',
        ok:
          Object.keys(report.captured).length === chain.types.length &&
          Object.values(report.captured).every((c) => c > 0) &&
          atResolvers.length > 0,
        detail: JSON.stringify({ ...report.captured, resolvers: atResolvers.length }),
      },
    ];
    return {
      chain: chain.name,
      clientResolver: server,
      passed: checks.every((c) => c.ok),
      leakedPackets,
      answeredUp,
      queriesUp: up.length,
      answeredDown,
      queriesDown: down.length,
      queriesTransition: of('transition').length,
      recoverySeconds,
      dnsRecoverySeconds,
      hop1SwitchedAfterSeconds: switchedAt ? (switchedAt - failedAt) / 1000 : undefined,
      exitResolverAskedBy: exitSources,
      quietSeconds,
      switches,
      checks,
    };
  };
}

/** Whether an instant query of the lab's Prometheus returns any series. */
async function prometheusHas(lab: Lab, query: string): Promise<boolean> {
  const res = await fetch(`${lab.endpoints.prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`, {
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`Prometheus answered ${res.status} to ${query}`);
  const body = (await res.json()) as { data: { result: unknown[] } };
  return body.data.result.length > 0;
}

/**
 * `dns-resolver-down`: the exit's resolver dies silently (every query to it dropped) behind a working chain. The
 * gateway's resolver fails its probe, TorchainDnsDown fires for the last hop — the failure is seen before users
 * complain — and nothing is switched (DNS is not a reason to move a working tunnel). Once the resolver answers again,
 * DNS works again with no restart and the alert resolves.
 */
const resolverDown = async (lab: Lab, recorder: SwitchRecorder): Promise<ScenarioOutcome> => {
  const chain: LabChain = lab.chains[0]!;
  const { world } = chain.node;
  const resolvers = world.resolvers;
  const t = scenarioTimings(lab);
  let n = 0;
  const ask = async () => {
    const r = await dnsQuery(world.client.netns, world.client.gateway, `r${++n}-${Date.now()}.${resolvers.domain}`);
    return { ...r, from: r.answers[0] ? resolvers.roleOf(r.answers[0]) : undefined };
  };
  const answered = (a: { from?: ResolverRole }) => a.from === 'exit' || a.from === 'alternate';
  const untilAnswered = async (timeoutMs: number): Promise<number | undefined> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const a = await ask();
      if (answered(a)) return a.doneAt;
      if (Date.now() > until) return undefined;
      await sleep(500);
    }
  };
  const alert =
    `ALERTS{alertname="TorchainDnsDown", alertstate="firing", namespace="${chain.namespace}", ` +
    `torchain="${chain.name}", hop="${chain.types.length}"}`;

  await chain.traffic.waitFlowing(0, t.recoveryTimeoutMs);
  if ((await untilAnswered(t.recoveryTimeoutMs)) === undefined)
    throw new Error(`dns-resolver-down: the gateway of ${chain.name} never answered a query`);
  const since = Date.now();
  let firedAt: number | undefined;
  const during: Array<Awaited<ReturnType<typeof ask>>> = [];
  await resolvers.blackholeExit(true);
  try {
    const deadline = Date.now() + t.recoveryTimeoutMs;
    while (Date.now() < deadline) {
      during.push(await ask());
      if (await prometheusHas(lab, alert)) {
        firedAt = Date.now();
        break;
      }
      await sleep(1000);
    }
  } finally {
    await resolvers.blackholeExit(false);
  }
  const restoredAt = Date.now();
  const backAt = await untilAnswered(t.recoveryTimeoutMs);
  let resolvedAt: number | undefined;
  for (const deadline = Date.now() + t.recoveryTimeoutMs; Date.now() < deadline; await sleep(1000))
    if (!(await prometheusHas(lab, alert))) {
      resolvedAt = Date.now();
      break;
    }
  const switches = recorder.counts(chain, since);
  const checks: Check[] = [
    {
      check: `TorchainDnsDown fired for ${chain.name} hop ${chain.types.length} while the exit's resolver was dead`,
      ok: firedAt !== undefined,
      detail: `${firedAt ? (firedAt - since) / 1000 : 'never'} s after the resolver died`,
    },
    {
      check: 'no LAN query was answered while the exit resolver was dead',
      ok: during.length > 0 && during.every((a) => a.answers.length === 0),
      detail: JSON.stringify(countBy(during.map((a) => a.status))),
    },
    expectSwitches(switches, {}),
    {
      check: 'DNS answers again once the resolver is back, and the alert resolves',
      ok: backAt !== undefined && resolvedAt !== undefined,
      detail: `answers after ${backAt ? (backAt - restoredAt) / 1000 : 'never'} s, resolved after ${resolvedAt ? (resolvedAt - restoredAt) / 1000 : 'never'} s`,
    },
  ];
  return {
    chain: chain.name,
    passed: checks.every((c) => c.ok),
    alertSeconds: firedAt ? (firedAt - since) / 1000 : undefined,
    queriesDuring: during.length,
    answeredDuring: during.filter((a) => a.answers.length > 0).length,
    dnsRecoverySeconds: backAt ? (backAt - restoredAt) / 1000 : undefined,
    alertResolvedSeconds: resolvedAt ? (resolvedAt - restoredAt) / 1000 : undefined,
    switches,
    checks,
  };
};

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export const DNS_SCENARIOS = {
  'dns-leak': dnsLeak('gateway'),
  'dns-leak-hardcoded': dnsLeak('hard-coded'),
  'dns-resolver-down': resolverDown,
};
