// Reconcile of one TorChain: read the hop's pool from Vault, pick the server (failover rule 4), write the hop's
// Secret and Deployment when they differ from the desired ones, then the status when it changed. Vault or Kubernetes
// trouble leaves what runs untouched (rule 5): the Secret is written only whole, from a successfully read entry.
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import type { TorChain } from '../api/torchain.js';
import { validateTorChain } from '../api/validate.js';
import { formatFieldErrors } from '../api/schema-validator.js';
import type { EventRecorder } from '../adapters/kube/events.js';
import { ForbiddenError, isConflict } from '../adapters/kube/errors.js';
import { VaultError, hopPoolPath, parsePoolEntry, type KvReader } from '../adapters/vault/index.js';
import { hopMtu, type MtuLayer, type TunnelMtus } from '../core/chain-mtu.js';
import { deploymentHealth } from '../core/deployment-health.js';
import { failoverStateOf, quarantineMillis } from '../core/failover-state.js';
import {
  ANNOTATION_SERVER,
  ANNOTATION_SWITCH_SERVER,
  buildDeployment,
  buildSecret,
  upToDate,
  type HopBuildInput,
  type HopImages,
} from '../core/hop-objects.js';
import {
  ANNOTATION_SERVER_SINCE,
  ANNOTATION_SPEC_HASH,
  deploymentName,
  keyOf,
  objectKey,
  secretName,
} from '../core/naming.js';
import { chooseServer, poolCounts, type StickyChoice } from '../core/server-choice.js';
import { computeStatus, failoverDuration, statusChanged, type StatusInput } from '../core/status.js';
import { serverEndpoint, type ServerEndpoint } from '../core/vpn-config.js';
import { UnavailableError, errorMessage } from '../errors.js';
import type { Logger } from '../../../common/log.js';
import type { OperatorMetrics } from '../metrics.js';
import type { ProcessResult } from './work-queue.js';
import { slimDeployment, slimSecret, type CachedDeployment, type CachedSecret } from './cache-shapes.js';
import { deploymentDrifted, deploymentSpecHash, secretDrifted } from '../core/drift.js';

/** A cache of owned objects by "namespace/name" (informer stores; several namespaces may stand behind one). */
export interface ObjectStore<T> {
  get(key: string): T | undefined;
  set(key: string, value: T): void;
}

/** The Kubernetes calls a reconcile makes (KubeClient implements them). */
export interface ReconcileKube {
  createSecret(body: V1Secret): Promise<V1Secret>;
  replaceSecret(body: V1Secret): Promise<V1Secret>;
  createDeployment(body: V1Deployment, opts?: { dryRun?: boolean }): Promise<V1Deployment>;
  replaceDeployment(body: V1Deployment, opts?: { dryRun?: boolean }): Promise<V1Deployment>;
  scaleDeployment(namespace: string, name: string, replicas: number): Promise<V1Deployment>;
  annotateDeployment(
    namespace: string,
    name: string,
    resourceVersion: string,
    annotations: Record<string, string>,
  ): Promise<V1Deployment>;
  patchTorChainStatus(namespace: string, name: string, status: TorChain['status'] & object): Promise<TorChain>;
}

export interface ReconcilerDeps {
  kube: ReconcileKube;
  kv: KvReader;
  torchains: ReadonlyMap<string, TorChain>;
  /** Informer stores of the operator's own objects; written through after each write (the watch confirms later). */
  deployments: ObjectStore<CachedDeployment>;
  secrets: ObjectStore<CachedSecret>;
  events: EventRecorder;
  metrics: OperatorMetrics;
  log: Logger;
  tunnelMtus: TunnelMtus;
  /** Re-reconcile another key (hops below one whose MTU layer changed). */
  enqueue: (key: string) => void;
  poolPrefix: string;
  images: HopImages;
  hopServiceAccount?: string;
  linkMtu: number;
  cooldownMs: number;
  /** Retry an empty pool or a Vault failure this often at the least (Vault has no watch). */
  poolRecheckMs: number;
  /** Namespaces where the operator may manage hop objects (TORCHAIN_WORKLOAD_NAMESPACES); undefined: all. */
  workloadNamespaces?: readonly string[];
  now?: () => number;
}

