// Runs the real exporter (log-exporter/src/main.ts) as a child process, optionally inside a network namespace, and
// talks to it over HTTP on the ephemeral port it reports in its "listening" log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../scripts/paths.js';
import { parseExposition, type Samples } from './exposition.js';

export interface RunningExporter {
  proc: ChildProcess;
  port: number;
  logs: () => Record<string, unknown>[];
  get(path: string): Promise<{ status: number; body: string; type: string | null }>;
  metrics(): Promise<Samples>;
  stop(): Promise<number | null>;
}

export async function startExporter(
  args: string[],
  opts: { netns?: string; host?: string; env?: Record<string, string> } = {},
): Promise<RunningExporter> {
  const main = join(REPO_ROOT, 'log-exporter/src/main.ts');
  const host = opts.host ?? '127.0.0.1';
  const node = [process.execPath, '--import', 'tsx', main, ...args, '--listen', `${host}:0`];
  const cmd = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...node] : node;
  const proc = spawn(cmd[0] as string, cmd.slice(1), {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exporter did not start: ${stderr}`)), 30_000);
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => {
      stderr += d;
      let nl;
      while ((nl = stderr.indexOf('\n')) !== -1) {
        const line = stderr.slice(0, nl);
        stderr = stderr.slice(nl + 1);
        try {
          const obj = JSON.parse(line) as Record<string, unknown>;
          logs.push(obj);
          if (obj.msg === 'listening') {
            clearTimeout(timer);
            resolve(obj.port as number);
          }
        } catch {
          logs.push({ raw: line });
        }
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exporter exited with ${code}: ${stderr} ${JSON.stringify(logs)}`));
    });
  });
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
  };
  return {
    proc,
    port,
    logs: () => logs,
    get,
    metrics: async () => parseExposition((await get('/metrics')).body),
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve(proc.exitCode);
        proc.once('exit', (code) => resolve(code));
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** Polls until check() holds (returns true), or fails with the last value seen. */
export async function eventually<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, ms = 10_000) {
  const until = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < until) {
    last = await read();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `${what}: not reached in ${ms} ms; last value ${JSON.stringify(last, (_k, v) => (v instanceof Map ? Object.fromEntries(v) : v))}`,
  );
}
