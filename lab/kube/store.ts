// In-memory object store with etcd's versioning model: one cluster-wide resourceVersion counter, every write gets the
// next value, and a bounded per-resource event history serves watches from an older resourceVersion (older than the
// history: 410 Gone, like etcd compaction). Objects are indexed by resource → namespace → name, and by uid and owner
// uid for the garbage collector. Stored objects are immutable, so lists hand out references without copying.
import type { KObject } from './types.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  rk: string;
  rv: number;
  object: KObject;
  /** The object before this change (MODIFIED, DELETED). */
  prev?: KObject;
  /** Serialised forms, filled lazily by watchers and shared between them. */
  encoded?: Map<string, string>;
}

export interface Watcher {
  namespace?: string;
  deliver(ev: StoreEvent): void;
}

interface History {
  events: StoreEvent[];
  /** Highest resourceVersion no longer in `events` for this resource: a watch must start at or after it. */
  compactedRv: number;
}

export class Store {
  private rv = 1;
  private readonly data = new Map<string, Map<string, Map<string, KObject>>>();
  private readonly history = new Map<string, History>();
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly byUid = new Map<string, { rk: string; ns: string; name: string }>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly listeners = new Set<(ev: StoreEvent) => void>();

  constructor(private readonly historySize = 10_000) {}

  get resourceVersion(): number {
    return this.rv;
  }

  /** Reserves the next resourceVersion (the caller stores the object carrying it). */
  nextRv(): number {
    return ++this.rv;
  }

  get(rk: string, ns: string, name: string): KObject | undefined {
    return this.data.get(rk)?.get(ns)?.get(name);
  }

  byUidLookup(uid: string): { rk: string; ns: string; name: string } | undefined {
    return this.byUid.get(uid);
  }

  /** Objects of one resource, in one namespace or all, ordered by namespace then name (etcd key order). */
  list(rk: string, ns?: string): KObject[] {
    const byNs = this.data.get(rk);
    if (!byNs) return [];
    const spaces = ns !== undefined ? [ns] : [...byNs.keys()].sort();
    const out: KObject[] = [];
    for (const n of spaces) {
      const m = byNs.get(n);
      if (!m) continue;
      const names = [...m.keys()].sort();
      for (const name of names) out.push(m.get(name)!);
    }
    return out;
  }

  count(rk: string, ns?: string): number {
    const byNs = this.data.get(rk);
    if (!byNs) return 0;
    if (ns !== undefined) return byNs.get(ns)?.size ?? 0;
    let n = 0;
    for (const m of byNs.values()) n += m.size;
    return n;
  }

  /** Uids of objects whose ownerReferences name `uid`. */
  dependentsOf(uid: string): string[] {
    return [...(this.dependents.get(uid) ?? [])];
  }

  /** Stores an object whose metadata.resourceVersion is already set (from nextRv) and emits the event. */
  put(rk: string, obj: KObject, type: 'ADDED' | 'MODIFIED'): void {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name!;
    let byNs = this.data.get(rk);
    if (!byNs) this.data.set(rk, (byNs = new Map()));
    let m = byNs.get(ns);
    if (!m) byNs.set(ns, (m = new Map()));
    const prev = m.get(name);
    m.set(name, obj);
    this.index(prev, obj, rk);
    this.emit({ type, rk, rv: Number(obj.metadata.resourceVersion), object: obj, prev });
  }

  /**
   * Removes an object; the DELETED event carries the object (or `last`, its final state when an update completes a
   * deletion) with the deletion's resourceVersion, as etcd3 does.
   */
  remove(rk: string, ns: string, name: string, last?: KObject): KObject | undefined {
    const m = this.data.get(rk)?.get(ns);
    const prev = m?.get(name);
    if (!m || !prev) return undefined;
    m.delete(name);
    if (m.size === 0) this.data.get(rk)!.delete(ns);
    this.index(prev, undefined, rk);
    const rv = this.nextRv();
    const final = last ?? prev;
    const gone: KObject = { ...final, metadata: { ...final.metadata, resourceVersion: String(rv) } };
    this.emit({ type: 'DELETED', rk, rv, object: gone, prev });
    return gone;
  }

