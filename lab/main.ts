// `npm run lab`: the whole self-healing product on one machine, installed with its own chart into lab/kube.
//   npm run lab                              live terminal view (keys act on the selected chain)
//   npm run lab -- --headless                one JSON line with the endpoints, then runs until SIGTERM
//   npm run lab -- --scenario NAME [--json]  runs a scripted scenario, prints its result, exits 0 when it passed
//                                            (NAME,NAME,… or all: in turn on one lab, one result line each)
//   npm run lab -- cleanup                   removes whatever a crashed lab left behind
// Options: --timings lab|production (default lab), --chain T1,T2,… (the first chain's protocols, hop 1 first),
// --second-chain T1,…|none, --servers N (VPN servers per hop; default 3 and 2, and for scenarios with production
// timings as many as back-to-back failovers need), --containers (every pod from the built images, with podman).
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { isProtocol, PROTOCOLS, type Protocol } from '../common/contracts/protocols.js';
import { cleanupLab } from './cleanup.js';
import { MAX_SERVERS_PER_HOP } from './netns/topology.js';
import { containerRuntimeFromImages } from './kubelet/runtime/containers.js';
import { runScenario, SCENARIOS } from './scenarios/scenarios.js';
import {
  DEFAULT_PREFIX,
  DEFAULT_STATE_DIR,
  serversForRepeatedFailover,
  startLab,
  type Lab,
  type Timings,
} from './stack.js';
import { renderView, type ChainView, type HopState, type HopView } from './view/render.js';

const USAGE = `usage: npm run lab [-- --headless | --scenario NAME[,NAME…]|all [--json] | cleanup]
         [--timings lab|production] [--chain T1,T2,…] [--second-chain T1,…|none] [--servers N] [--containers]
protocols: ${PROTOCOLS.join(', ')}
scenarios: ${Object.keys(SCENARIOS).join(', ')}`;

function fail(message: string): never {
  process.stderr.write(`torchain lab: ${message}\n`);
  process.exit(2);
}

function protocols(flag: string, raw: string | undefined): Protocol[] | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'none') return [];
  const list = raw.split(',').map((s) => s.trim());
  const bad = list.filter((t) => !isProtocol(t));
  if (!list.length || bad.length || list.length > 9)
    fail(`${flag} ${raw}: give 1 to 9 protocols from ${PROTOCOLS.join(', ')}, hop 1 first (bad: ${bad.join(', ')})`);
  return list as Protocol[];
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        headless: { type: 'boolean', default: false },
        scenario: { type: 'string' },
        json: { type: 'boolean', default: false },
        timings: { type: 'string', default: 'lab' },
        chain: { type: 'string' },
        'second-chain': { type: 'string' },
        servers: { type: 'string' },
        containers: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (values.timings !== 'lab' && values.timings !== 'production')
    fail(`--timings ${values.timings}: use lab or production\n${USAGE}`);
  const timings = values.timings as Timings;
  const hops = protocols('--chain', values.chain);
  if (hops && !hops.length) fail('--chain needs at least one protocol');
  const secondChain = protocols('--second-chain', values['second-chain']);
  const servers = values.servers === undefined ? undefined : Number(values.servers);
  if (servers !== undefined && !(Number.isInteger(servers) && servers >= 1 && servers <= MAX_SERVERS_PER_HOP))
    fail(`--servers ${values.servers}: give the VPN servers per hop, a whole number from 1 to ${MAX_SERVERS_PER_HOP}`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    fail('needs root (it creates network namespaces, nftables rules and tun devices): run it as root');

  const leftovers = await cleanupLab(DEFAULT_PREFIX, DEFAULT_STATE_DIR);
  if (positionals[0] === 'cleanup') {
    process.stdout.write(JSON.stringify({ cleaned: leftovers }) + '\n');
    return;
  }
  if (positionals.length) fail(`unknown command ${positionals.join(' ')}\n${USAGE}`);
  // One scenario, a comma-separated list, or `all` (every scenario but the long soak), run in turn on one lab.
  const scenarios = !values.scenario
    ? []
    : values.scenario === 'all'
      ? Object.keys(SCENARIOS).filter((n) => n !== 'soak')
      : values.scenario.split(',');
  for (const n of scenarios) if (!SCENARIOS[n]) fail(`unknown scenario ${n}\n${USAGE}`);
  // Scenarios fail servers back to back (the soak every minute or two for 20 minutes): with 3 servers per hop and the
  // chart's 10-minute quarantine they would mostly wait for a hop with a server left to fail over to.
  const serversPerHop =
    servers ?? (scenarios.length && timings === 'production' ? serversForRepeatedFailover(timings) : undefined);
  const found = leftovers.processes.length + leftovers.namespaces.length + leftovers.containers.length;
  if (found) process.stderr.write(`removed what an earlier lab left behind: ${JSON.stringify(leftovers)}\n`);

  const interactive = !values.headless && !values.scenario && process.stdout.isTTY === true;
  const progress = (step: string) => process.stderr.write(`[lab] ${step}\n`);
  const running: { lab?: Lab } = {};
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    if (interactive) process.stdout.write('\x1b[?25h\n');
    progress('stopping: removing every namespace, process and file of the lab');
    await running.lab?.close().catch((err: unknown) => process.stderr.write(`cleanup error: ${String(err)}\n`));
    await cleanupLab(DEFAULT_PREFIX, DEFAULT_STATE_DIR).catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  process.on('uncaughtException', (err) => {
    process.stderr.write(`lab crashed: ${err.stack ?? String(err)}\n`);
    void shutdown(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`lab crashed: ${err instanceof Error ? err.stack : String(err)}\n`);
    void shutdown(1);
  });

  const lab = await startLab({
    hops,
    secondChain,
    timings,
    ...(serversPerHop ? { serversPerHop } : {}),
    ...(values.containers ? { runtime: () => containerRuntimeFromImages(DEFAULT_PREFIX) } : {}),
    progress,
    log: (e) => {
      if (e.level === 'error') process.stderr.write(JSON.stringify(e) + '\n');
    },
  });
  running.lab = lab;

  if (scenarios.length) {
    let passed = true;
    for (const name of scenarios) {
      progress(`scenario ${name}`);
      const result = await runScenario(lab, name);
      if (!result.passed) progress(`scenario ${name} failed: logs and audit log kept in ${lab.keepLogs()}`);
      passed &&= result.passed;
      process.stdout.write((values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2)) + '\n');
    }
    await shutdown(passed ? 0 : 1);
    return;
  }
  if (!interactive) {
    process.stdout.write(JSON.stringify(lab.endpoints) + '\n');
    return; // runs until SIGTERM
  }
  await liveView(lab, () => void shutdown(0));
}

