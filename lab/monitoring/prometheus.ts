// The lab's real Prometheus: scrapes the hop exporters found in a file-SD file (the lab kubelet writes it with the
// identity labels a PodMonitor would add), the operator, and Alertmanager; evaluates the project's rules.
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
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
  const proc = supervisor.start('prometheus', '/usr/bin/prometheus', {
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
