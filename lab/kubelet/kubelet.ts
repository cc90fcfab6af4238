// The lab kubelet: one per lab node. It runs the pods the scheduler bound to its node the way a kubelet does: a
// sandbox per pod (a fresh
// network namespace from the lab's pod network, plus the Multus attachments its annotation asks for), its volumes
// materialised (Secrets, ConfigMaps, projected ServiceAccount tokens bound to the pod), each container started by a
// container runtime (processes by default, podman with --containers) with its env, mounts and security context,
// restarted with back-off when it exits, probed (startup, readiness, liveness), its output streamed to `pods/log`,
// and the pod's status written back. A deleted pod is stopped within its grace period, its sandbox removed, and the
// pod object finally deleted, as the kubelet does.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  makeInformer,
  type Informer,
  type V1Container,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Kube } from '../kube/server.js';
import { commandLine, containerEnv, effectiveSecurity, serviceEnv, type ServiceFacts } from './pod-spec.js';
import { ProbeRunner } from './probes.js';
import type { ContainerRuntime, Mount, RunningContainer } from './runtime/types.js';
import type { NodeInfo } from './scheduler.js';
import { PodVolumes } from './volumes.js';
import { ignoreExists } from '../runtime/already-exists.js';
import { recordPodEvent } from './pod-events.js';

/** A pod's network: its namespace and the address of its primary interface. */
export interface Sandbox {
  netns: string;
  podIP: string;
  destroy(): Promise<void>;
}

export interface SandboxProvider {
  /** Creates the pod's network namespace with its primary interface and every Multus attachment it asks for. */
  create(pod: V1Pod): Promise<Sandbox>;
}

export interface KubeletOptions {
  kube: Kube;
  /** kubeconfig of the kubelet's own watch (the lab gives it a client certificate of its own). */
  kubeconfigPath: string;
  node: NodeInfo;
  /** The node's address (status.hostIP of its pods). */
  nodeIP: string;
  runtime: ContainerRuntime;
  sandboxes: SandboxProvider;
  /** Per-pod volumes live below this directory. */
  stateDir: string;
  /** Called whenever the set of running pods or their readiness changes. */
  onPodsChanged?(pods: RunningPod[]): void;
  log(entry: Record<string, unknown>): void;
}

export interface RunningPod {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  podIP: string;
  netns: string;
  ready: boolean;
}

interface ContainerState {
  spec: V1Container;
  process?: RunningContainer;
  restarts: number;
  startedAt?: string;
  lastExit?: { code: number | null; at: string; reason: string };
  waiting?: { reason: string; message?: string };
  ready: boolean;
  started: boolean;
  probes: ProbeRunner[];
  restartTimer?: NodeJS.Timeout;
}

interface PodRun {
  pod: V1Pod;
  key: string;
  sandbox?: Sandbox;
  volumes?: PodVolumes;
  dir: string;
  containers: Map<string, ContainerState>;
  stopping: boolean;
  failure?: { reason: string; message: string };
  lastStatus?: string;
}

const BACKOFF_MS = [1000, 2000, 4000, 8000, 10_000];
const keyOf = (p: V1Pod): string => `${p.metadata?.namespace}/${p.metadata?.name}`;

export class LabKubelet {
  private readonly runs = new Map<string, PodRun>();
  private readonly core: CoreV1Api;
  private readonly informer: Informer<V1Pod>;
  private closed = false;

  constructor(private readonly opts: KubeletOptions) {
    const kc = new KubeConfig();
    kc.loadFromFile(opts.kubeconfigPath);
    this.core = kc.makeApiClient(CoreV1Api);
    this.informer = makeInformer(kc, '/api/v1/pods', () => this.core.listPodForAllNamespaces());
    this.informer.on('add', (p) => this.sync(p));
    this.informer.on('update', (p) => this.sync(p));
    this.informer.on('delete', (p) => void this.stopPod(keyOf(p), { deleteObject: false }));
    this.informer.on('error', (err) => {
      if (this.closed) return;
      opts.log({ level: 'warn', msg: 'kubelet pod watch failed; restarting in 1s', error: String(err) });
      setTimeout(() => void this.informer.start().catch(() => undefined), 1000);
    });
  }

