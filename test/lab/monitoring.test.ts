// The lab's Prometheus and Alertmanager runners, with the real binaries: a firing rule reaches a webhook as an
// Alertmanager version-4 payload carrying the bearer token, and file-SD targets are scraped with their labels.
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Supervisor } from '../../lab/runtime/supervisor.js';
import { startAlertmanager } from '../../lab/monitoring/alertmanager.js';
import { startPrometheus, type LabPrometheus } from '../../lab/monitoring/prometheus.js';
import { waitFor } from '../../lab/runtime/wait.js';
import { skipUnless } from '../support/env.js';

interface Received {
  auth: string | undefined;
  body: { version: string; status: string; alerts: Array<{ labels: Record<string, string>; status: string }> };
}

describe.skipIf(skipUnless({ binaries: ['/usr/bin/prometheus', '/usr/bin/prometheus-alertmanager'] }))(
  'lab monitoring: real Prometheus → Alertmanager → webhook',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'tc-lab-mon-'));
    const supervisor = new Supervisor(dir);
    const received: Received[] = [];
    const hook = createServer((req: IncomingMessage, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        received.push({ auth: req.headers.authorization, body: JSON.parse(data) });
        res.end('{}');
      });
    });
    let prom: LabPrometheus;
    const metrics = createServer((_req, res) => res.end('torchain_vpn_tunnel_up 0\n'));

    beforeAll(async () => {
      await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
      await new Promise<void>((r) => metrics.listen(0, '127.0.0.1', r));
      const hookPort = (hook.address() as { port: number }).port;
      writeFileSync(join(dir, 'token'), 's3cret-token\n');
      const am = await startAlertmanager(supervisor, {
        dir: join(dir, 'am'),
        configYaml: stringify({
          route: {
            receiver: 'operator',
            group_by: ['namespace', 'torchain'],
            group_wait: '1s',
            group_interval: '2s',
            repeat_interval: '1h',
          },
          receivers: [
            {
              name: 'operator',
              webhook_configs: [
                {
                  url: `http://127.0.0.1:${hookPort}/v1/alertmanager`,
                  send_resolved: true,
                  http_config: { authorization: { type: 'Bearer', credentials_file: join(dir, 'token') } },
                },
              ],
            },
          ],
        }),
      });
      const rules = join(dir, 'rules.yaml');
      writeFileSync(
        rules,
        stringify({
          groups: [
            {
              name: 't',
              rules: [
                {
                  alert: 'TestTunnelDown',
                  expr: 'torchain_vpn_tunnel_up == 0',
                  labels: { torchain_action: 'switch' },
                },
              ],
            },
          ],
        }),
      );
      prom = await startPrometheus(supervisor, {
        dir: join(dir, 'prom'),
        ruleFiles: [rules],
        scrapeIntervalSeconds: 1,
        evaluationIntervalSeconds: 1,
        alertmanagerAddress: am.address,
      });
      const mport = (metrics.address() as { port: number }).port;
      prom.setExporterTargets([
        {
          address: `127.0.0.1:${mport}`,
          labels: { namespace: 'lab', torchain: 'c1', hop: '1', type: 'openvpn', server: 's1', pod: 'c1-hop-1-x' },
        },
      ]);
    }, 90_000);

    afterAll(async () => {
      await supervisor.stopAll();
      hook.close();
      metrics.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('scrapes file-SD targets with their identity labels, and the alert reaches the webhook with the token', async () => {
      const got = await waitFor(
        'a firing notification at the webhook',
        () => received.find((r) => r.body.status === 'firing'),
        {
          timeoutMs: 45_000,
        },
      );
      expect(got.auth).toBe('Bearer s3cret-token');
      expect(got.body.version).toBe('4');
      expect(got.body.alerts[0]!.labels).toMatchObject({
        alertname: 'TestTunnelDown',
        torchain_action: 'switch',
        namespace: 'lab',
        torchain: 'c1',
        hop: '1',
        server: 's1',
      });
    }, 60_000);
  },
);
