// A second regex engine reads the pattern table the same way: mtail (Go RE2, the syntax family of Rust's regex crate
// that Vector uses) runs the program rendered from the table over the corpus and must count exactly what the exporter
// counts. This backs the Vector test with a real non-JS engine, and validates the benchmark's peer program.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { renderMtailProgram } from '../../bench/exporter-mtail.js';
import { runOnce } from '../../log-exporter/src/once.js';
import { skipUnless } from '../support/env.js';
import { fixtures } from './support/corpus.js';
import { parseExposition } from './support/exposition.js';

const MTAIL = '/usr/bin/mtail';
const run = promisify(execFile);

describe.skipIf(skipUnless({ binaries: [MTAIL] }))('mtail (RE2) over the corpus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcx-mtail-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(fixtures().map((f) => [f.name, f] as const))('%s: same counts as the exporter', async (_name, f) => {
    const progs = join(dir, f.type);
    mkdirSync(progs, { recursive: true });
    writeFileSync(join(progs, `${f.type}.mtail`), renderMtailProgram(f.type));
    const { stdout } = await run(MTAIL, [
      '--one_shot',
      '--one_shot_format',
      'prometheus',
      '--emit_prog_label=false',
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--progs',
      progs,
      '--logs',
      f.path,
    ]);
    const mtail = parseExposition(stdout);
    const ours = parseExposition(await runOnce({ type: f.type, input: createReadStream(f.path), maxLineBytes: 65536 }));
    let compared = 0;
    for (const [key, value] of mtail) {
      if (!/^torchain_/.test(key)) continue;
      // mtail emits only touched series; the exporter emits all of them.
      expect(ours.get(key), key).toBe(value);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(2);
    for (const [key, value] of ours) {
      if (
        /^torchain_(vpn_connection_errors_total|vpn_restarts_total|log_exporter_lines_total)/.test(key) &&
        value > 0
      ) {
        expect(mtail.get(key), key).toBe(value);
      }
    }
  });
});
