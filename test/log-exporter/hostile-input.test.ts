// Hostile input: binary garbage, invalid UTF-8, CRLF, a 10 MB line, partial lines across chunks. No crash, counted as
// unmatched, memory bounded by the line limit.
import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { LineSplitter } from '../../log-exporter/src/line-splitter.js';
import { runOnce } from '../../log-exporter/src/once.js';
import { REPO_ROOT } from '../../scripts/paths.js';
import { parseExposition, sample } from './support/exposition.js';

const UP = Buffer.from('2026-11-26 11:00:52 Initialization Sequence Completed\r\n');
const REFUSED = Buffer.from('2026-11-26 11:01:07 read UDPv4 [ECONNREFUSED]: Connection refused (fd=3,code=111)\r\n');

/** Deterministic pseudo-random bytes. */
function garbage(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >> 16;
  }
  return b;
}

function chunked(parts: Buffer[], size: number): Readable {
  const all = Buffer.concat(parts);
  return Readable.from(
    (function* () {
      for (let i = 0; i < all.length; i += size) yield all.subarray(i, i + size);
    })(),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'tcx-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hostile input', () => {
  it('counts garbage, invalid UTF-8 and a 10 MB line as unmatched and still classifies the good lines around them', async () => {
    const noNewline = (b: Buffer) => Buffer.from(b.map((x) => (x === 10 ? 32 : x)));
    const tenMb = Buffer.alloc(10 * 1024 * 1024, 'A');
    const parts = [
      UP,
      noNewline(garbage(5000, 1)),
      Buffer.from('\n'),
      Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0x00, 0x0a]), // invalid UTF-8 and a NUL
      tenMb,
      Buffer.from('Connection refused\n'), // the tail of the huge line: must not count as a refusal
      REFUSED,
      Buffer.from('\r\n\r\n'),
    ];
    for (const size of [1, 7, 4096, 1 << 20]) {
      // 1-byte chunks over 10 MB would be slow: feed the small parts byte by byte, the rest in bigger chunks.
      const input = size === 1 ? chunked([...parts.slice(0, 4), ...parts.slice(6)], 1) : chunked(parts, size);
      const s = parseExposition(await runOnce({ type: 'openvpn', input, maxLineBytes: 65536 }));
      const lines = size === 1 ? 6 : 7; // UP, garbage, invalid, [huge], REFUSED, two empty CRLF lines
      expect(sample(s, 'torchain_log_exporter_lines_total{matched="true"}'), `chunk ${size}`).toBe(2);
      expect(sample(s, 'torchain_log_exporter_lines_total{matched="false"}'), `chunk ${size}`).toBe(lines - 2);
      expect(sample(s, 'torchain_vpn_connection_errors_total{reason="connection_refused"}')).toBe(1);
      expect(sample(s, 'torchain_vpn_tunnel_up')).toBe(0);
    }
  });

  it('never holds more than the line limit for an unfinished line', () => {
    let lines = 0;
    let oversized = 0;
    const s = new LineSplitter(65536, { line: () => lines++, oversized: () => oversized++ });
    let peak = 0;
    for (let i = 0; i < 1000; i++) {
      s.push(Buffer.from(garbage(16 * 1024, i).map((x) => (x === 10 ? 0 : x))));
      peak = Math.max(peak, s.bufferedBytes);
    }
    s.push(Buffer.from('\nok\n'));
    s.end();
    expect(peak).toBeLessThanOrEqual(65536);
    expect(s.bufferedBytes).toBe(0);
    expect({ lines, oversized }).toEqual({ lines: 1, oversized: 1 });
  });

  it('one-shot over a 200 MB line stays far below the size of the line (peak RSS)', async () => {
    const path = join(dir, 'huge.log');
    await new Promise<void>((resolve, reject) => {
      const w = createWriteStream(path);
      w.on('error', reject);
      w.write(UP);
      const block = Buffer.alloc(1 << 20, 'x');
      for (let i = 0; i < 200; i++) w.write(block);
      w.end('\n', resolve);
    });
    // Report the child's own peak RSS (VmHWM) after the parse, from inside the process.
    const script = `
      import { createReadStream, readFileSync } from 'node:fs';
      import { runOnce } from './log-exporter/src/once.ts';
      const out = await runOnce({ type: 'openvpn', input: createReadStream(${JSON.stringify(path)}), maxLineBytes: 65536 });
      const hwm = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1];
      process.stdout.write(JSON.stringify({ out, hwmKb: Number(hwm) }));`;
    const { out, hwmKb } = await new Promise<{ out: string; hwmKb: number }>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: REPO_ROOT, maxBuffer: 1 << 20 },
        (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(JSON.parse(stdout))),
      ),
    );
    const s = parseExposition(out);
    expect(sample(s, 'torchain_log_exporter_lines_total{matched="false"}')).toBe(1);
    expect(sample(s, 'torchain_vpn_tunnel_up')).toBe(1);
    console.log(`peak RSS over a 200 MB line: ${(hwmKb / 1024).toFixed(1)} MiB`);
    expect(hwmKb).toBeLessThan(150 * 1024);
  });
});
