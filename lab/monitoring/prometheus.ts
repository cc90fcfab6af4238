// The lab's real Prometheus, two ways:
//  - startPrometheus: scrapes the hop exporters found in a file-SD file (the lab kubelet writes it with the identity
//    labels a PodMonitor would add), the operator, and Alertmanager; evaluates the project's rules;
//  - startPrometheusFromTranslation: runs the configuration translated from the cluster's monitoring objects
//    (./prometheus-operator/), discovering pods in lab/kube with kubernetes_sd_configs as kube-prometheus-stack's does.
import { mkdirSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROMETHEUS_DEBIAN, PROMETHEUS_K8S } from './binaries.js';
import type { Translation } from './prometheus-operator/index.js';
import { stringify } from 'yaml';
import { freePort } from '../runtime/ports.js';
import { waitForHttp } from '../runtime/wait.js';
import type { Managed, Supervisor } from '../runtime/supervisor.js';

export interface ExporterTarget {
  /** host:port of the exporter's /metrics. */
  address: string;
  /** Identity labels of the metrics contract: namespace, torchain, hop, type, server, pod. */
  labels: Record<string, string>;
}

export interface PrometheusOptions {
  dir: string;
  ruleFiles: string[];
  scrapeIntervalSeconds: number;
  evaluationIntervalSeconds: number;
  alertmanagerAddress?: string;
  /** host:port targets scraped with honor_labels (their `namespace` label is the TorChain's). */
  operatorTargets?: string[];
  extraStaticTargets?: Record<string, string[]>;
  /** Prometheus binary (default Debian 12's /usr/bin/prometheus, as before). */
  binary?: string;
}

export interface LabPrometheus {
  url: string;
  process: Managed;
  /** Replaces the exporter targets (atomic file write; Prometheus re-reads file SD on change). */
  setExporterTargets(targets: ExporterTarget[]): void;
}

export function prometheusConfig(opts: PrometheusOptions, sdFile: string): Record<string, unknown> {
  const scrapeConfigs: Record<string, unknown>[] = [
    { job_name: 'torchain-exporters', file_sd_configs: [{ files: [sdFile], refresh_interval: '1s' }] },
  ];
  if (opts.operatorTargets?.length)
    scrapeConfigs.push({
      job_name: 'torchain-operator',
      honor_labels: true,
      static_configs: [{ targets: opts.operatorTargets }],
    });
  if (opts.alertmanagerAddress)
    scrapeConfigs.push({ job_name: 'alertmanager', static_configs: [{ targets: [opts.alertmanagerAddress] }] });
  for (const [job, targets] of Object.entries(opts.extraStaticTargets ?? {}))
    scrapeConfigs.push({ job_name: job, static_configs: [{ targets }] });
  return {
    global: {
      scrape_interval: `${opts.scrapeIntervalSeconds}s`,
      scrape_timeout: `${Math.max(1, opts.scrapeIntervalSeconds - 1)}s`,
      evaluation_interval: `${opts.evaluationIntervalSeconds}s`,
    },
    rule_files: opts.ruleFiles,
    ...(opts.alertmanagerAddress
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [opts.alertmanagerAddress] }] }] } }
      : {}),
    scrape_configs: scrapeConfigs,
  };
}

export async function startPrometheus(supervisor: Supervisor, opts: PrometheusOptions): Promise<LabPrometheus> {
  mkdirSync(join(opts.dir, 'data'), { recursive: true });
  const sdFile = join(opts.dir, 'exporters.json');
  const write = (targets: ExporterTarget[]) => {
    const tmp = `${sdFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(targets.map((t) => ({ targets: [t.address], labels: t.labels }))));
    renameSync(tmp, sdFile);
  };
  write([]);
  const configFile = join(opts.dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(prometheusConfig(opts, sdFile)));
  const port = await freePort();
  const proc = supervisor.start('prometheus', opts.binary ?? PROMETHEUS_DEBIAN, {
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(opts.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--storage.tsdb.retention.time=1d',
    ],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, 30_000);
  return { url, process: proc, setExporterTargets: write };
}

export interface TranslatedPrometheusOptions {
  dir: string;
  /** translate(...) made with `rulesDir: rulesDirOf(dir)` so rule_files point at the files written here. */
  translation: Translation;
  /** Default Debian 13's Prometheus (Kubernetes service discovery). */
  binary?: string;
  port?: number;
  name?: string;
}

export interface TranslatedPrometheus {
  url: string;
  process: Managed;
  /** Writes a new translation and has Prometheus reload it (POST /-/reload), as prometheus-config-reloader does. */
  reload(translation: Translation): Promise<void>;
}

/** Where startPrometheusFromTranslation writes the rule files: pass it as `rulesDir` to translate(). */
export const rulesDirOf = (dir: string) => join(dir, 'rules');

function writeTranslation(dir: string, t: Translation): string {
  const rulesDir = rulesDirOf(dir);
  rmSync(rulesDir, { recursive: true, force: true });
  for (const [rel, text] of Object.entries(t.prometheus.ruleFiles)) {
    const file = join(rulesDir, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  if (Object.keys(t.prometheus.ruleFiles).length && !t.prometheus.yaml.includes(rulesDir))
    throw new Error(
      `the translation's rule_files do not point into ${rulesDir}: translate with rulesDir: rulesDirOf(dir)`,
    );
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(`${configFile}.tmp`, t.prometheus.yaml, { mode: 0o600 });
  renameSync(`${configFile}.tmp`, configFile);
  return configFile;
}

export async function startPrometheusFromTranslation(
  supervisor: Supervisor,
  opts: TranslatedPrometheusOptions,
): Promise<TranslatedPrometheus> {
  mkdirSync(join(opts.dir, 'data'), { recursive: true });
  const configFile = writeTranslation(opts.dir, opts.translation);
  const port = opts.port ?? (await freePort());
  const proc = supervisor.start(opts.name ?? 'prometheus', opts.binary ?? PROMETHEUS_K8S, {
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(opts.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--storage.tsdb.retention.time=1d',
    ],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, 30_000);
  return {
    url,
    process: proc,
    async reload(t) {
      writeTranslation(opts.dir, t);
      const res = await fetch(`${url}/-/reload`, { method: 'POST' });
      if (!res.ok) throw new Error(`Prometheus refused the new configuration: ${res.status} ${await res.text()}`);
    },
  };
}
