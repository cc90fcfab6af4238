import { describe, expect, it } from 'vitest';
import { KeyedBackoff, backoffDelay } from '../../operator/src/controller/backoff.js';
import { Informer, type ListWatch, type WatchEventType } from '../../operator/src/controller/informer.js';
import { WorkQueue } from '../../operator/src/controller/work-queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('backoff', () => {
  it('doubles up to the cap, with the upper half random', () => {
    const opts = { baseMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, { ...opts, random: () => 0 }))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, { ...opts, random: () => 0.999999 }))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(3, opts)));
    expect(spread.size).toBeGreaterThan(10);
  });

  it('counts failures per key and forgets on success', () => {
    const b = new KeyedBackoff({ baseMs: 10, maxMs: 1000, random: () => 0 });
    expect([b.next('a'), b.next('a'), b.next('b')]).toEqual([5, 10, 5]);
    b.forget('a');
    expect(b.next('a')).toBe(5);
  });
});

describe('work queue', () => {
  it('never runs one key twice at once; a change during a run runs it once more afterwards', async () => {
    let running = 0;
    let maxRunning = 0;
    const runs: string[] = [];
    const q = new WorkQueue({
      concurrency: 4,
      backoff: { baseMs: 5, maxMs: 10 },
      process: async (key) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        runs.push(key);
        await sleep(20);
        running--;
      },
    });
    q.add('a');
    await sleep(5);
    for (let i = 0; i < 10; i++) q.add('a'); // arrives mid-run: collapses into one more run
    await q.idle();
    expect(runs).toEqual(['a', 'a']);
    expect(maxRunning).toBe(1);
  });

  it('dedupes queued keys and runs different keys in parallel up to the concurrency', async () => {
    let running = 0;
    let maxRunning = 0;
    const runs: string[] = [];
    const q = new WorkQueue({
      concurrency: 3,
      backoff: { baseMs: 5, maxMs: 10 },
      process: async (key) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        runs.push(key);
        await sleep(10);
        running--;
      },
    });
    // a, b, c start at once; d and e wait; the repeated d and e are already queued and collapse.
    for (const k of ['a', 'b', 'c', 'd', 'e', 'd', 'e', 'd']) q.add(k);
    await q.idle();
    expect(runs.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(maxRunning).toBe(3);
  });

  it('retries a failing key with backoff while the other keys go on', async () => {
    const attempts = new Map<string, number>();
    const errors: Array<[string, number]> = [];
    const q = new WorkQueue({
      concurrency: 1,
      backoff: { baseMs: 20, maxMs: 100, random: () => 0 },
      onError: (key, _err, delay) => errors.push([key, delay]),
      process: async (key) => {
        const n = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, n);
        if (key === 'bad' && n < 3) throw new Error('API down');
      },
    });
    q.add('bad');
    q.add('good');
    await until(() => attempts.get('bad') === 3);
    expect(attempts.get('good')).toBe(1);
    expect(errors).toEqual([
      ['bad', 10],
      ['bad', 20],
    ]);
  });

  it('requeues after the delay a reconcile asks for; the earliest pending delay wins', async () => {
    const times: number[] = [];
    const start = Date.now();
    const q = new WorkQueue({
      concurrency: 1,
      backoff: { baseMs: 5, maxMs: 10 },
      process: async () => {
        times.push(Date.now() - start);
        return times.length === 1 ? { requeueAfterMs: 60 } : {};
      },
    });
    q.add('k');
    q.addAfter('x', 10_000);
    q.addAfter('x', 30);
    await until(() => times.length >= 3);
    expect(times[2]!).toBeGreaterThanOrEqual(55);
    await q.shutdown();
  });
});

