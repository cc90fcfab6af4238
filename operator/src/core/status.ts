// TorChain status and conditions from what one reconcile saw. Conditions follow metav1.Condition: each carries the
// generation it describes, and lastTransitionTime moves only when its status changes, so a status is written only
// when something a reader cares about changed.
import type { Condition, ConditionType, Phase, TorChainStatus } from '../api/torchain.js';
import type { FailoverState } from './failover-state.js';

export interface DeploymentHealth {
  exists: boolean;
  /** spec.replicas: what the Deployment asks for. */
  replicas?: number;
  /** status.replicas: pods that still exist (a Deployment scaled to 0 keeps its pods until they stop). */
  pods?: number;
  /** The current template rolled out (observedGeneration caught up, updated replica ready). */
  ready: boolean;
  /** Rollout of the current template not finished yet. */
  progressing: boolean;
  message?: string;
}

export interface StatusInput {
  generation: number;
  dropped: boolean;
  server?: string;
  mtu?: number;
  failover: FailoverState;
  /** `not-read`: the pool is not read while the hop is dropped (dropping never depends on Vault). */
  pool: { state: 'ok' | 'exhausted' | 'empty' | 'unknown' | 'not-read'; message?: string };
  /** Vault could not be read this time (the running hop is left alone). */
  vaultError?: string;
  /** The pool entry cannot be used (no endpoint, bad config). */
  configError?: string;
  /** The operator may not manage this hop's objects (RBAC lacks a rule, or the namespace is not a workload one). */
  forbidden?: string;
  deployment: DeploymentHealth;
  /** A switch happened less than the cooldown ago (the new server is coming up). */
  switching?: boolean;
  now: Date;
}

interface CondSpec {
  status: Condition['status'];
  reason: string;
  message: string;
}

/** A dropped hop's workload as it really is: not scaled yet, scaled with pods still stopping, or scaled to 0. */
function dropped(d: DeploymentHealth): CondSpec {
  if (!d.exists) return { status: 'False', reason: 'Dropped', message: 'spec.drop > 0: the hop has no workload' };
  if ((d.replicas ?? 1) > 0)
    return { status: 'False', reason: 'Dropping', message: 'spec.drop > 0: the hop Deployment is not scaled down yet' };
  if ((d.pods ?? 0) > 0)
    return {
      status: 'False',
      reason: 'Dropped',
      message: `spec.drop > 0: scaled to 0; ${String(d.pods)} pod(s) still stopping`,
    };
  return { status: 'False', reason: 'Dropped', message: 'spec.drop > 0: the hop is scaled to 0' };
}

function tunnelUp(i: StatusInput): CondSpec {
  if (i.dropped) return dropped(i.deployment);
  if (!i.deployment.exists)
    return { status: 'False', reason: 'NoWorkload', message: 'the hop Deployment does not exist yet' };
  if (i.deployment.ready)
    return { status: 'True', reason: 'TunnelUp', message: 'the hop pod is ready (its exporter reports the tunnel up)' };
  if (i.deployment.progressing)
    return { status: 'False', reason: 'RolloutInProgress', message: i.deployment.message ?? 'the hop is restarting' };
  return { status: 'False', reason: 'TunnelDown', message: i.deployment.message ?? 'the hop pod is not ready' };
}

function poolExhausted(i: StatusInput): CondSpec {
  switch (i.pool.state) {
    case 'exhausted':
      return { status: 'True', reason: 'AllQuarantined', message: i.pool.message ?? 'every server is quarantined' };
    case 'empty':
      return { status: 'True', reason: 'EmptyPool', message: i.pool.message ?? 'the Vault pool holds no server' };
    case 'ok':
      return { status: 'False', reason: 'ServersAvailable', message: i.pool.message ?? 'a server is available' };
    case 'not-read':
      return { status: 'Unknown', reason: 'NotChecked', message: 'the pool is not read while spec.drop > 0' };
    default:
      return { status: 'Unknown', reason: 'PoolUnknown', message: i.pool.message ?? 'the pool could not be read' };
  }
}

