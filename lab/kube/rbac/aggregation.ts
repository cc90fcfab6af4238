// ClusterRole aggregation, as the clusterrole-aggregation controller computes it
// (k8s.io/kubernetes/pkg/controller/clusterroleaggregation): for each selector in order, the ClusterRoles it selects
// sorted by name (the aggregated role itself excluded), their rules appended unless an equal rule is there already.
// https://kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles
import { selectorMatches, type LabelSelector } from '../label-selector.js';
import { sameRule } from './rules.js';
import type { PolicyRule } from './types.js';

export type { LabelSelector } from '../label-selector.js';

export interface LabelledRole {
  name: string;
  labels: Record<string, string>;
  rules: PolicyRule[];
}

export function aggregateRules(target: string, selectors: LabelSelector[], roles: LabelledRole[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const sorted = [...roles].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const sel of selectors)
    for (const r of sorted) {
      if (r.name === target || !selectorMatches(sel, r.labels)) continue;
      for (const rule of r.rules) if (!out.some((x) => sameRule(x, rule))) out.push(rule);
    }
  return out;
}
