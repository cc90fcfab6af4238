// Renders the Vector configuration (ELK) from the same pattern tables the exporter uses (one per protocol module). The chart ships the result,
// helm/torchain/files/vector/vector.yaml, as a ConfigMap for a Vector agent (DaemonSet) running the kubernetes_logs
// source; `npm run gen:vector` regenerates it and a test fails when it drifts from the table.
//
// Differences from the sidecar, by design: Vector sees logs only (no active probe, no handshake reading), cannot
// initialise counters to 0, and runs per node, so its metrics carry the identity labels (namespace, torchain, hop,
// type, server, pod) as tags itself. Alerting relies on the sidecar; Vector's metrics are for dashboards over ELK.
import { stringify } from 'yaml';
import { PROTOCOLS, type Protocol } from '../../../common/contracts/protocols.js';
import { PROTOCOL_MODULES } from '../protocols/index.js';
import type { Pattern } from '../protocols/pattern.js';
import { syntaxOutsideCommonSubset } from './regex-subset.js';

/** prometheus_exporter forgets series not updated for this long (default 60 s): rare error counters would vanish and
 * come back as resets, so increase() undercounts. A week keeps every series of a running pod. */
export const FLUSH_PERIOD_SECS = 7 * 24 * 3600;

/** The pattern in Rust regex syntax (VRL). The table is kept inside the JS/Rust common subset, where the two read the
 * same, so the translation is the identity once the subset is checked. */
export function toRustRegex(p: Pattern): string {
  const outside = syntaxOutsideCommonSubset(p.regex);
  if (outside)
    throw new Error(`pattern ${p.id}: ${outside}; rewrite it inside the common subset (protocols/<type>/patterns.ts)`);
  return p.regex;
}

function effects(p: Pattern): string[] {
  const out = [`.torchain_pattern = "${p.id}"`];
  if (p.error) out.push(`.torchain_error_reason = "${p.error}"`);
  if (p.restart) out.push(`.torchain_restart_reason = "${p.restart}"`);
  if (p.tunnel) out.push(`.torchain_tunnel_up = ${p.tunnel === 'up' ? 1 : 0}`);
  if (p.handshake) out.push('.torchain_handshake_timestamp = to_unix_timestamp(ts)');
  return out;
}

export type PatternTables = Record<Protocol, readonly Pattern[]>;

function moduleTables(): PatternTables {
  return Object.fromEntries(PROTOCOLS.map((t) => [t, PROTOCOL_MODULES[t].patterns])) as PatternTables;
}

/** The remap program: first matching pattern of the pod's type wins, as in classify.ts. */
export function renderRemap(tables: PatternTables = moduleTables()): string {
  const lines = [
    '# Generated from log-exporter/src/protocols/*/patterns.ts by `npm run gen:vector`; do not edit.',
    'if .kubernetes.container_name != "vpn" { abort }',
    'labels = object(.kubernetes.pod_labels) ?? {}',
    '.torchain_namespace = string(.kubernetes.pod_namespace) ?? ""',
    '.torchain_pod = string(.kubernetes.pod_name) ?? ""',
    '.torchain_chain = string(labels."torchain.dev/chain") ?? ""',
    '.torchain_hop = string(labels."torchain.dev/hop") ?? ""',
    '.torchain_type = string(labels."torchain.dev/type") ?? ""',
    '.torchain_server = string(labels."torchain.dev/server") ?? ""',
    'line = string(.message) ?? ""',
    'ts = timestamp(.timestamp) ?? now()',
    '.torchain_line_timestamp = to_unix_timestamp(ts)',
    '.torchain_pattern = null',
  ];
  PROTOCOLS.forEach((type, t) => {
    lines.push(`${t === 0 ? 'if' : '} else if'} .torchain_type == "${type}" {`);
    tables[type].forEach((p, i) => {
      lines.push(`  ${i === 0 ? 'if' : '} else if'} match(line, r'${toRustRegex(p)}') {`);
      for (const e of effects(p)) lines.push(`    ${e}`);
    });
    lines.push('  }');
  });
  lines.push('}');
  lines.push('.torchain_matched = if .torchain_pattern == null { "false" } else { "true" }');
  return lines.join('\n') + '\n';
}

const IDENTITY_TAGS = {
  namespace: '{{ torchain_namespace }}',
  torchain: '{{ torchain_chain }}',
  hop: '{{ torchain_hop }}',
  type: '{{ torchain_type }}',
  server: '{{ torchain_server }}',
  pod: '{{ torchain_pod }}',
};

export function renderVectorConfig(tables: PatternTables = moduleTables()): string {
  const config = {
    sources: {
      torchain_vpn_logs: {
        type: 'kubernetes_logs',
        extra_label_selector: 'app.kubernetes.io/name=torchain-hop',
      },
    },
    transforms: {
      torchain_vpn_classify: {
        type: 'remap',
        inputs: ['torchain_vpn_logs'],
        drop_on_abort: true,
        source: renderRemap(tables),
      },
      torchain_vpn_metrics: {
        type: 'log_to_metric',
        inputs: ['torchain_vpn_classify'],
        metrics: [
          {
            type: 'counter',
            field: 'torchain_error_reason',
            name: 'torchain_vpn_connection_errors_total',
            tags: { ...IDENTITY_TAGS, reason: '{{ torchain_error_reason }}' },
          },
          {
            type: 'counter',
            field: 'torchain_restart_reason',
            name: 'torchain_vpn_restarts_total',
            tags: { ...IDENTITY_TAGS, reason: '{{ torchain_restart_reason }}' },
          },
          {
            type: 'gauge',
            field: 'torchain_tunnel_up',
            name: 'torchain_vpn_tunnel_up',
            tags: IDENTITY_TAGS,
          },
          {
            type: 'gauge',
            field: 'torchain_handshake_timestamp',
            name: 'torchain_vpn_last_handshake_timestamp_seconds',
            tags: IDENTITY_TAGS,
          },
          {
            type: 'counter',
            field: 'torchain_matched',
            name: 'torchain_log_exporter_lines_total',
            tags: { ...IDENTITY_TAGS, matched: '{{ torchain_matched }}' },
          },
          {
            type: 'gauge',
            field: 'torchain_line_timestamp',
            name: 'torchain_log_exporter_last_line_timestamp_seconds',
            tags: IDENTITY_TAGS,
          },
        ],
      },
    },
    sinks: {
      torchain_prometheus: {
        type: 'prometheus_exporter',
        inputs: ['torchain_vpn_metrics'],
        address: '0.0.0.0:9598',
        flush_period_secs: FLUSH_PERIOD_SECS,
      },
      torchain_elasticsearch: {
        type: 'elasticsearch',
        inputs: ['torchain_vpn_classify'],
        // Set by the Vector deployment (environment variable interpolation), e.g. https://elasticsearch:9200.
        endpoints: ['${ELASTICSEARCH_ENDPOINT}'],
        mode: 'bulk',
        bulk: { index: 'torchain-vpn-%Y.%m.%d' },
      },
    },
  };
  const header = [
    '# Vector configuration for torchain hop logs (ELK). Generated from log-exporter/src/protocols/*/patterns.ts by',
    '# `npm run gen:vector`; do not edit. Classifies the `vpn` container lines of torchain hop pods like the',
    '# log-exporter sidecar, exports the same metric names (with identity tags) and ships every line to Elasticsearch.',
    '# The Vector deployment sets ELASTICSEARCH_ENDPOINT.',
  ];
  return header.join('\n') + '\n' + stringify(config, { lineWidth: 0 });
}
