// The whole alerting path with the real daemons: an exporter-shaped /metrics endpoint → Prometheus (rules rendered
// with the given parameters, 1 s scrapes) → Alertmanager (the plain route) → a webhook receiver standing in for the
// operator. Used by the end-to-end test and by `npm run bench:alerting`.
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  alertmanagerYaml,
  durationSeconds,
  renderAlertmanagerConfig,
  renderRulesYaml,
  WEBHOOK_PATH,
  type AlertingParams,
} from '../../prometheus-rules/src/render.js';
import { ALERTMANAGER, freePort, PROMETHEUS, startDaemon, tempDir, type Daemon } from './support.js';

export interface WebhookCall {
  at: number;
  authorization: string | undefined;
  body: {
    status: string;
    groupLabels: Record<string, string>;
    alerts: { status: string; labels: Record<string, string> }[];
  };
}

export const IDENTITY = {
  namespace: 'torchain-e2e',
  torchain: 'e2e',
  hop: '1',
  type: 'openvpn',
  server: 'srv-a',
  pod: 'e2e-hop-1',
};

export interface Pipeline {
  token: string;
  calls: WebhookCall[];
  prometheus: Daemon;
  alertmanager: Daemon;
  /** Sets the exported torchain_vpn_tunnel_up (what the exporter would report). */
  setTunnelUp(up: boolean): void;
  close(): Promise<void>;
}

export async function startPipeline(params: AlertingParams): Promise<Pipeline> {
  const dir = tempDir('pipeline');
  const token = `e2e-${Math.random().toString(36).slice(2)}`;
  const calls: WebhookCall[] = [];
  let tunnelUp = 1;
  const servers: Server[] = [];
  const daemons: Daemon[] = [];
  const close = async () => {
    for (const d of daemons.reverse()) await d.stop();
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    dir.remove();
  };
  const listen = async (server: Server) => {
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    return `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  };
  try {
    const exporter = await listen(
      createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(
          '# TYPE torchain_vpn_tunnel_up gauge\n' +
            `torchain_vpn_tunnel_up ${tunnelUp}\n` +
            '# TYPE torchain_vpn_connection_errors_total counter\n' +
            'torchain_vpn_connection_errors_total{reason="connection_refused"} 0\n',
        );
      }),
    );
    const receiver = await listen(
      createServer((req, res) => {
        let data = '';
        req.on('data', (c: Buffer) => (data += c.toString()));
        req.on('end', () => {
          if (req.url === WEBHOOK_PATH)
            calls.push({ at: Date.now(), authorization: req.headers.authorization, body: JSON.parse(data) });
          res.writeHead(200).end('{}');
        });
      }),
    );

    writeFileSync(join(dir.path, 'token'), token, { mode: 0o600 });
    writeFileSync(
      join(dir.path, 'alertmanager.yml'),
      alertmanagerYaml(
        renderAlertmanagerConfig(params, {
          url: `http://${receiver}${WEBHOOK_PATH}`,
          credentialsFile: join(dir.path, 'token'),
        }),
      ),
    );
    const amAddress = `127.0.0.1:${await freePort()}`;
    daemons.push(
      await startDaemon(
        ALERTMANAGER,
        [
          `--config.file=${join(dir.path, 'alertmanager.yml')}`,
          `--storage.path=${join(dir.path, 'am')}`,
          `--web.listen-address=${amAddress}`,
          '--cluster.listen-address=',
        ],
        amAddress,
        '/-/ready',
      ),
    );

    writeFileSync(join(dir.path, 'torchain.rules.yaml'), renderRulesYaml(params));
    const scrape = params.budget.scrapeInterval;
    const { pod: _pod, ...targetLabels } = IDENTITY;
    writeFileSync(
      join(dir.path, 'prometheus.yml'),
      stringify({
        global: {
          scrape_interval: scrape,
          scrape_timeout: `${Math.max(0.5, durationSeconds(scrape) / 2) * 1000}ms`,
          evaluation_interval: params.evaluationInterval,
        },
        rule_files: [join(dir.path, 'torchain.rules.yaml')],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [amAddress] }] }] },
        // The identity labels a PodMonitor (or the lab's file SD) attaches.
        scrape_configs: [
          {
            job_name: 'torchain-exporters',
            static_configs: [{ targets: [exporter], labels: { ...targetLabels, pod: IDENTITY.pod } }],
          },
        ],
      }),
    );
    const promAddress = `127.0.0.1:${await freePort()}`;
    daemons.push(
      await startDaemon(
        PROMETHEUS,
        [
          `--config.file=${join(dir.path, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir.path, 'prom')}`,
          `--web.listen-address=${promAddress}`,
        ],
        promAddress,
        '/-/ready',
      ),
    );
    const [alertmanager, prometheus] = daemons as [Daemon, Daemon];
    return { token, calls, prometheus, alertmanager, setTunnelUp: (up) => (tunnelUp = up ? 1 : 0), close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Resolves once Prometheus has scraped the exporter and evaluated the hop as up (a clean starting point). */
export async function waitHealthy(p: Pipeline, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(
      `${p.prometheus.url}/api/v1/query?${new URLSearchParams({ query: 'torchain_hop_server:torchain_vpn_tunnel_up:max == 1' })}`,
    );
    const body = (await res.json()) as { data: { result: unknown[] } };
    const alerts = await fetch(`${p.prometheus.url}/api/v1/alerts`).then(
      (r) => r.json() as Promise<{ data: { alerts: { labels: Record<string, string> }[] } }>,
    );
    const switching = alerts.data.alerts.filter((a) => a.labels.torchain_action === 'switch');
    if (body.data.result.length > 0 && switching.length === 0) return;
    if (Date.now() > deadline)
      throw new Error('the pipeline did not see the hop up within 30 s: check the Prometheus output');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Takes the hop down and measures the time until the webhook receives the firing switch alert, then brings it back
 * and waits for the resolution. Returns milliseconds from "down" to the firing notification.
 */
export async function measureFailureToWebhook(p: Pipeline, timeoutMs = 60_000): Promise<number> {
  await waitHealthy(p);
  const seen = p.calls.length;
  const t0 = Date.now();
  p.setTunnelUp(false);
  const firing = await until(
    () =>
      p.calls
        .slice(seen)
        .find(
          (c) =>
            c.body.status === 'firing' && c.body.alerts.some((a) => a.labels.alertname === 'TorchainHopTunnelDown'),
        ),
    timeoutMs,
    'the firing TorchainHopTunnelDown notification',
  );
  p.setTunnelUp(true);
  const after = p.calls.length;
  await until(
    () => p.calls.slice(after).find((c) => c.body.alerts.every((a) => a.status === 'resolved')),
    timeoutMs,
    'the resolved notification',
  );
  return firing.at - t0;
}

async function until<T>(fn: () => T | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
