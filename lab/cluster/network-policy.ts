// NetworkPolicy enforcement for the lab pod network (the policy half of Calico): watches NetworkPolicies, Pods and
// Namespaces, renders table `ip <stem>_policy` with policy/render.ts (pure) and applies it with one atomic `nft -f`
// per change. Every watch event and every applied ruleset is logged; drop counters are read every few seconds and
// each increase is logged (`policy drop`, with the counter that names the refusing pod), so a developer sees what a
// policy blocked without reading nftables. Counters restart with each ruleset; the logs carry running totals.
import {
  CoreV1Api,
  NetworkingV1Api,
  type KubernetesListObject,
  type KubernetesObject,
  type KubeConfig,
} from '@kubernetes/client-node';
import { clusterNames } from './names.js';
import { deleteTable, readCounters, replaceTable } from './nft.js';
import type { Log } from './pod-network.js';
import { namespacesFromApi, podsFromApi, policiesFromApi } from './policy/model.js';
import { renderPolicyTable, type PolicyRenderResult } from './policy/render.js';
import { ClusterWatch, Debounced } from './watch.js';

export interface NetworkPolicyOptions {
  /** The pod network's stem (table `ip <stem>_policy`, interfaces `<stem>-*`). */
  stem: string;
  /** A kubeconfig allowed to list and watch pods, namespaces and networkpolicies. */
  kubeconfigPath: string;
  log?: Log;
  /** How often drop counters are read and increases logged (default 5000 ms; 0 = never). */
  counterIntervalMs?: number;
}

export interface NetworkPolicyEnforcer {
  readonly table: string;
  /** The last ruleset applied (render result), for tests and debugging. */
  current(): PolicyRenderResult | undefined;
  /** Applies the current state now and resolves when it is in the kernel. */
  sync(): Promise<void>;
  /** Running totals of every counter (drops and admissions) since start. */
  counters(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

const asList = <T>(p: Promise<T>) => p as unknown as Promise<KubernetesListObject<KubernetesObject>>;

/** Removes the policy table of `stem` (crash cleanup). */
export async function cleanupNetworkPolicy(stem: string): Promise<string[]> {
  const t = clusterNames(stem).policyTable;
  return (await deleteTable('ip', t)) ? [t] : [];
}

export async function startNetworkPolicy(opts: NetworkPolicyOptions): Promise<NetworkPolicyEnforcer> {
  const names = clusterNames(opts.stem);
  const log: Log = opts.log ?? (() => undefined);
  const table = names.policyTable;
  let last: PolicyRenderResult | undefined;
  let lastErrors = '';
  const totals = new Map<string, number>();
  const seen = new Map<string, number>(); // counter values read since the current ruleset was applied

  const harvest = async (): Promise<void> => {
    const now = await readCounters('ip', table);
    for (const [name, packets] of now) {
      const delta = packets - (seen.get(name) ?? 0);
      if (delta <= 0) continue;
      seen.set(name, packets);
      const total = (totals.get(name) ?? 0) + delta;
      totals.set(name, total);
      if (name.startsWith('drop.'))
        log({ level: 'info', msg: 'policy drop', table, counter: name, packets: delta, total });
    }
  };

  const watch = new ClusterWatch(
    opts.kubeconfigPath,
    [
      {
        name: 'pods',
        path: '/api/v1/pods',
        list: (kc: KubeConfig) => () => asList(kc.makeApiClient(CoreV1Api).listPodForAllNamespaces()),
      },
      {
        name: 'namespaces',
        path: '/api/v1/namespaces',
        list: (kc: KubeConfig) => () => asList(kc.makeApiClient(CoreV1Api).listNamespace()),
      },
      {
        name: 'networkpolicies',
        path: '/apis/networking.k8s.io/v1/networkpolicies',
        list: (kc: KubeConfig) => () => asList(kc.makeApiClient(NetworkingV1Api).listNetworkPolicyForAllNamespaces()),
      },
    ],
    (ev) => {
      if (ev.resource === 'networkpolicies')
        log({
          level: 'info',
          msg: 'network policy event',
          verb: ev.verb,
          policy: `${ev.obj.metadata?.namespace}/${ev.obj.metadata?.name}`,
        });
      apply.trigger();
    },
    log,
  );

  const apply = new Debounced(async () => {
    const result = renderPolicyTable({
      podIfWildcard: names.podIfWildcard,
      pods: podsFromApi(watch.list('pods')),
      namespaces: namespacesFromApi(watch.list('namespaces')),
      policies: policiesFromApi(watch.list('networkpolicies')),
    });
    const errors = result.errors.join('\n');
    if (errors && errors !== lastErrors)
      for (const e of result.errors) log({ level: 'error', msg: 'network policy problem', table, error: e });
    lastErrors = errors;
    if (last?.body === result.body) return;
    try {
      await harvest();
      await replaceTable('ip', table, result.body);
      seen.clear();
      last = result;
      log({ level: 'info', msg: 'policy ruleset applied', table, ...result.summary, bytes: result.body.length });
    } catch (err) {
      // the previous ruleset stays in force (the transaction is atomic); the next change or relist retries
      log({ level: 'error', msg: 'policy ruleset refused by nft', table, error: (err as Error).message });
    }
  });

  await watch.start();
  await apply.runNow();
  const interval = opts.counterIntervalMs ?? 5000;
  const timer = interval > 0 ? setInterval(() => void harvest().catch(() => undefined), interval) : undefined;
  log({ level: 'info', msg: 'network policy enforcer started', table, interfaces: names.podIfWildcard });

  return {
    table,
    current: () => last,
    sync: async () => {
      await apply.runNow();
    },
    async counters() {
      await harvest();
      return new Map(totals);
    },
    async stop() {
      clearInterval(timer);
      apply.cancel();
      await watch.stop();
      await harvest().catch(() => undefined);
      await deleteTable('ip', table);
      log({ level: 'info', msg: 'network policy enforcer stopped', table });
    },
  };
}
