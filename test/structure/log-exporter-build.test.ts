// The exporter's plain-JavaScript build (npm run build:log-exporter, log-exporter/tsconfig.build.json) compiles with
// the shared contracts it imports from common/, and the output runs under node alone. Built into a directory of its
// own under node_modules/.cache (--outDir; the output finds its packages in the repo's node_modules), so the test
// leaves the configured output alone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/paths.js';

const TSC = join(REPO_ROOT, 'node_modules', '.bin', 'tsc');

describe('the log-exporter build', () => {
  const cache = join(REPO_ROOT, 'node_modules', '.cache', 'torchain');
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, 'test-exporter-build-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('compiles the exporter and common/ into one tree that node runs', () => {
    execFileSync(TSC, ['-p', join(REPO_ROOT, 'log-exporter/tsconfig.build.json'), '--outDir', out], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
    });
    const main = join(out, 'log-exporter', 'src', 'main.js');
    expect(existsSync(main)).toBe(true);
    expect(existsSync(join(out, 'common', 'contracts', 'protocols.js'))).toBe(true);

    // One real OpenVPN failure line through the built exporter's one-shot mode.
    const metrics = execFileSync(process.execPath, [main, '--once', '--type', 'openvpn', '-'], {
      input: '2026-11-30 20:00:00 read UDPv4 [ECONNREFUSED]: Connection refused (fd=3,code=111)\n',
      encoding: 'utf8',
    });
    expect(metrics).toContain('torchain_vpn_connection_errors_total{reason="connection_refused"} 1');
    expect(metrics).toContain('torchain_log_exporter_lines_total{matched="true"} 1');
  }, 60_000);
});
