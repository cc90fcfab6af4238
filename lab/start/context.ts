// What every start-up step of the lab shares: where state lives, the process supervisor, structured logs, progress
// lines for the human watching, and the teardown list (each step registers how to undo itself; close() runs them in
// reverse, so a failure midway removes exactly what was made).
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Supervisor } from '../runtime/supervisor.js';

export type LabLog = (entry: Record<string, unknown>) => void;

export class LabContext {
  readonly supervisor: Supervisor;
  private readonly closers: Array<{ what: string; close: () => Promise<unknown> }> = [];

  constructor(
    readonly stateDir: string,
    readonly prefix: string,
    readonly log: LabLog,
    readonly progress: (step: string) => void,
  ) {
    rmSync(stateDir, { recursive: true, force: true });
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.supervisor = new Supervisor(stateDir);
  }

  /** Registers how to undo a step; undone in reverse order by close(). */
  onClose(what: string, close: () => Promise<unknown>): void {
    this.closers.push({ what, close });
  }

  /** Copies the logs and the audit log somewhere that outlives the lab (a failed scenario's evidence); returns where. */
  keepLogs(): string {
    const dest = join('/var/tmp', 'torchain-lab', new Date().toISOString().replace(/[:.]/g, '-'));
    mkdirSync(dest, { recursive: true, mode: 0o700 });
    for (const sub of ['logs', 'kube/audit.log', 'helm'])
      if (existsSync(join(this.stateDir, sub))) cpSync(join(this.stateDir, sub), join(dest, sub), { recursive: true });
    return dest;
  }

  private closing?: Promise<void>;

  /** Undoes every step once; later calls wait for the first. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    for (const c of this.closers.reverse())
      await c
        .close()
        .catch((err: unknown) =>
          this.log({ level: 'warn', msg: 'lab teardown step failed', step: c.what, error: String(err) }),
        );
    this.closers.length = 0;
    await this.supervisor.stopAll(3000);
  }
}
