// What every scenario needs: the timings it runs under (recovery deadline, how long to keep watching for false
// switches), a recorder of every switch of every hop of every chain with the server it left, and the
// fail-wait-recover-watch sequence of a failover.
import {
  DEFAULT_ALERTING,
  LAB_ALERTING,
  durationSeconds,
  type AlertingParams,
} from '../../prometheus-rules/src/render.js';
import { labelValue } from '../../operator/src/core/naming.js';
import { failoverStateOf, quarantineMillis } from '../../operator/src/core/failover-state.js';
import { sleep, waitFor } from '../runtime/wait.js';
import type { Lab, LabChain } from '../stack.js';

export interface Check {
  check: string;
  ok: boolean;
  detail?: string;
}

/** What a scenario found. */
export interface ScenarioOutcome {
  passed: boolean;
  /** Server death → traffic flowing end to end again (failovers). */
  recoverySeconds?: number;
  /** Switches of every hop of the scenario's chain over the whole run (hop number → count). */
  switches: Record<string, number>;
  /** Seconds the scenario kept watching after recovery for switches that must not happen. */
  quietSeconds?: number;
  leakedPackets?: number;
  checks: Check[];
  [figure: string]: unknown;
}

/** The scenario JSON (`npm run lab -- --scenario NAME --json`). */
export type ScenarioResult = ScenarioOutcome & {
  scenario: string;
  /** Timings the lab ran with. */
  timings: string;
};

export interface ScenarioTimings {
  params: AlertingParams;
  /** How long a failover may take before the scenario fails. */
  recoveryTimeoutMs: number;
  /** After recovery: the longest lookback of a switch alert plus its `for` (an old failure still in a window). */
  quietMs: number;
}

export function scenarioTimings(lab: Lab): ScenarioTimings {
  const params = lab.timings === 'production' ? DEFAULT_ALERTING : LAB_ALERTING;
  const lookback = durationSeconds(params.connectionErrors.window) + durationSeconds(params.connectionErrors.for);
  const tunnel = durationSeconds(params.tunnelDown.for) + durationSeconds(params.evaluationInterval);
  return {
    params,
    recoveryTimeoutMs: (lab.timings === 'production' ? 240 : 90) * 1000,
    quietMs: Math.max(lookback, tunnel) * 1000,
  };
}

export interface SwitchEvent {
  chain: string;
  hop: number;
  at: number;
  /** switchServer after the switch. */
  switchServer: number;
  /** The server the hop ran before the switch (label form), if known. */
  from?: string;
}

/**
 * Polls every chain's TorChains and records each move of spec.switchServer, with the server the hop left — the
 * ground truth a scenario compares with what it broke.
 */