function ready(i: StatusInput, tunnel: CondSpec): CondSpec {
  if (i.forbidden) return { status: 'False', reason: 'Forbidden', message: i.forbidden };
  if (i.dropped) return { status: 'False', reason: 'Dropped', message: 'spec.drop > 0: the hop is down on purpose' };
  if (i.configError) return { status: 'False', reason: 'InvalidServerConfig', message: i.configError };
  if (!i.deployment.exists && i.vaultError)
    return { status: 'False', reason: 'VaultUnavailable', message: i.vaultError };
  if (!i.deployment.exists && (i.pool.state === 'empty' || i.pool.state === 'exhausted'))
    return { status: 'False', reason: 'PoolExhausted', message: poolExhausted(i).message };
  if (tunnel.status === 'True') return { status: 'True', reason: 'Ready', message: 'the hop carries traffic' };
  return { status: 'False', reason: tunnel.reason, message: tunnel.message };
}

function phase(i: StatusInput, readyCond: CondSpec): Phase {
  if (i.forbidden) return 'Error';
  if (i.dropped) return 'Dropped';
  if (i.configError) return 'Error';
  if (readyCond.status === 'True') return 'Running';
  if (i.pool.state === 'exhausted' || i.pool.state === 'empty') return 'PoolExhausted';
  if (!i.deployment.exists) return i.vaultError ? 'Error' : 'Pending';
  if (i.switching) return 'Switching';
  return 'Degraded';
}

/** Keeps lastTransitionTime when the status of a condition did not change. */
export function setCondition(
  prev: readonly Condition[] | undefined,
  type: ConditionType,
  c: CondSpec,
  gen: number,
  now: Date,
): Condition {
  const old = prev?.find((p) => p.type === type);
  return {
    type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    lastTransitionTime:
      old && old.status === c.status ? old.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    observedGeneration: gen,
  };
}

export function computeStatus(prev: TorChainStatus | undefined, i: StatusInput): TorChainStatus {
  const tunnel = tunnelUp(i);
  const readyCond = ready(i, tunnel);
  const conditions = [
    setCondition(prev?.conditions, 'Ready', readyCond, i.generation, i.now),
    setCondition(prev?.conditions, 'TunnelUp', tunnel, i.generation, i.now),
    setCondition(prev?.conditions, 'PoolExhausted', poolExhausted(i), i.generation, i.now),
  ];
  const status: TorChainStatus = {
    observedGeneration: i.generation,
    phase: phase(i, readyCond),
    switches: i.failover.switches,
    conditions,
  };
  const server = i.server ?? prev?.currentServer;
  if (server !== undefined) status.currentServer = server;
  if (i.failover.lastSwitchTime) status.lastSwitchTime = i.failover.lastSwitchTime;
  const mtu = i.mtu ?? prev?.mtu;
  if (mtu !== undefined) status.mtu = mtu;
  return status;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}

export function statusChanged(prev: TorChainStatus | undefined, next: TorChainStatus): boolean {
  return JSON.stringify(canonical(prev ?? {})) !== JSON.stringify(canonical(next));
}

/**
 * Seconds from the triggering alert's startsAt to the hop turning Ready, when this status is the hop's first Ready
 * after the operator's last switch; undefined otherwise.
 */
export function failoverDuration(
  prev: TorChainStatus | undefined,
  next: TorChainStatus,
  state: FailoverState,
): number | undefined {
  const was = prev?.conditions?.find((c) => c.type === 'Ready');
  const now = next.conditions?.find((c) => c.type === 'Ready');
  if (!now || now.status !== 'True' || was?.status === 'True') return undefined;
  if (!state.lastAlert || !state.lastSwitchTime) return undefined;
  const readyAt = Date.parse(now.lastTransitionTime);
  // A transition that happened before the last switch is not this failover's end.
  if (readyAt + 1000 < Date.parse(state.lastSwitchTime)) return undefined;
  return Math.max(0, (readyAt - Date.parse(state.lastAlert.startsAt)) / 1000);
}
