// Starts and stops the lab's daemons (Prometheus, Alertmanager, VPN servers, hop processes), optionally inside a
// network namespace, with each one's output in a log file and its pid recorded so `lab cleanup` can end it after a crash.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// Absolute, so that a process started with a clean environment (no PATH) still finds it.
const IP = existsSync('/usr/sbin/ip') ? '/usr/sbin/ip' : existsSync('/sbin/ip') ? '/sbin/ip' : 'ip';

export interface StartOptions {
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Start from an empty environment instead of the lab's own (containers get only what their spec says). */
  cleanEnv?: boolean;
  /** Called with every line of stdout and stderr (after it is written to the log file). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface Managed {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

interface PidRecord {
  name: string;
  pid: number;
}

export class Supervisor {
  private readonly running = new Map<string, Managed>();
  private readonly pidFile: string;

  constructor(readonly stateDir: string) {
    mkdirSync(join(stateDir, 'logs'), { recursive: true });
    this.pidFile = join(stateDir, 'pids.json');
  }

  start(name: string, command: string, opts: StartOptions = {}): Managed {
    if (this.running.get(name)?.isRunning()) throw new Error(`lab process ${name} is already running: stop it first`);
    const [cmd, args] = opts.netns
      ? [IP, ['netns', 'exec', opts.netns, command, ...(opts.args ?? [])]]
      : [command, opts.args ?? []];
    const logFile = join(this.stateDir, 'logs', `${name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    // detached: the child leads its own process group, so stop() ends whatever it forked too.
    const child: ChildProcess = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.cleanEnv ? { ...opts.env } : { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command}): is it installed?`);
    for (const stream of ['stdout', 'stderr'] as const) {
      const rl = createInterface({ input: child[stream]! });
      rl.on('line', (line) => {
        // 'exit' can come before the last lines of a pipe are read: those still reach onLine, not the closed file.
        if (!log.writableEnded) log.write(line + '\n');
        opts.onLine?.(line, stream);
      });
    }
    let alive = true;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => {
        alive = false;
        resolve({ code, signal });
      });
      // The log file closes once stdout and stderr are drained (after 'exit').
      child.on('close', () => log.end());
      child.on('error', () => {
        alive = false;
        resolve({ code: null, signal: null });
      });
    });
    const pid = child.pid;
    const managed: Managed = {
      name,
      pid,
      logFile,
      exited,
      isRunning: () => alive,
      stop: async (graceMs = 5000) => {
        if (!alive) return;
        killGroup(pid, 'SIGTERM');
        const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        killGroup(pid, 'SIGKILL'); // stragglers in the group
        this.running.delete(name);
        this.savePids();
      },
    };
    this.running.set(name, managed);
    this.savePids();
    return managed;
  }

  get(name: string): Managed | undefined {
    return this.running.get(name);
  }

  async stopAll(graceMs = 5000): Promise<void> {
    await Promise.all([...this.running.values()].reverse().map((m) => m.stop(graceMs)));
    this.running.clear();
    this.savePids();
  }

  private savePids(): void {
    const records: PidRecord[] = [...this.running.values()]
      .filter((m) => m.isRunning())
      .map(({ name, pid }) => ({ name, pid }));
    writeFileSync(this.pidFile, JSON.stringify(records));
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/** Ends the process groups a crashed lab left behind (its pids.json). */
export function killRecorded(stateDir: string): string[] {
  const file = join(stateDir, 'pids.json');
  if (!existsSync(file)) return [];
  const records = JSON.parse(readFileSync(file, 'utf8')) as PidRecord[];
  for (const r of records) killGroup(r.pid, 'SIGKILL');
  writeFileSync(file, '[]');
  return records.map((r) => `${r.name} (${r.pid})`);
}
