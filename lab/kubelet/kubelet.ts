// The lab kubelet: runs the hop pods that lab/kube's Deployment controller creates, as processes inside each hop's
// network namespace, the way a kubelet runs containers: Secret and emptyDir volumes materialised on disk, env with
// fieldRefs resolved, containers restarted when they exit (with back-off), readiness probes polled, pod status and
// container logs reported to the API. It watches pods through the API over HTTP (list then watch) like a real kubelet.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  makeInformer,
  type Informer,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Kube } from '../kube/server.js';
import type { Managed, Supervisor } from '../runtime/supervisor.js';

/** Where a pod runs: the hop's network namespace and the address its primary ("cluster") interface has there. */
export interface PodPlacement {
  netns: string;
  podIP: string;
}

/** What runs for a container image: a local command line (the lab has no image runtime). */
export interface ContainerCommand {
  command: string;
  args: string[];
  /** Added to the container's env (e.g. KUBECONFIG for the lab's API address). */
  env?: Record<string, string>;
}

export interface KubeletOptions {
  kube: Kube;
  /** kubeconfig the kubelet itself uses to watch pods and read Secrets. */
  kubeconfigPath: string;
  supervisor: Supervisor;
  /** Per-pod volumes live below this directory. */
  stateDir: string;
  labelSelector: string;
  placement(pod: V1Pod): PodPlacement | undefined;
  commandFor(container: V1Container, pod: V1Pod, volumeDirs: Map<string, string>): ContainerCommand;
  /** Called whenever the set of running pods changes (the lab writes Prometheus file-SD targets from it). */
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
  process?: Managed;
  restarts: number;
  startedAt?: string;
  lastExit?: { code: number | null; at: string };
  ready: boolean;
}

interface PodRun {
  pod: V1Pod;
  key: string;
  placement: PodPlacement;
  dir: string;
  volumeDirs: Map<string, string>;
  containers: Map<string, ContainerState>;
  stopping: boolean;
  stopped: Promise<void>;
  release: () => void;
  probeTimer?: NodeJS.Timeout;
  lastStatus?: string;
}

const BACKOFF_MS = [1000, 2000, 4000, 8000, 10_000];

export class LabKubelet {
  private readonly runs = new Map<string, PodRun>();
  /** netns → the promise that the previous pod in it has stopped (two hop pods must never share a namespace). */
  private readonly netnsFree = new Map<string, Promise<void>>();
  private readonly core: CoreV1Api;
  private informer?: Informer<V1Pod>;
  private closed = false;

  constructor(private readonly opts: KubeletOptions) {
    const kc = new KubeConfig();
    kc.loadFromFile(opts.kubeconfigPath);
    this.core = kc.makeApiClient(CoreV1Api);
    const selector = opts.labelSelector;
    this.informer = makeInformer(
      kc,
      '/api/v1/pods',
      () => this.core.listPodForAllNamespaces({ labelSelector: selector }),
      selector,
    );
    this.informer.on('add', (p) => this.sync(p));
    this.informer.on('update', (p) => this.sync(p));
    this.informer.on('delete', (p) => void this.remove(keyOf(p)));
    this.informer.on('error', (err) => {
      if (this.closed) return;
      opts.log({ level: 'warn', msg: 'pod watch failed; restarting in 1s', error: String(err) });
      setTimeout(() => void this.informer?.start().catch(() => undefined), 1000);
    });
  }

  async start(): Promise<void> {
    await this.informer!.start();
  }

  runningPods(): RunningPod[] {
    return [...this.runs.values()]
      .filter((r) => !r.stopping)
      .map((r) => ({
        namespace: r.pod.metadata!.namespace!,
        name: r.pod.metadata!.name!,
        uid: r.pod.metadata!.uid!,
        labels: r.pod.metadata!.labels ?? {},
        podIP: r.placement.podIP,
        netns: r.placement.netns,
        ready: [...r.containers.values()].every((c) => c.ready),
      }));
  }

  async stop(): Promise<void> {
    this.closed = true;
    await this.informer?.stop();
    await Promise.all([...this.runs.keys()].map((k) => this.remove(k)));
  }

