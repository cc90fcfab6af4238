// One HTTP server: POST /v1/alertmanager (the webhook), /healthz, /readyz and /metrics (design: webhook contract).
// Answers: 200 with a JSON summary; 400 malformed; 401 missing/wrong token; 413 body over 1 MiB; 503 when this
// replica cannot act now (not the leader, Kubernetes or Vault unavailable): Alertmanager retries only 5xx.
import type { IncomingMessage } from 'node:http';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { parseNotification, type ParsedNotification } from '../core/alertmanager-payload.js';
import { UnavailableError } from '../errors.js';
import type { Logger } from '../../../common/log.js';
import type { OperatorMetrics } from '../metrics.js';
import { bearerToken, tokensEqual } from './auth.js';

export const WEBHOOK_PATH = '/v1/alertmanager';
export const BODY_LIMIT = 1024 * 1024;

export interface HttpDeps {
  /** The expected bearer token (re-read on rotation). */
  token: () => string;
  /** Acts on a validated notification; throws UnavailableError to answer 503. */
  onNotification: (n: ParsedNotification) => Promise<unknown>;
  /** Whether this replica may act (holds the Lease). */
  isLeader: () => boolean;
  /** Whether the operator is ready to act (caches synced). */
  isReady: () => boolean;
  /** Why it is not ready (each cache not synced yet, with its last error: a 403 names the missing RBAC rule). */
  notReadyReasons?: () => string[];
  metrics: OperatorMetrics;
  log: Logger;
}

function problem(reply: FastifyReply, code: number, error: string, extra: Record<string, string> = {}) {
  for (const [k, v] of Object.entries(extra)) void reply.header(k, v);
  return reply.code(code).type('application/json').send({ error });
}

/** At most this much of an oversized body is read and thrown away before the 413 (then the connection is closed). */
export const DISCARD_LIMIT = 64 * 1024 * 1024;
const DISCARD_TIMEOUT_MS = 30_000;

/** Reads the rest of a request body and drops it; false when it is bigger or slower than the limits allow. */
function discardBody(req: IncomingMessage): Promise<boolean> {
  if (req.complete || req.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onFail);
      req.off('close', onClose);
      resolve(ok);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DISCARD_LIMIT) finish(false);
    };
    const onEnd = () => finish(true);
    const onFail = () => finish(false);
    const onClose = () => finish(req.complete);
    const timer = setTimeout(onFail, DISCARD_TIMEOUT_MS);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onFail);
    req.once('close', onClose);
    req.resume();
  });
}

export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  const { log, metrics } = deps;
  // fastify logs through the shared logger (its redaction included); requests are counted in metrics, not logged.
  const app = Fastify({
    loggerInstance: log.pino.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 413) {
      // Read the rest of the body first: closing with unread bytes resets the connection, the client never sees the
      // 413, and Alertmanager retries a network error, so an oversized batch would be re-sent forever.
      const drained = await discardBody(req.raw);
      if (!drained) log.warn('webhook: oversized body not read to its end; closing the connection', { path: req.url });
      return problem(
        reply,
        413,
        `request body larger than ${String(BODY_LIMIT)} bytes: Alertmanager sends far less; check max_alerts`,
        { Connection: 'close' },
      );
    }
    if (status === 415) return problem(reply, 415, 'Content-Type must be application/json');
    if (status >= 400 && status < 500) return problem(reply, 400, `malformed request body: ${err.message}`);
    log.error('http handler failed', { path: req.url, err });
    return problem(reply, 500, 'internal error: see the operator log');
  });

  app.addHook('onResponse', async (req, reply) => {
    if (req.routeOptions.url === WEBHOOK_PATH) metrics.webhookRequests.inc({ code: String(reply.statusCode) });
  });

  // Authenticate before the body is read: an unauthenticated caller never costs a 1 MiB parse.
  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    const given = bearerToken(req.headers.authorization);
    if (given === undefined)
      return problem(
        reply,
        401,
        'missing "Authorization: Bearer <token>": set http_config.authorization in the Alertmanager receiver',
        {
          'WWW-Authenticate': 'Bearer',
        },
      );
    if (!tokensEqual(given, deps.token()))
      return problem(
        reply,
        401,
        'wrong bearer token: the receiver must send the token of the operator webhook Secret',
        {
          'WWW-Authenticate': 'Bearer error="invalid_token"',
        },
      );
  };

  app.post(WEBHOOK_PATH, { onRequest: authenticate }, async (req, reply) => {
    const parsed = parseNotification(req.body);
    if (!parsed.ok) {
      log.warn('webhook: notification refused', { error: parsed.error });
      return problem(reply, 400, parsed.error);
    }
    if (parsed.value.malformed.length) {
      metrics.malformedAlerts.inc(parsed.value.malformed.length);
      log.warn('webhook: malformed switch alerts skipped; acting on the rest', {
        groupKey: parsed.value.groupKey,
        malformed: parsed.value.malformed,
      });
    }
    // Connection: close makes Alertmanager's retry open a new connection, which the Service may send to the leader;
    // a kept-alive connection would bring every retry back to this follower.
    if (!deps.isLeader())
      return problem(reply, 503, 'this replica is not the leader: Alertmanager retries and reaches the leader', {
        'Retry-After': '5',
        Connection: 'close',
      });
    if (!deps.isReady())
      return problem(
        reply,
        503,
        `the operator is not ready (caches not synced yet): ${(deps.notReadyReasons?.() ?? []).join('; ') || 'starting'}`,
        { 'Retry-After': '5' },
      );
    try {
      const summary = await deps.onNotification(parsed.value);
      return reply.code(200).send(summary);
    } catch (err) {
      if (err instanceof UnavailableError) {
        log.warn('webhook: dependency unavailable, asking Alertmanager to retry', {
          dependency: err.dependency,
          error: err.message,
        });
        return problem(reply, 503, `${err.dependency} unavailable: ${err.message}`, { 'Retry-After': '10' });
      }
      throw err;
    }
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) =>
    deps.isReady()
      ? { status: 'ready', leader: deps.isLeader() }
      : reply
          .code(503)
          .type('application/json')
          .send({ error: 'caches not synced yet', reasons: deps.notReadyReasons?.() ?? [] }),
  );
  app.get('/metrics', async (_req, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
  return app;
}
