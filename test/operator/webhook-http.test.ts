import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParsedNotification } from '../../operator/src/core/alertmanager-payload.js';
import { UnavailableError } from '../../operator/src/errors.js';
import { bearerToken, tokensEqual } from '../../operator/src/http/auth.js';
import { buildHttpServer, type HttpDeps } from '../../operator/src/http/server.js';
import { createLogger, silentLogger } from '../../common/log.js';
import { createMetrics } from '../../operator/src/metrics.js';
import { notification, switchAlert } from './support/alerts.js';

const TOKEN = 's3cret-token-value';

function setup(over: Partial<HttpDeps> = {}) {
  const calls: ParsedNotification[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const app = buildHttpServer({
    token: () => TOKEN,
    onNotification: async (n) => {
      calls.push(n);
      return { chains: n.firing.map((a) => ({ chain: a.torchain, hop: a.hop })) };
    },
    isLeader: () => true,
    isReady: () => true,
    metrics,
    log: silentLogger,
    ...over,
  });
  return { app, calls, metrics };
}

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

describe('webhook: accepted notifications', () => {
  it('answers 200 with the summary and hands over the switch alerts', async () => {
    const { app, calls, metrics } = setup();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alertmanager',
      headers: auth,
      payload: notification([switchAlert(2)]),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ chains: [{ chain: 'alpha', hop: 2 }] });
    expect(calls).toHaveLength(1);
    expect(await metrics.registry.getSingleMetricAsString('torchain_operator_webhook_requests_total')).toMatch(
      /code="200"} 1/,
    );
  });
});

describe('webhook: a table of bad requests, each with its answer and no effect', () => {
  const big = JSON.stringify(notification([switchAlert(1, { annotations: { pad: 'x'.repeat(2 * 1024 * 1024) } })]));
  it.each([
    ['malformed JSON', auth, '{"version": "4", ', 400, /malformed request body/],
    ['wrong version', auth, JSON.stringify(notification([], { version: '3' })), 400, /version "3"/],
    ['a 2 MB body', auth, big, 413, /larger than 1048576 bytes/],
    [
      'no token',
      { 'content-type': 'application/json' },
      JSON.stringify(notification([switchAlert(1)])),
      401,
      /missing "Authorization/,
    ],
    [
      'wrong token',
      { ...auth, authorization: 'Bearer nope' },
      JSON.stringify(notification([switchAlert(1)])),
      401,
      /wrong bearer token/,
    ],
    [
      'a token of another scheme',
      { ...auth, authorization: `Basic ${TOKEN}` },
      JSON.stringify(notification([])),
      401,
      /missing/,
    ],
    ['no token and a 2 MB body', { 'content-type': 'application/json' }, big, 401, /missing/],
  ])('%s', async (_n, headers, payload, code, message) => {
    const { app, calls, metrics } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/alertmanager', headers, payload });
    expect(res.statusCode).toBe(code);
    expect(res.json().error).toMatch(message);
    expect(calls).toHaveLength(0);
    expect(await metrics.registry.getSingleMetricAsString('torchain_operator_webhook_requests_total')).toMatch(
      new RegExp(`code="${String(code)}"} 1`),
    );
  });
});

describe('webhook: a malformed switch alert spoils nothing else', () => {
  it('answers 200, acts on the other alerts, and reports the malformed one in the log and a metric', async () => {
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (l) => lines.push(l) } });
    const { app, calls, metrics } = setup({ log });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alertmanager',
      headers: auth,
      payload: notification([switchAlert(1, {}, { hop: '' }), switchAlert(2, {}, { torchain: 'beta' })]),
    });
    expect(res.statusCode).toBe(200);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.firing.map((a) => [a.torchain, a.hop])).toEqual([['beta', 2]]);
    expect(calls[0]!.malformed).toEqual([
      expect.objectContaining({
        index: 0,
        torchain: 'alpha',
        error: expect.stringMatching(/lacks the label\(s\) hop/),
      }),
    ]);
    expect(await metrics.registry.getSingleMetricAsString('torchain_operator_webhook_malformed_alerts_total')).toMatch(
      / 1$/m,
    );
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'webhook: malformed switch alerts skipped; acting on the rest' }),
    );
  });
});

describe('webhook: 503 asks Alertmanager to retry', () => {
  it.each([
    ['a follower replica', { isLeader: () => false }, /not the leader/],
    ['caches not synced', { isReady: () => false }, /starting/],
    [
      'Vault unavailable',
      {
        onNotification: async () => {
          throw new UnavailableError(
            'connect ECONNREFUSED 127.0.0.1:8200 (list secret/torchain/vpn/alpha/hop-1)',
            'vault',
          );
        },
      },
      /vault unavailable: connect ECONNREFUSED/,
    ],
  ])('%s', async (_n, over, message) => {
    const { app } = setup(over as Partial<HttpDeps>);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alertmanager',
      headers: auth,
      payload: notification([switchAlert(1)]),
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.json().error).toMatch(message);
    if ((over as Partial<HttpDeps>).isLeader) expect(res.headers.connection).toBe('close');
  });

  it('an unexpected failure is a 500 (retried), without leaking internals', async () => {
    const { app } = setup({ onNotification: async () => Promise.reject(new Error('boom at /secret/path')) });
    const res = await app.inject({ method: 'POST', url: '/v1/alertmanager', headers: auth, payload: notification([]) });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toMatch(/secret/);
  });
});

