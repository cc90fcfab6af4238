// One read/write view over the stores of several per-namespace informers (the operator watches its hop Secrets and
// Deployments namespace by namespace, as least-privilege RBAC grants them), keyed "namespace/name" like one store.
import type { ObjectStore } from './reconciler.js';

/** The key of the store that serves every namespace (a cluster-wide informer). */
export const ALL_NAMESPACES = '*';

export class NamespacedStores<T> implements ObjectStore<T> {
  constructor(private readonly byNamespace: ReadonlyMap<string, Map<string, T>>) {}

  private storeFor(key: string): Map<string, T> | undefined {
    const ns = key.slice(0, key.indexOf('/'));
    return this.byNamespace.get(ns) ?? this.byNamespace.get(ALL_NAMESPACES);
  }

  get(key: string): T | undefined {
    return this.storeFor(key)?.get(key);
  }

  /** Writes through to the namespace's store; a key outside every watched namespace is not kept. */
  set(key: string, value: T): void {
    this.storeFor(key)?.set(key, value);
  }
}