export class SwitchRecorder {
  readonly events: SwitchEvent[] = [];
  private readonly last = new Map<string, { switchServer: number; server?: string }>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly chains: LabChain[]) {}

  async start(): Promise<void> {
    await this.poll(true);
    const loop = async () => {
      if (this.stopped) return;
      await this.poll(false).catch(() => undefined);
      this.timer = setTimeout(() => void loop(), 250);
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async poll(initial: boolean): Promise<void> {
    for (const c of this.chains) {
      for (const [hop, tc] of await c.torchains()) {
        const key = `${c.name}/${hop}`;
        const now = { switchServer: tc.spec.switchServer ?? 0, server: tc.status?.currentServer };
        const before = this.last.get(key);
        if (!initial && before && now.switchServer > before.switchServer)
          for (let n = before.switchServer + 1; n <= now.switchServer; n++)
            this.events.push({ chain: c.name, hop, at: Date.now(), switchServer: n, from: before.server });
        // currentServer catches up after the switch: keep the server of the last stable state.
        this.last.set(key, {
          switchServer: now.switchServer,
          server: before && now.switchServer > before.switchServer ? before.server : (now.server ?? before?.server),
        });
      }
    }
  }

  /** Switches per hop of one chain since `since`. */
  counts(chain: LabChain, since = 0): Record<string, number> {
    const out: Record<string, number> = {};
    chain.types.forEach((_, i) => (out[String(i + 1)] = 0));
    for (const e of this.events)
      if (e.chain === chain.name && e.at >= since) out[String(e.hop)] = (out[String(e.hop)] ?? 0) + 1;
    return out;
  }
}

export function expectSwitches(got: Record<string, number>, want: Record<string, number>): Check {
  const ok = Object.keys(got).every((hop) => got[hop] === (want[hop] ?? 0));
  return {
    check: `switches per hop over the whole run are ${JSON.stringify(want)} (others 0)`,
    ok,
    detail: JSON.stringify(got),
  };
}

export interface FailoverRun {
  failed: Array<{ hop: number; server: string }>;
  recoverySeconds?: number;
  quietSeconds: number;
  switches: Record<string, number>;
}

/**
 * Fails the active servers of `hops` (kill or blackhole), waits for traffic to flow end to end again, keeps watching
 * for the quiet period, then restores the servers. `during` runs right after the failure (a fault of its own).
 */
export async function failAndRecover(
  lab: Lab,
  chain: LabChain,
  recorder: SwitchRecorder,
  o: { hops: number[]; how: 'kill' | 'blackhole'; during?: () => Promise<void>; extraTimeoutMs?: number },
): Promise<FailoverRun> {
  const t = scenarioTimings(lab);
  await chain.traffic.waitFlowing(0, t.recoveryTimeoutMs);
  for (const hop of o.hops) await waitForAlternative(chain, hop);
  const start = Date.now();
  const failed: FailoverRun['failed'] = [];
  for (const hop of o.hops) failed.push({ hop, server: await chain.failActiveServer(hop, o.how) });
  await o.during?.();
  const back = await chain.traffic
    .waitFlowing(start + 1500, t.recoveryTimeoutMs + (o.extraTimeoutMs ?? 0))
    .catch(() => undefined);
  const recoverySeconds = back ? (back - start) / 1000 : undefined;
  if (back) await sleep(t.quietMs);
  await chain.restoreServers();
  return {
    failed,
    recoverySeconds,
    quietSeconds: back ? t.quietMs / 1000 : 0,
    switches: recorder.counts(chain, start),
  };
}

/** The label form of a Vault key (what pods, metrics and alerts carry). */
export const serverLabel = labelValue;

/**
 * The servers a hop could fail over to now: in its pool, not the active one, running, not blackholed and not in the
 * operator's quarantine (read from the TorChain's failover annotation, as the operator keeps it). A fault injected
 * into a hop with none of them can only exhaust the pool; the soak and the failover bench avoid that.
 */
export async function usableAlternatives(chain: LabChain, hop: number, now = Date.now()): Promise<string[]> {
  const tc = (await chain.torchains()).get(hop);
  if (!tc) return [];
  const quarantine = quarantineMillis(failoverStateOf(tc));
  const dead = new Set(chain.deadServers(hop));
  const active = tc.status?.currentServer;
  return chain.serverNames(hop).filter((s) => s !== active && !dead.has(s) && !((quarantine[s] ?? 0) > now));
}

/**
 * Waits until `hop` has a server to fail over to. Scenarios run back to back on one lab, and with the chart's defaults
 * each failover quarantines the server it left for 10 minutes: a failure injected into a hop with no alternative
 * measures an exhausted pool, not a failover. The deadline outlasts one quarantine.
 */
export async function waitForAlternative(chain: LabChain, hop: number): Promise<void> {
  await waitFor(
    `a server ${chain.name} hop ${hop} can fail over to (not dead, not quarantined)`,
    async () => (await usableAlternatives(chain, hop)).length > 0 || undefined,
    { timeoutMs: 15 * 60_000, intervalMs: 2000 },
  );
}