async function liveView(lab: Lab, quit: () => void): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(lab.endpoints.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const failed = new Map<string, string[]>();
  const notes: string[] = [];
  const note = (s: string) => notes.push(`${new Date().toISOString().slice(11, 19)} ${s}`);
  let selected = 0;
  let silent = false;

  process.stdin.setRawMode(true);
  process.stdin.resume();
  process.stdin.on('data', (buf) => {
    const key = buf.toString();
    const chain = lab.chains[selected]!;
    if (key === 'q' || key === '\x03') return quit();
    if (key === '\t') {
      selected = (selected + 1) % lab.chains.length;
      return;
    }
    if (key === 's') {
      silent = true;
      return;
    }
    if (key === 'r') {
      void Promise.all(lab.chains.map((c) => c.restoreServers())).then(() => {
        failed.clear();
        note('restored every failed server');
      });
      return;
    }
    const hop = Number(key);
    if (Number.isInteger(hop) && hop >= 1 && hop <= chain.types.length) {
      const how = silent ? 'blackhole' : 'kill';
      silent = false;
      void chain
        .failActiveServer(hop, how)
        .then((name) => {
          const k = `${chain.name}/${hop}`;
          failed.set(k, [...(failed.get(k) ?? []), name]);
          note(
            `you ${how === 'kill' ? 'killed' : 'blackholed'} ${name}, the active server of ${chain.name} hop ${hop}`,
          );
        })
        .catch((err: unknown) => note(`could not fail ${chain.name} hop ${hop}'s server: ${String(err)}`));
    }
  });

  process.stdout.write('\x1b[?25l');
  const draw = async () => {
    const chains: ChainView[] = [];
    const events: string[] = [];
    for (const c of lab.chains) {
      const tcs = await c.torchains().catch(() => new Map());
      events.push(
        ...(await core
          .listNamespacedEvent({ namespace: c.namespace })
          .then((l) =>
            l.items
              .filter((e) => e.reason && e.involvedObject?.kind === 'TorChain')
              .map(
                (e) =>
                  `${isoOf(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp).slice(11, 19)} ${c.name}/${e.involvedObject?.name}: ${e.reason} ${e.message ?? ''}`,
              ),
          )
          .catch(() => [] as string[])),
      );
      const hops: HopView[] = c.types.map((type, i) => {
        const tc = tcs.get(i + 1);
        const ready = tc?.status?.conditions?.find((x: { type: string }) => x.type === 'Ready')?.status === 'True';
        const phase = tc?.status?.phase;
        const state: HopState =
          phase === 'Dropped'
            ? 'dropped'
            : phase === 'Switching'
              ? 'switching'
              : ready
                ? 'up'
                : tc?.status
                  ? 'down'
                  : 'starting';
        return {
          number: i + 1,
          type,
          server: tc?.status?.currentServer ?? '',
          state,
          switches: tc?.status?.switches ?? 0,
          lastSwitchTime: tc?.status?.lastSwitchTime,
          killed: failed.get(`${c.name}/${i + 1}`) ?? [],
        };
      });
      const t = c.traffic.state;
      const lastOutage = t.outages.at(-1);
      chains.push({
        chain: c.name,
        namespace: c.namespace,
        hops,
        traffic: {
          flowing: t.flowing,
          rttMs: t.lastRttMs,
          sent: t.sent,
          received: t.received,
          outageSeconds: !t.flowing && lastOutage ? (Date.now() - lastOutage.from) / 1000 : undefined,
        },
      });
    }
    const screen = renderView({
      chains,
      selected,
      timings: lab.timings,
      events: [...events, ...notes].sort().slice(-8),
      now: new Date(),
    });
    process.stdout.write('\x1b[H\x1b[2J' + screen + (silent ? '\n  silent death: press a hop number' : '') + '\n');
  };
  for (;;) {
    await draw();
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** client-node gives Event times as Date objects (or strings for MicroTime): one sortable ISO form. */
function isoOf(t: Date | string | undefined): string {
  if (!t) return '';
  const d = t instanceof Date ? t : new Date(t);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

void main().catch((err: unknown) => {
  process.stderr.write(`torchain lab failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  void cleanupLab(DEFAULT_PREFIX, DEFAULT_STATE_DIR).finally(() => process.exit(1));
});
