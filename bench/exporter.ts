// npm run bench:exporter — the log-exporter as the image runs it (the single-file esbuild bundle images/bundle.ts
// makes, run by plain node with the image's flags) against mtail (its peer, the Debian package) in the same run:
//  1. one-shot parse of a 1,000,000-line log built from the real OpenVPN corpus (mtail runs the program rendered from
//     the same pattern table, bench/exporter-mtail.ts): lines/s, their ratio, peak RSS (ru_maxrss, /usr/bin/time);
//  2. steady state under a stream of 1,000 lines/s for 60 s (the exporter in serve mode reading stdin, scraped every
//     second; mtail tailing a file): RSS sampled every second from /proc, median of the second half and peak;
//  3. as root: dead-server detection per protocol, killed and blackholed (bench/exporter-detection.ts), p50 and max.
// Targets: ratio >= 5.0; bundle peak RSS one-shot <= 50 MB; steady RSS <= 50 MB (decimal MB, the stricter reading);
// detection <= 10 s.
// BENCH_LINES, BENCH_ROUNDS, BENCH_STREAM_SECONDS, BENCH_DETECTION_RUNS (0 skips it) change the sizes.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOLS } from '../common/contracts/protocols.js';
import { EXPORTER_NODE_FLAGS } from './exporter-node-flags.js';
import { REPO_ROOT } from '../scripts/paths.js';
import { listeningPort, measureDetection } from './exporter-detection.js';
import { renderMtailProgram } from './exporter-mtail.js';

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const STREAM_SECONDS = Number(process.env.BENCH_STREAM_SECONDS ?? 60);
const DETECTION_RUNS = Number(process.env.BENCH_DETECTION_RUNS ?? 5);
const STREAM_RATE = 1000;
const MTAIL = '/usr/bin/mtail';
const TIME = '/usr/bin/time';
const MB = 1e6;

interface Run {
  seconds: number;
  maxRssBytes: number;
  stdout: string;
}

