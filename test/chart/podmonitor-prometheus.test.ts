// The PodMonitor's relabelings, run by the real Prometheus: targets carrying the `__meta_kubernetes_*` labels that
// Kubernetes service discovery gives a hop pod's containers (file SD may carry them too) are scraped with the
// relabel_configs the Prometheus Operator generates from the PodMonitor's `relabelings`. Only the log-exporter's
// port is kept, and the series carry the identity labels of the metrics contract taken from the pod's labels.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { HELM } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { one, render, type Manifest } from './render.js';

const PROMETHEUS = '/usr/bin/prometheus';

/** A PodMonitor relabeling (camelCase CRD fields) as a Prometheus relabel_config (snake_case), as the operator writes it. */
function relabelConfig(r: Manifest): Manifest {
  const fields: Record<string, string> = {
    sourceLabels: 'source_labels',
    targetLabel: 'target_label',
    separator: 'separator',
    regex: 'regex',
    replacement: 'replacement',
    modulus: 'modulus',
    action: 'action',
  };
  const out: Manifest = {};
  for (const [k, v] of Object.entries(r)) {
    if (!fields[k]) throw new Error(`relabeling field ${k} is not translated: add it to the test`);
    out[fields[k]] = k === 'action' ? String(v).toLowerCase() : v;
  }
  return out;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe.skipIf(skipUnless({ binaries: [HELM, PROMETHEUS] }))('the PodMonitor relabelings in a real Prometheus', () => {
  let dir = '';
  let exporter: Server;
  let prometheus: ChildProcess | undefined;
  let url = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'torchain-podmonitor-'));
    // What a log-exporter serves: no identity label at all.
    exporter = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/plain; version=0.0.4');
      res.end('# TYPE torchain_vpn_tunnel_up gauge\ntorchain_vpn_tunnel_up 1\n');
    });
    await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;

    const all = await render({ valuesFiles: [] });
    const endpoint = one(all, 'PodMonitor', 'torchain-hops').spec.podMetricsEndpoints[0] as Manifest;
    const pod = {
      __meta_kubernetes_namespace: 'torchain-system',
      __meta_kubernetes_pod_name: 'office-hop-2-7d9f8b6c5-x2x4z',
      __meta_kubernetes_pod_label_torchain_dev_chain: 'office',
      __meta_kubernetes_pod_label_torchain_dev_hop: '2',
      __meta_kubernetes_pod_label_torchain_dev_type: 'wireguard',
      __meta_kubernetes_pod_label_torchain_dev_server: 'de-fra-02',
    };
    // Kubernetes SD yields one target per declared container port, and one per container without ports.
    const targets = [
      {
        targets: [address],
        labels: {
          ...pod,
          __meta_kubernetes_pod_container_name: 'log-exporter',
          __meta_kubernetes_pod_container_port_number: '9108',
        },
      },
      {
        targets: [address],
        labels: {
          ...pod,
          __meta_kubernetes_pod_container_name: 'log-exporter',
          __meta_kubernetes_pod_container_port_number: '9999',
        },
      },
      { targets: [address], labels: { ...pod, __meta_kubernetes_pod_container_name: 'vpn' } },
    ];
    writeFileSync(join(dir, 'targets.json'), JSON.stringify(targets));
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s' },
      scrape_configs: [
        {
          job_name: 'podMonitor/torchain-system/torchain-hops/0',
          honor_labels: endpoint.honorLabels,
          metrics_path: endpoint.path,
          file_sd_configs: [{ files: [join(dir, 'targets.json')] }],
          relabel_configs: (endpoint.relabelings as Manifest[]).map(relabelConfig),
        },
      ],
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    prometheus.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    for (let i = 0; ; i++) {
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (i > 100 || prometheus.exitCode !== null) throw new Error(`prometheus did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await new Promise<void>((r) => (exporter ? exporter.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps only the log-exporter port and labels the series with namespace, torchain, hop, type, server and pod', async () => {
    let result: Manifest[] = [];
    for (let i = 0; i < 60 && result.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const body = (await (await fetch(`${url}/api/v1/query?query=torchain_vpn_tunnel_up`)).json()) as Manifest;
      result = body.data.result as Manifest[];
    }
    expect(result).toHaveLength(1);
    const { __name__, instance: _instance, job: _job, ...identity } = result[0]!.metric as Record<string, string>;
    expect(__name__).toBe('torchain_vpn_tunnel_up');
    expect(identity).toEqual({
      namespace: 'torchain-system',
      torchain: 'office',
      hop: '2',
      type: 'wireguard',
      server: 'de-fra-02',
      pod: 'office-hop-2-7d9f8b6c5-x2x4z',
    });
    const targets = (await (await fetch(`${url}/api/v1/targets`)).json()) as Manifest;
    expect(targets.data.activeTargets).toHaveLength(1);
    expect(targets.data.droppedTargets).toHaveLength(2);
  });
});
