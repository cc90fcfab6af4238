// PrometheusRule objects → rule files, as prometheus-operator v0.93 does it: selection by ruleSelector and
// ruleNamespaceSelector (pkg/prometheus/server/rules.go selectPrometheusRules), one file per object named
// `<namespace>-<name>-<uid>.yaml` holding the marshalled spec (pkg/operator/rules.go Select,
// generateRulesConfiguration: sigs.k8s.io/yaml, so keys come out sorted), packed first-fit into ConfigMaps
// `prometheus-<name>-rulefiles-<i>` (makeConfigMapsFromRules), of which at least three are listed in rule_files
// (AppendConfigMapNames). PromQL is not parsed here: promtool and Prometheus check the files.
import { stringify } from 'yaml';
import { InvalidObjectError, arr, isObj, keyOf, onlyKnown, type Obj } from './fields.js';
import { checkLabelSelector, labelSelectorMatches, selectNamespaces } from './selectors.js';
import type { KubeObject, LabelSelector, NamespaceInfo, PrometheusResource, Rejection } from './types.js';

/** pkg/operator: MaxConfigMapDataSize (the 1 MiB object limit with room for metadata). */
export const MAX_CONFIGMAP_DATA_SIZE = Math.floor(1024 * 1024 * 0.5);

export interface RuleSelection {
  /** file name → content */
  files: Map<string, string>;
  selected: string[];
  rejected: Rejection[];
}

/** Keys sorted at every level, as sigs.k8s.io/yaml (JSON first) emits them. */
function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (isObj(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortDeep(v[k])]),
    );
  return v;
}

function checkRuleSpec(o: KubeObject): Obj {
  const where = `PrometheusRule ${keyOf(o.metadata)}`;
  const spec = onlyKnown(o.spec, ['groups'], where, 'spec');
  arr<Obj>(spec.groups).forEach((g, i) => {
    onlyKnown(
      g,
      ['name', 'interval', 'rules', 'limit', 'query_offset', 'labels', 'partial_response_strategy'],
      where,
      `spec.groups[${i}]`,
    );
    if (typeof g.name !== 'string' || !g.name)
      throw new InvalidObjectError(`${where}: spec.groups[${i}]: groupname must not be empty`);
    arr<Obj>(g.rules).forEach((r, j) => {
      onlyKnown(
        r,
        ['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'],
        where,
        `spec.groups[${i}].rules[${j}]`,
      );
      if (!r.record === !r.alert)
        throw new InvalidObjectError(
          `${where}: group "${String(g.name)}", rule ${j + 1}: one of 'record' or 'alert' must be set`,
        );
      if (r.expr === undefined || r.expr === '')
        throw new InvalidObjectError(
          `${where}: group "${String(g.name)}", rule ${j + 1}: field 'expr' must be set in rule`,
        );
    });
  });
  const names = arr<Obj>(spec.groups).map((g) => g.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined)
    throw new InvalidObjectError(`${where}: groupname: "${String(dup)}" is repeated in the same file`);
  return spec;
}

/** PrometheusRuleSelector.Select */
export function selectRules(
  prom: PrometheusResource,
  namespaces: NamespaceInfo[],
  objects: KubeObject[],
): RuleSelection {
  const where = `Prometheus ${prom.metadata.namespace}/${prom.metadata.name}`;
  const selector = prom.spec.ruleSelector as LabelSelector | null | undefined;
  checkLabelSelector(selector, `${where}: spec.ruleSelector`);
  const nsSel = prom.spec.ruleNamespaceSelector as LabelSelector | null | undefined;
  const ns = new Set(
    selectNamespaces(prom.metadata.namespace, nsSel, namespaces, `${where}: spec.ruleNamespaceSelector`),
  );
  const files = new Map<string, string>();
  const selected: string[] = [];
  const rejected: Rejection[] = [];
  for (const o of objects) {
    if (o.kind !== 'PrometheusRule' || !ns.has(o.metadata.namespace ?? '')) continue;
    if (!labelSelectorMatches(selector, o.metadata.labels ?? {})) continue;
    try {
      const spec = checkRuleSpec(o);
      const text = stringify(sortDeep(spec), { lineWidth: 0 });
      if (text.length > MAX_CONFIGMAP_DATA_SIZE)
        throw new InvalidObjectError(
          `the length of rendered Prometheus Rule is ${text.length} bytes which is above the maximum limit of ${MAX_CONFIGMAP_DATA_SIZE} bytes`,
        );
      // The UID keeps foo-bar/fred and foo/bar-fred apart.
      files.set(`${o.metadata.namespace}-${o.metadata.name}-${o.metadata.uid ?? ''}.yaml`, text);
      selected.push(keyOf(o.metadata));
    } catch (e) {
      if (!(e instanceof InvalidObjectError)) throw e;
      rejected.push({ kind: 'PrometheusRule', object: keyOf(o.metadata), reason: e.message });
    }
  }
  return { files, selected: selected.sort(), rejected };
}

/** makeConfigMapsFromRules + AppendConfigMapNames(…, 3): ConfigMap name → its files. */
export function ruleConfigMaps(
  promName: string,
  files: Map<string, string>,
): { names: string[]; byConfigMap: Map<string, Map<string, string>> } {
  const buckets: Array<{ files: Map<string, string>; size: number }> = [{ files: new Map(), size: 0 }];
  for (const name of [...files.keys()].sort()) {
    const text = files.get(name)!;
    let b = buckets[buckets.length - 1]!;
    if (b.size + text.length > MAX_CONFIGMAP_DATA_SIZE) buckets.push((b = { files: new Map(), size: 0 }));
    b.files.set(name, text);
    b.size += text.length;
  }
  const cm = (i: number) => `prometheus-${promName}-rulefiles-${i}`;
  const byConfigMap = new Map(buckets.map((b, i) => [cm(i), b.files]));
  const names = [...byConfigMap.keys()];
  for (let i = names.length; i < 3; i++) names.push(cm(i));
  return { names, byConfigMap };
}
