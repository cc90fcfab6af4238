// The clusterrole-aggregation controller: a ClusterRole with `aggregationRule.clusterRoleSelectors` gets the union
// of the rules of the ClusterRoles its selectors pick, rewritten whenever any ClusterRole changes.
// https://kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles
import type { Api } from '../api.js';
import { aggregateRules, type LabelSelector } from '../rbac/aggregation.js';
import { sameRule } from '../rbac/rules.js';
import type { PolicyRule } from '../rbac/types.js';
import { WorkQueue } from './queue.js';

const RK = 'rbac.authorization.k8s.io/clusterroles';

export class ClusterRoleAggregationController {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly api: Api,
    log: (e: Record<string, unknown>) => void,
  ) {
    this.queue = new WorkQueue('clusterrole-aggregation', (name) => void this.sync(name), log);
    // any ClusterRole change may feed any aggregated role: requeue all of them (a handful)
    this.unsubscribe = api.store.subscribe((ev) => {
      if (ev.rk === RK) this.enqueueAll();
    });
    this.converge();
  }

  /** At start, synchronously: roles aggregating aggregated roles (admin ← edit ← view) settle in a few passes. */
  private converge(): void {
    for (let pass = 0; pass < 5; pass++) {
      let changed = false;
      for (const cr of this.api.store.list(RK))
        if (cr.aggregationRule) changed = this.sync(cr.metadata.name!) || changed;
      if (!changed) return;
    }
  }

  private enqueueAll(): void {
    for (const cr of this.api.store.list(RK)) if (cr.aggregationRule) this.queue.add(cr.metadata.name!);
  }

  /** Returns whether the role was rewritten. */
  private sync(name: string): boolean {
    const cr = this.api.store.get(RK, '', name);
    const rule = cr?.aggregationRule as { clusterRoleSelectors?: LabelSelector[] } | undefined;
    if (!cr || !rule) return false;
    const roles = this.api.store.list(RK).map((o) => ({
      name: o.metadata.name!,
      labels: o.metadata.labels ?? {},
      rules: (o.rules as PolicyRule[] | null) ?? [],
    }));
    const rules = aggregateRules(name, rule.clusterRoleSelectors ?? [], roles);
    const current = (cr.rules as PolicyRule[] | null) ?? [];
    if (rules.length === current.length && rules.every((r, i) => sameRule(r, current[i]!))) return false;
    const t = this.api.registry.byGroupResource('rbac.authorization.k8s.io', 'clusterroles')!;
    this.api.update(t, '', name, { ...cr, rules }, { version: 'v1' });
    return true;
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }
}