  /** Loads objects without events (persistence restore). */
  restore(rk: string, obj: KObject): void {
    const ns = obj.metadata.namespace ?? '';
    let byNs = this.data.get(rk);
    if (!byNs) this.data.set(rk, (byNs = new Map()));
    let m = byNs.get(ns);
    if (!m) byNs.set(ns, (m = new Map()));
    m.set(obj.metadata.name!, obj);
    this.index(undefined, obj, rk);
    this.rv = Math.max(this.rv, Number(obj.metadata.resourceVersion ?? 0));
  }

  setResourceVersion(rv: number): void {
    this.rv = Math.max(this.rv, rv);
  }

  /** Every stored object, for persistence. */
  *entries(): Generator<[string, KObject]> {
    for (const [rk, byNs] of this.data) for (const m of byNs.values()) for (const o of m.values()) yield [rk, o];
  }

  private index(prev: KObject | undefined, next: KObject | undefined, rk: string): void {
    if (prev?.metadata.uid) {
      if (!next || next.metadata.uid !== prev.metadata.uid) this.byUid.delete(prev.metadata.uid);
      for (const ref of prev.metadata.ownerReferences ?? []) {
        const set = this.dependents.get(ref.uid);
        set?.delete(prev.metadata.uid);
        if (set && set.size === 0) this.dependents.delete(ref.uid);
      }
    }
    if (next?.metadata.uid) {
      this.byUid.set(next.metadata.uid, { rk, ns: next.metadata.namespace ?? '', name: next.metadata.name! });
      for (const ref of next.metadata.ownerReferences ?? []) {
        let set = this.dependents.get(ref.uid);
        if (!set) this.dependents.set(ref.uid, (set = new Set()));
        set.add(next.metadata.uid);
      }
    }
  }

  private emit(ev: StoreEvent): void {
    let h = this.history.get(ev.rk);
    if (!h) this.history.set(ev.rk, (h = { events: [], compactedRv: 0 }));
    h.events.push(ev);
    // trim in batches (a tenth of the window) rather than shifting the array on every event
    if (h.events.length > this.historySize + Math.max(1, Math.floor(this.historySize / 10))) {
      const drop = h.events.length - this.historySize;
      h.compactedRv = h.events[drop - 1]!.rv;
      h.events.splice(0, drop);
    }
    for (const w of this.watchers.get(ev.rk) ?? []) {
      const ns = ev.object.metadata.namespace ?? '';
      if (w.namespace !== undefined && w.namespace !== ns) continue;
      w.deliver(ev);
    }
    for (const l of this.listeners) l(ev);
  }

  /**
   * Events of a resource after `rv`, or 'expired' when the history no longer reaches back to it.
   * A watch from rv sees every change with a resourceVersion greater than rv.
   */
  eventsSince(rk: string, rv: number): StoreEvent[] | 'expired' {
    const h = this.history.get(rk);
    if (!h) return [];
    if (rv < h.compactedRv) return 'expired';
    // binary search for the first event with rv > requested
    let lo = 0;
    let hi = h.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h.events[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return h.events.slice(lo);
  }

  /** Oldest resourceVersion a watch of this resource may still start from. */
  oldestRv(rk: string): number {
    return this.history.get(rk)?.compactedRv ?? 0;
  }

  watch(rk: string, w: Watcher): () => void {
    let set = this.watchers.get(rk);
    if (!set) this.watchers.set(rk, (set = new Set()));
    set.add(w);
    return () => set!.delete(w);
  }

  /** In-process subscription to every change (controllers). */
  subscribe(fn: (ev: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Drops a resource's whole history (CRD deleted). */
  dropResource(rk: string): void {
    this.data.delete(rk);
    this.history.delete(rk);
  }
}
