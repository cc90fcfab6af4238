// metav1.LabelSelector matching (matchLabels AND matchExpressions), as k8s.io/apimachinery's
// LabelSelectorAsSelector: an empty selector selects everything; a missing one (null) selects nothing where the
// caller says so. https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export type Labels = Record<string, string> | undefined;

/** Throws an error naming the bad part for an operator or values the API server would refuse. */
export function checkSelector(sel: LabelSelector): void {
  for (const e of sel.matchExpressions ?? []) {
    const values = e.values ?? [];
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (values.length === 0) throw new Error(`matchExpressions key ${e.key}: operator ${e.operator} needs values`);
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (values.length > 0) throw new Error(`matchExpressions key ${e.key}: operator ${e.operator} takes no values`);
    } else throw new Error(`matchExpressions key ${e.key}: unknown operator ${JSON.stringify(e.operator)}`);
  }
}

export function selectorMatches(sel: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels?.[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels?.[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(value!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value!)) return false;
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
