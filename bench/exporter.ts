// npm run bench:exporter — the log-exporter's one-shot parse against mtail (its peer, the Debian package) over the same
// 1,000,000-line log built from the real OpenVPN corpus, in the same run. mtail runs the equivalent program rendered
// from the same pattern table (bench/exporter-mtail.ts). Prints lines/s of both, their ratio and the peak RSS of
// both (ru_maxrss via /usr/bin/time). Targets: ratio >= 3.0, exporter peak RSS <= 60 MB.
// The exporter runs as compiled JavaScript with plain node (npm run build:log-exporter), as in production.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../scripts/paths.js';
import { renderMtailProgram } from './exporter-mtail.js';

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MTAIL = '/usr/bin/mtail';
const TIME = '/usr/bin/time';
const BUILD = join(REPO_ROOT, 'node_modules/.cache/torchain/log-exporter/main.js');

interface Run {
  seconds: number;
  maxRssKb: number;
  stdout: string;
}

function measure(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(TIME, ['-f', 'TCX_MAXRSS_KB=%M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const m = /TCX_MAXRSS_KB=(\d+)/.exec(stderr);
      if (code !== 0 || !m) return reject(new Error(`${cmd} failed (${code}): ${stderr.slice(-2000)}`));
      resolve({ seconds, maxRssKb: Number(m[1]), stdout });
    });
  });
}

function counts(exposition: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of exposition.split('\n')) {
    const m =
      /^(torchain_(?:vpn_connection_errors_total|vpn_restarts_total|log_exporter_lines_total)\{[^}]*\}) (\S+)$/.exec(
        line,
      );
    if (m && Number(m[2]) > 0) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main() {
  for (const bin of [MTAIL, TIME]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash scripts/prereqs.sh (packages mtail, time)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tcx-bench-'));
  try {
    // 1. The log: the OpenVPN corpus, repeated to LINES lines.
    const fixtures = join(REPO_ROOT, 'log-exporter/fixtures');
    const corpus = readdirSync(fixtures)
      .filter((f) => f.startsWith('openvpn-') && f.endsWith('.txt'))
      .sort()
      .flatMap((f) => readFileSync(join(fixtures, f), 'utf8').split('\n').filter(Boolean));
    const lines: string[] = [];
    for (let i = 0; lines.length < LINES; i++) lines.push(corpus[i % corpus.length] as string);
    const log = join(dir, 'bench.log');
    writeFileSync(log, lines.join('\n') + '\n');
    const mb = readFileSync(log).length / 1e6;
    console.log(`log: ${LINES} lines (${mb.toFixed(1)} MB) from ${corpus.length} distinct corpus lines`);

    // 2. The exporter, compiled; the mtail program from the same table.
    execFileSync('npx', ['tsc', '-p', 'log-exporter/tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
    const progs = join(dir, 'progs');
    mkdirSync(progs);
    writeFileSync(join(progs, 'openvpn.mtail'), renderMtailProgram('openvpn'));

    // 3. Alternate the two, ROUNDS times each, on the same file.
    const ours: Run[] = [];
    const theirs: Run[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      ours.push(await measure(process.execPath, [BUILD, '--once', '--type', 'openvpn', log]));
      theirs.push(
        await measure(MTAIL, [
          '--one_shot',
          '--one_shot_format=prometheus',
          '--emit_prog_label=false',
          '--address=127.0.0.1',
          '--port=0',
          '--logtostderr=false',
          '--stderrthreshold=ERROR',
          `--progs=${progs}`,
          `--logs=${log}`,
        ]),
      );
      console.log(
        `round ${r + 1}: exporter ${ours.at(-1)?.seconds.toFixed(2)} s, ${((ours.at(-1)?.maxRssKb ?? 0) / 1024).toFixed(1)} MiB; ` +
          `mtail ${theirs.at(-1)?.seconds.toFixed(2)} s, ${((theirs.at(-1)?.maxRssKb ?? 0) / 1024).toFixed(1)} MiB`,
      );
    }

    // 4. Same work: both must count the same.
    const a = counts(ours[0]?.stdout ?? '');
    const b = counts(theirs[0]?.stdout ?? '');
    const differ = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
    if (differ.length) throw new Error(`exporter and mtail disagree on ${differ.join(', ')}: the comparison is void`);
    if (
      (a.get('torchain_log_exporter_lines_total{matched="true"}') ?? 0) +
        (a.get('torchain_log_exporter_lines_total{matched="false"}') ?? 0) !==
      LINES
    ) {
      throw new Error('the exporter did not count every line');
    }

    const oursRate = LINES / median(ours.map((r) => r.seconds));
    const theirsRate = LINES / median(theirs.map((r) => r.seconds));
    const oursRss = Math.max(...ours.map((r) => r.maxRssKb)) / 1024;
    const theirsRss = Math.max(...theirs.map((r) => r.maxRssKb)) / 1024;
    const ratio = oursRate / theirsRate;
    console.log('');
    console.log(
      `exporter: ${Math.round(oursRate).toLocaleString('en-US')} lines/s (median of ${ROUNDS}), peak RSS ${oursRss.toFixed(1)} MiB`,
    );
    console.log(
      `mtail:    ${Math.round(theirsRate).toLocaleString('en-US')} lines/s (median of ${ROUNDS}), peak RSS ${theirsRss.toFixed(1)} MiB`,
    );
    console.log(`ratio:    ${ratio.toFixed(2)}x (target >= 3.0: ${ratio >= 3 ? 'met' : 'NOT met'})`);
    console.log(
      `exporter peak RSS target <= 60 MB: ${oursRss * 1.048576 <= 60 ? 'met' : 'NOT met'} (${(oursRss * 1.048576).toFixed(1)} MB)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
