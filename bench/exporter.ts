// npm run bench:exporter — the log-exporter as the image runs it (the single-file esbuild bundle images/bundle.ts
// makes, run by plain node with the image's flags) against mtail (its peer, the Debian package) in the same run, on
// two runtimes: the image's node 24 (.tools/node24, the version images/images.json pins; the targets are judged
// there) and the machine's node 20 (a second row):
//  1. one-shot parse of a 1,000,000-line log built from the real OpenVPN corpus (mtail runs the program rendered from
//     the same pattern table, bench/exporter-mtail.ts): lines/s, their ratio, peak RSS (ru_maxrss, /usr/bin/time);
//  2. steady state under a stream of 1,000 lines/s for 60 s (the exporters in serve mode reading stdin, scraped every
//     5 s; mtail tailing a file; all fed the same lines at the same time): RSS sampled every second from /proc,
//     median of the second half and peak;
//  3. as root: dead-server detection per protocol, killed and blackholed (bench/exporter-detection.ts, node 24),
//     p50 and max.
// Targets (node 24): ratio >= 5.0; bundle peak RSS one-shot <= 50 MB; steady RSS <= 50 MB (decimal MB, the stricter
// reading); detection <= 10 s. Exit code 1 when a target is not met.
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
import { EXPORTER_NODE_FLAGS, NODE_VERSION } from './exporter-node-flags.js';
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
    const child = spawn(TIME, ['-f', 'BENCH_MAXRSS_KB=%M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const m = /BENCH_MAXRSS_KB=(\d+)/.exec(stderr);
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

/** The runtimes the bundle is measured on: the image's node first (the targets are judged on it). */
interface Runtime {
  name: string;
  node: string;
  /** The image's flags this runtime accepts (node 20 lacks some V8 flags of node 24); the others are printed. */
  flags: string[];
}

/** The image's flags that `node` accepts, and those it rejects ("bad option"). */
function acceptedFlags(node: string): { flags: string[]; rejected: string[] } {
  const flags: string[] = [];
  const rejected: string[] = [];
  for (const f of EXPORTER_NODE_FLAGS) {
    try {
      execFileSync(node, [f, '-e', '0'], { stdio: 'ignore' });
      flags.push(f);
    } catch {
      rejected.push(f);
    }
  }
  return { flags, rejected };
}

function runtimes(): Runtime[] {
  const node24 = join(REPO_ROOT, '.tools/node24/bin/node');
  if (!existsSync(node24)) {
    throw new Error(`${node24} is missing: run bash scripts/prereqs.sh (it installs the node images/images.json pins)`);
  }
  const version = (node: string) => execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const image = version(node24);
  const pinned = `v${NODE_VERSION}`;
  if (image !== pinned)
    throw new Error(`${node24} is ${image}, images/images.json pins ${pinned}: run bash scripts/prereqs.sh`);
  const imageFlags = acceptedFlags(node24);
  if (imageFlags.rejected.length) {
    throw new Error(`${node24} rejects the image's flags ${imageFlags.rejected.join(' ')}: fix images/images.json`);
  }
  const machine = acceptedFlags(process.execPath);
  if (machine.rejected.length)
    console.log(`node ${process.version} runs without ${machine.rejected.join(' ')} (unknown)`);
  return [
    { name: `node ${image} (image)`, node: node24, flags: imageFlags.flags },
    { name: `node ${process.version} (machine)`, node: process.execPath, flags: machine.flags },
  ];
}

/**
 * 1,000 lines/s for STREAM_SECONDS into each exporter's stdin (one per runtime) and mtail's file, the same lines at
 * the same time; RSS of every process every second.
 */
async function stream(rts: Runtime[], bundle: string, progs: string, corpus: string[], dir: string) {
  const file = join(dir, 'stream.log');
  writeFileSync(file, '');
  const procs: ChildProcess[] = [];
  try {
    const exporters = rts.map((rt) => {
      const p = spawn(
        rt.node,
        [...rt.flags, bundle, '--type', 'openvpn', '--source', 'stdin', '--listen', '127.0.0.1:0'],
        { stdio: ['pipe', 'ignore', 'pipe'] },
      );
      procs.push(p);
      const e = { rt, proc: p, stderr: '', port: undefined as number | undefined, samples: [] as number[] };
      p.stderr?.setEncoding('utf8').on('data', (d: string) => (e.stderr += d));
      return e;
    });
    const mtail = spawn(MTAIL, mtailArgs(progs, file, false), { stdio: 'ignore' });
    procs.push(mtail);
    const mtailSamples: number[] = [];
    const until = Date.now() + 20_000;
    for (const e of exporters) {
      while ((e.port = listeningPort(e.stderr)) === undefined) {
        if (Date.now() > until) throw new Error(`the exporter on ${e.rt.name} did not start: ${e.stderr}`);
        await sleep(50);
      }
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
        for (const e of exporters) {
          const body = await (await fetch(`http://127.0.0.1:${e.port}/metrics`)).text();
          if (!body.includes('torchain_vpn_tunnel_up')) throw new Error(`${e.rt.name}: a scrape without the contract`);
        }
        scrapes++;
      }
      const due = Math.floor(((Date.now() - started) / 1000) * STREAM_RATE);
      if (due > sent) {
        const batch: string[] = [];
        for (; sent < due; sent++) batch.push(corpus[sent % corpus.length] as string);
        const text = batch.join('\n') + '\n';
        for (const e of exporters) e.proc.stdin?.write(text);
        appendFileSync(file, text);
      }
      if (Date.now() >= nextSample) {
        nextSample += 1000;
        for (const e of exporters) {
          const rss = rssBytes(e.proc.pid as number);
          if (rss === undefined) throw new Error(`the exporter on ${e.rt.name} exited during the stream: ${e.stderr}`);
          e.samples.push(rss);
        }
        const m = rssBytes(mtail.pid as number);
        if (m === undefined) throw new Error('mtail exited during the stream');
        mtailSamples.push(m);
      }
      await sleep(20);
    }
    // Every line reached every exporter: the RSS is that of an exporter that did the work.
    for (const e of exporters) {
      const body = await (await fetch(`http://127.0.0.1:${e.port}/metrics`)).text();
      const lines = [...counts(body)].filter(([k]) => k.startsWith('torchain_log_exporter_lines_total'));
      const read = lines.reduce((n, [, v]) => n + v, 0);
      if (read !== sent) throw new Error(`the exporter on ${e.rt.name} read ${read} of ${sent} lines`);
    }
    const half = (xs: number[]) => xs.slice(Math.floor(xs.length / 2));
    const summary = (xs: number[]) => ({ steady: median(half(xs)), peak: Math.max(...xs) });
    return {
      lines: sent,
      scrapes,
      exporters: exporters.map((e) => ({ name: e.rt.name, ...summary(e.samples) })),
      mtail: summary(mtailSamples),
    };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
}

async function main() {
  for (const bin of [MTAIL, TIME]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash scripts/prereqs.sh (packages mtail, time)`);
  }
  const rts = runtimes();
  const image = rts[0] as Runtime;
  const failed: string[] = [];
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
      `bundle: ${(readFileSync(bundle).length / MB).toFixed(2)} MB; flags (images/images.json): ${EXPORTER_NODE_FLAGS.join(' ')}`,
    );
    const progs = join(dir, 'progs');
    mkdirSync(progs);
    writeFileSync(join(progs, 'openvpn.mtail'), renderMtailProgram('openvpn'));

    // 3. One-shot, alternating: the bundle with the image's flags on each runtime, the image's runtime without
    //    flags (what the flags buy), mtail.
    const variants: Record<string, { node: string; args: string[] }> = {};
    for (const rt of rts) variants[`${rt.name} + flags`] = { node: rt.node, args: [...rt.flags, bundle] };
    variants[`${image.name}, no flags`] = { node: image.node, args: [bundle] };
    const ours: Record<string, Run[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    const theirs: Run[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, v] of Object.entries(variants)) {
        ours[name]?.push(await measure(v.node, [...v.args, '--once', '--type', 'openvpn', log]));
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

    // Same work: every run must count what mtail counts.
    const b = counts(theirs[0]?.stdout ?? '');
    for (const [name, runs] of Object.entries(ours)) {
      const a = counts(runs[0]?.stdout ?? '');
      const differ = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
      if (differ.length) throw new Error(`${name} and mtail disagree on ${differ.join(', ')}: the comparison is void`);
      const total =
        (a.get('torchain_log_exporter_lines_total{matched="true"}') ?? 0) +
        (a.get('torchain_log_exporter_lines_total{matched="false"}') ?? 0);
      if (total !== LINES) throw new Error(`${name}: the exporter did not count every line`);
    }

    const theirsRate = LINES / median(theirs.map((r) => r.seconds));
    const theirsRss = Math.max(...theirs.map((r) => r.maxRssBytes));
    const width = Math.max(...Object.keys(ours).map((k) => k.length), 5);
    console.log('\none-shot, 1 line = 1 corpus line:');
    for (const [name, runs] of Object.entries(ours)) {
      const rate = LINES / median(runs.map((r) => r.seconds));
      const rss = Math.max(...runs.map((r) => r.maxRssBytes));
      console.log(
        `  ${name.padEnd(width)} ${Math.round(rate).toLocaleString('en-US').padStart(9)} lines/s (median of ${ROUNDS}), ` +
          `${(rate / theirsRate).toFixed(2)}x mtail; peak RSS ${mb(rss)}`,
      );
    }
    console.log(
      `  ${'mtail'.padEnd(width)} ${Math.round(theirsRate).toLocaleString('en-US').padStart(9)} lines/s; peak RSS ${mb(theirsRss)}`,
    );
    const flagged = ours[`${image.name} + flags`] ?? [];
    const ratio = LINES / median(flagged.map((r) => r.seconds)) / theirsRate;
    const peak = Math.max(...flagged.map((r) => r.maxRssBytes));
    if (ratio < 5) failed.push(`one-shot ratio ${ratio.toFixed(2)} < 5.0`);
    if (peak > 50 * MB) failed.push(`one-shot peak ${mb(peak)} > 50 MB`);
    console.log(
      `  targets (${image.name}): ratio >= 5.0 ${ratio >= 5 ? 'met' : 'NOT met'}; ` +
        `peak <= 50 MB ${peak <= 50 * MB ? 'met' : 'NOT met'}`,
    );

    // 4. Steady state under 1,000 lines/s.
    if (STREAM_SECONDS > 0) {
      const s = await stream(rts, bundle, progs, corpus, dir);
      console.log(
        `\nstream: ${s.lines} lines in ${STREAM_SECONDS} s (${STREAM_RATE} lines/s) into each, ${s.scrapes} scrapes, ` +
          'RSS every second (steady: median of the 2nd half):',
      );
      const w = Math.max(...s.exporters.map((e) => e.name.length)) + 17;
      for (const e of s.exporters) {
        console.log(`  ${`${e.name} + flags, serve`.padEnd(w)} steady ${mb(e.steady)}, peak ${mb(e.peak)}`);
      }
      console.log(`  ${'mtail (tailing a file)'.padEnd(w)} steady ${mb(s.mtail.steady)}, peak ${mb(s.mtail.peak)}`);
      const steady = s.exporters[0]?.steady ?? Infinity;
      if (steady > 50 * MB) failed.push(`steady ${mb(steady)} > 50 MB`);
      console.log(`  target (${image.name}): steady <= 50 MB ${steady <= 50 * MB ? 'met' : 'NOT met'}`);
    }

    // 5. Dead-server detection with the real clients (root: network namespaces), on the image's runtime.
    if (DETECTION_RUNS > 0) {
      if (process.getuid?.() !== 0) console.log('\ndetection: skipped (needs root for network namespaces)');
      else {
        console.log(
          `\ndetection (${image.name}): server death -> tunnel_up 0, ${DETECTION_RUNS} runs per protocol and case`,
        );
        const r = await measureDetection({
          exporter: [image.node, ...EXPORTER_NODE_FLAGS, bundle],
          protocols: PROTOCOLS,
          runs: DETECTION_RUNS,
        });
        for (const [key, xs] of Object.entries(r)) {
          const max = Math.max(...xs);
          if (max > 10) failed.push(`detection ${key} max ${max.toFixed(2)} s > 10 s`);
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
  if (failed.length) {
    console.log(`\ntargets NOT met: ${failed.join('; ')}`);
    process.exitCode = 1;
  } else console.log('\nevery target met');
}

await main();
