// A long-running process inside a network namespace: its output kept line by line (and appended to a log file),
// stopped by its own pid (SIGTERM, then SIGKILL after a grace period).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { StopWaiting, waitFor } from './exec.js';

export interface DaemonOptions {
  /** Network namespace to run in; '' for the lab's own. */
  netns: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Appends stdout and stderr lines here (prefixed by stream name for stderr). */
  logFile?: string;
  /** Called for every stdout line. */
  onLine?: (line: string) => void;
}

export class Daemon {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private exitPromise: Promise<number | null> | undefined;
  exitCode: number | null | undefined;

  constructor(private readonly opts: DaemonOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitCode === undefined;
  }

  start(): void {
    if (this.running)
      throw new Error(`daemon ${this.opts.cmd} in ${this.opts.netns} is already running (pid ${this.pid})`);
    this.exitCode = undefined;
    this.log ??= this.opts.logFile ? createWriteStream(this.opts.logFile, { flags: 'a' }) : undefined;
    // `ip netns exec` execs the command after joining the namespace: the pid is the daemon's own.
    // An empty netns runs in the lab's own (root) namespace.
    const [cmd, args] = this.opts.netns
      ? ['ip', ['netns', 'exec', this.opts.netns, this.opts.cmd, ...this.opts.args]]
      : [this.opts.cmd, this.opts.args];
    const child = spawn(cmd, args, {
      env: this.opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.stdout.push(line);
      this.log?.write(line + '\n');
      this.opts.onLine?.(line);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.stderr.push(line);
      this.log?.write(`[stderr] ${line}\n`);
    });
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(this.exitCode);
      });
      child.on('error', () => {
        this.exitCode = -1;
        resolve(-1);
      });
    });
  }

  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null> {
    return this.exitPromise ?? Promise.resolve(null);
  }

  /** Waits until a stdout line matches `pattern` (also counting lines already seen after `fromLine`). */
  async waitForLine(pattern: RegExp, timeoutMs = 20_000, fromLine = 0): Promise<string> {
    return waitFor(
      `a line matching ${pattern} from ${this.opts.cmd} in ${this.opts.netns}`,
      async () => {
        const hit = this.stdout.slice(fromLine).find((l) => pattern.test(l));
        if (hit) return hit;
        if (!this.running) {
          throw new StopWaiting(
            `${this.opts.cmd} exited with ${String(this.exitCode)}; stderr: ${this.stderr.slice(-5).join(' | ')}`,
          );
        }
        return undefined;
      },
      timeoutMs,
      100,
    );
  }

  async stop(graceMs = 5_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited();
    clearTimeout(timer);
  }

  /** Kills the process at once (SIGKILL): a crash, not a shutdown. */
  async kill(): Promise<void> {
    if (!this.child || !this.running) return;
    this.child.kill('SIGKILL');
    await this.exited();
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((r) => (this.log ? this.log.end(r) : r()));
    this.log = undefined;
  }
}
