// `npm run lab`'s argument checks: bad input gets a clear message and exit code 2 before anything is built (no root,
// no namespace, no cleanup of another lab).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/paths.js';

const run = promisify(execFile);
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

async function lab(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(TSX, [join(REPO_ROOT, 'lab', 'main.ts'), ...args], { cwd: REPO_ROOT });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe.concurrent('npm run lab arguments', () => {
  it.each([
    [['--servers', '0'], /--servers 0: give the VPN servers per hop, a whole number from 1 to 9/],
    [['--servers', '2.5'], /--servers 2\.5/],
    [['--servers', '10'], /--servers 10/],
    [['--timings', 'fast'], /--timings fast: use lab or production/],
    [['--chain', 'ipsec'], /--chain ipsec: give 1 to 9 protocols/],
  ])('refuses %j with a message that says what to give', async (args, message) => {
    const { code, stderr } = await lab(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});
