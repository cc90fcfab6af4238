// A real Alertmanager (Debian's prometheus-alertmanager) for the safety-net tests, and amtool to silence alerts in it
// the way an operator on call does.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
export const AMTOOL = '/usr/bin/amtool';
const run = promisify(execFile);

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

export interface TestAlertmanager {
  url: string;
  /** host:port, for Prometheus' alerting config. */
  address: string;
  /** `amtool silence add` with label=value matchers; returns the silence id. */
  silence(matchers: Record<string, string>): Promise<string>;
  /** `amtool silence expire`. */
  expire(id: string): Promise<void>;
  /** The alerts it holds (GET /api/v2/alerts). */
  alerts(): Promise<Array<{ labels: Record<string, string>; status: { state: string } }>>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startAlertmanager(): Promise<TestAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'torchain-op-am-'));
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    'route:\n  receiver: none\n  group_wait: 1s\n  group_interval: 1s\nreceivers:\n  - name: none\n',
  );
  const port = await freePort();
  const address = `127.0.0.1:${String(port)}`;
  const url = `http://${address}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';
  const start = async () => {
    child = spawn(
      ALERTMANAGER,
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=${address}`,
        '--cluster.listen-address=',
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const c = child;
    c.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    exited = new Promise<void>((r) => c.once('exit', () => r()));
    const end = Date.now() + 30_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`alertmanager exited: ${stderr}`);
      try {
        if ((await fetch(`${url}/-/ready`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > end) throw new Error(`alertmanager did not become ready: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async () => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  await start();
  const amtool = async (...args: string[]) =>
    (await run(AMTOOL, [...args, `--alertmanager.url=${url}`], { timeout: 20_000 })).stdout.trim();
  return {
    url,
    address,
    silence: async (matchers) =>
      amtool(
        'silence',
        'add',
        '--comment=maintenance of the hop',
        '--duration=1h',
        '--author=test',
        ...Object.entries(matchers).map(([k, v]) => `${k}=${v}`),
      ),
    expire: async (id) => {
      await amtool('silence', 'expire', id);
    },
    alerts: async () => (await (await fetch(`${url}/api/v2/alerts`)).json()) as never,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
