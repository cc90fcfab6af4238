// prometheus.yml from a Prometheus resource and the PodMonitors/ServiceMonitors it selects, following
// prometheus-operator v0.93 pkg/prometheus/promcfg.go (ConfigGenerator) and resource_selector.go. Each function names
// the upstream function it follows; keys are emitted in upstream's order. Fields the objects use but this file does
// not implement throw NotTranslatedError.
import { checkLabelSelector, labelSelectorMatches, selectNamespaces } from './selectors.js';
import {
  InvalidObjectError,
  NotTranslatedError,
  arr,
  bool,
  isObj,
  isUnset,
  keyOf,
  onlyKnown,
  str,
  type Obj,
} from './fields.js';
import type { SecretStore } from './secrets.js';
import type {
  KubeObject,
  LabelSelector,
  NamespaceInfo,
  PrometheusResource,
  Rejection,
  SecretKeySelector,
} from './types.js';
import { parse } from 'yaml';

/** Spec fields that only shape the StatefulSet (pods, storage, images): they do not change prometheus.yml. */
const POD_ONLY_FIELDS = [
  'replicas',
  'image',
  'version',
  'retention',
  'retentionSize',
  'resources',
  'securityContext',
  'serviceAccountName',
  'nodeSelector',
  'tolerations',
  'affinity',
  'topologySpreadConstraints',
  'storage',
  'podMetadata',
  'logLevel',
  'logFormat',
  'paused',
  'portName',
  'routePrefix',
  'externalUrl',
  'listenLocal',
  'walCompression',
  'enableAdminAPI',
  'web',
  'containers',
  'initContainers',
  'volumes',
  'volumeMounts',
  'secrets',
  'configMaps',
  'priorityClassName',
  'hostNetwork',
  'enableFeatures',
  'additionalArgs',
  'imagePullSecrets',
  'imagePullPolicy',
  'minReadySeconds',
  'persistentVolumeClaimRetentionPolicy',
  'automountServiceAccountToken',
  'enableRemoteWriteReceiver',
  'enableOTLPReceiver',
  'disableCompaction',
  'maximumStartupDurationSeconds',
  'podManagementPolicy',
  // Selectors of kinds this translation refuses when objects of them exist (see translate.ts).
  'probeSelector',
  'probeNamespaceSelector',
  'scrapeConfigSelector',
  'scrapeConfigNamespaceSelector',
] as const;

const CONFIG_FIELDS = [
  'scrapeInterval',
  'scrapeTimeout',
  'evaluationInterval',
  'externalLabels',
  'replicaExternalLabelName',
  'prometheusExternalLabelName',
  'ruleSelector',
  'ruleNamespaceSelector',
  'podMonitorSelector',
  'podMonitorNamespaceSelector',
  'serviceMonitorSelector',
  'serviceMonitorNamespaceSelector',
  'serviceDiscoveryRole',
  'apiserverConfig',
  'alerting',
  'additionalScrapeConfigs',
  'additionalAlertManagerConfigs',
  'shards',
  'podTargetLabels',
  'ignoreNamespaceSelectors',
  'overrideHonorLabels',
  'overrideHonorTimestamps',
] as const;

// kubebuilder defaults of the Prometheus CRD (prometheus_types.go), applied as the API server stores the object.
const DEFAULT_SCRAPE_INTERVAL = '30s';
const DEFAULT_EVALUATION_INTERVAL = '30s';

export interface PrometheusContext {
  prometheus: PrometheusResource;
  namespaces: NamespaceInfo[];
  objects: KubeObject[];
  secrets: SecretStore;
  /** True when the cluster serves discovery.k8s.io/v1 (operator's WithEndpointSliceSupport). */
  endpointSliceSupported?: boolean;
}

export interface PrometheusSelection {
  serviceMonitors: Map<string, KubeObject>;
  podMonitors: Map<string, KubeObject>;
  rejected: Rejection[];
}

