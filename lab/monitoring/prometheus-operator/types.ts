// Plain-data inputs and outputs of the prometheus-operator translation. Field names are those of the
// monitoring.coreos.com CRDs (camelCase), so objects rendered by the chart and parsed from YAML are inputs as they are.

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** metav1.LabelSelector. `undefined`/`null` and `{}` differ: nil selects nothing (or "own namespace"), {} everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/** Any object of the cluster: PodMonitor, ServiceMonitor, PrometheusRule, AlertmanagerConfig, Secret (others are ignored). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  /** Secrets: base64 values. */
  data?: Record<string, string>;
  /** Secrets as written (the API server folds it into data; accepted here too). */
  stringData?: Record<string, string>;
  [field: string]: unknown;
}

export interface NamespaceInfo {
  name: string;
  labels?: Record<string, string>;
}

export interface SecretKeySelector {
  name: string;
  key: string;
  optional?: boolean;
}

/** The Prometheus custom resource (monitoring.coreos.com/v1): only metadata and spec are read. */
export interface PrometheusResource {
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
}

/** The Alertmanager custom resource (monitoring.coreos.com/v1). */
export interface AlertmanagerResource {
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
}

export interface TranslateInput {
  prometheus: PrometheusResource;
  alertmanager: AlertmanagerResource;
  /** Every namespace of the cluster with its labels (namespace selectors match these). */
  namespaces: NamespaceInfo[];
  /** The objects of the cluster; kinds the translation does not read are ignored. */
  objects: KubeObject[];
  /**
   * What prometheus-config-reloader substitutes for `$(VAR)` in the generated prometheus.yml (POD_NAME, SHARD).
   * Default: the first replica of shard 0, `prometheus-<name>-0`.
   */
  env?: Record<string, string>;
  /** Where the rule ConfigMaps are mounted (prometheus-operator: /etc/prometheus/rules). */
  rulesDir?: string;
}

/** An object that prometheus-operator would skip (it logs, emits an InvalidConfiguration event, and goes on). */
export interface Rejection {
  kind: string;
  /** `<namespace>/<name>` */
  object: string;
  reason: string;
}

export interface Translation {
  prometheus: {
    /** The generated configuration as the operator stores it (with `$(POD_NAME)`, `$(SHARD)`). */
    config: Record<string, unknown>;
    /** prometheus.yml as the config reloader writes it for Prometheus (env substituted). */
    yaml: string;
    /** Rule files by path relative to `rulesDir` (`prometheus-<name>-rulefiles-<i>/<ns>-<name>-<uid>.yaml`). */
    ruleFiles: Record<string, string>;
  };
  alertmanager: {
    config: Record<string, unknown>;
    /** alertmanager.yaml as the operator generates it (secrets inlined, as upstream does). */
    yaml: string;
  };
  /** `<namespace>/<name>` of every object the translation used, by kind. */
  selected: {
    PodMonitor: string[];
    ServiceMonitor: string[];
    PrometheusRule: string[];
    AlertmanagerConfig: string[];
  };
  rejected: Rejection[];
}
