// HTTP: /metrics (Prometheus exposition), /healthz (the exporter works), /readyz (the tunnel is up: the hop pod's
// readiness). Three fixed GET routes on node:http (imported when serving: see serve.ts): a framework would be most of the sidecar's code and memory (the
// image's single-file bundle is parsed whole; see docs/performance.md).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from './prom.js';
import type { LineSource } from './sources/source.js';
import type { ExporterState } from './state.js';
import { builtins } from './builtins.js';

export interface HttpServer {
  listen(host: string, port: number): Promise<AddressInfo>;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));

export async function buildHttp(opts: {
  registry: Registry;
  state: ExporterState;
  source: () => LineSource | undefined;
}): Promise<HttpServer> {
  const { createServer } = builtins.http();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return json(res, 405, { error: `${req.method} is not supported; use GET` });
    }
    if (path === '/metrics') return send(res, 200, opts.registry.contentType, await opts.registry.metrics());
    if (path === '/healthz') {
      // Only the exporter's own health: a source that retries (API server away, file not there yet) is still a
      // working exporter, and restarting it would not help; the details are in the body and in the logs.
      const source = opts.source()?.status();
      return json(res, 200, { status: 'ok', source, lines: opts.state.linesMatched + opts.state.linesUnmatched });
    }
    if (path === '/readyz') {
      const up = opts.state.tunnelUp;
      return json(res, up ? 200 : 503, { tunnelUp: up });
    }
    return json(res, 404, { error: `no route ${path}; the exporter serves /metrics, /healthz and /readyz` });
  };
  const server: Server = createServer((req, res) => {
    // Requests have no body worth reading: drain it, never buffer it.
    req.resume();
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000; // longer than Prometheus' idle connections, so scrapes reuse them
  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port }, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
