// Small process helpers for the namespace lab: run a command to completion, or inside a network namespace.
import { execFile } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command; rejects with an error naming the command, its exit status and stderr. */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException & { code?: unknown }).code;
          reject(
            new Error(
              `command failed (${String(code ?? err.message)}): ${[cmd, ...args].join(' ')}\n${stderr.trim()}\n${stdout.trim().slice(-2000)}`,
            ),
          );
          return;
        }
        resolve({ stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command inside a network namespace (`ip netns exec`). */
export function nsRun(
  netns: string,
  cmd: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return run('ip', ['netns', 'exec', netns, cmd, ...args], opts);
}

/** Runs a batch of `ip` commands in one process (`ip -batch -`), optionally inside a namespace. */
export function ipBatch(lines: string[], netns?: string): Promise<RunResult> {
  const args = netns ? ['-n', netns, '-batch', '-'] : ['-batch', '-'];
  return run('ip', args, { input: lines.join('\n') + '\n' });
}

/** Names of the links in `netns` (the root namespace when omitted), as `ip -o link show` lists them. */
export async function linkNames(netns?: string): Promise<string[]> {
  const { stdout } = await run('ip', netns ? ['-n', netns, '-o', 'link', 'show'] : ['-o', 'link', 'show']);
  return stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Thrown from a `waitFor` check to stop waiting at once (the awaited thing can no longer happen). */
export class StopWaiting extends Error {}

/** Polls `check` until it returns a value other than undefined/false, or throws `what` after the timeout. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      if (e instanceof StopWaiting) throw new Error(`gave up waiting for ${what}: ${e.message}`);
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(everyMs);
  }
}
