// A real Prometheus (/usr/bin/prometheus) evaluating a given rule file, for the safety-net tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROMETHEUS = '/usr/bin/prometheus';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export interface TestPrometheus {
  url: string;
  /** Replaces the rule file and reloads it (SIGHUP, as a config reload does); resolves once the new rules serve. */
  setRules(rulesYaml: string): Promise<void>;
  close(): Promise<void>;
}

export interface PrometheusOptions {
  /** host:port of an Alertmanager that Prometheus sends its alerts to. */
  alertmanager?: string;
}

export async function startPrometheus(rulesYaml: string, opts: PrometheusOptions = {}): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'torchain-op-prom-'));
  writeFileSync(join(dir, 'rules.yml'), rulesYaml);
  const alerting = opts.alertmanager
    ? `alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['${opts.alertmanager}']\n`
    : '';
  writeFileSync(
    join(dir, 'prometheus.yml'),
    'global:\n  evaluation_interval: 1s\n  scrape_interval: 1s\nrule_files:\n  - rules.yml\n' + alerting,
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${String(port)}`,
      // Firing alerts are re-sent this often (default 1m): the first send may precede Alertmanager's discovery.
      '--rules.alert.resend-delay=1s',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${String(port)}`;
  const end = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`prometheus did not become ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    setRules: async (yaml: string) => {
      writeFileSync(join(dir, 'rules.yml'), yaml);
      const names = [...yaml.matchAll(/^\s*- alert: (\S+)$/gm)].length;
      child.kill('SIGHUP');
      const until = Date.now() + 30_000;
      for (;;) {
        const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
          data: { groups: Array<{ rules: unknown[] }> };
        };
        if (body.data.groups.flatMap((g) => g.rules).length === names) return;
        if (Date.now() > until) throw new Error(`prometheus did not reload its rules: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
