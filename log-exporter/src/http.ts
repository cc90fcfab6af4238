// HTTP: /metrics (Prometheus exposition), /healthz (the exporter works), /readyz (the tunnel is up: the hop pod's
// readiness). Fastify 5.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from './prom.js';
import type { LineSource } from './sources/source.js';
import type { ExporterState } from './state.js';

export function buildHttp(opts: { registry: Registry; state: ExporterState; source: () => LineSource | undefined }) {
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 1024 });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
  app.get('/healthz', async (_req, reply) => {
    const source = opts.source()?.status();
    // Only the exporter's own health: a source that retries (API server away, file not there yet) is still a working
    // exporter, and restarting it would not help; the details are in the body and in the logs.
    reply.code(200);
    return { status: 'ok', source, lines: opts.state.linesMatched + opts.state.linesUnmatched };
  });
  app.get('/readyz', async (_req, reply) => {
    const up = opts.state.tunnelUp;
    reply.code(up ? 200 : 503);
    return { tunnelUp: up };
  });
  return app;
}
