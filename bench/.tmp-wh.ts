import { buildHttpServer } from '../operator/src/http/server.js';
import { FailoverExecutor } from '../operator/src/failover/executor.js';
import { createMetrics } from '../operator/src/metrics.js';
import { silentLogger } from '../operator/src/log.js';
import { EventRecorder } from '../operator/src/adapters/kube/events.js';
const store = new Map();
for (let c = 0; c < 1000; c++)
  for (let h = 1; h <= 3; h++)
    store.set(`bench/c${c}-${h}`, {
      apiVersion: 'torchain.dev/v1alpha1',
      kind: 'TorChain',
      metadata: {
        name: `c${c}-${h}`,
        namespace: 'bench',
        resourceVersion: '1',
        annotations: {
          'torchain.dev/failover': JSON.stringify({
            switches: 1,
            lastSwitchTime: new Date().toISOString(),
            quarantine: {},
          }),
        },
      },
      spec: { numberNode: h, typeNode: 'openvpn', nameTorChain: `c${c}` },
    });
const metrics = createMetrics();
const ex = new FailoverExecutor({
  kube: {} as never,
  kv: {} as never,
  torchains: store,
  events: new EventRecorder({ createEvent: async () => undefined }, 'x', silentLogger),
  metrics,
  log: silentLogger,
  poolPrefix: 'torchain',
  cooldownMs: 3600_000,
  quarantineMs: 1,
  enqueue: () => undefined,
});
const app = buildHttpServer({
  token: () => 't',
  onNotification: (n) => ex.handleNotification(n),
  isLeader: () => true,
  isReady: () => true,
  metrics,
  log: silentLogger,
});
const alert = (c: number) => ({
  status: 'firing',
  labels: { torchain_action: 'switch', namespace: 'bench', torchain: `c${c}`, hop: '1' },
  annotations: {},
  startsAt: new Date().toISOString(),
  endsAt: '0001-01-01T00:00:00Z',
  fingerprint: 'f',
});
const body = (alerts: unknown[]) =>
  JSON.stringify({
    version: '4',
    status: 'firing',
    alerts,
    groupKey: 'g',
    receiver: 'r',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: '',
    truncatedAlerts: 0,
  });
for (const [n, alerts] of [
  [500, [alert(1)]],
  [500, [alert(1)]],
  [20, Array.from({ length: 1000 }, (_, c) => alert(c))],
] as const) {
  const payload = body(alerts as unknown[]);
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await app.inject({
      method: 'POST',
      url: '/v1/alertmanager',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      payload,
    });
    if (r.statusCode !== 200) throw new Error(r.body);
  }
  console.log(`${alerts.length} alert(s): ${((performance.now() - t) / n).toFixed(2)} ms/call`);
}
const t = performance.now();
for (let i = 0; i < 500; i++) await app.inject({ method: 'GET', url: '/healthz' });
console.log(`healthz: ${((performance.now() - t) / 500).toFixed(3)} ms/call`);
