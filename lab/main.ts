// `npm run lab`: the whole self-healing chain on one machine.
//   npm run lab                              live terminal view (keys: 1..N kill a hop's active server, r restore, q quit)
//   npm run lab -- --headless                one JSON line with the endpoints, then runs until SIGTERM
//   npm run lab -- --scenario NAME [--json]  runs a scripted scenario, prints its result, exits 0 when it passed
//   npm run lab -- cleanup                   removes whatever a crashed lab left behind
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { cleanupLab } from './cleanup.js';
import { runScenario, SCENARIOS } from './scenarios/scenarios.js';
import { DEFAULT_PREFIX, DEFAULT_STATE_DIR, startLab, type Lab } from './stack.js';
import { renderView, type HopState, type HopView } from './view/render.js';

const USAGE = `usage: npm run lab [-- --headless | --scenario NAME [--json] | cleanup]
scenarios: ${Object.keys(SCENARIOS).join(', ')}`;

function fail(message: string): never {
  process.stderr.write(`torchain lab: ${message}\n`);
  process.exit(2);
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
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    fail('needs root (it creates network namespaces, nftables rules and tun devices): run it as root');

  const leftovers = await cleanupLab(DEFAULT_PREFIX, DEFAULT_STATE_DIR);
  if (positionals[0] === 'cleanup') {
    process.stdout.write(JSON.stringify({ cleaned: leftovers }) + '\n');
    return;
  }
  if (positionals.length) fail(`unknown command ${positionals.join(' ')}\n${USAGE}`);
  if (values.scenario && !SCENARIOS[values.scenario]) fail(`unknown scenario ${values.scenario}\n${USAGE}`);
  const found = leftovers.processes.length + leftovers.namespaces.length + leftovers.links.length;
  if (found) process.stderr.write(`removed what an earlier lab left behind: ${JSON.stringify(leftovers)}\n`);

  const interactive = !values.headless && !values.scenario && process.stdout.isTTY === true;
  const progress = (step: string) => process.stderr.write(`[lab] ${step}\n`);
  // Set once the lab is up; shutdown (signals, crashes) may run before that.
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
    progress,
    log: (e) => {
      if (e.level === 'error') process.stderr.write(JSON.stringify(e) + '\n');
    },
  });
  running.lab = lab;

  if (values.scenario) {
    const result = await runScenario(lab, values.scenario);
    process.stdout.write((values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2)) + '\n');
    await shutdown(result.passed ? 0 : 1);
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
  const killed = new Map<number, string[]>();
  const notes: string[] = [];
  const note = (s: string) => notes.push(`${new Date().toISOString().slice(11, 19)} ${s}`);

  process.stdin.setRawMode(true);
  process.stdin.resume();
  process.stdin.on('data', (buf) => {
    const key = buf.toString();
    if (key === 'q' || key === '\x03') return quit();
    if (key === 'r') {
      void (async () => {
        for (const [hop, names] of killed) for (const n of names) await lab.startServer(hop, n);
        killed.clear();
        note('restored every killed server');
      })();
      return;
    }
    const hop = Number(key);
    if (Number.isInteger(hop) && hop >= 1 && hop <= lab.topology.hops.length) {
      void lab
        .killActiveServer(hop)
        .then((name) => {
          killed.set(hop, [...(killed.get(hop) ?? []), name]);
          note(`you killed ${name}, the active server of hop ${hop}`);
        })
        .catch((err: unknown) => note(`could not kill hop ${hop}'s server: ${String(err)}`));
    }
  });

  process.stdout.write('\x1b[?25l');
  const draw = async () => {
    const tcs = await lab.torchains().catch(() => new Map());
    const events = await core
      .listNamespacedEvent({ namespace: lab.endpoints.namespace })
      .then((l) =>
        l.items
          .filter((e) => e.reason && e.involvedObject?.kind === 'TorChain')
          .map((e) => ({ at: isoOf(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp), e }))
          .sort((a, b) => a.at.localeCompare(b.at))
          .map(({ at, e }) => `${at.slice(11, 19)} ${e.involvedObject?.name}: ${e.reason} ${e.message ?? ''}`),
      )
      .catch(() => [] as string[]);
    const hops: HopView[] = lab.topology.hops.map((h) => {
      const tc = tcs.get(h.number);
      const ready = tc?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
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
        number: h.number,
        type: h.type,
        server: tc?.status?.currentServer ?? '',
        state,
        switches: tc?.status?.switches ?? 0,
        lastSwitchTime: tc?.status?.lastSwitchTime,
        killed: killed.get(h.number) ?? [],
      };
    });
    const t = lab.traffic.state;
    const lastOutage = t.outages.at(-1);
    const screen = renderView({
      chain: lab.endpoints.chain.name,
      namespace: lab.endpoints.namespace,
      hops,
      traffic: {
        flowing: t.flowing,
        rttMs: t.lastRttMs,
        sent: t.sent,
        received: t.received,
        outageSeconds: !t.flowing && lastOutage ? (Date.now() - lastOutage.from) / 1000 : undefined,
      },
      events: [...events, ...notes].sort().slice(-8),
      now: new Date(),
    });
    process.stdout.write('\x1b[H\x1b[2J' + screen + '\n');
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