  private sync(pod: V1Pod): void {
    const key = keyOf(pod);
    const existing = this.runs.get(key);
    if (pod.metadata?.deletionTimestamp) {
      void this.remove(key);
      return;
    }
    if (existing && existing.pod.metadata?.uid === pod.metadata?.uid) {
      existing.pod = pod;
      return;
    }
    if (existing) void this.remove(key);
    const placement = this.opts.placement(pod);
    if (!placement) {
      this.opts.log({
        level: 'warn',
        msg: 'no hop namespace for pod; leaving it Pending',
        pod: key,
        labels: pod.metadata?.labels,
      });
      return;
    }
    const dir = join(this.opts.stateDir, 'pods', pod.metadata!.uid!);
    let release: () => void = () => undefined;
    const stopped = new Promise<void>((r) => (release = r));
    const run: PodRun = {
      pod,
      key,
      placement,
      dir,
      volumeDirs: new Map(),
      containers: new Map(
        (pod.spec?.containers ?? []).map((c) => [c.name, { spec: c, restarts: 0, ready: !c.readinessProbe }]),
      ),
      stopping: false,
      stopped,
      release: () => release(),
    };
    this.runs.set(key, run);
    const previous = this.netnsFree.get(placement.netns) ?? Promise.resolve();
    this.netnsFree.set(placement.netns, run.stopped);
    void previous
      .then(() => this.startPod(run))
      .catch((err: unknown) => {
        this.opts.log({ level: 'error', msg: 'pod failed to start', pod: key, error: String(err) });
        void this.writeStatus(run, String(err));
      });
    void run.stopped.then(() => rmSync(dir, { recursive: true, force: true }));
  }

  private async startPod(run: PodRun): Promise<void> {
    if (run.stopping) return;
    await this.materialiseVolumes(run);
    for (const c of run.containers.values()) this.startContainer(run, c);
    this.scheduleProbes(run);
    await this.writeStatus(run);
    this.notify();
    this.opts.log({
      level: 'info',
      msg: 'pod started',
      pod: run.key,
      netns: run.placement.netns,
      podIP: run.placement.podIP,
    });
  }

  private async materialiseVolumes(run: PodRun): Promise<void> {
    const ns = run.pod.metadata!.namespace!;
    for (const v of run.pod.spec?.volumes ?? []) {
      if (v.secret) {
        const dir = join(run.dir, 'volumes', v.name);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const secret = await this.core.readNamespacedSecret({ name: v.secret.secretName!, namespace: ns });
        const mode = v.secret.defaultMode ?? 0o644;
        for (const [file, b64] of Object.entries(secret.data ?? {})) {
          const path = join(dir, file);
          writeFileSync(path, Buffer.from(b64, 'base64'), { mode });
          chmodSync(path, mode);
        }
        run.volumeDirs.set(v.name, dir);
      } else if (v.emptyDir) {
        const dir = join(run.dir, 'volumes', v.name);
        mkdirSync(dir, { recursive: true, mode: 0o1777 });
        run.volumeDirs.set(v.name, dir);
      } else if (v.hostPath) {
        run.volumeDirs.set(v.name, v.hostPath.path);
      }
    }
  }