/** An in-memory API for the informer's two calls, with the failure modes a real API server shows. */
class FakeApi implements ListWatch<{ metadata: { name: string; namespace: string; resourceVersion: string } }> {
  objects = new Map<string, string>(); // name → resourceVersion
  rv = 1;
  lists = 0;
  watchers: Array<{
    from: string;
    emit: (t: WatchEventType, o: unknown) => void;
    done: (e?: unknown) => void;
    open: boolean;
  }> = [];
  failNextList = 0;
  goneOnWatch = false;
  obj(name: string) {
    return { metadata: { name, namespace: 'ns', resourceVersion: this.objects.get(name)! } };
  }
  async list() {
    this.lists++;
    if (this.failNextList > 0) {
      this.failNextList--;
      throw new Error('connect ECONNREFUSED');
    }
    return { items: [...this.objects.keys()].map((n) => this.obj(n)), resourceVersion: String(this.rv) };
  }
  async watch(from: string, emit: (t: WatchEventType, o: unknown) => void, done: (e?: unknown) => void) {
    if (this.goneOnWatch) {
      this.goneOnWatch = false;
      setTimeout(() => emit('ERROR', { kind: 'Status', code: 410, message: 'too old resource version' }), 1);
    }
    const w = { from, emit, done, open: true };
    this.watchers.push(w);
    return { abort: () => void (w.open = false) };
  }
  set(name: string) {
    this.objects.set(name, String(++this.rv));
    for (const w of this.watchers) if (w.open) w.emit('MODIFIED', this.obj(name));
  }
  get open() {
    return this.watchers.filter((w) => w.open);
  }
}

function informer(api: FakeApi, opts: Partial<{ relistMs: number; silentMs: number }> = {}) {
  const changes: string[] = [];
  const inf = new Informer({
    name: 'test',
    source: api,
    relistMs: opts.relistMs ?? 60_000,
    silentMs: opts.silentMs ?? 60_000,
    backoff: { baseMs: 10, maxMs: 20 },
    onChange: (kind, obj) => changes.push(`${kind}:${obj.metadata!.name!}`),
  });
  return { inf, changes };
}

describe('informer', () => {
  it('lists, then watches from the list resourceVersion, keeping a store', async () => {
    const api = new FakeApi();
    api.objects.set('a', '1');
    const { inf, changes } = informer(api);
    inf.start();
    await inf.waitForSync();
    await until(() => api.open.length === 1);
    expect(api.open[0]!.from).toBe('1');
    api.set('b');
    await until(() => changes.includes('add:b'));
    expect([...inf.store.keys()].sort()).toEqual(['ns/a', 'ns/b']);
    inf.stop();
  });

  it('relists on 410 Gone, seeing what changed meanwhile (including deletions)', async () => {
    const api = new FakeApi();
    api.objects.set('a', '1');
    api.objects.set('gone', '1');
    const { inf, changes } = informer(api);
    inf.start();
    await until(() => api.open.length === 1);
    api.objects.delete('gone');
    api.objects.set('c', String(++api.rv)); // changed while nobody was watching
    api.open[0]!.emit('ERROR', { kind: 'Status', code: 410, message: 'too old' });
    await until(() => changes.includes('add:c') && changes.includes('delete:gone'));
    expect(inf.stats.gone).toBe(1);
    expect(api.lists).toBe(2);
    inf.stop();
  });

  it('bookmarks advance the resourceVersion a restarted watch resumes from', async () => {
    const api = new FakeApi();
    const { inf } = informer(api);
    inf.start();
    await until(() => api.open.length === 1);
    api.open[0]!.emit('BOOKMARK', { metadata: { resourceVersion: '77' } });
    api.open[0]!.done(); // the server closed the watch normally
    await until(() => api.watchers.length === 2);
    expect(api.watchers[1]!.from).toBe('77');
    expect(api.lists).toBe(1);
    inf.stop();
  });

  it('restarts a watch that went silent', async () => {
    const api = new FakeApi();
    const { inf } = informer(api, { silentMs: 50 });
    inf.start();
    await until(() => inf.stats.silentRestarts >= 2);
    expect(api.watchers.filter((w) => !w.open).length).toBeGreaterThanOrEqual(2);
    expect(api.open.length).toBe(1);
    inf.stop();
  });

  it('backs off and retries when the list fails, then syncs', async () => {
    const api = new FakeApi();
    api.failNextList = 2;
    api.objects.set('a', '1');
    const { inf, changes } = informer(api);
    inf.start();
    await inf.waitForSync();
    expect(api.lists).toBe(3);
    expect(changes).toEqual(['add:a']);
    inf.stop();
  });

  it('relists periodically; unchanged objects come back as resync, the watch is replaced', async () => {
    const api = new FakeApi();
    api.objects.set('a', '1');
    const { inf, changes } = informer(api, { relistMs: 40 });
    inf.start();
    await until(() => changes.includes('resync:a'));
    expect(api.open.length).toBe(1);
    inf.stop();
  });
});
