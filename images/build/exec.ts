// Runs the build's tools (mmdebstrap, dpkg-deb, tar, umoci, npm) and fails with the command, its exit status and the
// end of its stderr, so a failed build names the step that broke.
import { spawn } from 'node:child_process';

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Keep stdout as a Buffer (binary output). */
  binary?: boolean;
}

export async function exec(cmd: string, args: string[], opts: ExecOptions = {}): Promise<string> {
  return (await execBuffer(cmd, args, opts)).toString('utf8');
}

export function execBuffer(cmd: string, args: string[], opts: ExecOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err = (err + b.toString('utf8')).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message} (run npm run prereqs to install it)`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else
        reject(
          new Error(
            `${[cmd, ...args].join(' ').slice(0, 600)} failed (${signal ?? `exit ${String(code)}`}):\n${err.trim()}`,
          ),
        );
    });
  });
}
