// `npm run bench:alerting [-- --runs N]`: time from a hop reading down to the operator's webhook call, through the
// real Prometheus and Alertmanager with the lab timings, K times; and the same path with `for: 0s` as the peer run,
// which isolates the pipeline's own delay (scrape, evaluation, group_wait) from the `for` the rules ask for.
// Prints one JSON object: p50/p95 of both, the timing budget, and the ratios.
import { LAB_ALERTING, durationSeconds, timingBudget, type AlertingParams } from '../prometheus-rules/src/render.js';
import { measureFailureToWebhook, startPipeline } from '../test/prometheus-rules/pipeline.js';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;
if (!Number.isInteger(RUNS) || RUNS < 1) {
  console.error('--runs must be a positive integer (default 10)');
  process.exit(2);
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
};

async function series(name: string, params: AlertingParams): Promise<{ name: string; ms: number[] }> {
  const p = await startPipeline(params);
  const ms: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      ms.push(await measureFailureToWebhook(p));
      process.stderr.write(`${name} run ${i + 1}/${RUNS}: ${ms.at(-1)} ms\n`);
    }
  } finally {
    await p.close();
  }
  return { name, ms };
}

const peerParams: AlertingParams = { ...structuredClone(LAB_ALERTING), tunnelDown: { for: '0s' } };
const lab = await series('lab', LAB_ALERTING);
const peer = await series('peer-for-0s', peerParams);
const budget = timingBudget(LAB_ALERTING);
const detection = LAB_ALERTING.budget.downDetectionSeconds;
const summary = (s: { ms: number[] }) => ({
  p50: quantile(s.ms, 0.5) / 1000,
  p95: quantile(s.ms, 0.95) / 1000,
  min: Math.min(...s.ms) / 1000,
  max: Math.max(...s.ms) / 1000,
});
const labS = summary(lab);
const peerS = summary(peer);
console.log(
  JSON.stringify(
    {
      bench: 'alerting: hop down → webhook (seconds), real Prometheus + Alertmanager, lab timings',
      runs: RUNS,
      lab: labS,
      peerFor0s: peerS,
      budget: {
        worstWithoutDetection: budget.worstSeconds - detection,
        bestWithoutDetection: budget.bestSeconds,
        for: durationSeconds(LAB_ALERTING.tunnelDown.for),
      },
      ratios: {
        labP95OverBudgetWorst: +(labS.p95 / (budget.worstSeconds - detection)).toFixed(2),
        labP50MinusPeerP50: +(labS.p50 - peerS.p50).toFixed(2),
      },
    },
    null,
    2,
  ),
);
