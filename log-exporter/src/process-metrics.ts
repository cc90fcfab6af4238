// The exporter's own process metrics (memory, CPU, event loop), under prom-client's default names with the
// `torchain_log_exporter_` prefix so they cannot clash with the pod's. Five values read at scrape time: prom-client's
// collectDefaultMetrics would pull its whole package (pushgateway, cluster, OpenTelemetry) into the image's bundle.
import { Counter, Gauge, type Registry } from './prom.js';
import { LagHistogram, sampleLoopLag } from './loop-lag.js';

const PREFIX = 'torchain_log_exporter_';

export async function registerProcessMetrics(registry: Registry): Promise<() => void> {
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  const loop = new LagHistogram();
  const stopSampling = sampleLoopLag(loop, 20);
  new Gauge({
    name: `${PREFIX}process_resident_memory_bytes`,
    help: 'Resident memory size in bytes.',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: `${PREFIX}nodejs_heap_size_used_bytes`,
    help: 'V8 heap used, in bytes.',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new Counter({
    name: `${PREFIX}process_cpu_seconds_total`,
    help: 'User and system CPU time spent, in seconds.',
    registers: [registry],
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  new Gauge({
    name: `${PREFIX}process_start_time_seconds`,
    help: 'Start time of the process since the unix epoch, in seconds.',
    registers: [registry],
    collect() {
      this.set(startSeconds);
    },
  });
  new Gauge({
    name: `${PREFIX}nodejs_eventloop_lag_p99_seconds`,
    help: 'The 99th percentile of event loop delay since the previous scrape, in seconds.',
    registers: [registry],
    collect() {
      this.set(loop.percentileSeconds(99));
      loop.reset();
    },
  });
  return stopSampling;
}