  /** The container's env, with fieldRefs resolved and mount paths mapped to where the volumes live on this host. */
  private containerEnv(run: PodRun, c: V1Container): Record<string, string> {
    const pod = run.pod;
    const mounts = (c.volumeMounts ?? [])
      .map((m) => ({ from: m.mountPath, to: run.volumeDirs.get(m.name) }))
      .filter((m): m is { from: string; to: string } => !!m.to)
      .sort((a, b) => b.from.length - a.from.length);
    const mapPath = (value: string): string => {
      for (const m of mounts)
        if (value === m.from || value.startsWith(m.from + '/')) return m.to + value.slice(m.from.length);
      return value;
    };
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = mapPath(e.value);
      const field = e.valueFrom?.fieldRef?.fieldPath;
      if (field === 'metadata.name') env[e.name] = pod.metadata!.name!;
      else if (field === 'metadata.namespace') env[e.name] = pod.metadata!.namespace!;
      else if (field === 'metadata.uid') env[e.name] = pod.metadata!.uid!;
      else if (field === 'status.podIP') env[e.name] = run.placement.podIP;
      else if (field === 'spec.nodeName') env[e.name] = 'lab';
    }
    return env;
  }

  private startContainer(run: PodRun, c: ContainerState): void {
    if (run.stopping || this.closed) return;
    const ns = run.pod.metadata!.namespace!;
    const name = run.pod.metadata!.name!;
    const cmd = this.opts.commandFor(c.spec, run.pod, run.volumeDirs);
    const env = { ...this.containerEnv(run, c.spec), ...(cmd.env ?? {}) };
    c.startedAt = new Date().toISOString();
    c.ready = !c.spec.readinessProbe;
    const proc = this.opts.supervisor.start(`pod-${ns}-${name}-${c.spec.name}`, cmd.command, {
      args: cmd.args,
      env,
      netns: run.placement.netns,
      onLine: (line) => {
        try {
          this.opts.kube.appendPodLog(ns, name, c.spec.name, line);
        } catch {
          /* the pod is gone from the API; its processes are being stopped */
        }
      },
    });
    c.process = proc;
    void proc.exited.then(({ code }) => {
      if (run.stopping || this.closed) return;
      c.lastExit = { code, at: new Date().toISOString() };
      c.ready = false;
      const delay = BACKOFF_MS[Math.min(c.restarts, BACKOFF_MS.length - 1)]!;
      c.restarts += 1;
      this.opts.log({
        level: 'warn',
        msg: 'container exited; restarting',
        pod: run.key,
        container: c.spec.name,
        code,
        inMs: delay,
      });
      try {
        this.opts.kube.restartContainer(ns, name, c.spec.name);
      } catch {
        /* pod deleted meanwhile */
      }
      void this.writeStatus(run);
      setTimeout(() => this.startContainer(run, c), delay);
    });
  }

  private scheduleProbes(run: PodRun): void {
    const probeOnce = async () => {
      if (run.stopping) return;
      let changed = false;
      for (const c of run.containers.values()) {
        const probe = c.spec.readinessProbe?.httpGet;
        if (!probe || !c.process?.isRunning()) continue;
        const port = typeof probe.port === 'number' ? probe.port : Number(probe.port);
        let ok = false;
        try {
          const res = await fetch(`http://${run.placement.podIP}:${port}${probe.path ?? '/'}`, {
            signal: AbortSignal.timeout((c.spec.readinessProbe?.timeoutSeconds ?? 1) * 1000),
          });
          ok = res.status >= 200 && res.status < 400;
        } catch {
          ok = false;
        }
        if (ok !== c.ready) {
          c.ready = ok;
          changed = true;
        }
      }
      if (changed) {
        await this.writeStatus(run);
        this.notify();
      }
    };
    const period =
      Math.min(...[...run.containers.values()].map((c) => c.spec.readinessProbe?.periodSeconds ?? 10), 10) * 1000;
    run.probeTimer = setInterval(() => void probeOnce(), Math.max(500, period));
    void probeOnce();
  }

  private async writeStatus(run: PodRun, failure?: string): Promise<void> {
    if (run.stopping) return;
    const now = new Date().toISOString();
    const containers = [...run.containers.values()];
    const allReady = containers.length > 0 && containers.every((c) => c.ready && c.process?.isRunning());
    const condition = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now });
    const status = {
      phase: failure ? 'Pending' : 'Running',
      ...(failure ? { message: failure, reason: 'LabKubeletError' } : {}),
      podIP: run.placement.podIP,
      podIPs: [{ ip: run.placement.podIP }],
      hostIP: '127.0.0.1',
      startTime: run.pod.status?.startTime ?? now,
      conditions: [
        condition('PodScheduled', true),
        condition('Initialized', true),
        condition('ContainersReady', allReady),
        condition('Ready', allReady),
      ],
      containerStatuses: containers.map((c) => ({
        name: c.spec.name,
        image: c.spec.image ?? '',
        imageID: '',
        ready: c.ready,
        started: !!c.process?.isRunning(),
        restartCount: c.restarts,
        state: c.process?.isRunning()
          ? { running: { startedAt: c.startedAt } }
          : { waiting: { reason: failure ? 'CreateContainerError' : 'CrashLoopBackOff' } },
        ...(c.lastExit
          ? { lastState: { terminated: { exitCode: c.lastExit.code ?? 137, finishedAt: c.lastExit.at } } }
          : {}),
      })),
    };
    // Conditions carry lastTransitionTime: compare without it so an unchanged status is not rewritten.
    const digest = JSON.stringify({ ...status, conditions: status.conditions.map(({ type, status: s }) => [type, s]) });
    if (digest === run.lastStatus) return;
    run.lastStatus = digest;
    try {
      this.opts.kube.setPodStatus(run.pod.metadata!.namespace!, run.pod.metadata!.name!, status);
    } catch (err) {
      this.opts.log({ level: 'debug', msg: 'pod status not written (pod gone?)', pod: run.key, error: String(err) });
    }
  }

  private async remove(key: string): Promise<void> {
    const run = this.runs.get(key);
    if (!run || run.stopping) return run?.stopped;
    run.stopping = true;
    if (run.probeTimer) clearInterval(run.probeTimer);
    const grace = (run.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    await Promise.all([...run.containers.values()].map((c) => c.process?.stop(grace)));
    this.runs.delete(key);
    run.release();
    this.notify();
    this.opts.log({ level: 'info', msg: 'pod stopped', pod: key });
  }

  private notify(): void {
    this.opts.onPodsChanged?.(this.runningPods());
  }
}

const keyOf = (p: V1Pod): string => `${p.metadata?.namespace}/${p.metadata?.name}`;