interface Spec {
  where: string;
  namespace: string;
  name: string;
  raw: Obj;
}

function specOf(p: PrometheusResource): Spec {
  const where = `Prometheus ${p.metadata.namespace}/${p.metadata.name}`;
  const raw = onlyKnown(p.spec, [...POD_ONLY_FIELDS, ...CONFIG_FIELDS], where, 'spec');
  if (raw.enforcedNamespaceLabel) throw new NotTranslatedError(where, 'spec.enforcedNamespaceLabel');
  const shards = raw.shards ?? 1;
  if (shards !== 1) throw new NotTranslatedError(where, 'spec.shards', 'only 1 shard');
  const version = str(raw.version);
  if (version && !/^v?[23]\./.test(version))
    throw new InvalidObjectError(`${where}: unsupported Prometheus version "${version}"`);
  return { where, namespace: p.metadata.namespace, name: p.metadata.name, raw };
}

const sanitizeLabelName = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_');

const RELABEL_ACTIONS = [
  'replace',
  'keep',
  'drop',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
  'keepequal',
  'dropequal',
];

/** RelabelConfig with the CRD default (action: replace) applied, checked as validation.LabelConfigValidator does. */
function checkRelabelings(list: unknown, where: string): Obj[] {
  return arr<unknown>(list).map((r, i) => {
    const rc = onlyKnown(
      r,
      ['sourceLabels', 'separator', 'targetLabel', 'regex', 'modulus', 'replacement', 'action'],
      where,
      `[${i}]`,
    );
    const action = (str(rc.action) ?? 'replace').toLowerCase();
    if (!RELABEL_ACTIONS.includes(action))
      throw new InvalidObjectError(`${where}[${i}]: unknown relabel action "${String(rc.action)}"`);
    if (
      ['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action) &&
      !str(rc.targetLabel)
    )
      throw new InvalidObjectError(
        `${where}[${i}]: relabel configuration for ${action} action needs targetLabel value`,
      );
    if (action === 'hashmod' && !rc.modulus)
      throw new InvalidObjectError(`${where}[${i}]: relabel configuration for hashmod requires non-zero modulus`);
    return { ...rc, action };
  });
}

/** generateRelabelConfig */
export function generateRelabelConfig(rcs: Obj[]): Obj[] {
  return rcs.map((c) => {
    const out: Obj = {};
    if (arr(c.sourceLabels).length) out.source_labels = c.sourceLabels;
    if (c.separator !== undefined && c.separator !== null) out.separator = c.separator;
    if (str(c.targetLabel)) out.target_label = c.targetLabel;
    if (str(c.regex)) out.regex = c.regex;
    if (c.modulus) out.modulus = c.modulus;
    if (c.replacement !== undefined && c.replacement !== null) out.replacement = c.replacement;
    if (str(c.action)) out.action = String(c.action).toLowerCase();
    return out;
  });
}

/** getNamespacesFromNamespaceSelector */
function monitorNamespaces(spec: Spec, nsel: unknown, monitorNs: string, where: string): string[] {
  const sel = onlyKnown(nsel, ['any', 'matchNames'], where, 'spec.namespaceSelector');
  if (spec.raw.ignoreNamespaceSelectors === true) return [monitorNs];
  if (sel.any === true) return [];
  const names = arr<string>(sel.matchNames);
  return names.length ? names : [monitorNs];
}

/** addAuthorizationToYaml / addTLStoYaml / generateK8SSDConfig's apiserverConfig part. */
function apiServerFields(spec: Spec, secrets: SecretStore): Obj {
  const cfg = spec.raw.apiserverConfig;
  if (isUnset(cfg)) return {};
  const a = onlyKnown(
    cfg,
    ['host', 'authorization', 'tlsConfig', 'bearerTokenFile'],
    spec.where,
    'spec.apiserverConfig',
  );
  const out: Obj = { api_server: a.host };
  if (str(a.bearerTokenFile)) out.bearer_token_file = a.bearerTokenFile;
  if (!isUnset(a.authorization)) {
    const auth = onlyKnown(
      a.authorization,
      ['type', 'credentials', 'credentialsFile'],
      spec.where,
      'spec.apiserverConfig.authorization',
    );
    const authCfg: Obj = { type: (str(auth.type) ?? 'Bearer').trim() };
    if (!isUnset(auth.credentials))
      authCfg.credentials = secrets.get(spec.namespace, auth.credentials as SecretKeySelector);
    if (str(auth.credentialsFile)) authCfg.credentials_file = auth.credentialsFile;
    out.authorization = authCfg;
  }
  if (!isUnset(a.tlsConfig)) {
    const t = onlyKnown(
      a.tlsConfig,
      ['insecureSkipVerify', 'serverName', 'caFile', 'certFile', 'keyFile'],
      spec.where,
      'spec.apiserverConfig.tlsConfig',
    );
    const tls: Obj = {};
    if (bool(t.insecureSkipVerify) !== undefined) tls.insecure_skip_verify = t.insecureSkipVerify;
    if (str(t.serverName)) tls.server_name = t.serverName;
    if (str(t.caFile)) tls.ca_file = t.caFile;
    if (str(t.certFile)) tls.cert_file = t.certFile;
    if (str(t.keyFile)) tls.key_file = t.keyFile;
    out.tls_config = tls;
  }
  return out;
}

/** generateK8SSDConfig */
function k8sSDConfig(role: string, namespaces: string[], apiServer: Obj): Obj {
  const sd: Obj = { role };
  if (namespaces.length) sd.namespaces = { names: namespaces };
  return { ...sd, ...apiServer };
}

/** initRelabelings */
const initRelabelings = (): Obj[] => [{ source_labels: ['job'], target_label: '__tmp_prometheus_job_name' }];

/** generateRunningFilter */
const runningFilter = (): Obj => ({
  action: 'drop',
  source_labels: ['__meta_kubernetes_pod_phase'],
  regex: '(Failed|Succeeded)',
});

/** appendShardingRelabelingWithAddress (one shard, no topology sharding): `$(SHARD)` is filled in by the config reloader. */
const shardingRelabelings = (shards: number): Obj[] => [
  {
    source_labels: ['__address__', '__tmp_hash'],
    target_label: '__tmp_hash',
    regex: '(.+);',
    replacement: '$1',
    action: 'replace',
  },
  { source_labels: ['__tmp_hash'], target_label: '__tmp_hash', modulus: shards, action: 'hashmod' },
  { source_labels: ['__tmp_hash', '__tmp_disable_sharding'], regex: '$(SHARD);|.+;.+', action: 'keep' },
];

/** The pod/service label selector as keep/drop relabelings (the RelabelConfig selector mechanism). */
function selectorRelabelings(sel: LabelSelector, prefix: 'pod' | 'service'): Obj[] {
  const label = (k: string) => `__meta_kubernetes_${prefix}_label_${sanitizeLabelName(k)}`;
  const present = (k: string) => `__meta_kubernetes_${prefix}_labelpresent_${sanitizeLabelName(k)}`;
  const out: Obj[] = [];
  for (const k of Object.keys(sel.matchLabels ?? {}).sort())
    out.push({ action: 'keep', source_labels: [label(k), present(k)], regex: `(${sel.matchLabels![k]});true` });
  for (const e of sel.matchExpressions ?? []) {
    const values = (e.values ?? []).join('|');
    if (e.operator === 'In')
      out.push({ action: 'keep', source_labels: [label(e.key), present(e.key)], regex: `(${values});true` });
    if (e.operator === 'NotIn')
      out.push({ action: 'drop', source_labels: [label(e.key), present(e.key)], regex: `(${values});true` });
    if (e.operator === 'Exists') out.push({ action: 'keep', source_labels: [present(e.key)], regex: 'true' });
    if (e.operator === 'DoesNotExist') out.push({ action: 'drop', source_labels: [present(e.key)], regex: 'true' });
  }
  return out;
}

/** CompareScrapeTimeoutToScrapeInterval via validateScrapeIntervalAndTimeout. */
function checkTimeout(spec: Spec, interval: unknown, timeout: unknown, where: string): void {
  if (!str(timeout)) return;
  const i = durationMs(str(interval) ?? str(spec.raw.scrapeInterval) ?? DEFAULT_SCRAPE_INTERVAL, where);
  const t = durationMs(String(timeout), where);
  if (t > i)
    throw new InvalidObjectError(
      `${where}: scrapeTimeout "${String(timeout)}" greater than scrapeInterval "${String(interval ?? spec.raw.scrapeInterval ?? DEFAULT_SCRAPE_INTERVAL)}"`,
    );
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};
/** Prometheus' model.ParseDuration. */
export function durationMs(d: string, where: string): number {
  const m = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(d);
  if (!m || d === '') throw new InvalidObjectError(`${where}: "${d}" is not a valid duration`);
  const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  return units.reduce((sum, u, i) => sum + Number(m[i + 1] ?? 0) * UNIT_MS[u]!, 0);
}

const ENDPOINT_COMMON = [
  'path',
  'scheme',
  'params',
  'interval',
  'scrapeTimeout',
  'honorLabels',
  'honorTimestamps',
  'relabelings',
  'metricRelabelings',
  'filterRunning',
  'followRedirects',
  'enableHttp2',
];

/** checkPodMonitor / checkServiceMonitor: the checks prometheus-operator makes before it uses a monitor. */
function checkMonitor(spec: Spec, m: KubeObject, kind: 'PodMonitor' | 'ServiceMonitor'): void {
  const where = `${kind} ${keyOf(m.metadata)}`;
  const s = onlyKnown(
    m.spec,
    kind === 'PodMonitor'
      ? [
          'selector',
          'namespaceSelector',
          'podMetricsEndpoints',
          'jobLabel',
          'podTargetLabels',
          'sampleLimit',
          'targetLimit',
          'selectorMechanism',
        ]
      : [
          'selector',
          'namespaceSelector',
          'endpoints',
          'jobLabel',
          'targetLabels',
          'podTargetLabels',
          'sampleLimit',
          'targetLimit',
          'selectorMechanism',
          'serviceDiscoveryRole',
        ],
    where,
    'spec',
  );
  checkLabelSelector(s.selector as LabelSelector, `${where}: spec.selector`);
  if (str(s.selectorMechanism) && s.selectorMechanism !== 'RelabelConfig')
    throw new NotTranslatedError(where, 'spec.selectorMechanism', 'only RelabelConfig');
  const eps = arr<Obj>(kind === 'PodMonitor' ? s.podMetricsEndpoints : s.endpoints);
  eps.forEach((ep, i) => {
    const path = `spec.${kind === 'PodMonitor' ? 'podMetricsEndpoints' : 'endpoints'}[${i}]`;
    onlyKnown(
      ep,
      kind === 'PodMonitor'
        ? ['port', 'portNumber', 'targetPort', ...ENDPOINT_COMMON]
        : ['port', 'targetPort', ...ENDPOINT_COMMON],
      where,
      path,
    );
    checkTimeout(spec, ep.interval, ep.scrapeTimeout, `${where}: ${path}`);
    checkRelabelings(ep.relabelings, `${where}: ${path}.relabelings`);
    checkRelabelings(ep.metricRelabelings, `${where}: ${path}.metricRelabelings`);
  });
}

function commonEndpointFields(ep: Obj, cfg: Obj): void {
  if (str(ep.interval)) cfg.scrape_interval = ep.interval;
  if (str(ep.scrapeTimeout)) cfg.scrape_timeout = ep.scrapeTimeout;
  if (str(ep.path)) cfg.metrics_path = ep.path;
  if (isObj(ep.params) && Object.keys(ep.params).length) cfg.params = ep.params;
  if (str(ep.scheme)) cfg.scheme = ep.scheme;
  if (bool(ep.followRedirects) !== undefined) cfg.follow_redirects = ep.followRedirects;
  if (bool(ep.enableHttp2) !== undefined) cfg.enable_http2 = ep.enableHttp2;
}

/** AddHonorLabels + AddHonorTimestamps */
function honor(spec: Spec, ep: Obj, cfg: Obj): void {
  cfg.honor_labels = spec.raw.overrideHonorLabels === true ? false : ep.honorLabels === true;
  if (ep.honorTimestamps !== undefined || spec.raw.overrideHonorTimestamps === true)
    cfg.honor_timestamps = ep.honorTimestamps === true && spec.raw.overrideHonorTimestamps !== true;
}

/** AddLimitsToYAML (no enforced limits) */
function limits(m: Obj, cfg: Obj): void {
  if (m.sampleLimit) cfg.sample_limit = m.sampleLimit;
  if (m.targetLimit) cfg.target_limit = m.targetLimit;
}

const targetLabelRelabelings = (labels: string[], prefix: 'pod' | 'service'): Obj[] =>
  labels.map((l) => ({
    source_labels: [`__meta_kubernetes_${prefix}_label_${sanitizeLabelName(l)}`],
    target_label: sanitizeLabelName(l),
    regex: '(.+)',
    replacement: '${1}',
  }));

/** generatePodMonitorConfig */
function podMonitorConfig(spec: Spec, m: KubeObject, ep: Obj, i: number, apiServer: Obj): Obj {
  const s = m.spec as Obj;
  const ns = m.metadata.namespace!;
  const where = `PodMonitor ${keyOf(m.metadata)}`;
  const cfg: Obj = { job_name: `podMonitor/${ns}/${m.metadata.name}/${i}` };
  honor(spec, ep, cfg);
  cfg.kubernetes_sd_configs = [k8sSDConfig('pod', monitorNamespaces(spec, s.namespaceSelector, ns, where), apiServer)];
  commonEndpointFields(ep, cfg);
  const rel: Obj[] = initRelabelings();
  if (ep.filterRunning !== false) rel.push(runningFilter());
  rel.push(...selectorRelabelings((s.selector ?? {}) as LabelSelector, 'pod'));
  if (str(ep.port))
    rel.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: ep.port });
  else if (ep.portNumber)
    rel.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: ep.portNumber });
  else if (ep.targetPort !== undefined && ep.targetPort !== null && ep.targetPort !== '') {
    if (typeof ep.targetPort === 'string')
      rel.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: ep.targetPort });
    else if (ep.targetPort)
      rel.push({
        action: 'keep',
        source_labels: ['__meta_kubernetes_pod_container_port_number'],
        regex: ep.targetPort,
      });
  }
  rel.push(
    { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
    { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
  );
  rel.push(
    ...targetLabelRelabelings([...arr<string>(s.podTargetLabels), ...arr<string>(spec.raw.podTargetLabels)], 'pod'),
  );
  rel.push({ target_label: 'job', replacement: `${ns}/${m.metadata.name}` });
  if (str(s.jobLabel))
    rel.push({
      source_labels: [`__meta_kubernetes_pod_label_${sanitizeLabelName(String(s.jobLabel))}`],
      target_label: 'job',
      regex: '(.+)',
      replacement: '${1}',
    });
  if (str(ep.port)) rel.push({ target_label: 'endpoint', replacement: ep.port });
  else if (ep.targetPort !== undefined && ep.targetPort !== null && String(ep.targetPort) !== '')
    rel.push({ target_label: 'endpoint', replacement: String(ep.targetPort) });
  rel.push(...generateRelabelConfig(checkRelabelings(ep.relabelings, where)));
  rel.push(...shardingRelabelings(1));
  cfg.relabel_configs = rel;
  limits(s, cfg);
  const metric = checkRelabelings(ep.metricRelabelings, where);
  if (metric.length) cfg.metric_relabel_configs = generateRelabelConfig(metric);
  return cfg;
}

/** generateServiceMonitorConfig */
function serviceMonitorConfig(spec: Spec, m: KubeObject, ep: Obj, i: number, apiServer: Obj, slices: boolean): Obj {
  const s = m.spec as Obj;
  const ns = m.metadata.namespace!;
  const where = `ServiceMonitor ${keyOf(m.metadata)}`;
  const cfg: Obj = { job_name: `serviceMonitor/${ns}/${m.metadata.name}/${i}` };
  honor(spec, ep, cfg);
  const sdr = str(s.serviceDiscoveryRole) ?? str(spec.raw.serviceDiscoveryRole) ?? 'Endpoints';
  const role = slices && sdr === 'EndpointSlice' ? 'endpointslice' : 'endpoints';
  cfg.kubernetes_sd_configs = [k8sSDConfig(role, monitorNamespaces(spec, s.namespaceSelector, ns, where), apiServer)];
  commonEndpointFields(ep, cfg);
  const rel: Obj[] = initRelabelings();
  rel.push(...selectorRelabelings((s.selector ?? {}) as LabelSelector, 'service'));
  const prefix = role === 'endpointslice' ? '__meta_kubernetes_endpointslice' : '__meta_kubernetes_endpoint';
  if (str(ep.port)) rel.push({ action: 'keep', source_labels: [`${prefix}_port_name`], regex: ep.port });
  else if (typeof ep.targetPort === 'string' && ep.targetPort)
    rel.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: ep.targetPort });
  else if (typeof ep.targetPort === 'number' && ep.targetPort)
    rel.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: ep.targetPort });
  const target = [`${prefix}_address_target_kind`, `${prefix}_address_target_name`];
  rel.push(
    { source_labels: target, separator: ';', regex: 'Node;(.*)', replacement: '${1}', target_label: 'node' },
    { source_labels: target, separator: ';', regex: 'Pod;(.*)', replacement: '${1}', target_label: 'pod' },
    { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
    { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
    { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
  );
  if (ep.filterRunning !== false) rel.push(runningFilter());
  rel.push(...targetLabelRelabelings(arr<string>(s.targetLabels), 'service'));
  rel.push(
    ...targetLabelRelabelings([...arr<string>(s.podTargetLabels), ...arr<string>(spec.raw.podTargetLabels)], 'pod'),
  );
  rel.push({ source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' });
  if (str(s.jobLabel))
    rel.push({
      source_labels: [`__meta_kubernetes_service_label_${sanitizeLabelName(String(s.jobLabel))}`],
      target_label: 'job',
      regex: '(.+)',
      replacement: '${1}',
    });
  if (str(ep.port)) rel.push({ target_label: 'endpoint', replacement: ep.port });
  else if (ep.targetPort !== undefined && ep.targetPort !== null && String(ep.targetPort) !== '')
    rel.push({ target_label: 'endpoint', replacement: String(ep.targetPort) });
  rel.push(...generateRelabelConfig(checkRelabelings(ep.relabelings, where)));
  rel.push(...shardingRelabelings(1));
  cfg.relabel_configs = rel;
  limits(s, cfg);
  const metric = checkRelabelings(ep.metricRelabelings, where);
  if (metric.length) cfg.metric_relabel_configs = generateRelabelConfig(metric);
  return cfg;
}

/** ResourceSelector.SelectServiceMonitors / SelectPodMonitors (selectObjects): namespaces, labels, checks. */
export function selectMonitors(ctx: PrometheusContext): PrometheusSelection {
  const spec = specOf(ctx.prometheus);
  const rejected: Rejection[] = [];
  const pick = (kind: 'PodMonitor' | 'ServiceMonitor', selField: string, nsField: string) => {
    const selector = spec.raw[selField] as LabelSelector | null | undefined;
    checkLabelSelector(selector, `${spec.where}: spec.${selField}`);
    const namespaces = new Set(
      selectNamespaces(
        spec.namespace,
        spec.raw[nsField] as LabelSelector | null | undefined,
        ctx.namespaces,
        `${spec.where}: spec.${nsField}`,
      ),
    );
    const out = new Map<string, KubeObject>();
    for (const o of ctx.objects) {
      if (o.kind !== kind || !namespaces.has(o.metadata.namespace ?? '')) continue;
      if (!labelSelectorMatches(selector, o.metadata.labels ?? {})) continue;
      try {
        checkMonitor(spec, o, kind);
        out.set(keyOf(o.metadata), o);
      } catch (e) {
        if (!(e instanceof InvalidObjectError)) throw e;
        rejected.push({ kind, object: keyOf(o.metadata), reason: e.message });
      }
    }
    return out;
  };
  return {
    serviceMonitors: pick('ServiceMonitor', 'serviceMonitorSelector', 'serviceMonitorNamespaceSelector'),
    podMonitors: pick('PodMonitor', 'podMonitorSelector', 'podMonitorNamespaceSelector'),
    rejected,
  };
}

/** buildExternalLabels */
function externalLabels(spec: Spec): Obj {
  const m: Record<string, string> = {};
  const promLabel =
    spec.raw.prometheusExternalLabelName === undefined ? 'prometheus' : String(spec.raw.prometheusExternalLabelName);
  if (promLabel) m[promLabel] = `${spec.namespace}/${spec.name}`;
  const replicaLabel = replicaLabelName(spec);
  if (replicaLabel) m[replicaLabel] = '$(POD_NAME)';
  for (const [k, v] of Object.entries((spec.raw.externalLabels as Record<string, string> | undefined) ?? {}))
    if (!(k in m)) m[k] = v; // reserved keys win, as upstream (it logs a warning)
  return Object.fromEntries(
    Object.keys(m)
      .sort()
      .map((k) => [k, m[k]]),
  );
}

const replicaLabelName = (spec: Spec): string =>
  spec.raw.replicaExternalLabelName === undefined || spec.raw.replicaExternalLabelName === null
    ? 'prometheus_replica'
    : String(spec.raw.replicaExternalLabelName);

/** YAML list held in a Secret (additionalScrapeConfigs, additionalAlertManagerConfigs), as yaml.Unmarshal reads it. */
function secretYamlList(spec: Spec, secrets: SecretStore, field: string): Obj[] {
  const sel = spec.raw[field];
  if (isUnset(sel)) return [];
  const text = secrets.get(spec.namespace, sel as SecretKeySelector);
  const parsed: unknown = parse(text);
  if (parsed === null || parsed === undefined) return [];
  if (!Array.isArray(parsed))
    throw new InvalidObjectError(`${spec.where}: spec.${field}: the Secret's value must be a YAML list`);
  return parsed as Obj[];
}

/** generateAlertmanagerConfig: one entry per spec.alerting.alertmanagers, discovered through their Service's endpoints. */
function alertmanagerEndpoints(spec: Spec, apiServer: Obj, slices: boolean): Obj[] {
  const alerting = onlyKnown(spec.raw.alerting, ['alertmanagers'], spec.where, 'spec.alerting');
  return arr<Obj>(alerting.alertmanagers).map((am, i) => {
    const a = onlyKnown(
      am,
      ['namespace', 'name', 'port', 'scheme', 'pathPrefix', 'apiVersion', 'timeout', 'enableHttp2'],
      spec.where,
      `spec.alerting.alertmanagers[${i}]`,
    );
    const cfg: Obj = {};
    if (str(a.scheme)) cfg.scheme = a.scheme;
    if (str(a.pathPrefix)) cfg.path_prefix = a.pathPrefix;
    if (str(a.timeout)) cfg.timeout = a.timeout;
    if (bool(a.enableHttp2) !== undefined) cfg.enable_http2 = a.enableHttp2;
    const role = slices && spec.raw.serviceDiscoveryRole === 'EndpointSlice' ? 'endpointslice' : 'endpoints';
    cfg.kubernetes_sd_configs = [k8sSDConfig(role, [str(a.namespace) ?? spec.namespace], apiServer)];
    const v = str(a.apiVersion)?.toUpperCase();
    if (v === 'V2' || v === 'V1') cfg.api_version = v.toLowerCase();
    const rel: Obj[] = [{ action: 'keep', source_labels: ['__meta_kubernetes_service_name'], regex: a.name }];
    if (typeof a.port === 'string' && a.port)
      rel.push({
        action: 'keep',
        source_labels: [
          role === 'endpointslice'
            ? '__meta_kubernetes_endpointslice_port_name'
            : '__meta_kubernetes_endpoint_port_name',
        ],
        regex: a.port,
      });
    else if (typeof a.port === 'number' && a.port)
      rel.push({
        action: 'keep',
        source_labels: ['__meta_kubernetes_pod_container_port_number'],
        regex: String(a.port),
      });
    cfg.relabel_configs = rel;
    return cfg;
  });
}

/** GenerateServerConfiguration: global, rule_files, scrape_configs, alerting (in that order). */
export function generatePrometheusConfig(
  ctx: PrometheusContext,
  selection: PrometheusSelection,
  ruleConfigMapNames: string[],
  rulesDir: string,
): Obj {
  const spec = specOf(ctx.prometheus);
  const slices = ctx.endpointSliceSupported ?? true;
  const scrapeInterval = str(spec.raw.scrapeInterval) ?? DEFAULT_SCRAPE_INTERVAL;
  if (str(spec.raw.scrapeTimeout)) checkTimeout(spec, scrapeInterval, spec.raw.scrapeTimeout, `${spec.where}: spec`);
  const global: Obj = { scrape_interval: scrapeInterval };
  if (str(spec.raw.scrapeTimeout)) global.scrape_timeout = spec.raw.scrapeTimeout;
  global.external_labels = externalLabels(spec);
  global.evaluation_interval = str(spec.raw.evaluationInterval) ?? DEFAULT_EVALUATION_INTERVAL;
  const cfg: Obj = { global };
  // appendRuleFiles: no ruleSelector, no rule files at all.
  if (spec.raw.ruleSelector !== undefined && spec.raw.ruleSelector !== null)
    cfg.rule_files = ruleConfigMapNames.map((n) => `${rulesDir}/${n}/*.yaml`);
  const apiServer = apiServerFields(spec, ctx.secrets);
  const scrape: Obj[] = [];
  for (const key of [...selection.serviceMonitors.keys()].sort()) {
    const m = selection.serviceMonitors.get(key)!;
    arr<Obj>((m.spec as Obj).endpoints).forEach((ep, i) =>
      scrape.push(serviceMonitorConfig(spec, m, ep, i, apiServer, slices)),
    );
  }
  for (const key of [...selection.podMonitors.keys()].sort()) {
    const m = selection.podMonitors.get(key)!;
    arr<Obj>((m.spec as Obj).podMetricsEndpoints).forEach((ep, i) =>
      scrape.push(podMonitorConfig(spec, m, ep, i, apiServer)),
    );
  }
  // appendAdditionalScrapeConfigs: appended as they are (one shard: no sharding relabelings added).
  scrape.push(...secretYamlList(spec, ctx.secrets, 'additionalScrapeConfigs'));
  cfg.scrape_configs = scrape;
  // appendAlertingConfig
  const additionalAms = secretYamlList(spec, ctx.secrets, 'additionalAlertManagerConfigs');
  if (!isUnset(spec.raw.alerting) || !isUnset(spec.raw.additionalAlertManagerConfigs)) {
    const replica = replicaLabelName(spec);
    cfg.alerting = {
      alert_relabel_configs: replica
        ? [{ action: 'labeldrop', regex: replica.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') }]
        : [],
      alertmanagers: [...alertmanagerEndpoints(spec, apiServer, slices), ...additionalAms],
    };
  }
  return cfg;
}