/** A reconcile that must be retried with backoff (the queue does it) after its status was written. */
export class RetryError extends Error {}

interface PoolOutcome {
  state: StatusInput['pool']['state'];
  message?: string;
  server?: string;
  config?: string;
  endpoint?: ServerEndpoint;
  probe?: string;
  vaultError?: string;
  configError?: string;
  retryAt?: number;
}

export class Reconciler {
  /** The MTU layer each hop's current server uses, by "namespace/chain/hop". */
  private readonly layers = new Map<string, MtuLayer>();
  /** Failovers already measured (key → lastSwitchTime), so a re-list never observes one twice. */
  private readonly measured = new Map<string, string>();

  constructor(private readonly d: ReconcilerDeps) {}

  private now(): number {
    return this.d.now ? this.d.now() : Date.now();
  }

  async reconcile(key: string): Promise<ProcessResult | void> {
    const tc = this.d.torchains.get(key);
    if (!tc) {
      this.forget(key);
      return; // deleted: the API server's garbage collector removes the owned Secret and Deployment
    }
    if (tc.metadata.deletionTimestamp) return;
    const started = process.hrtime.bigint();
    try {
      const result = await this.reconcileObject(tc);
      this.d.metrics.reconciles.inc({ result: 'success' });
      return result;
    } catch (err) {
      this.d.metrics.reconciles.inc({ result: 'error' });
      throw err;
    } finally {
      this.d.metrics.reconcileDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  forget(key: string): void {
    this.measured.delete(key);
  }

  private chainOf(tc: TorChain): TorChain[] {
    const out: TorChain[] = [];
    for (const o of this.d.torchains.values())
      if (o.metadata.namespace === tc.metadata.namespace && o.spec?.nameTorChain === tc.spec.nameTorChain) out.push(o);
    return out;
  }

  private layerKey(tc: TorChain, hop = tc.spec.numberNode): string {
    return `${tc.metadata.namespace ?? ''}/${tc.spec.nameTorChain}/${String(hop)}`;
  }

  private async reconcileObject(tc: TorChain): Promise<ProcessResult | void> {
    const ns = tc.metadata.namespace ?? '';
    const name = tc.metadata.name ?? '';
    const log = this.d.log.child({ torchain: `${ns}/${name}` });
    const valid = validateTorChain(tc);
    if (!valid.ok) {
      // The API server enforces the schema; an object that still breaks it (an old CRD) is reported, never acted on.
      const message = `invalid TorChain, fix the object: ${formatFieldErrors(valid.errors)}`;
      log.warn('invalid TorChain; not acting on it', { error: message });
      void this.d.events.record(tc, 'Warning', 'InvalidSpec', message);
      return;
    }
    const now = this.now();
    const state = failoverStateOf(tc);
    const dropped = (tc.spec.drop ?? 0) > 0;
    const switchServer = tc.spec.switchServer ?? 0;
    const existingSecret = this.d.secrets.get(keyOf(ns, secretName(tc)));
    const sticky = stickyOf(existingSecret);
    let deployment = this.d.deployments.get(keyOf(ns, deploymentName(tc)));
    const labels = { namespace: ns, torchain: tc.spec.nameTorChain, hop: String(tc.spec.numberNode) };

    const managed = this.d.workloadNamespaces;
    if (managed && !managed.includes(ns)) {
      // Least-privilege RBAC grants hop Secrets and Deployments only in the workload namespaces: say so on the object
      // (its status is writable everywhere TorChains are watched) rather than meet a 403 at every reconcile.
      const message = `namespace ${ns} is not one of the operator's workload namespaces (${managed.join(', ') || 'none'}): its RBAC grants no Secrets or Deployments here; add ${ns} to operator.rbac.extraNamespaces (TORCHAIN_WORKLOAD_NAMESPACES) or create the TorChain in a workload namespace`;
      log.warn('TorChain outside the workload namespaces; not managing it', { error: message });
      const status = computeStatus(tc.status, {
        generation: tc.metadata.generation ?? 0,
        dropped,
        failover: state,
        pool: { state: 'not-read' },
        deployment: deploymentHealth(undefined),
        forbidden: message,
        now: new Date(now),
      });
      if (statusChanged(tc.status, status)) await this.d.kube.patchTorChainStatus(ns, name, status);
      return;
    }

    if (dropped) {
      // Dropping never depends on Vault: the Deployment is scaled to 0 as it stands (its Secret and pod template stay
      // for the way back), and the status says only what the workload really is.
      this.d.metrics.poolExhausted.set(labels, 0);
      let forbidden: ForbiddenError | undefined;
      if (deployment && (deployment.spec?.replicas ?? 1) !== 0) {
        try {
          deployment = await this.scaleDeployment(ns, deploymentName(tc), 0);
          log.info('hop dropped: Deployment scaled to 0', {});
        } catch (err) {
          if (!(err instanceof ForbiddenError)) throw err;
          forbidden = err;
        }
      }
      const statusInput: StatusInput = {
        generation: tc.metadata.generation ?? 0,
        dropped: true,
        failover: state,
        pool: { state: 'not-read' },
        deployment: deploymentHealth(deployment),
        now: new Date(now),
        ...(forbidden ? { forbidden: forbidden.message } : {}),
      };
      if (sticky?.server) statusInput.server = sticky.server;
      const status = computeStatus(tc.status, statusInput);
      if (statusChanged(tc.status, status)) await this.d.kube.patchTorChainStatus(ns, name, status);
      if (forbidden) throw forbidden;
      return;
    }

    const pool = await this.readPool(tc, switchServer, quarantineMillis(state), now, sticky);
    this.d.metrics.poolExhausted.set(labels, pool.state === 'exhausted' || pool.state === 'empty' ? 1 : 0);

    let mtu: number | undefined;
    if (pool.server && pool.config && pool.endpoint) {
      const layer: MtuLayer = { type: tc.spec.typeNode, transport: pool.endpoint.proto, family: pool.endpoint.family };
      const previous = this.layers.get(this.layerKey(tc));
      this.layers.set(this.layerKey(tc), layer);
      if (previous && JSON.stringify(previous) !== JSON.stringify(layer)) this.requeueBelow(tc);
      const known = new Map<number, MtuLayer>();
      for (const h of this.chainOf(tc)) {
        const l = this.layers.get(this.layerKey(h));
        if (l) known.set(h.spec.numberNode, l);
      }
      try {
        mtu = hopMtu(tc, this.chainOf(tc), known, this.d.linkMtu, this.d.tunnelMtus);
      } catch (err) {
        pool.configError = `cannot compute the tunnel MTU: ${errorMessage(err)}; set spec.mtu or raise TORCHAIN_LINK_MTU`;
      }
    }

    // RBAC refusing a write is reported on the object too (then retried with backoff: a fixed Role heals it).
    let forbidden: ForbiddenError | undefined;
    if (pool.server && pool.config && pool.endpoint && mtu !== undefined && !pool.configError)
      try {
        deployment = await this.writeObjects(tc, log, {
          server: pool.server,
          config: pool.config,
          endpoint: pool.endpoint,
          probe: pool.probe,
          mtu,
          existingSecret,
          sticky,
          deployment,
          now,
        });
      } catch (err) {
        if (!(err instanceof ForbiddenError)) throw err;
        forbidden = err;
      }

    const switching = !!state.lastSwitchTime && Date.parse(state.lastSwitchTime) + this.d.cooldownMs > now;
    const statusInput: StatusInput = {
      generation: tc.metadata.generation ?? 0,
      dropped,
      failover: state,
      pool: { state: pool.state, ...(pool.message ? { message: pool.message } : {}) },
      deployment: deploymentHealth(deployment),
      switching,
      now: new Date(now),
      ...(pool.vaultError ? { vaultError: pool.vaultError } : {}),
      ...(pool.configError ? { configError: pool.configError } : {}),
      ...(forbidden ? { forbidden: forbidden.message } : {}),
    };
    // The server the hop really runs: the one just written, else the one its Secret holds.
    const running = pool.server && mtu !== undefined && !pool.configError ? pool.server : sticky?.server;
    if (running) statusInput.server = running;
    if (mtu !== undefined && !pool.configError) statusInput.mtu = mtu;
    const status = computeStatus(tc.status, statusInput);
    if (statusChanged(tc.status, status)) {
      await this.d.kube.patchTorChainStatus(ns, name, status);
      const becameExhausted =
        status.conditions?.find((c) => c.type === 'PoolExhausted')?.status === 'True' &&
        tc.status?.conditions?.find((c) => c.type === 'PoolExhausted')?.status !== 'True';
      if (becameExhausted) {
        log.warn('pool exhausted', { message: pool.message });
        void this.d.events.record(tc, 'Warning', 'PoolExhausted', pool.message ?? 'no server available');
      }
    }
    const seconds = failoverDuration(tc.status, status, state);
    if (seconds !== undefined && state.lastSwitchTime && this.measured.get(objectKey(tc)) !== state.lastSwitchTime) {
      this.measured.set(objectKey(tc), state.lastSwitchTime);
      this.d.metrics.failoverDuration.observe(labels, seconds);
      log.info('failover complete: hop ready again', { seconds, server: running, switches: state.switches });
    }

    if (forbidden) throw forbidden;
    if (pool.vaultError) {
      void this.d.events.record(tc, 'Warning', 'VaultUnavailable', pool.vaultError);
      throw new RetryError(pool.vaultError);
    }
    if (pool.state === 'exhausted' && pool.retryAt !== undefined)
      return { requeueAfterMs: Math.max(1000, pool.retryAt - now) };
    if (pool.state === 'empty' || pool.configError) return { requeueAfterMs: this.d.poolRecheckMs };
  }

  /** Writes the hop Secret and Deployment when they differ from the desired ones (or drifted); returns the Deployment. */
  private async writeObjects(
    tc: TorChain,
    log: Logger,
    w: {
      server: string;
      config: string;
      endpoint: ServerEndpoint;
      probe: string | undefined;
      mtu: number;
      existingSecret: CachedSecret | undefined;
      sticky: StickyChoice | undefined;
      deployment: V1Deployment | undefined;
      now: number;
    },
  ): Promise<V1Deployment | undefined> {
    const ns = tc.metadata.namespace ?? '';
    const switchServer = tc.spec.switchServer ?? 0;
    const { existingSecret, sticky, now } = w;
    let deployment = w.deployment;
    const input: HopBuildInput = {
      tc,
      server: w.server,
      config: w.config,
      endpoint: w.endpoint,
      ...(w.probe ? { probe: w.probe } : {}),
      mtu: w.mtu,
      images: this.d.images,
      ...(this.d.hopServiceAccount ? { serviceAccountName: this.d.hopServiceAccount } : {}),
    };
    const desiredSecret = buildSecret(input);
    // Drift only when the operator would write the same Secret again: a new server or a new config from Vault
    // changes the desired data too, and that is the operator's own change, not a hand edit.
    const secretCurrent = upToDate(existingSecret, desiredSecret);
    const secretDrift = secretCurrent && !!existingSecret && secretDrifted(existingSecret.liveDataHash, desiredSecret);
    if (secretDrift) log.warn('hop Secret edited by hand; putting it back', { secret: secretName(tc) });
    if (!secretCurrent || secretDrift) {
      // When the hop took this server: kept while the server stays (a config change is not a new server); unknown
      // when a Secret deleted by hand comes back for the server the hop already ran (its alerts stay valid).
      const previous = existingSecret?.metadata?.annotations;
      const sameServer = existingSecret
        ? previous?.[ANNOTATION_SERVER] === w.server
        : tc.status?.currentServer === w.server;
      const since = sameServer ? previous?.[ANNOTATION_SERVER_SINCE] : new Date(now).toISOString();
      if (since) desiredSecret.metadata!.annotations![ANNOTATION_SERVER_SINCE] = since;
      await this.writeSecret(existingSecret, desiredSecret);
      if (sticky && sticky.server !== w.server) {
        log.info('hop moved to another server', { from: sticky.server, to: w.server, switchServer });
        void this.d.events.record(
          tc,
          'Normal',
          'ServerChanged',
          `hop ${String(tc.spec.numberNode)} now uses server ${w.server} (was ${sticky.server}); switchServer=${String(switchServer)}`,
        );
      }
    }
    const desiredDeployment = buildDeployment(input);
    const cached = this.d.deployments.get(keyOf(ns, deploymentName(tc)));
    const deploymentDrift =
      !!cached && deploymentDrifted(cached.liveSpecHash, cached.metadata?.annotations ?? undefined);
    if (deploymentDrift && cached?.metadata?.annotations?.[ANNOTATION_SPEC_HASH])
      log.warn('hop Deployment edited by hand; putting it back', { deployment: deploymentName(tc) });
    if (!upToDate(deployment, desiredDeployment) || deploymentDrift)
      deployment = await this.writeDeployment(deployment, desiredDeployment);
    return deployment;
  }

  private requeueBelow(tc: TorChain): void {
    for (const h of this.chainOf(tc)) if (h.spec.numberNode > tc.spec.numberNode) this.d.enqueue(objectKey(h));
  }

  /** Lists the pool, picks the server, reads its entry; an unusable entry is skipped like a quarantined one. */
  private async readPool(
    tc: TorChain,
    switchServer: number,
    quarantine: Record<string, number>,
    now: number,
    sticky: StickyChoice | undefined,
  ): Promise<PoolOutcome> {
    const path = hopPoolPath({
      prefix: this.d.poolPrefix,
      namespace: tc.metadata.namespace ?? '',
      chain: tc.spec.nameTorChain,
      hop: tc.spec.numberNode,
      ...(tc.spec.poolPath ? { poolPath: tc.spec.poolPath } : {}),
    });
    const labels = {
      namespace: tc.metadata.namespace ?? '',
      torchain: tc.spec.nameTorChain,
      hop: String(tc.spec.numberNode),
    };
    let names: string[];
    try {
      names = (await this.d.kv.list(path)).filter((n) => !n.endsWith('/'));
    } catch (err) {
      return { state: 'unknown', vaultError: vaultMessage(err, path), message: 'the pool could not be read' };
    }
    const counts = poolCounts(names, quarantine, now);
    this.d.metrics.poolServers.set({ ...labels, state: 'available' }, counts.available);
    this.d.metrics.poolServers.set({ ...labels, state: 'quarantined' }, counts.quarantined);
    const unusable: Record<string, number> = {};
    const problems: string[] = [];
    for (;;) {
      // A sticky server found unusable is dropped, so the choice walks on through the pool.
      const keep = sticky && !(sticky.server in unusable) ? sticky : undefined;
      const choice = chooseServer(names, switchServer, { ...quarantine, ...unusable }, now, keep);
      if (choice.kind === 'empty')
        return { state: 'empty', message: `the Vault pool ${path} holds no server: add entries with "config"` };
      if (choice.kind === 'exhausted') {
        const q = choice.quarantined.filter((s) => !(s in unusable));
        const message =
          `no usable server in ${path}: ` +
          [
            q.length ? `${String(q.length)} quarantined until ${new Date(choice.retryAt).toISOString()}` : '',
            ...problems,
          ]
            .filter(Boolean)
            .join('; ');
        const retryAt = Object.keys(unusable).length === names.length ? undefined : choice.retryAt;
        return { state: 'exhausted', message, ...(retryAt !== undefined && retryAt !== Infinity ? { retryAt } : {}) };
      }
      let entry;
      try {
        entry = await this.d.kv.readSecret(`${path}/${choice.server}`);
      } catch (err) {
        if (err instanceof VaultError && err.kind === 'not_found') {
          unusable[choice.server] = Infinity;
          problems.push(`${choice.server}: entry removed or its latest version deleted`);
          continue;
        }
        return {
          state: 'unknown',
          vaultError: vaultMessage(err, `${path}/${choice.server}`),
          message: 'the pool could not be read',
        };
      }
      const parsed = parsePoolEntry(choice.server, entry.data, entry.version);
      const ep =
        'server' in parsed ? serverEndpoint(tc.spec.typeNode, parsed.server.config, parsed.server.endpoint) : undefined;
      if (!('server' in parsed) || !ep || !ep.ok) {
        const why = 'server' in parsed ? (ep && !ep.ok ? ep.error : 'unusable') : parsed.reason;
        unusable[choice.server] = Infinity;
        problems.push(`${choice.server}: ${why}`);
        void this.d.events.record(
          tc,
          'Warning',
          'InvalidPoolEntry',
          `Vault entry ${path}/${choice.server} skipped: ${why}`,
        );
        continue;
      }
      return {
        state: 'ok',
        server: choice.server,
        config: parsed.server.config,
        endpoint: ep.value,
        ...(parsed.server.probe ? { probe: parsed.server.probe } : {}),
        message: `${String(counts.available)} of ${String(names.length)} server(s) available`,
      };
    }
  }

  private async writeSecret(existing: V1Secret | undefined, desired: V1Secret): Promise<void> {
    try {
      const written = existing
        ? await this.d.kube.replaceSecret(mergeMeta(existing, desired) as V1Secret)
        : await this.d.kube.createSecret(desired);
      this.d.secrets.set(keyOf(written.metadata?.namespace ?? '', written.metadata?.name ?? ''), slimSecret(written));
    } catch (err) {
      throw staleCache(err);
    }
  }

  private async scaleDeployment(namespace: string, name: string, replicas: number): Promise<V1Deployment> {
    try {
      const written = await this.d.kube.scaleDeployment(namespace, name, replicas);
      this.d.deployments.set(keyOf(namespace, name), slimDeployment(written));
      return written;
    } catch (err) {
      throw staleCache(err);
    }
  }

  /**
   * Writes the whole desired Deployment with the digest of its spec as the API server will store it (defaults and
   * admission included; core/drift.ts), asked first with a dry run of the same write: one stored write, so the watch
   * brings back only its echo. Should the stored spec still differ (an admission webhook that is not deterministic),
   * the digest is corrected by a patch.
   */
  private async writeDeployment(existing: V1Deployment | undefined, desired: V1Deployment): Promise<V1Deployment> {
    try {
      const { [ANNOTATION_SPEC_HASH]: _stale, ...kept } = existing?.metadata?.annotations ?? {};
      const body = existing
        ? (mergeMeta({ ...existing, metadata: { ...existing.metadata, annotations: kept } }, desired) as V1Deployment)
        : desired;
      const write = (b: V1Deployment, dryRun: boolean) =>
        existing ? this.d.kube.replaceDeployment(b, { dryRun }) : this.d.kube.createDeployment(b, { dryRun });
      const preview = await write(body, true);
      const digest = deploymentSpecHash(preview.spec ?? {});
      let written = await write(
        {
          ...body,
          metadata: {
            ...body.metadata,
            annotations: { ...body.metadata?.annotations, [ANNOTATION_SPEC_HASH]: digest },
          },
        },
        false,
      );
      const stored = deploymentSpecHash(written.spec ?? {});
      if (stored !== digest)
        written = await this.d.kube.annotateDeployment(
          written.metadata?.namespace ?? '',
          written.metadata?.name ?? '',
          written.metadata?.resourceVersion ?? '',
          { [ANNOTATION_SPEC_HASH]: stored },
        );
      this.d.deployments.set(
        keyOf(written.metadata?.namespace ?? '', written.metadata?.name ?? ''),
        slimDeployment(written),
      );
      return written;
    } catch (err) {
      throw staleCache(err);
    }
  }
}

/** A 409 (stale cache, or created meanwhile): the watch brings the fresh object and the queue retries. */
function staleCache(err: unknown): unknown {
  return isConflict(err) || (err as { statusCode?: number }).statusCode === 409
    ? new RetryError(errorMessage(err))
    : err;
}

/** Desired object over the existing one: keeps labels/annotations others set, and the resourceVersion precondition. */
function mergeMeta<
  T extends {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  },
>(existing: T, desired: T): T {
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      labels: { ...(existing.metadata?.labels ?? {}), ...(desired.metadata?.labels ?? {}) },
      annotations: { ...(existing.metadata?.annotations ?? {}), ...(desired.metadata?.annotations ?? {}) },
      resourceVersion: existing.metadata?.resourceVersion,
    },
  };
}

function stickyOf(secret: V1Secret | undefined): StickyChoice | undefined {
  const a = secret?.metadata?.annotations;
  const server = a?.[ANNOTATION_SERVER];
  const n = a?.[ANNOTATION_SWITCH_SERVER];
  if (!server || n === undefined || !/^\d+$/.test(n)) return undefined;
  return { server, switchServer: Number(n) };
}

function vaultMessage(err: unknown, path: string): string {
  if (err instanceof VaultError) return err.message;
  if (err instanceof UnavailableError) return err.message;
  return `Vault request for ${path} failed: ${errorMessage(err)}`;
}
