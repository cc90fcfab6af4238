// List then watch, kept alive: bookmarks advance the resourceVersion, 410 Gone means relist, a watch that stays
// silent too long is restarted, the list is redone periodically (a missed event heals within one period), and every
// failure backs off with jitter. The store is the operator's read cache.
import { backoffDelay, type BackoffOptions } from './backoff.js';

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  abort(): void;
}

/** The two calls an informer needs; the Kubernetes adapter implements them over client-node. */
export interface ListWatch<T extends KubeObject> {
  /** The whole list (paged by the adapter), each item passed through transform as it arrives. */
  list(transform?: (obj: T) => T): Promise<{ items: T[]; resourceVersion: string }>;
  /** Starts a watch from resourceVersion; onDone is called once, with the error if any (statusCode 410 = Gone). */
  watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: unknown) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle>;
}

export type ChangeKind = 'add' | 'update' | 'delete' | 'resync';

export interface InformerOptions<T extends KubeObject> {
  name: string;
  source: ListWatch<T>;
  onChange: (kind: ChangeKind, obj: T, old: T | undefined) => void;
  /** Relist this often (ms). */
  relistMs: number;
  /** Restart a watch that saw no event (bookmarks count) for this long (ms). */
  silentMs: number;
  backoff: BackoffOptions;
  /** Keeps only what the operator reads of each object (cache memory; no Secret data in memory). */
  transform?: (obj: T) => T;
  log?: (msg: string, fields: Record<string, unknown>) => void;
  /** Every failed list or watch (before the retry), e.g. to report a 403 loudly. */
  onError?: (err: unknown) => void;
}

export const keyOfObject = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class GoneError extends Error {
  readonly statusCode = 410;
}

function isGone(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: number } | undefined;
  return e?.statusCode === 410 || e?.code === 410;
}

export class Informer<T extends KubeObject> {
  readonly store = new Map<string, T>();
  private resourceVersion = '';
  private handle: WatchHandle | undefined;
  private generation = 0; // bumps on every (re)start: callbacks of an older watch are ignored
  private failures = 0;
  private stopped = true;
  private synced = false;
  private silentTimer: NodeJS.Timeout | undefined;
  private relistTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private syncWaiters: Array<() => void> = [];
  private error: string | undefined;
  /** Counters for tests and logs. */
  readonly stats = { lists: 0, watches: 0, gone: 0, silentRestarts: 0, errors: 0 };

  constructor(private readonly opts: InformerOptions<T>) {}

  get hasSynced(): boolean {
    return this.synced;
  }

  get name(): string {
    return this.opts.name;
  }

  /** Why the last list or watch failed, until one succeeds again (readiness reasons). */
  get lastError(): string | undefined {
    return this.error;
  }

  waitForSync(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((r) => this.syncWaiters.push(r));
  }

  start(): void {
    if (!this.stopped) return; // guard against double starts
    this.stopped = false;
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.handle?.abort();
    this.handle = undefined;
    for (const t of [this.silentTimer, this.relistTimer, this.retryTimer]) if (t) clearTimeout(t);
  }

  private log(msg: string, fields: Record<string, unknown> = {}): void {
    this.opts.log?.(msg, { informer: this.opts.name, ...fields });
  }

  private scheduleRetry(what: () => void, err: unknown): void {
    this.stats.errors++;
    this.error = err instanceof Error ? err.message : String(err);
    this.opts.onError?.(err);
    const delay = backoffDelay(this.failures++, this.opts.backoff);
    this.log('watch or list failed; retrying', {
      error: err instanceof Error ? err.message : String(err),
      retryInMs: delay,
    });
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(what, delay);
    this.retryTimer.unref();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const gen = ++this.generation;
    this.handle?.abort();
    this.handle = undefined;
    if (this.relistTimer) clearTimeout(this.relistTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    let listed: { items: T[]; resourceVersion: string };
    try {
      this.stats.lists++;
      listed = await this.opts.source.list(this.opts.transform);
    } catch (err) {
      if (gen === this.generation) this.scheduleRetry(() => void this.relist(), err);
      return;
    }
    if (gen !== this.generation || this.stopped) return;
    this.error = undefined;
    const seen = new Set<string>();
    for (const obj of listed.items) {
      const key = keyOfObject(obj);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, obj);
      if (!old) this.opts.onChange('add', obj, undefined);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.opts.onChange('update', obj, old);
      else this.opts.onChange('resync', obj, old);
    }
    for (const [key, old] of [...this.store]) {
      if (seen.has(key)) continue;
      this.store.delete(key);
      this.opts.onChange('delete', old, old);
    }
    this.resourceVersion = listed.resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    this.relistTimer = setTimeout(() => void this.relist(), this.opts.relistMs);
    this.relistTimer.unref();
    await this.watch(gen);
  }

  private armSilentTimer(gen: number): void {
    if (this.silentTimer) clearTimeout(this.silentTimer);
    this.silentTimer = setTimeout(() => {
      if (gen !== this.generation || this.stopped) return;
      this.stats.silentRestarts++;
      this.log('watch silent too long; restarting it', { silentMs: this.opts.silentMs });
      void this.restartWatch();
    }, this.opts.silentMs);
    this.silentTimer.unref();
  }

  private async restartWatch(): Promise<void> {
    const gen = ++this.generation;
    this.handle?.abort();
    this.handle = undefined;
    await this.watch(gen);
  }

  private async watch(gen: number): Promise<void> {
    if (this.stopped || gen !== this.generation) return;
    this.stats.watches++;
    this.armSilentTimer(gen);
    const started = Date.now();
    const onEvent = (type: WatchEventType, raw: unknown) => {
      if (gen !== this.generation) return;
      this.armSilentTimer(gen);
      if (type === 'ERROR') {
        const status = raw as { code?: number; message?: string };
        this.generation++;
        this.handle?.abort();
        if (status?.code === 410) {
          this.stats.gone++;
          this.log('watch expired (410 Gone); relisting', { resourceVersion: this.resourceVersion });
          void this.relist();
        } else this.scheduleRetry(() => void this.restartWatch(), new Error(status?.message ?? 'watch ERROR event'));
        return;
      }
      const obj = this.opts.transform ? this.opts.transform(raw as T) : (raw as T);
      const rv = obj?.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      this.failures = 0;
      if (type === 'BOOKMARK') return;
      const key = keyOfObject(obj);
      const old = this.store.get(key);
      // The operator writes its own objects through to the store: the echo of that write is no change.
      if (type !== 'DELETED' && old && rv && old.metadata?.resourceVersion === rv) return;
      if (type === 'DELETED') {
        this.store.delete(key);
        this.opts.onChange('delete', obj, old);
      } else {
        this.store.set(key, obj);
        this.opts.onChange(old ? 'update' : 'add', obj, old);
      }
    };
    const onDone = (err?: unknown) => {
      if (gen !== this.generation || this.stopped) return;
      this.generation++;
      if (isGone(err)) {
        this.stats.gone++;
        this.log('watch expired (410 Gone); relisting', {});
        void this.relist();
      } else if (err) this.scheduleRetry(() => void this.restartWatch(), err);
      else if (Date.now() - started < 1000)
        this.scheduleRetry(() => void this.restartWatch(), new Error('watch closed at once'));
      else void this.restartWatch(); // the server ends watches after a while: resume from the last resourceVersion
    };
    try {
      const handle = await this.opts.source.watch(this.resourceVersion, onEvent, onDone);
      if (gen !== this.generation) handle.abort();
      else this.handle = handle;
    } catch (err) {
      onDone(err);
    }
  }
}