  async start(): Promise<void> {
    await this.registerNode();
    await this.informer.start();
  }

  runningPods(): RunningPod[] {
    return [...this.runs.values()]
      .filter((r) => !r.stopping && r.sandbox)
      .map((r) => ({
        namespace: r.pod.metadata!.namespace!,
        name: r.pod.metadata!.name!,
        uid: r.pod.metadata!.uid!,
        labels: r.pod.metadata!.labels ?? {},
        podIP: r.sandbox!.podIP,
        netns: r.sandbox!.netns,
        ready: podReady(r),
      }));
  }

  /** SIGKILLs a running container of a pod on this node (a crash); false when there is none. */
  killContainer(namespace: string, pod: string, container: string): boolean {
    const c = this.runs.get(`${namespace}/${pod}`)?.containers.get(container);
    if (!c?.process?.isRunning()) return false;
    c.process.kill();
    return true;
  }

  async stop(): Promise<void> {
    this.closed = true;
    await this.informer.stop();
    await Promise.all([...this.runs.keys()].map((k) => this.stopPod(k, { deleteObject: false })));
  }

  private async registerNode(): Promise<void> {
    const { node } = this.opts;
    const body: V1Node = {
      metadata: { name: node.name, labels: node.labels },
      spec: { taints: node.taints },
    };
    await this.core.createNode({ body }).catch(ignoreExists);
    const now = new Date().toISOString();
    this.opts.kube.setStatus('', 'nodes', node.name, {
      conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now },
      ],
      addresses: [
        { type: 'InternalIP', address: this.opts.nodeIP },
        { type: 'Hostname', address: node.name },
      ],
      nodeInfo: { kubeletVersion: 'lab', operatingSystem: 'linux', architecture: 'amd64' },
    });
  }

  private sync(pod: V1Pod): void {
    if (this.closed) return;
    const key = keyOf(pod);
    // Unbound pods are the scheduler's; mirror pods stand for processes the lab runs itself (like static pods).
    if (!pod.spec?.nodeName || pod.spec.nodeName !== this.opts.node.name) return;
    if (pod.metadata?.annotations?.['kubernetes.io/config.mirror']) return;
    const existing = this.runs.get(key);
    if (pod.metadata?.deletionTimestamp) {
      void this.stopPod(key, { deleteObject: true, pod });
      return;
    }
    if (existing && existing.pod.metadata?.uid === pod.metadata?.uid) {
      existing.pod = pod;
      return;
    }
    if (existing) void this.stopPod(key, { deleteObject: false });
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const run: PodRun = {
      pod,
      key,
      dir: join(this.opts.stateDir, 'pods', pod.metadata!.uid!),
      containers: new Map(
        (pod.spec.containers ?? []).map((c) => [
          c.name,
          { spec: c, restarts: 0, ready: false, started: false, probes: [] },
        ]),
      ),
      stopping: false,
    };
    this.runs.set(key, run);
    void this.startPod(run);
  }

  private async startPod(run: PodRun): Promise<void> {
    const pod = run.pod;
    try {
      mkdirSync(run.dir, { recursive: true, mode: 0o755 });
      run.sandbox = await this.opts.sandboxes.create(pod);
      if (run.stopping) return;
      run.volumes = new PodVolumes(pod, run.dir, this.opts.kube, {
        secret: (ns, name) => this.dataOf('secrets', ns, name),
        configMap: (ns, name) => this.dataOf('configmaps', ns, name),
      });
      run.volumes.materialise();
    } catch (err) {
      const message = String((err as Error).message ?? err);
      if (/^SysctlForbidden/.test(message)) {
        // Refused at the kubelet's admission: the pod fails for good, as on a node without --allowed-unsafe-sysctls.
        this.opts.log({ level: 'error', msg: 'pod refused by the kubelet', pod: run.key, error: message });
        await this.event(pod, 'Warning', 'SysctlForbidden', message);
        this.opts.kube.setStatus(pod.metadata!.namespace!, 'pods', pod.metadata!.name!, {
          phase: 'Failed',
          reason: 'SysctlForbidden',
          message,
        });
        run.stopping = true;
        this.runs.delete(run.key);
        return;
      }
      run.failure = { reason: 'CreateContainerConfigError', message };
      this.opts.log({ level: 'error', msg: 'pod failed to start', pod: run.key, error: run.failure.message });
      await this.event(pod, 'Warning', 'FailedCreatePodSandBox', run.failure.message);
      await this.writeStatus(run);
      // Retried like a kubelet's sync loop: the Secret may appear, the network may come back.
      setTimeout(() => {
        if (run.stopping || this.closed || this.runs.get(run.key) !== run) return;
        void run.sandbox?.destroy().catch(() => undefined);
        run.sandbox = undefined;
        run.failure = undefined;
        void this.startPod(run);
      }, 5000).unref();
      return;
    }
    // The pod IP goes to the API before any container runs: the network policy enforcer admits only known pod IPs.
    await this.writeStatus(run);
    for (const c of run.containers.values()) this.startContainer(run, c);
    await this.writeStatus(run);
    this.notify();
    this.opts.log({
      level: 'info',
      msg: 'pod started',
      pod: run.key,
      netns: run.sandbox.netns,
      podIP: run.sandbox.podIP,
    });
  }

  private dataOf(kind: 'secrets' | 'configmaps', ns: string, name: string): Record<string, Buffer> | undefined {
    const obj = this.opts.kube.getObject(ns, kind, name);
    if (!obj) return undefined;
    const out: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>))
      out[k] = kind === 'secrets' ? Buffer.from(v, 'base64') : Buffer.from(v);
    for (const [k, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>))
      out[k] = Buffer.from(v, 'base64');
    for (const [k, v] of Object.entries((obj.stringData ?? {}) as Record<string, string>)) out[k] = Buffer.from(v);
    return out;
  }

  /** The `kubernetes` Service, then (enableServiceLinks) the Services of the pod's namespace. */
  private serviceLinks(pod: V1Pod): Record<string, string> {
    const facts = (ns: string, name?: string): ServiceFacts[] =>
      this.opts.kube.api.store
        .list('/services', ns)
        .filter((s) => !name || s.metadata.name === name)
        .map((s) => {
          const spec = (s.spec ?? {}) as { clusterIP?: string; ports?: ServiceFacts['ports'] };
          return { name: s.metadata.name!, clusterIP: spec.clusterIP, ports: spec.ports ?? [] };
        });
    const links = pod.spec?.enableServiceLinks === false ? [] : facts(pod.metadata!.namespace!);
    return { ...serviceEnv(links), ...serviceEnv(facts('default', 'kubernetes')) };
  }

  private mountsOf(run: PodRun, c: V1Container): Mount[] {
    return (c.volumeMounts ?? []).map((m) => {
      const dir = run.volumes?.volumes.get(m.name);
      if (!dir) throw new Error(`container ${c.name} mounts volume ${m.name}, which the pod does not define`);
      return { source: m.subPath ? join(dir, m.subPath) : dir, target: m.mountPath, readOnly: !!m.readOnly };
    });
  }

  private startContainer(run: PodRun, c: ContainerState): void {
    if (run.stopping || this.closed || !run.sandbox) return;
    const pod = run.pod;
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    let launch;
    try {
      const image = this.opts.runtime.image(c.spec.image ?? '');
      const env = containerEnv(
        pod,
        c.spec,
        { podIP: run.sandbox.podIP, nodeName: this.opts.node.name, hostIP: this.opts.nodeIP },
        {
          secret: (n) => mapText(this.dataOf('secrets', ns, n)),
          configMap: (n) => mapText(this.dataOf('configmaps', ns, n)),
        },
        { ...image.env, ...this.serviceLinks(pod) },
      );
      launch = {
        name: `pod-${ns}-${name}-${c.spec.name}`,
        image: c.spec.image ?? '',
        argv: commandLine(c.spec, image, env),
        command: c.spec.command,
        args: c.spec.args,
        workingDir: c.spec.workingDir ?? image.workingDir,
        netns: run.sandbox.netns,
        env,
        mounts: this.mountsOf(run, c.spec),
        security: effectiveSecurity(pod, c.spec, image.user),
        onLine: (line: string) => {
          try {
            this.opts.kube.appendPodLog(ns, name, c.spec.name, line);
          } catch {
            /* the pod is gone from the API; its processes are being stopped */
          }
        },
      };
    } catch (err) {
      const message = String((err as Error).message ?? err);
      const reason = /ErrImagePull/.test(message) ? 'ErrImagePull' : 'CreateContainerConfigError';
      c.waiting = { reason, message };
      this.opts.log({
        level: 'error',
        msg: 'container cannot start',
        pod: run.key,
        container: c.spec.name,
        error: message,
      });
      void this.event(pod, 'Warning', 'Failed', `Error: ${message}`);
      void this.writeStatus(run);
      c.restartTimer = setTimeout(() => this.startContainer(run, c), 5000);
      return;
    }
    c.waiting = undefined;
    c.startedAt = new Date().toISOString();
    c.ready = false;
    c.started = !c.spec.startupProbe;
    const proc = this.opts.runtime.start(launch);
    c.process = proc;
    this.startProbes(run, c, proc);
    void this.event(pod, 'Normal', 'Started', `Started container ${c.spec.name}`);
    void proc.exited.then(({ code, signal }) => {
      for (const p of c.probes) p.stop();
      if (run.stopping || this.closed) return;
      c.lastExit = {
        code: code ?? (signal ? 128 + 9 : 1),
        at: new Date().toISOString(),
        reason: code === 0 ? 'Completed' : 'Error',
      };
      c.ready = false;
      const delay = BACKOFF_MS[Math.min(c.restarts, BACKOFF_MS.length - 1)]!;
      c.restarts += 1;
      c.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container` };
      this.opts.log({
        level: 'warn',
        msg: 'container exited; restarting',
        pod: run.key,
        container: c.spec.name,
        code,
        signal,
        inMs: delay,
      });
      try {
        this.opts.kube.restartContainer(ns, name, c.spec.name);
      } catch {
        /* pod deleted meanwhile */
      }
      void this.writeStatus(run);
      this.notify();
      c.restartTimer = setTimeout(() => this.startContainer(run, c), delay);
    });
  }

  private startProbes(run: PodRun, c: ContainerState, proc: RunningContainer): void {
    const podIP = run.sandbox!.podIP;
    const spec = c.spec;
    const make = (kind: 'startup' | 'readiness' | 'liveness') => {
      const probe =
        kind === 'startup' ? spec.startupProbe : kind === 'readiness' ? spec.readinessProbe : spec.livenessProbe;
      if (!probe) return undefined;
      return new ProbeRunner(kind, probe, spec, podIP, (o) => {
        if (proc !== c.process) return;
        if (o.kind === 'startup' && o.passing) {
          c.started = true;
          for (const p of c.probes) if (p.kind !== 'startup') p.start();
        } else if (o.kind === 'readiness') c.ready = o.passing;
        else if (o.kind === 'liveness' && !o.passing) {
          this.opts.log({
            level: 'warn',
            msg: 'liveness probe failed; restarting the container',
            pod: run.key,
            container: spec.name,
          });
          void this.event(
            run.pod,
            'Warning',
            'Unhealthy',
            `Liveness probe failed: container ${spec.name} will be restarted`,
          );
          void proc.stop((run.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
        }
        void this.writeStatus(run);
        this.notify();
      });
    };
    c.probes = (['startup', 'readiness', 'liveness'] as const).map(make).filter((p): p is ProbeRunner => !!p);
    if (!spec.readinessProbe) c.ready = true;
    const startup = c.probes.find((p) => p.kind === 'startup');
    if (startup) startup.start();
    else for (const p of c.probes) p.start();
  }

  private async writeStatus(run: PodRun): Promise<void> {
    if (run.stopping) return;
    const now = new Date().toISOString();
    const containers = [...run.containers.values()];
    const ready = podReady(run);
    const condition = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now });
    const podIP = run.sandbox?.podIP;
    const status = {
      phase: run.failure || !podIP ? 'Pending' : 'Running',
      ...(run.failure ? { reason: run.failure.reason, message: run.failure.message } : {}),
      ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
      hostIP: this.opts.nodeIP,
      hostIPs: [{ ip: this.opts.nodeIP }],
      startTime: run.pod.status?.startTime ?? now,
      conditions: [
        condition('PodScheduled', true),
        condition('Initialized', true),
        condition('ContainersReady', ready),
        condition('Ready', ready),
      ],
      containerStatuses: containers.map((c) => {
        const running = !!c.process?.isRunning() && !c.waiting;
        return {
          name: c.spec.name,
          image: c.spec.image ?? '',
          imageID: '',
          containerID: c.process ? `lab://${c.process.pid}` : undefined,
          ready: running && c.ready,
          started: running && c.started,
          restartCount: c.restarts,
          state: running
            ? { running: { startedAt: c.startedAt } }
            : {
                waiting: {
                  reason: c.waiting?.reason ?? (run.failure ? run.failure.reason : 'ContainerCreating'),
                  message: c.waiting?.message,
                },
              },
          ...(c.lastExit
            ? {
                lastState: {
                  terminated: {
                    exitCode: c.lastExit.code ?? 137,
                    reason: c.lastExit.reason,
                    finishedAt: c.lastExit.at,
                  },
                },
              }
            : {}),
        };
      }),
    };
    // Conditions carry lastTransitionTime: compare without it so an unchanged status is not rewritten.
    const digest = JSON.stringify({ ...status, conditions: status.conditions.map(({ type, status: s }) => [type, s]) });
    if (digest === run.lastStatus) return;
    run.lastStatus = digest;
    try {
      this.opts.kube.setStatus(run.pod.metadata!.namespace!, 'pods', run.pod.metadata!.name!, status);
    } catch (err) {
      this.opts.log({ level: 'debug', msg: 'pod status not written (pod gone?)', pod: run.key, error: String(err) });
    }
  }

  /** Stops a pod's containers within its grace period, removes its sandbox, and (for a deleted pod) the object. */
  private async stopPod(key: string, o: { deleteObject: boolean; pod?: V1Pod }): Promise<void> {
    const run = this.runs.get(key);
    if (run && !run.stopping) {
      run.stopping = true;
      const grace =
        (o.pod?.metadata?.deletionGracePeriodSeconds ?? run.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
      for (const c of run.containers.values()) {
        if (c.restartTimer) clearTimeout(c.restartTimer);
        for (const p of c.probes) p.stop();
      }
      await Promise.all([...run.containers.values()].map((c) => c.process?.stop(grace)));
      run.volumes?.stop();
      await run.sandbox
        ?.destroy()
        .catch((err: unknown) =>
          this.opts.log({ level: 'warn', msg: 'pod sandbox removal failed', pod: key, error: String(err) }),
        );
      rmSync(run.dir, { recursive: true, force: true });
      this.runs.delete(key);
      this.notify();
      this.opts.log({ level: 'info', msg: 'pod stopped', pod: key });
    }
    if (o.deleteObject && o.pod && (!run || run.pod.metadata?.uid === o.pod.metadata?.uid)) {
      const [namespace, name] = key.split('/') as [string, string];
      await this.core
        .deleteNamespacedPod({
          name,
          namespace,
          gracePeriodSeconds: 0,
          body: { preconditions: { uid: o.pod.metadata!.uid! } },
        })
        .catch(() => undefined);
    }
  }

  private event(pod: V1Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return recordPodEvent(this.core, { component: 'kubelet', host: this.opts.node.name }, pod, type, reason, message);
  }

  private notify(): void {
    this.opts.onPodsChanged?.(this.runningPods());
  }
}

function podReady(r: PodRun): boolean {
  const cs = [...r.containers.values()];
  return cs.length > 0 && cs.every((c) => c.ready && c.started && !!c.process?.isRunning() && !c.waiting);
}

function mapText(data: Record<string, Buffer> | undefined): Record<string, string> | undefined {
  return data && Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('utf8')]));
}
