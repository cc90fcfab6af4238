// The plain Alertmanager configuration against the real amtool and a real Alertmanager: the config is valid, switch
// alerts route to the operator's webhook grouped by chain with the bearer token, others do not, resolutions follow.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alertmanagerYaml,
  DEFAULT_ALERTING,
  LAB_ALERTING,
  renderAlertmanagerConfig,
  WEBHOOK_PATH,
} from '../../prometheus-rules/src/render.js';
import { REPO_ROOT } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { ALERTMANAGER, AMTOOL, freePort, run, startDaemon, tempDir, waitFor, type Daemon } from './support.js';

const COMMITTED = join(REPO_ROOT, 'prometheus-rules', 'alertmanager.yml');

interface Notification {
  headers: IncomingHttpHeaders;
  body: {
    version: string;
    status: string;
    receiver: string;
    groupLabels: Record<string, string>;
    alerts: { status: string; labels: Record<string, string> }[];
  };
}

/** A loopback stand-in for the operator's webhook endpoint that records what Alertmanager sends. */
async function startReceiver(): Promise<{ url: string; received: Notification[]; close(): Promise<void> }> {
  const received: Notification[] = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === WEBHOOK_PATH)
        received.push({ headers: req.headers, body: JSON.parse(data) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}${WEBHOOK_PATH}`,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe.skipIf(skipUnless({ binaries: [AMTOOL] }))('amtool', () => {
  it('check-config accepts the committed alertmanager.yml', () => {
    const r = run(AMTOOL, ['check-config', COMMITTED]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS[\s\S]*2 receivers/);
  });

  it('routes only switch alerts to the operator', () => {
    const route = (...labels: string[]) =>
      run(AMTOOL, ['config', 'routes', 'test', `--config.file=${COMMITTED}`, ...labels]).stdout.trim();
    expect(route('torchain_action=switch', 'namespace=vpn', 'torchain=office', 'hop=1')).toBe('torchain-operator');
    expect(route('alertname=TorchainPoolExhausted', 'namespace=vpn', 'torchain=office')).toBe('default');
    expect(route('torchain_action=inform', 'namespace=vpn')).toBe('default');
  });

  it('check-config refuses a broken route (amtool really validates)', () => {
    const dir = tempDir('amtool');
    try {
      const bad = alertmanagerYaml(renderAlertmanagerConfig(DEFAULT_ALERTING)).replace(
        `group_wait: ${DEFAULT_ALERTING.route.groupWait}`,
        'group_wait: soon',
      );
      writeFileSync(join(dir.path, 'bad.yml'), bad);
      expect(run(AMTOOL, ['check-config', join(dir.path, 'bad.yml')]).code).not.toBe(0);
    } finally {
      dir.remove();
    }
  });
});

describe.skipIf(skipUnless({ binaries: [ALERTMANAGER, AMTOOL] }))('a real Alertmanager with the lab route', () => {
  const dir = tempDir('am');
  const token = 'lab-token-' + Math.random().toString(36).slice(2);
  let am: Daemon;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    writeFileSync(join(dir.path, 'token'), token, { mode: 0o600 });
    const config = alertmanagerYaml(
      renderAlertmanagerConfig(LAB_ALERTING, { url: receiver.url, credentialsFile: join(dir.path, 'token') }),
    );
    writeFileSync(join(dir.path, 'alertmanager.yml'), config);
    const check = run(AMTOOL, ['check-config', join(dir.path, 'alertmanager.yml')]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const address = `127.0.0.1:${await freePort()}`;
    am = await startDaemon(
      ALERTMANAGER,
      [
        `--config.file=${join(dir.path, 'alertmanager.yml')}`,
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
    await receiver?.close();
    dir.remove();
  });

  const post = async (alerts: object[]) => {
    const res = await fetch(`${am.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    });
    expect(res.status, await res.text()).toBe(200);
  };
  const hop = (torchain: string, n: string, extra: Record<string, string> = {}) => ({
    alertname: 'TorchainHopTunnelDown',
    severity: 'warning',
    torchain_action: 'switch',
    namespace: 'vpn',
    torchain,
    hop: n,
    type: 'openvpn',
    server: `srv-${n}`,
    ...extra,
  });

  it('sends one notification per chain with every firing hop, with the bearer token, and resolutions', async () => {
    const startsAt = new Date().toISOString();
    await post([
      { labels: hop('office', '1'), startsAt },
      { labels: hop('office', '3'), startsAt },
      { labels: hop('home', '2'), startsAt },
      {
        labels: {
          alertname: 'TorchainPoolExhausted',
          severity: 'critical',
          namespace: 'vpn',
          torchain: 'office',
          hop: '1',
        },
        startsAt,
      },
    ]);
    const firing = await waitFor('both chains notified', async () => {
      const chains = new Set(receiver.received.map((n) => n.body.groupLabels.torchain));
      return chains.has('office') && chains.has('home') ? receiver.received.slice() : undefined;
    });
    for (const n of firing) {
      expect(n.headers.authorization).toBe(`Bearer ${token}`);
      expect(n.body.version).toBe('4');
      expect(n.body.receiver).toBe('torchain-operator');
      expect(Object.keys(n.body.groupLabels).sort()).toEqual(['namespace', 'torchain']);
      // Only switch alerts reach the operator.
      for (const a of n.body.alerts) expect(a.labels.torchain_action).toBe('switch');
    }
    const office = firing.find((n) => n.body.groupLabels.torchain === 'office');
    expect(office?.body.alerts.map((a) => a.labels.hop).sort()).toEqual(['1', '3']);

    // Hop 1 recovers: its resolution is delivered (send_resolved), hop 3 still fires in the same group.
    const seen = receiver.received.length;
    await post([{ labels: hop('office', '1'), startsAt, endsAt: new Date(Date.now() - 1000).toISOString() }]);
    const update = await waitFor('the resolution of hop 1', async () =>
      receiver.received
        .slice(seen)
        .find((n) => n.body.groupLabels.torchain === 'office' && n.body.alerts.some((a) => a.status === 'resolved')),
    );
    const byHop = Object.fromEntries(update.body.alerts.map((a) => [a.labels.hop, a.status]));
    expect(byHop).toEqual({ '1': 'resolved', '3': 'firing' });
  });
});
