// kube-prometheus-stack's defaults as a named preset: the Prometheus and Alertmanager resources, and the base
// Alertmanager configuration Secret, that kube-prometheus-stack 88.5.3 (prometheus-operator v0.93.1) renders with its
// default values (charts/kube-prometheus-stack/values.yaml and templates/prometheus/prometheus.yaml,
// templates/alertmanager/{alertmanager,secret}.yaml). A user who installs kps with defaults gets exactly this.
import { stringify } from 'yaml';
import type { AlertmanagerResource, KubeObject, PrometheusResource } from './types.js';

export interface KpsOptions {
  /** The kps Helm release name (default kube-prometheus-stack). */
  release?: string;
  /** Its namespace (default monitoring). */
  namespace?: string;
  /** Replaces/extends spec fields of the Prometheus resource (e.g. apiserverConfig for a Prometheus outside the cluster). */
  prometheusSpec?: Record<string, unknown>;
  /** Replaces/extends spec fields of the Alertmanager resource. */
  alertmanagerSpec?: Record<string, unknown>;
}

export interface KpsPreset {
  /** kube-prometheus-stack.fullname: `<release>-kube-prometheus-stack` (or the release if it contains the chart name), cut at 26. */
  fullname: string;
  prometheus: PrometheusResource;
  alertmanager: AlertmanagerResource;
  /** The objects kps itself renders that the translation reads: the base alertmanager.yaml Secret. */
  objects: KubeObject[];
  /** In-cluster URLs of the Services kps creates for them. */
  prometheusUrl: string;
  alertmanagerUrl: string;
}

/** kps values.yaml `alertmanager.config` (88.5.3). */
export const KPS_ALERTMANAGER_CONFIG = {
  global: { resolve_timeout: '5m' },
  inhibit_rules: [
    {
      source_matchers: ['severity = critical'],
      target_matchers: ['severity =~ warning|info'],
      equal: ['namespace', 'alertname'],
    },
    {
      source_matchers: ['severity = warning'],
      target_matchers: ['severity = info'],
      equal: ['namespace', 'alertname'],
    },
    { source_matchers: ['alertname = InfoInhibitor'], target_matchers: ['severity = info'], equal: ['namespace'] },
    { target_matchers: ['alertname = InfoInhibitor'] },
  ],
  route: {
    group_by: ['namespace'],
    group_wait: '30s',
    group_interval: '5m',
    repeat_interval: '12h',
    receiver: 'null',
    routes: [{ receiver: 'null', matchers: ['alertname = "Watchdog"'] }],
  },
  receivers: [{ name: 'null' }],
  templates: ['/etc/alertmanager/config/*.tmpl'],
};

/** Image tags kps 88.5.3 pins; the Prometheus/Alertmanager `version` follows them. */
export const KPS_VERSIONS = { prometheus: 'v3.14.0', alertmanager: 'v0.34.0' } as const;

const CHART = 'kube-prometheus-stack';

/** kube-prometheus-stack.fullname (templates/_helpers.tpl): trunc 26, trimSuffix "-". */
export function kpsFullname(release: string): string {
  const full = release.includes(CHART) ? release : `${release}-${CHART}`;
  return full.slice(0, 26).replace(/-+$/, '');
}

/** The preset: every `*SelectorNilUsesHelmValues: true` selector becomes `matchLabels: {release: <release>}`. */
export function kubePrometheusStack(opts: KpsOptions = {}): KpsPreset {
  const release = opts.release ?? CHART;
  const namespace = opts.namespace ?? 'monitoring';
  const fullname = kpsFullname(release);
  const byRelease = { matchLabels: { release } };
  const prometheus: PrometheusResource = {
    metadata: { name: `${fullname}-prometheus`, namespace },
    spec: {
      version: KPS_VERSIONS.prometheus,
      alerting: {
        alertmanagers: [
          { namespace, name: `${fullname}-alertmanager`, port: 'http-web', pathPrefix: '/', apiVersion: 'v2' },
        ],
      },
      serviceMonitorSelector: byRelease,
      serviceMonitorNamespaceSelector: {},
      podMonitorSelector: byRelease,
      podMonitorNamespaceSelector: {},
      probeSelector: byRelease,
      probeNamespaceSelector: {},
      ruleSelector: byRelease,
      ruleNamespaceSelector: {},
      scrapeConfigSelector: byRelease,
      scrapeConfigNamespaceSelector: {},
      ...(opts.prometheusSpec ?? {}),
    },
  };
  const alertmanager: AlertmanagerResource = {
    metadata: { name: `${fullname}-alertmanager`, namespace },
    spec: {
      version: KPS_VERSIONS.alertmanager,
      alertmanagerConfigSelector: {},
      alertmanagerConfigNamespaceSelector: {},
      ...(opts.alertmanagerSpec ?? {}),
    },
  };
  const secret: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `alertmanager-${fullname}-alertmanager`, namespace },
    stringData: { 'alertmanager.yaml': stringify(KPS_ALERTMANAGER_CONFIG) },
  };
  return {
    fullname,
    prometheus,
    alertmanager,
    objects: [secret],
    prometheusUrl: `http://${fullname}-prometheus.${namespace}.svc:9090`,
    alertmanagerUrl: `http://${fullname}-alertmanager.${namespace}.svc:9093`,
  };
}