describe('webhook over real HTTP', () => {
  const s = setup();
  let port = 0;
  beforeAll(async () => {
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    port = (s.app.server.address() as { port: number }).port;
  });
  afterAll(() => s.app.close());

  const post = (headers: Record<string, string>, body: string | Buffer) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/v1/alertmanager', method: 'POST', headers }, (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('accepts a notification, refuses a wrong token and an oversized body', async () => {
    expect((await post(auth, JSON.stringify(notification([switchAlert(1)])))).status).toBe(200);
    expect((await post({ ...auth, authorization: 'Bearer x' }, '{}')).status).toBe(401);
    const big = Buffer.alloc(2 * 1024 * 1024, 0x20);
    expect((await post(auth, big)).status).toBe(413);
    expect(s.calls).toHaveLength(1);
  });

  it('answers 413 to a 2 MB notification every time, never a closed connection (Alertmanager would retry forever)', async () => {
    const body = JSON.stringify(notification([switchAlert(1, { annotations: { pad: 'x'.repeat(2 * 1024 * 1024) } })]));
    const codes: Array<number | string> = [];
    for (let i = 0; i < 20; i++) {
      // Alternate the two clients Alertmanager-like callers use: node:http (Content-Length) and fetch (undici).
      if (i % 2 === 0)
        codes.push(
          await post(auth, body).then(
            (r) => r.status,
            (e: Error) => e.message,
          ),
        );
      else
        codes.push(
          await fetch(`http://127.0.0.1:${String(port)}/v1/alertmanager`, { method: 'POST', headers: auth, body }).then(
            async (r) => (await r.text(), r.status),
            (e: Error) => `${e.message}: ${String((e.cause as Error | undefined)?.message)}`,
          ),
        );
    }
    // A client that reads the answer only after it has sent the whole body (the server must not reset the
    // connection while body bytes are still unread: a reset discards the 413 on the client's side).
    for (let i = 0; i < 4; i++) codes.push(await rawPost(port, body));
    expect(codes).toEqual(Array(24).fill(413));
    // A chunked body (no Content-Length) that grows past the limit gets its 413 too.
    const chunked = await new Promise<number | string>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/v1/alertmanager', method: 'POST', headers: auth },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', (e) => resolve(e.message));
      for (let i = 0; i < 32; i++) req.write(Buffer.alloc(64 * 1024, 0x20));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it('serves /healthz, /readyz and the metrics of the contract', async () => {
    const get = async (path: string) => {
      const r = await fetch(`http://127.0.0.1:${String(port)}${path}`);
      return { status: r.status, body: await r.text() };
    };
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    const m = await get('/metrics');
    for (const name of [
      'torchain_operator_webhook_requests_total',
      'torchain_operator_reconcile_total',
      'torchain_operator_vault_requests_total',
      'torchain_operator_leader',
      'torchain_operator_failover_duration_seconds',
    ])
      expect(m.body).toContain(name);
  });
});

/** POST over a raw socket: the whole body is written (waiting for each chunk to drain), then the answer is read. */
function rawPost(port: number, body: string): Promise<number | string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let done = false;
    const finish = (v: number | string) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(v);
    };
    socket.on('error', (e) => finish(`${e.message} (answer so far: ${JSON.stringify(answer.slice(0, 40))})`));
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('end', () => finish(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0) || answer.slice(0, 80)));
    socket.on('connect', async () => {
      socket.pause(); // read nothing until the body is out
      const data = Buffer.from(body);
      socket.write(
        `POST /v1/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth.authorization}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${String(data.length)}\r\n\r\n`,
      );
      for (let off = 0; off < data.length && !done; off += 64 * 1024) {
        if (!socket.write(data.subarray(off, off + 64 * 1024)))
          await new Promise<void>((r) => {
            socket.once('drain', r);
            socket.once('close', r);
          });
        await new Promise((r) => setTimeout(r, 1));
      }
      socket.resume();
    });
  });
}

describe('token comparison', () => {
  it('compares whole tokens whatever their lengths; an empty expected token never matches', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abcd')).toBe(false);
    expect(tokensEqual('', '')).toBe(false);
    expect(bearerToken('Bearer  t0k ')).toBe('t0k');
    expect(bearerToken('bearer t')).toBe('t');
    expect(bearerToken('Bearer')).toBeUndefined();
  });
});
