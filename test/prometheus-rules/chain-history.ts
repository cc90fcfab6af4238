// Three hours of one chain's history as OpenMetrics text, shaped like what Prometheus stores from the real exporters
// (identity labels added by the PodMonitor relabelings) and the operator (namespace = the TorChain's): hop 1's server
// dies, hops 2 and 3 are cut off, the operator switches hop 1 to the next server, the chain recovers. A second chain
// stays healthy. For `promtool tsdb create-blocks-from openmetrics`.

import { REASONS } from '../../common/contracts/metrics.js';

export const STEP = 15;
export const HOURS = 3;

type Labels = Record<string, string>;
interface Family {
  name: string;
  type: 'gauge' | 'counter' | 'histogram';
  series: Map<string, [number, number][]>;
}

export interface ChainHistory {
  text: string;
  start: number;
  end: number;
  death: number;
  switchAt: number;
}

const fmt = (l: Labels) =>
  '{' +
  Object.entries(l)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',') +
  '}';

/** `end` is a unix time in seconds (a multiple of STEP); the history covers the HOURS before it. */
export function chainHistory(end: number): ChainHistory {
  const start = end - HOURS * 3600;
  const death = start + 3600; // hop 1's server dies
  const switchAt = death + 75; // the operator switches hop 1 (detection, for, group_wait)
  const recovered = switchAt + 30; // the new server is up, hops 2 and 3 reconnect through it
  const families = new Map<string, Family>();
  const add = (name: string, type: Family['type'], labels: Labels, t: number, v: number, sampleName = name) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type, series: new Map() }));
    const key = sampleName + fmt(labels);
    let s = f.series.get(key);
    if (!s) f.series.set(key, (s = []));
    s.push([t, v]);
  };
  const counters = new Map<string, number>();
  const bump = (key: string, by = 1) => counters.set(key, (counters.get(key) ?? 0) + by);
  const count = (key: string) => counters.get(key) ?? 0;

  const hops = [
    {
      ns: 'vpn',
      chain: 'office',
      hop: '1',
      type: 'openvpn',
      server: 'srv-a',
      pod: 'office-hop-1-6b7c9-a1',
      from: start,
      to: switchAt,
    },
    {
      ns: 'vpn',
      chain: 'office',
      hop: '1',
      type: 'openvpn',
      server: 'srv-b',
      pod: 'office-hop-1-6b7c9-b2',
      from: switchAt,
      to: end,
    },
    {
      ns: 'vpn',
      chain: 'office',
      hop: '2',
      type: 'wireguard',
      server: 'wg-1',
      pod: 'office-hop-2-55d4f-c3',
      from: start,
      to: end,
    },
    {
      ns: 'vpn',
      chain: 'office',
      hop: '3',
      type: 'openvpn',
      server: 'ovpn-3',
      pod: 'office-hop-3-7f8e1-d4',
      from: start,
      to: end,
    },
    {
      ns: 'branch',
      chain: 'home',
      hop: '1',
      type: 'wireguard',
      server: 'wg-h',
      pod: 'home-hop-1-12ab3-e5',
      from: start,
      to: end,
    },
  ];

  for (let t = start; t <= end; t += STEP) {
    const hop1Down = t >= death && t < recovered;
    for (const h of hops) {
      if (t < h.from || t > h.to) continue;
      const id: Labels = {
        job: 'torchain-exporters',
        instance: `${h.pod}:9108`,
        namespace: h.ns,
        torchain: h.chain,
        hop: h.hop,
        type: h.type,
        server: h.server,
        pod: h.pod,
      };
      const key = h.pod;
      const newPod = h.from > start && t - h.from < 15;
      const down = h.chain === 'office' && (hop1Down || newPod);
      add('up', 'gauge', id, t, 1);
      add('torchain_vpn_tunnel_up', 'gauge', id, t, down ? 0 : 1);
      // The failure as each hop sees it: hop 1 refused, hop 2 failed probes, hop 3 ping timeouts (cut off).
      if (down && !newPod) {
        if (h.hop === '1') bump(`${key}/connection_refused`);
        if (h.hop === '2') bump(`${key}/probe_failed`);
        if (h.hop === '3' && (t - death) % 30 === 0) bump(`${key}/ping_timeout`);
        if (h.hop !== '2' && (t - death) % 30 === 0)
          bump(`${key}/restart/${h.hop === '1' ? 'connection_refused' : 'ping_timeout'}`);
      }
      for (const reason of REASONS) {
        add(
          'torchain_vpn_connection_errors',
          'counter',
          { ...id, reason },
          t,
          count(`${key}/${reason}`),
          'torchain_vpn_connection_errors_total',
        );
        add(
          'torchain_vpn_restarts',
          'counter',
          { ...id, reason },
          t,
          count(`${key}/restart/${reason}`),
          'torchain_vpn_restarts_total',
        );
      }
      bump(`${key}/lines/true`, h.type === 'wireguard' ? 1 : down ? 2 : 0);
      bump(`${key}/lines/false`, t % 300 === 0 ? 1 : 0);
      for (const matched of ['true', 'false'])
        add(
          'torchain_log_exporter_lines',
          'counter',
          { ...id, matched },
          t,
          count(`${key}/lines/${matched}`),
          'torchain_log_exporter_lines_total',
        );
      // The last hop of the office chain serves DNS: answered queries while the chain is up, failed ones while not.
      if (h.chain === 'office' && h.hop === '3') {
        add('torchain_dns_up', 'gauge', id, t, down ? 0 : 1);
        bump(`${key}/dns/answered`, down ? 0 : 10);
        bump(`${key}/dns/failed`, down ? 3 : t % 300 === 0 ? 1 : 0);
        for (const result of ['answered', 'failed'])
          add(
            'torchain_dns_queries',
            'counter',
            { ...id, result },
            t,
            count(`${key}/dns/${result}`),
            'torchain_dns_queries_total',
          );
      }
      // OpenVPN is quiet while healthy; verbose wireguard-go logs a keepalive about every 25 s.
      if (h.type === 'wireguard' || down || t === h.from) counters.set(`${key}/lastline`, t - 3);
      add('torchain_log_exporter_last_line_timestamp_seconds', 'gauge', id, t, count(`${key}/lastline`));
      if (h.type === 'wireguard') {
        if (!down && (t - h.from) % 120 === 0) counters.set(`${key}/handshake`, t - 1);
        if (count(`${key}/handshake`) > 0)
          add('torchain_vpn_last_handshake_timestamp_seconds', 'gauge', id, t, count(`${key}/handshake`));
      }
    }

    // The operator (two replicas, op-0 leads), scraped with honor_labels: `namespace` is the TorChain's.
    for (const [pod, leads] of [
      ['torchain-operator-0', 1],
      ['torchain-operator-1', 0],
    ] as const) {
      add('torchain_operator_leader', 'gauge', { job: 'torchain-operator', instance: `${pod}:8080`, pod }, t, leads);
    }
    const op: Labels = { job: 'torchain-operator', instance: 'torchain-operator-0:8080', pod: 'torchain-operator-0' };
    const switched = t >= switchAt ? 1 : 0;
    for (const c of [
      { namespace: 'vpn', torchain: 'office', hop: '1' },
      { namespace: 'branch', torchain: 'home', hop: '1' },
    ]) {
      const mine = c.torchain === 'office';
      add(
        'torchain_operator_switches',
        'counter',
        { ...op, ...c },
        t,
        mine ? switched : 0,
        'torchain_operator_switches_total',
      );
      const readyAt = switchAt + 30;
      const observed = mine && t >= readyAt ? 1 : 0; // one failover of 105 s (alert startsAt → Ready)
      for (const le of [5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600]) {
        add(
          'torchain_operator_failover_duration_seconds',
          'histogram',
          { ...op, ...c, le: String(le) },
          t,
          le >= 105 ? observed : 0,
          'torchain_operator_failover_duration_seconds_bucket',
        );
      }
      add(
        'torchain_operator_failover_duration_seconds',
        'histogram',
        { ...op, ...c, le: '+Inf' },
        t,
        observed,
        'torchain_operator_failover_duration_seconds_bucket',
      );
      add(
        'torchain_operator_failover_duration_seconds',
        'histogram',
        { ...op, ...c },
        t,
        observed * 105,
        'torchain_operator_failover_duration_seconds_sum',
      );
      add(
        'torchain_operator_failover_duration_seconds',
        'histogram',
        { ...op, ...c },
        t,
        observed,
        'torchain_operator_failover_duration_seconds_count',
      );
      for (const h of mine ? ['1', '2', '3'] : ['1']) {
        const quarantined = mine && h === '1' && t >= switchAt ? 1 : 0;
        add('torchain_operator_pool_servers', 'gauge', { ...op, ...c, hop: h, state: 'available' }, t, 3 - quarantined);
        add('torchain_operator_pool_servers', 'gauge', { ...op, ...c, hop: h, state: 'quarantined' }, t, quarantined);
        add('torchain_operator_pool_exhausted', 'gauge', { ...op, ...c, hop: h }, t, 0);
      }
    }
    if (t >= death + 45 && (t - death) % 15 === 0 && t <= recovered + 15) bump('webhook/200');
    add(
      'torchain_operator_webhook_requests',
      'counter',
      { ...op, code: '200' },
      t,
      count('webhook/200'),
      'torchain_operator_webhook_requests_total',
    );
  }

  const lines: string[] = [];
  for (const f of families.values()) {
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const [key, samples] of f.series) for (const [t, v] of samples) lines.push(`${key} ${v} ${t}`);
  }
  lines.push('# EOF', '');
  return { text: lines.join('\n'), start, end, death, switchAt };
}
