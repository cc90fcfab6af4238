// The shared logger (common/log.ts): JSON lines with level names and ISO times, the level filter, and redaction of
// every secret-bearing field, also when fastify logs through it and when the operator logs a Kubernetes or Vault
// object by mistake.
import { describe, expect, it } from 'vitest';
import { createLogger, parseLevel, REDACT_PATHS } from '../../common/log.js';
import { buildHttpServer } from '../../operator/src/http/server.js';
import { createMetrics } from '../../operator/src/metrics.js';
import { notification, switchAlert } from './support/alerts.js';

const TOKEN = 'tok-5f0c1b7a9e2d4c86b1a3';
const VAULT_TOKEN = 'hvs.CAESIJq7bO3a1zXk';
const CONFIG = 'client\nremote 198.51.100.7 1194\n<key>\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n</key>\n';
const SECRETS = [TOKEN, VAULT_TOKEN, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', Buffer.from(CONFIG).toString('base64')];

function capture(level: 'debug' | 'info' | 'warn' | 'error' = 'debug') {
  const lines: string[] = [];
  const log = createLogger({ level, base: { component: 'test' }, destination: { write: (l) => lines.push(l) } });
  return { log, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('shared logger', () => {
  it('writes one JSON object per line: level name, ISO time, msg, base and fields', () => {
    const { log, lines, records } = capture('info');
    log.info('switch', { torchain: 'vpn/alpha-1', hop: 1 });
    log.debug('not shown at info');
    log.child({ chain: 'alpha' }).warn('pool exhausted');
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
    const [a, b] = records();
    expect(records()).toHaveLength(2);
    expect(a).toMatchObject({ level: 'info', msg: 'switch', component: 'test', torchain: 'vpn/alpha-1', hop: 1 });
    expect(new Date(String(a!.time)).toISOString()).toBe(a!.time);
    expect(b).toMatchObject({ level: 'warn', msg: 'pool exhausted', chain: 'alpha' });
  });

  it('keeps the level configuration and names the variable on a bad value', () => {
    expect(parseLevel(undefined)).toBe('info');
    expect(parseLevel('DEBUG')).toBe('debug');
    expect(() => parseLevel('verbose')).toThrow(/TORCHAIN_LOG_LEVEL=verbose is not a log level: use debug, info/);
    const { log, records } = capture('error');
    log.warn('hidden');
    log.error('shown');
    expect(records().map((r) => r.msg)).toEqual(['shown']);
  });

  it('never writes a token, an Authorization header, a Vault token, Secret data or a VPN config', () => {
    const { log, lines } = capture('debug');
    log.info('top level', {
      token: TOKEN,
      authorization: `Bearer ${TOKEN}`,
      Authorization: `Bearer ${TOKEN}`,
      vaultToken: VAULT_TOKEN,
      clientToken: VAULT_TOKEN,
      client_token: VAULT_TOKEN,
      config: CONFIG,
      jwt: TOKEN,
      password: TOKEN,
    });
    log.info('nested', {
      headers: { authorization: `Bearer ${TOKEN}`, 'x-vault-token': VAULT_TOKEN },
      req: { headers: { authorization: `Bearer ${TOKEN}` } },
      secret: { metadata: { name: 'alpha-1-vpn-config' }, data: { 'client.ovpn': SECRETS[3] } },
      entry: { config: CONFIG, endpoint: '198.51.100.7:1194' },
      auth: { client_token: VAULT_TOKEN },
      body: { data: { config: CONFIG } },
    });
    log.child({ token: TOKEN }).info('child bindings are redacted too');
    const text = lines.join('');
    for (const s of SECRETS) expect(text).not.toContain(s);
    expect(text).toContain('[redacted]');
    // What is not secret stays readable.
    expect(text).toContain('alpha-1-vpn-config');
    expect(text).toContain('198.51.100.7:1194');
    expect(REDACT_PATHS.length).toBeGreaterThan(10);
  });

  it('fastify logs through it: a request with an Authorization header leaves no token in the output', async () => {
    const { log, lines } = capture('debug');
    const app = buildHttpServer({
      token: () => TOKEN,
      onNotification: async () => {
        throw new Error('boom');
      },
      isLeader: () => true,
      isReady: () => true,
      metrics: createMetrics({ defaultMetrics: false }),
      log,
    });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alertmanager',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: notification([switchAlert(1)]),
    });
    expect(res.statusCode).toBe(500);
    await app.close();
    const text = lines.join('');
    expect(text).toContain('http handler failed');
    expect(text).not.toContain(TOKEN);
  });
});
