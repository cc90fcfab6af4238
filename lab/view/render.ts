// The lab's live terminal view as a pure function of the lab's state: the chain drawn from the LAN to the internet,
// each hop with its type, server, state, switches and last failover, the live traffic, recent events and the keys.

import type { Protocol } from '../../common/contracts/protocols.js';

export type HopState = 'up' | 'down' | 'switching' | 'starting' | 'dropped';

export interface HopView {
  number: number;
  type: Protocol;
  server: string;
  state: HopState;
  switches: number;
  /** Seconds the last failover took (alert start → Ready), if any. */
  lastFailoverSeconds?: number;
  lastSwitchTime?: string;
  /** Servers of this hop's pool the user killed from the view. */
  killed: string[];
}

export interface ChainView {
  chain: string;
  namespace: string;
  hops: HopView[];
  traffic: { flowing: boolean; rttMs?: number; sent: number; received: number; outageSeconds?: number };
}

export interface ViewState {
  chains: ChainView[];
  /** The chain the keys act on. */
  selected: number;
  /** lab or production timings. */
  timings: string;
  events: string[];
  now: Date;
}

const COLORS = {
  reset: '\x1b[0m',
  green: '\x1b[32m',
  red: '\x1b[31m',
  yellow: '\x1b[33m',
  dim: '\x1b[2m',
  bold: '\x1b[1m',
};
type Color = keyof typeof COLORS;

function paint(text: string, color: Color, enabled: boolean): string {
  return enabled ? `${COLORS[color]}${text}${COLORS.reset}` : text;
}

const STATE_COLOR: Record<HopState, Color> = {
  up: 'green',
  down: 'red',
  switching: 'yellow',
  starting: 'yellow',
  dropped: 'dim',
};

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

/** Renders the whole screen; `color` off gives plain text (tests, dumb terminals). */
export function renderView(v: ViewState, opts: { color?: boolean; width?: number } = {}): string {
  const color = opts.color ?? true;
  const lines: string[] = [];
  lines.push(
    paint(`torchain lab — ${v.chains.length} chain(s), ${v.timings} timings`, 'bold', color) +
      `   ${v.now.toISOString().slice(11, 19)}Z`,
  );
  v.chains.forEach((c, i) => {
    lines.push('');
    const mark = i === v.selected ? paint('▶', 'bold', color) : ' ';
    lines.push(`${mark} ${paint(`chain ${c.chain}`, 'bold', color)} in namespace ${c.namespace}`);
    // LAN client → hop N → … → hop 1 → internet
    const ordered = [...c.hops].sort((a, b) => b.number - a.number);
    lines.push('  LAN client');
    for (const h of ordered) {
      const state = paint(pad(h.state.toUpperCase(), 9), STATE_COLOR[h.state], color);
      const failover =
        h.lastFailoverSeconds !== undefined
          ? `last failover ${h.lastFailoverSeconds.toFixed(1)} s`
          : h.lastSwitchTime
            ? `last switch ${h.lastSwitchTime.slice(11, 19)}Z`
            : '';
      const killed = h.killed.length ? paint(`  killed: ${h.killed.join(', ')}`, 'red', color) : '';
      lines.push('     │');
      lines.push(
        `  [hop ${h.number}] ${pad(h.type, 11)} server ${pad(h.server || '—', 14)} ${state} switches ${pad(String(h.switches), 3)} ${failover}${killed}`,
      );
    }
    lines.push('     │');
    lines.push('  internet');
    const t = c.traffic;
    const flow = t.flowing ? paint('FLOWING', 'green', color) : paint('NO TRAFFIC', 'red', color);
    const rtt = t.flowing && t.rttMs !== undefined ? `rtt ${t.rttMs.toFixed(1)} ms` : '';
    const outage = !t.flowing && t.outageSeconds !== undefined ? `down for ${t.outageSeconds.toFixed(1)} s` : '';
    const loss = t.sent ? `${(((t.sent - t.received) / t.sent) * 100).toFixed(1)}% lost of ${t.sent}` : '';
    lines.push(`  traffic LAN → internet: ${flow} ${rtt}${outage}   ${paint(loss, 'dim', color)}`);
  });
  lines.push('');
  lines.push(paint('  recent events', 'bold', color));
  for (const e of v.events.slice(-8)) lines.push(`   ${e}`);
  for (let i = v.events.length; i < 8; i++) lines.push('');
  lines.push('');
  const keys = (v.chains[v.selected]?.hops ?? [])
    .map((h) => h.number)
    .sort((a, b) => a - b)
    .map((n) => String(n))
    .join('/');
  lines.push(
    paint(
      `  keys (chain ${v.chains[v.selected]?.chain ?? '—'}): ${keys} kill that hop's active server   s then ${keys} silent death (blackhole)   r restore   tab next chain   q quit`,
      'dim',
      color,
    ),
  );
  const width = opts.width ?? 140;
  return lines.map((l) => l.slice(0, width + 40)).join('\n');
}
