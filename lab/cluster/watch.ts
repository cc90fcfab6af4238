// List-then-watch of several resources through client-node informers, with what the informers lack on their own
// (kubernetes-client/javascript #596, #958, #1933): a restart with backoff after an error, a guard against two starts
// at once, and a periodic relist so that a watch that went quiet cannot hide changes for long. Every change calls
// `onChange` (the callers debounce and render from the whole cache, so event order does not matter).
import {
  KubeConfig,
  makeInformer,
  type Informer,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Log } from './pod-network.js';

export interface WatchSpec {
  /** Short name for the logs and for `list()`. */
  name: string;
  /** API path of the collection, e.g. `/api/v1/pods`. */
  path: string;
  list: (kc: KubeConfig) => () => Promise<KubernetesListObject<KubernetesObject>>;
}

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000];

export class ClusterWatch {
  private readonly informers = new Map<string, Informer<KubernetesObject> & ObjectCache<KubernetesObject>>();
  private readonly failures = new Map<string, number>();
  private readonly restarting = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    kubeconfigPath: string,
    private readonly specs: WatchSpec[],
    private readonly onChange: (what: { resource: string; verb: string; obj: KubernetesObject }) => void,
    private readonly log: Log,
    private readonly relistMs = 300_000,
  ) {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    for (const s of specs) {
      const inf = makeInformer(kc, s.path, s.list(kc));
      for (const verb of ['add', 'update', 'delete'] as const)
        inf.on(verb, (obj) => {
          this.failures.delete(s.name);
          this.onChange({ resource: s.name, verb, obj });
        });
      // client-node reports a failed list or watch here (never by rejecting start()), also during a start
      inf.on('error', (err) => this.restart(s.name, err));
      this.informers.set(s.name, inf);
    }
  }

  /** Resolves once every resource has been listed. */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
    const t = setInterval(() => {
      for (const s of this.specs) this.restart(s.name, undefined);
    }, this.relistMs);
    t.unref();
    this.timers.add(t);
  }

  list<T extends KubernetesObject>(name: string): T[] {
    return [...(this.informers.get(name)?.list() ?? [])] as T[];
  }

  private restart(name: string, err: unknown): void {
    if (this.stopped || this.restarting.has(name)) return;
    this.restarting.add(name);
    const n = err === undefined ? 0 : (this.failures.get(name) ?? 0) + 1;
    if (err !== undefined) this.failures.set(name, n);
    const delay = err === undefined ? 0 : BACKOFF_MS[Math.min(n - 1, BACKOFF_MS.length - 1)]!;
    if (err !== undefined)
      this.log({
        level: 'warn',
        msg: 'watch failed; restarting',
        resource: name,
        attempt: n,
        delayMs: delay,
        error: String(err),
      });
    const t = setTimeout(async () => {
      this.timers.delete(t);
      // the guard covers the wait only: an error of the start below must schedule the next attempt
      this.restarting.delete(name);
      const inf = this.informers.get(name)!;
      if (err === undefined) await inf.stop();
      if (!this.stopped) await inf.start().catch((e: unknown) => this.restart(name, e));
    }, delay);
    this.timers.add(t);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all([...this.informers.values()].map((i) => i.stop().catch(() => undefined)));
  }
}

/** Runs `fn` after changes settle (debounce), never twice at once; a change during a run schedules one more run. */
export class Debounced {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly fn: () => Promise<void>,
    private readonly delayMs = 20,
  ) {}

  trigger(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runNow(), this.delayMs);
  }

  async runNow(): Promise<void> {
    clearTimeout(this.timer);
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.fn().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.trigger();
      }
    });
    return this.running;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
