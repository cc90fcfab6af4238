// Label and namespace selection as prometheus-operator does it, with apimachinery's semantics:
// metav1.LabelSelectorAsSelector (nil selects nothing, {} selects everything, requirements ANDed) and
// operator.SelectNamespacesFromCache (a nil namespace selector means the resource's own namespace only).
import { selectorMatches } from '../../kube/label-selector.js';
import { InvalidObjectError } from './fields.js';
import type { LabelSelector, NamespaceInfo } from './types.js';

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/** Throws InvalidObjectError as LabelSelectorAsSelector would refuse the selector. */
export function checkLabelSelector(sel: LabelSelector | null | undefined, where: string): void {
  if (!sel) return;
  for (const [i, r] of (sel.matchExpressions ?? []).entries()) {
    if (!(OPERATORS as readonly string[]).includes(r.operator))
      throw new InvalidObjectError(
        `${where}.matchExpressions[${i}]: "${r.operator}" is not a valid label selector operator`,
      );
    const n = r.values?.length ?? 0;
    if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0)
      throw new InvalidObjectError(
        `${where}.matchExpressions[${i}]: for 'in', 'notin' operators, values set can't be empty`,
      );
    if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0)
      throw new InvalidObjectError(
        `${where}.matchExpressions[${i}]: values set must be empty for exists and does not exist`,
      );
  }
}

/** metav1.LabelSelectorAsSelector(sel).Matches(labels). */
export function labelSelectorMatches(
  sel: LabelSelector | null | undefined,
  labels: Record<string, string> = {},
): boolean {
  if (sel === null || sel === undefined) return false; // labels.Nothing()
  return selectorMatches(sel, labels);
}

/** operator.SelectNamespacesFromCache: nil → [own namespace]; otherwise every matching namespace, sorted. */
export function selectNamespaces(
  ownNamespace: string,
  sel: LabelSelector | null | undefined,
  namespaces: NamespaceInfo[],
  where: string,
): string[] {
  if (sel === null || sel === undefined) return [ownNamespace];
  checkLabelSelector(sel, where);
  return namespaces
    .filter((ns) => labelSelectorMatches(sel, ns.labels ?? {}))
    .map((ns) => ns.name)
    .sort();
}

/** Every namespace of the cluster carries `kubernetes.io/metadata.name` (the API server sets it). */
export function withNameLabel(namespaces: NamespaceInfo[]): NamespaceInfo[] {
  return namespaces.map((ns) => ({ ...ns, labels: { ...(ns.labels ?? {}), 'kubernetes.io/metadata.name': ns.name } }));
}
