// The lab's scheduler: one node, so scheduling is only "does this pod fit the node". A pod whose nodeSelector or
// required node affinity names another node, or that does not tolerate a taint, stays Pending with the reason a
// real scheduler gives (FailedScheduling), exactly as on a cluster without such a node.
// https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/
import type { V1NodeSelectorRequirement, V1Pod, V1Taint } from '@kubernetes/client-node';

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  taints?: V1Taint[];
}

export type Fit = { fits: true } | { fits: false; reason: string };

function matchesRequirement(labels: Record<string, string>, r: V1NodeSelectorRequirement): boolean {
  const value = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** Whether `pod` may run on `node`: nodeName, nodeSelector, required node affinity, taints (NoSchedule/NoExecute). */
export function fitsNode(pod: V1Pod, node: NodeInfo): Fit {
  const spec = pod.spec ?? { containers: [] };
  if (spec.nodeName && spec.nodeName !== node.name)
    return { fits: false, reason: `the pod is bound to node ${spec.nodeName}` };
  const selector = spec.nodeSelector ?? {};
  const mismatched = Object.entries(selector).filter(([k, v]) => node.labels[k] !== v);
  if (mismatched.length)
    return {
      fits: false,
      reason: `0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector (${mismatched
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}; node ${node.name} has ${JSON.stringify(node.labels)})`,
    };
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms?.length) {
    // Terms are ORed, expressions within a term ANDed; matchFields only knows metadata.name.
    const ok = terms.some(
      (t) =>
        (t.matchExpressions ?? []).every((r) => matchesRequirement(node.labels, r)) &&
        (t.matchFields ?? []).every((r) => matchesRequirement({ 'metadata.name': node.name }, r)),
    );
    if (!ok) return { fits: false, reason: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity" };
  }
  for (const taint of node.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    const tolerated = (spec.tolerations ?? []).some(
      (t) =>
        (t.effect === undefined || t.effect === '' || t.effect === taint.effect) &&
        (t.operator === 'Exists'
          ? t.key === undefined || t.key === '' || t.key === taint.key
          : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')),
    );
    if (!tolerated)
      return { fits: false, reason: `0/1 nodes are available: 1 node(s) had untolerated taint {${taint.key}}` };
  }
  return { fits: true };
}
