// The webhook's max_alerts keeps a notification under the operator's 1 MiB body limit: a real Alertmanager with the
// generated route gets more worst-case switch alerts of one chain than max_alerts allows, and the body it sends the
// operator carries exactly max_alerts alerts, counts the rest in truncatedAlerts, and stays under the limit.
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT } from '../../operator/src/http/server.js';
import {
  alertmanagerYaml,
  LAB_ALERTING,
  renderAlertmanagerConfig,
  WEBHOOK_PATH,
} from '../../prometheus-rules/src/render.js';
import { MAX_ALERTS } from '../../prometheus-rules/src/alertmanager.js';
import { envelopeBytes, webhookMaxAlerts, worstCaseAlert } from '../../prometheus-rules/src/webhook-size.js';
import { ALERTMANAGER, freePort, startDaemon, tempDir, waitFor, type Daemon } from '../prometheus-rules/support.js';
import { skipUnless } from '../support/env.js';
import { REPO_ROOT } from '../../scripts/paths.js';

describe('the size of a worst-case notification', () => {
  it('max_alerts worst-case alerts and the envelope fit in the body limit; one more does not', () => {
    const per = Buffer.byteLength(JSON.stringify(worstCaseAlert())) + 1;
    expect(MAX_ALERTS).toBe(webhookMaxAlerts());
    expect(envelopeBytes() + MAX_ALERTS * per).toBeLessThanOrEqual(BODY_LIMIT);
    expect(envelopeBytes() + (MAX_ALERTS + 1) * per).toBeGreaterThan(BODY_LIMIT);
    // A chain has at most 63 hops and two switch alerts per hop and server: far fewer than max_alerts.
    expect(MAX_ALERTS).toBeGreaterThanOrEqual(2 * 63 * 2);
  });

  it('docs/alerting.md states the figures the code computes', () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs', 'alerting.md'), 'utf8');
    const group = (n: number) => n.toLocaleString('en').replace(/,/g, ' ');
    expect(docs).toContain(`so **${MAX_ALERTS}** alerts fit`);
    expect(docs).toContain(`is ${group(Buffer.byteLength(JSON.stringify(worstCaseAlert())))} bytes`);
    expect(docs).toContain(`envelope ${group(envelopeBytes())} bytes`);
  });
});

describe.skipIf(skipUnless({ binaries: [ALERTMANAGER] }))('a real Alertmanager cuts a huge group at max_alerts', () => {
  const dir = tempDir('maxalerts');
  let am: Daemon;
  let server: Server;
  const bodies: Array<{ bytes: number; body: { alerts: unknown[]; truncatedAlerts: number } }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        if (req.url === WEBHOOK_PATH) bodies.push({ bytes: raw.length, body: JSON.parse(raw.toString()) });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    writeFileSync(join(dir.path, 'token'), 'tok');
    writeFileSync(
      join(dir.path, 'am.yml'),
      alertmanagerYaml(
        renderAlertmanagerConfig(LAB_ALERTING, {
          url: `http://127.0.0.1:${port}${WEBHOOK_PATH}`,
          credentialsFile: join(dir.path, 'token'),
        }),
      ),
    );
    const address = `127.0.0.1:${await freePort()}`;
    am = await startDaemon(
      ALERTMANAGER,
      [
        `--config.file=${join(dir.path, 'am.yml')}`,
        `--storage.path=${join(dir.path, 'data')}`,
        `--web.listen-address=${address}`,
        '--cluster.listen-address=',
      ],
      address,
      '/-/ready',
    );
  });
  afterAll(async () => {
    await am?.stop();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    dir.remove();
  });

  it(`sends ${MAX_ALERTS} alerts, reports the rest as truncated, and stays under ${BODY_LIMIT} bytes`, async () => {
    const worst = worstCaseAlert() as {
      labels: Record<string, string>;
      annotations: Record<string, string>;
      generatorURL: string;
    };
    const extra = 25;
    // One chain (one group): distinct alerts of the same worst-case size (the server label varies, same length).
    const alerts = Array.from({ length: MAX_ALERTS + extra }, (_, i) => ({
      labels: { ...worst.labels, server: `${String(i).padStart(4, '0')}${worst.labels.server!.slice(4)}` },
      annotations: worst.annotations,
      generatorURL: `http://${worst.generatorURL.slice(7)}`,
    }));
    const res = await fetch(`${am.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    });
    expect(res.status, await res.text()).toBe(200);
    const got = await waitFor('the notification', async () => bodies[0]);
    console.log(
      `worst-case notification: ${got.bytes} bytes for ${got.body.alerts.length} alerts (limit ${BODY_LIMIT})`,
    );
    expect(got.body.alerts).toHaveLength(MAX_ALERTS);
    expect(got.body.truncatedAlerts).toBe(extra);
    expect(got.bytes).toBeLessThanOrEqual(BODY_LIMIT);
    expect(got.bytes).toBeGreaterThan(BODY_LIMIT * 0.9); // the estimate is close, not wildly pessimistic
  });
});
