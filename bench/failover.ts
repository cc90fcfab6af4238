// npm run bench:failover [-- --kills K]: on a real lab, kill hop 1's active VPN server K times (default 10) and measure
// the time from the server's death to traffic flowing end to end again, broken down into
//   detection  kill → the hop's exporter reads tunnel_up 0
//   alert      → Prometheus has the switch alert firing
//   switch     → the operator moved spec.switchServer (webhook or poll, decision, patch)
//   reconnect  → traffic flows LAN → internet again (reconcile, Secret, rollout, new tunnel, hops below)
// In the same run, as the peer, it measures a plain reconnect: the killed server is started again and the hop's VPN
// client (no failover involved) carries traffic again. Prints p50/p95 of each and the ratio to the peer.
import { parseArgs } from 'node:util';
import { cleanupLab } from '../lab/cleanup.js';
import { DEFAULT_PREFIX, DEFAULT_STATE_DIR, startLab, type Lab } from '../lab/stack.js';
import { sleep, waitFor } from '../lab/runtime/wait.js';

const { values } = parseArgs({ options: { kills: { type: 'string', default: '10' } } });
const K = Number(values.kills);
if (!Number.isInteger(K) || K < 1) throw new Error(`--kills ${values.kills}: a whole number >= 1`);

interface Sample {
  total: number;
  detection: number;
  alert: number;
  switch: number;
  reconnect: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
};

async function exporterSaysDown(lab: Lab, hop: number): Promise<boolean> {
  const pod = lab.kubelet.runningPods().find((p) => p.labels['torchain.dev/hop'] === String(hop));
  if (!pod) return true;
  try {
    const text = await (await fetch(`http://${pod.podIP}:9108/metrics`, { signal: AbortSignal.timeout(500) })).text();
    return /^torchain_vpn_tunnel_up 0$/m.test(text);
  } catch {
    return true;
  }
}

async function alertFiring(lab: Lab, hop: number): Promise<boolean> {
  const q = `ALERTS{alertstate="firing",torchain_action="switch",hop="${hop}"}`;
  const res = await fetch(`${lab.prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`);
  return ((await res.json()) as { data: { result: unknown[] } }).data.result.length > 0;
}

const switchServer = async (lab: Lab, hop: number) => (await lab.torchains()).get(hop)?.spec.switchServer ?? 0;

async function settle(lab: Lab): Promise<void> {
  for (const h of lab.topology.hops) for (const n of lab.deadServers(h.number)) await lab.startServer(h.number, n);
  await lab.waitForTraffic(120_000);
  // Past the operator's cooldown and grace (lab timings: 10 s) and with no switch alert left, so the next kill counts.
  await sleep(12_000);
  await waitFor('no firing switch alert', async () => !(await alertFiring(lab, 1)) && !(await alertFiring(lab, 2)), {
    timeoutMs: 60_000,
  });
}

async function failoverOnce(lab: Lab): Promise<Sample> {
  const before = await switchServer(lab, 1);
  const t0 = Date.now();
  await lab.killActiveServer(1);
  const marks = { detection: 0, alert: 0, switch: 0 };
  const watch = (async () => {
    await waitFor('exporter tunnel_up 0', async () => (await exporterSaysDown(lab, 1)) || undefined, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    marks.detection = Date.now();
    await waitFor(
      'switch alert firing',
      async () => (await alertFiring(lab, 1)) || (await switchServer(lab, 1)) > before || undefined,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );
    marks.alert = Date.now();
    await waitFor('switchServer moved', async () => (await switchServer(lab, 1)) > before || undefined, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    marks.switch = Date.now();
  })();
  const back = await lab.traffic.waitFlowing(t0 + 1000, 120_000);
  await watch;
  return {
    total: (back - t0) / 1000,
    detection: (marks.detection - t0) / 1000,
    alert: (marks.alert - marks.detection) / 1000,
    switch: (marks.switch - marks.alert) / 1000,
    reconnect: (back - marks.switch) / 1000,
  };
}

/** The peer: the same server killed, then started again by hand; the client reconnects on its own. */
async function reconnectOnce(lab: Lab): Promise<number> {
  const name = await lab.activeServer(1);
  if (!name) throw new Error('hop 1 has no active server');
  await lab.killServer(1, name);
  await waitFor('traffic to stop', async () => !lab.traffic.state.flowing || undefined, {
    timeoutMs: 10_000,
    intervalMs: 50,
  });
  const t0 = Date.now();
  await lab.startServer(1, name);
  const back = await lab.traffic.waitFlowing(t0, 120_000);
  return (back - t0) / 1000;
}

async function main(): Promise<void> {
  await cleanupLab(DEFAULT_PREFIX, DEFAULT_STATE_DIR);
  const lab = await startLab({ progress: (s) => process.stderr.write(`[lab] ${s}\n`) });
  const samples: Sample[] = [];
  const peer: number[] = [];
  try {
    for (let i = 0; i < K; i++) {
      await settle(lab);
      const s = await failoverOnce(lab);
      samples.push(s);
      process.stderr.write(`failover ${i + 1}/${K}: ${JSON.stringify(s)}\n`);
      await settle(lab);
      // The peer runs between failovers, so both see the same machine load; the operator must not switch meanwhile.
      if (i % 2 === 0) {
        const r = await reconnectOnce(lab);
        peer.push(r);
        process.stderr.write(`plain reconnect: ${r.toFixed(2)} s\n`);
      }
    }
  } finally {
    await lab.close();
  }
  const col = (k: keyof Sample) => samples.map((s) => s[k]);
  const row = (name: string, xs: number[]) =>
    `| ${name} | ${quantile(xs, 0.5).toFixed(2)} | ${quantile(xs, 0.95).toFixed(2)} |`;
  const lines = [
    `failover of hop 1, ${K} kills (lab timings), seconds:`,
    '| segment | p50 | p95 |',
    '|---|---:|---:|',
    row('total: server death → traffic flows', col('total')),
    row('detection (→ exporter tunnel_up 0)', col('detection')),
    row('alert (→ switch alert firing)', col('alert')),
    row('webhook and switch (→ switchServer moved)', col('switch')),
    row('reconnect (→ traffic flows)', col('reconnect')),
    row('peer: plain reconnect of a restarted server', peer),
    '',
    `ratio total/peer: p50 ${(quantile(col('total'), 0.5) / quantile(peer, 0.5)).toFixed(2)}, p95 ${(quantile(col('total'), 0.95) / quantile(peer, 0.95)).toFixed(2)}`,
    `targets: p50 <= 15 s (${quantile(col('total'), 0.5) <= 15 ? 'met' : 'MISSED'}), p95 <= 25 s (${quantile(col('total'), 0.95) <= 25 ? 'met' : 'MISSED'})`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

void main().catch((err: unknown) => {
  process.stderr.write(`bench:failover failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
