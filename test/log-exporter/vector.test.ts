// The Vector config (ELK) is rendered from the exporter's pattern table. Vector itself cannot run here, so this test
// reads the rendered remap program back, checks it holds exactly the exporter's patterns (in Rust regex syntax, inside
// the JS/Rust common subset), evaluates them over the whole corpus and requires the same classification and effects
// as the exporter, line by line. It also requires the committed file to be the current rendering.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../log-exporter/src/classify.js';
import { PROTOCOLS, type Protocol } from '../../common/contracts/protocols.js';
import { PROTOCOL_MODULES } from '../../log-exporter/src/protocols/index.js';
import { FLUSH_PERIOD_SECS, renderVectorConfig } from '../../log-exporter/src/vector/render.js';
import { VECTOR_CONFIG_PATH } from '../../log-exporter/src/vector/main.js';
import { syntaxOutsideCommonSubset } from '../../log-exporter/src/vector/regex-subset.js';
import { fixtures } from './support/corpus.js';

interface RenderedRule {
  regex: string;
  assigns: Record<string, string>;
}

/** The classification chain of the rendered remap program, per pod type, in order. */
function readRemap(source: string): Record<Protocol, RenderedRule[]> {
  const out: Record<string, RenderedRule[]> = {};
  let type: string | undefined;
  let rule: RenderedRule | undefined;
  for (const line of source.split('\n')) {
    const t = /^(?:if|\} else if) \.torchain_type == "([a-z]+)" \{$/.exec(line);
    if (t) {
      type = t[1] as string;
      out[type] = [];
      continue;
    }
    const m = /^ {2}(?:if|\} else if) match\(line, r'([^']*)'\) \{$/.exec(line);
    if (m && type) {
      rule = { regex: m[1] as string, assigns: {} };
      out[type]?.push(rule);
      continue;
    }
    const a = /^ {4}\.torchain_([a-z_]+) = (.+)$/.exec(line);
    if (a && rule) rule.assigns[a[1] as string] = a[2] as string;
  }
  return out as Record<Protocol, RenderedRule[]>;
}

/** The effects of one line under the rendered program, in the exporter's terms. */
function vectorEffects(rules: RenderedRule[], compiled: RegExp[], line: string) {
  const i = compiled.findIndex((re) => re.test(line));
  if (i === -1) return { id: undefined };
  const a = (rules[i] as RenderedRule).assigns;
  const str = (v: string | undefined) => (v === undefined ? undefined : JSON.parse(v));
  return {
    id: str(a.pattern),
    error: str(a.error_reason),
    restart: str(a.restart_reason),
    tunnel: a.tunnel_up === undefined ? undefined : a.tunnel_up === '1' ? 'up' : 'down',
    handshake: a.handshake_timestamp === undefined ? undefined : true,
  };
}

const config = parse(readFileSync(VECTOR_CONFIG_PATH, 'utf8'));

describe('Vector config', () => {
  it('is the current rendering of the pattern table (run npm run gen:vector after changing a protocol patterns.ts)', () => {
    expect(readFileSync(VECTOR_CONFIG_PATH, 'utf8')).toBe(renderVectorConfig());
  });

  it('wires kubernetes_logs → remap → log_to_metric → prometheus_exporter (long flush period) and elasticsearch', () => {
    expect(config.sources.torchain_vpn_logs.type).toBe('kubernetes_logs');
    expect(config.sources.torchain_vpn_logs.extra_label_selector).toBe('app.kubernetes.io/name=torchain-hop');
    expect(config.transforms.torchain_vpn_classify).toMatchObject({ type: 'remap', inputs: ['torchain_vpn_logs'] });
    expect(config.transforms.torchain_vpn_metrics).toMatchObject({
      type: 'log_to_metric',
      inputs: ['torchain_vpn_classify'],
    });
    const names = config.transforms.torchain_vpn_metrics.metrics.map((m: { name: string }) => m.name).sort();
    expect(names).toEqual([
      'torchain_log_exporter_last_line_timestamp_seconds',
      'torchain_log_exporter_lines_total',
      'torchain_vpn_connection_errors_total',
      'torchain_vpn_last_handshake_timestamp_seconds',
      'torchain_vpn_restarts_total',
      'torchain_vpn_tunnel_up',
    ]);
    for (const m of config.transforms.torchain_vpn_metrics.metrics) {
      expect(Object.keys(m.tags)).toEqual(
        expect.arrayContaining(['namespace', 'torchain', 'hop', 'type', 'server', 'pod']),
      );
    }
    expect(config.sinks.torchain_prometheus.type).toBe('prometheus_exporter');
    // Rare error counters must not expire between occurrences (Vector's default is 60 s).
    expect(config.sinks.torchain_prometheus.flush_period_secs).toBe(FLUSH_PERIOD_SECS);
    expect(FLUSH_PERIOD_SECS).toBeGreaterThanOrEqual(24 * 3600);
    expect(config.sinks.torchain_elasticsearch).toMatchObject({
      type: 'elasticsearch',
      inputs: ['torchain_vpn_classify'],
    });
  });

  const rules = readRemap(config.transforms.torchain_vpn_classify.source);

  it('holds exactly the exporter patterns, in order, inside the JS/Rust common subset', () => {
    expect(Object.keys(rules)).toEqual([...PROTOCOLS]);
    for (const type of PROTOCOLS) {
      expect(rules[type].map((r) => r.regex)).toEqual(PROTOCOL_MODULES[type].patterns.map((p) => p.regex));
      for (const r of rules[type]) expect(syntaxOutsideCommonSubset(r.regex)).toBeUndefined();
    }
  });

  it.each(fixtures().map((f) => [f.name, f] as const))('classifies %s exactly like the exporter', (_name, f) => {
    const exporter = createClassifier(f.type);
    const own = rules[f.type];
    const compiled = own.map((r) => new RegExp(r.regex));
    let compared = 0;
    for (const line of readFileSync(f.path, 'utf8').split('\n')) {
      const p = exporter.classify(line);
      const want = p
        ? { id: p.id, error: p.error, restart: p.restart, tunnel: p.tunnel, handshake: p.handshake }
        : { id: undefined };
      expect(vectorEffects(own, compiled, line), line).toEqual(want);
      compared++;
    }
    expect(compared).toBeGreaterThan(3); // the shortest real log (openconnect-resolve-failed) has 4 lines
  });
});
