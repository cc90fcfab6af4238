// The Grafana dashboard against a real Prometheus: three hours of chain history (exporter and operator series) are
// backfilled with promtool, the recording rules are backfilled from them, and every panel, variable and annotation
// query runs with the variables filled in. A query that is invalid or returns nothing fails the test.
import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard, dashboardQueries } from '../../prometheus-rules/src/dashboard.js';
import type { Panel } from '../../prometheus-rules/src/grafana-types.js';
import { DEFAULT_ALERTING, renderRulesYaml } from '../../prometheus-rules/src/render.js';
import { skipUnless } from '../support/env.js';
import { chainHistory, STEP } from './chain-history.js';
import { freePort, PROMETHEUS, PROMTOOL, run, startDaemon, tempDir, type Daemon } from './support.js';

const dashboard = buildDashboard();

describe('dashboard model', () => {
  it('provisions through the sidecar: a datasource variable, no __inputs, every query on ${datasource}', () => {
    const json = JSON.stringify(dashboard);
    expect(json).not.toContain('__inputs');
    expect(json).not.toContain('DS_PROMETHEUS');
    expect(dashboard.templating.list.map((v) => [v.name, v.type])).toEqual([
      ['datasource', 'datasource'],
      ['namespace', 'query'],
      ['chain', 'query'],
    ]);
    const walk = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...walk(p.panels ?? [])]);
    for (const p of walk(dashboard.panels).filter((p) => p.type !== 'row')) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of p.targets ?? []) expect(t.datasource.uid, p.title).toBe('${datasource}');
    }
  });

  it('has unique panel ids and panels that do not overlap', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
  });

  it('shows what the issue asks for', () => {
    const titles = dashboard.panels.map((p) => p.title).join('\n');
    for (const t of [
      'Hops (hop 1 = outermost)',
      'Connection errors by reason',
      'restarts',
      'handshake age',
      'Switches',
      'Failover duration',
      'Pool servers',
      'log silence',
      'DNS at the gateway',
      'DNS queries at the gateway: answered and failed',
    ])
      expect(titles.toLowerCase()).toContain(t.toLowerCase());
  });
});

describe.skipIf(skipUnless({ binaries: [PROMTOOL, PROMETHEUS] }))('dashboard queries on a real Prometheus', () => {
  const dir = tempDir('dashboard');
  const end = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600; // a whole hour, well in the past
  const history = chainHistory(end);
  let prom: Daemon | undefined;
  let address = '';

  const startPrometheus = async () => {
    prom = await startDaemon(
      PROMETHEUS,
      [
        `--config.file=${join(dir.path, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir.path, 'data')}`,
        `--web.listen-address=${address}`,
        '--storage.tsdb.retention.time=30d',
      ],
      address,
      '/-/ready',
    );
  };

  beforeAll(async () => {
    writeFileSync(join(dir.path, 'history.om'), history.text);
    writeFileSync(join(dir.path, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\n');
    writeFileSync(join(dir.path, 'torchain.rules.yaml'), renderRulesYaml(DEFAULT_ALERTING));
    const backfill = run(PROMTOOL, [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      join(dir.path, 'history.om'),
      join(dir.path, 'data'),
    ]);
    expect(backfill.code, backfill.stdout + backfill.stderr).toBe(0);
    address = `127.0.0.1:${await freePort()}`;
    await startPrometheus();
    // Recording rules over the backfilled history (the dashboard reads them), then a restart to load those blocks.
    const rules = run(PROMTOOL, [
      'tsdb',
      'create-blocks-from',
      'rules',
      `--start=${history.start}`,
      `--end=${history.end}`,
      `--eval-interval=${STEP}s`,
      `--url=${prom?.url}`,
      `--output-dir=${join(dir.path, 'rule-blocks')}`,
      join(dir.path, 'torchain.rules.yaml'),
    ]);
    expect(rules.code, rules.stdout + rules.stderr).toBe(0);
    await prom?.stop();
    for (const block of readdirSync(join(dir.path, 'rule-blocks')))
      renameSync(join(dir.path, 'rule-blocks', block), join(dir.path, 'data', block));
    await startPrometheus();
  }, 180_000);

  afterAll(async () => {
    await prom?.stop();
    dir.remove();
  });

  const api = async (path: string, params: Record<string, string>) => {
    const res = await fetch(`${prom?.url}/api/v1/${path}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as { status: string; error?: string; data: unknown };
    return { status: res.status, body };
  };

  const fill = (expr: string) =>
    expr
      .replaceAll('$namespace', 'vpn')
      .replaceAll('$chain', 'office')
      .replaceAll('$__rate_interval', '1m')
      .replaceAll('$__range', `${history.end - history.start}s`);

  it('the variables list the namespaces and chains', async () => {
    const range = { start: String(history.start), end: String(history.end) };
    const ns = await api('label/namespace/values', { 'match[]': 'torchain_vpn_tunnel_up', ...range });
    expect(ns.body.data).toEqual(['branch', 'vpn']);
    const chains = await api('label/torchain/values', {
      'match[]': 'torchain_vpn_tunnel_up{namespace="vpn"}',
      ...range,
    });
    expect(chains.body.data).toEqual(['office']);
    for (const v of dashboard.templating.list)
      if (v.type === 'query') expect(v.query.query).toMatch(/^label_values\(torchain_vpn_tunnel_up/);
  });

  const queries = dashboardQueries(dashboard);
  it('runs every query', () => expect(queries.length).toBeGreaterThanOrEqual(18));

  it.each(queries.map((q) => [q.where, q] as const))('%s is valid and returns data', async (_where, q) => {
    const expr = fill(q.expr);
    expect(expr).not.toMatch(/\$(?!\d)/); // every Grafana variable filled; `$1` is label_replace's own
    const r = q.instant
      ? await api('query', { query: expr, time: String(history.end) })
      : await api('query_range', {
          query: expr,
          start: String(history.start + 600),
          end: String(history.end),
          step: '60',
        });
    expect(r.body.error, expr).toBeUndefined();
    expect(r.status, expr).toBe(200);
    const result = (r.body.data as { result: unknown[] }).result;
    expect(result.length, `no data for ${expr}`).toBeGreaterThan(0);
  });

  it('the chain at a glance shows the hops in hop order with their servers, hop 1 down then switched', async () => {
    const q = queries.find((x) => x.where.startsWith('panel "Hops (hop 1'));
    const r = await api('query_range', {
      query: fill(q?.expr ?? ''),
      start: String(history.start),
      end: String(history.end),
      step: '15',
    });
    const result = (r.body.data as { result: { metric: Record<string, string>; values: [number, string][] }[] }).result;
    expect(result.map((s) => `${s.metric.hop} ${s.metric.server}`)).toEqual([
      '01 srv-a',
      '01 srv-b',
      '02 wg-1',
      '03 ovpn-3',
    ]);
    const at = (i: number, t: number) => result[i]?.values.find(([ts]) => ts === t)?.[1];
    expect(at(0, history.death - 60)).toBe('1');
    expect(at(0, history.death + 30)).toBe('0');
    expect(at(2, history.death + 30)).toBe('0'); // cut off by hop 1
    expect(at(1, history.end)).toBe('1');
  });
});