function measure(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(TIME, ['-f', 'TKD_MAXRSS_KB=%M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const m = /TKD_MAXRSS_KB=(\d+)/.exec(stderr);
      if (code !== 0 || !m) return reject(new Error(`${cmd} failed (${code}): ${stderr.slice(-2000)}`));
      resolve({ seconds, maxRssBytes: Number(m[1]) * 1024, stdout });
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

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)] as number;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB (${(bytes / 1048576).toFixed(1)} MiB)`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function mtailArgs(progs: string, logs: string, oneShot: boolean): string[] {
  return [
    ...(oneShot ? ['--one_shot', '--one_shot_format=prometheus'] : []),
    '--emit_prog_label=false',
    '--address=127.0.0.1',
    '--port=0',
    '--logtostderr=false',
    '--stderrthreshold=ERROR',
    `--progs=${progs}`,
    `--logs=${logs}`,
  ];
}

/** 1,000 lines/s for STREAM_SECONDS into the exporter's stdin and mtail's file; RSS of both every second. */
async function stream(bundle: string, flags: readonly string[], progs: string, corpus: string[], dir: string) {
  const file = join(dir, 'stream.log');
  writeFileSync(file, '');
  const exporter = spawn(
    process.execPath,
    [...flags, bundle, '--type', 'openvpn', '--source', 'stdin', '--listen', '127.0.0.1:0'],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  const mtail = spawn(MTAIL, mtailArgs(progs, file, false), { stdio: 'ignore' });
  const procs: ChildProcess[] = [exporter, mtail];
  const samples = { exporter: [] as number[], mtail: [] as number[] };
  try {
    let stderr = '';
    exporter.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const until = Date.now() + 20_000;
    let port: string | undefined;
    while (!(port = listeningPort(stderr)?.toString())) {
      if (Date.now() > until) throw new Error(`the exporter did not start: ${stderr}`);
      await sleep(50);
    }
    let sent = 0;
    let scrapes = 0;
    const started = Date.now();
    let nextSample = started + 1000;
    let nextScrape = started + 5000;
    // Scraped every 5 s, as a PodMonitor would (the chart's interval is longer).
    while (Date.now() - started < STREAM_SECONDS * 1000) {
      if (Date.now() >= nextScrape) {
        nextScrape += 5000;
        const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        if (!body.includes('torchain_vpn_tunnel_up')) throw new Error('scrape without the metrics contract');
        scrapes++;
      }
      const due = Math.floor(((Date.now() - started) / 1000) * STREAM_RATE);
      if (due > sent) {
        const batch: string[] = [];
        for (; sent < due; sent++) batch.push(corpus[sent % corpus.length] as string);
        const text = batch.join('\n') + '\n';
        exporter.stdin?.write(text);
        appendFileSync(file, text);
      }
      if (Date.now() >= nextSample) {
        nextSample += 1000;
        const e = rssBytes(exporter.pid as number);
        const m = rssBytes(mtail.pid as number);
        if (e === undefined || m === undefined) throw new Error('the exporter or mtail exited during the stream');
        samples.exporter.push(e);
        samples.mtail.push(m);
      }
      await sleep(20);
    }
    const half = (xs: number[]) => xs.slice(Math.floor(xs.length / 2));
    return {
      lines: sent,
      scrapes,
      exporter: { steady: median(half(samples.exporter)), peak: Math.max(...samples.exporter) },
      mtail: { steady: median(half(samples.mtail)), peak: Math.max(...samples.mtail) },
    };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
}

async function main() {
  for (const bin of [MTAIL, TIME]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash scripts/prereqs.sh (packages mtail, time)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tkj-bench-'));
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
    console.log(
      `log: ${LINES} lines (${(readFileSync(log).length / MB).toFixed(1)} MB) from ${corpus.length} corpus lines`,
    );

    // 2. The exporter as the image ships it; the mtail program from the same table.
    const bundle = join(dir, 'log-exporter.mjs');
    execFileSync(process.execPath, ['--import', 'tsx', 'images/bundle.ts', 'log-exporter/src/main.ts', bundle], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    console.log(
      `bundle: ${(readFileSync(bundle).length / MB).toFixed(2)} MB; node ${process.version}; flags: ${EXPORTER_NODE_FLAGS.join(' ')}`,
    );
    const progs = join(dir, 'progs');
    mkdirSync(progs);
    writeFileSync(join(progs, 'openvpn.mtail'), renderMtailProgram('openvpn'));

    // 3. One-shot, alternating: bundle with the image's flags, bundle without flags, mtail.
    const variants = {
      'bundle + flags': [...EXPORTER_NODE_FLAGS, bundle],
      'bundle, no flags': [bundle],
    };
    const ours: Record<string, Run[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    const theirs: Run[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, args] of Object.entries(variants)) {
        ours[name]?.push(await measure(process.execPath, [...args, '--once', '--type', 'openvpn', log]));
      }
      theirs.push(await measure(MTAIL, mtailArgs(progs, log, true)));
      console.log(
        `round ${r + 1}: ` +
          Object.entries(ours)
            .map(([k, v]) => `${k} ${v.at(-1)?.seconds.toFixed(2)} s ${mb(v.at(-1)?.maxRssBytes ?? 0)}`)
            .join('; ') +
          `; mtail ${theirs.at(-1)?.seconds.toFixed(2)} s ${mb(theirs.at(-1)?.maxRssBytes ?? 0)}`,
      );
    }

    // Same work: both must count the same.
    const a = counts(ours['bundle + flags']?.[0]?.stdout ?? '');
    const b = counts(theirs[0]?.stdout ?? '');
    const differ = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
    if (differ.length) throw new Error(`exporter and mtail disagree on ${differ.join(', ')}: the comparison is void`);
    const total =
      (a.get('torchain_log_exporter_lines_total{matched="true"}') ?? 0) +
      (a.get('torchain_log_exporter_lines_total{matched="false"}') ?? 0);
    if (total !== LINES) throw new Error('the exporter did not count every line');

    const theirsRate = LINES / median(theirs.map((r) => r.seconds));
    const theirsRss = Math.max(...theirs.map((r) => r.maxRssBytes));
    console.log('\none-shot, 1 line = 1 corpus line:');
    for (const [name, runs] of Object.entries(ours)) {
      const rate = LINES / median(runs.map((r) => r.seconds));
      const rss = Math.max(...runs.map((r) => r.maxRssBytes));
      console.log(
        `  ${name.padEnd(17)} ${Math.round(rate).toLocaleString('en-US').padStart(9)} lines/s (median of ${ROUNDS}), ` +
          `${(rate / theirsRate).toFixed(2)}x mtail; peak RSS ${mb(rss)}`,
      );
    }
    console.log(
      `  ${'mtail'.padEnd(17)} ${Math.round(theirsRate).toLocaleString('en-US').padStart(9)} lines/s; peak RSS ${mb(theirsRss)}`,
    );
    const flagged = ours['bundle + flags'] ?? [];
    const ratio = LINES / median(flagged.map((r) => r.seconds)) / theirsRate;
    const peak = Math.max(...flagged.map((r) => r.maxRssBytes));
    console.log(
      `  targets: ratio >= 5.0 ${ratio >= 5 ? 'met' : 'NOT met'}; peak <= 50 MB ${peak <= 50 * MB ? 'met' : 'NOT met'}`,
    );

    // 4. Steady state under 1,000 lines/s.
    if (STREAM_SECONDS > 0) {
      const s = await stream(bundle, EXPORTER_NODE_FLAGS, progs, corpus, dir);
      console.log(
        `\nstream: ${s.lines} lines in ${STREAM_SECONDS} s (${STREAM_RATE} lines/s), ${s.scrapes} scrapes, RSS every second:`,
      );
      console.log(
        `  bundle + flags (serve, stdin): steady ${mb(s.exporter.steady)} (median of the 2nd half), peak ${mb(s.exporter.peak)}`,
      );
      console.log(`  mtail (tailing a file):        steady ${mb(s.mtail.steady)}, peak ${mb(s.mtail.peak)}`);
      console.log(`  target: steady <= 50 MB ${s.exporter.steady <= 50 * MB ? 'met' : 'NOT met'}`);
    }

    // 5. Dead-server detection with the real clients (root: network namespaces).
    if (DETECTION_RUNS > 0) {
      if (process.getuid?.() !== 0) console.log('\ndetection: skipped (needs root for network namespaces)');
      else {
        console.log(`\ndetection: server death -> tunnel_up 0, ${DETECTION_RUNS} runs per protocol and case`);
        const r = await measureDetection({
          exporter: [process.execPath, ...EXPORTER_NODE_FLAGS, bundle],
          protocols: PROTOCOLS,
          runs: DETECTION_RUNS,
        });
        for (const [key, xs] of Object.entries(r)) {
          const max = Math.max(...xs);
          console.log(
            `  ${key.padEnd(24)} p50 ${median(xs).toFixed(2)} s, max ${max.toFixed(2)} s ` +
              `(${sorted(xs)
                .map((x) => x.toFixed(1))
                .join(', ')})${max <= 10 ? '' : '  NOT within 10 s'}`,
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
