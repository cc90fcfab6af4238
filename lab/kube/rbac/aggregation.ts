// ClusterRole aggregation, as the clusterrole-aggregation controller computes it
// (k8s.io/kubernetes/pkg/controller/clusterroleaggregation): for each selector in order, the ClusterRoles it selects
// sorted by name (the aggregated role itself excluded), their rules appended unless an equal rule is there already.
// https://kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles
import { sameRule } from './rules.js';
import type { PolicyRule } from './types.js';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface LabelledRole {
  name: string;
  labels: Record<string, string>;
  rules: PolicyRule[];
}

/** metav1.LabelSelectorAsSelector semantics; an empty selector selects everything. */
export function selects(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function aggregateRules(target: string, selectors: LabelSelector[], roles: LabelledRole[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const sorted = [...roles].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const sel of selectors)
    for (const r of sorted) {
      if (r.name === target || !selects(sel, r.labels)) continue;
      for (const rule of r.rules) if (!out.some((x) => sameRule(x, rule))) out.push(rule);
    }
  return out;
}
