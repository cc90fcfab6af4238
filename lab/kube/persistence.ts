// Optional persistence for the lab's restarts: the whole store (and the token signing key, so issued tokens and the
// kubeconfig stay valid) written atomically to one JSON file shortly after each change, and read back at start.
import { readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import type { Store } from './store.js';
import type { KObject } from './types.js';

export interface Snapshot {
  version: 1;
  resourceVersion: number;
  /** The ServiceAccount token signing key (older state files also carry an unused admin token). */
  keys: { privatePem: string; adminToken?: string };
  objects: Array<[string, KObject]>;
}

export function loadSnapshot(file: string): Snapshot | undefined {
  if (!existsSync(file)) return undefined;
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  if (snap.version !== 1)
    throw new Error(`lab/kube state file ${file}: unknown version ${String(snap.version)}; delete it to start empty`);
  return snap;
}

export function restoreSnapshot(store: Store, snap: Snapshot): void {
  // CRDs first so their resources are registered before their objects are read
  const sorted = [...snap.objects].sort(
    ([a], [b]) => Number(b.startsWith('apiextensions.k8s.io/')) - Number(a.startsWith('apiextensions.k8s.io/')),
  );
  for (const [rk, obj] of sorted) store.restore(rk, obj);
  store.setResourceVersion(snap.resourceVersion);
}

export class Persister {
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly file: string,
    private readonly store: Store,
    private readonly keys: Snapshot['keys'],
    private readonly delayMs = 200,
  ) {
    this.unsubscribe = store.subscribe(() => this.schedule());
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.save();
    }, this.delayMs);
  }

  save(): void {
    const snap: Snapshot = {
      version: 1,
      resourceVersion: this.store.resourceVersion,
      keys: this.keys,
      objects: [...this.store.entries()],
    };
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(snap), { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  stop(): void {
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.save();
  }
}
