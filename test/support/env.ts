// Prerequisite checks for tests. In CI (CI=true) a missing prerequisite fails the test; elsewhere a test that needs
// root or a binary skips with a loud reason, so a developer without root still runs everything else.
import { accessSync, constants } from 'node:fs';

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why this test cannot run here, or undefined when it can. */
export function missingPrerequisite(opts: { root?: boolean; binaries?: string[] }): string | undefined {
  if (opts.root && !IS_ROOT) return 'needs root (network namespaces, nftables): run as root';
  const absent = (opts.binaries ?? []).filter((b) => !executable(b));
  if (absent.length) return `missing ${absent.join(', ')}: run bash scripts/prereqs.sh`;
  return undefined;
}

/**
 * Returns true when the suite should be skipped (outside CI only, with a loud message); throws in CI.
 * Use as `describe.skipIf(skipUnless({root: true}))(...)`.
 */
export function skipUnless(opts: { root?: boolean; binaries?: string[] }): boolean {
  const why = missingPrerequisite(opts);
  if (!why) return false;
  if (IN_CI) throw new Error(`CI=true and a prerequisite is missing: ${why}`);
  console.warn(`\n!!! SKIPPING: ${why}\n`);
  return true;
}
