// Helpers for the alerting tests: the real Debian binaries, free loopback ports, daemons stopped by their own pid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROMTOOL = '/usr/bin/promtool';
export const PROMETHEUS = '/usr/bin/prometheus';
export const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
export const AMTOOL = '/usr/bin/amtool';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(bin: string, args: string[], opts: { cwd?: string } = {}): RunResult {
  const r = spawnSync(bin, args, { cwd: opts.cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`${bin} ${args.join(' ')}: ${r.error.message}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `torchain-alerting-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A free loopback port: bound on port 0, read back, released (for daemons that need a fixed listen address). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Daemon {
  url: string;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `bin` listening on `address`, waits until `readyPath` answers 200, and stops it by its pid. */
export async function startDaemon(bin: string, args: string[], address: string, readyPath: string): Promise<Daemon> {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://${address}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${bin} exited with ${proc.exitCode} before it was ready:\n${out}`);
    try {
      const res = await fetch(url + readyPath);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${bin} did not answer ${readyPath} within 30s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, proc, output: () => out, stop };
}

/** Polls `fn` until it returns a value other than undefined, or throws naming `what` after `ms`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
