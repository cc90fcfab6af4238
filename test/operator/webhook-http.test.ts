import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParsedNotification } from '../../operator/src/core/alertmanager-payload.js';
import { UnavailableError } from '../../operator/src/errors.js';
import { bearerToken, tokensEqual } from '../../operator/src/http/auth.js';
import { buildHttpServer, type HttpDeps } from '../../operator/src/http/server.js';
import { silentLogger } from '../../common/log.js';
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
    [
      'missing labels',
      auth,
      JSON.stringify(notification([switchAlert(1, {}, { hop: '' })])),
      400,
      /lacks the label\(s\) hop/,
    ],
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
