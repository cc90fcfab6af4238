import { describe, expect, it } from 'vitest';
import { renderView, type ViewState } from '../../lab/view/render.js';
import { parsePingLine, TrafficMonitor } from '../../lab/traffic.js';
import type { Supervisor } from '../../lab/runtime/supervisor.js';

describe('lab view', () => {
  const first = {
    chain: 'lab',
    namespace: 'torchain-lab',
    hops: [
      {
        number: 1,
        type: 'openvpn',
        server: 'srv-1-a',
        state: 'up',
        switches: 2,
        lastFailoverSeconds: 9.4,
        killed: ['srv-1-b'],
      },
      { number: 2, type: 'wireguard', server: 'srv-2-a', state: 'switching', switches: 0, killed: [] },
      {
        number: 3,
        type: 'openvpn',
        server: 'srv-3-c',
        state: 'down',
        switches: 1,
        lastSwitchTime: '2026-11-26T09:59:58Z',
        killed: [],
      },
    ],
    traffic: { flowing: false, sent: 200, received: 150, outageSeconds: 4.2 },
  } satisfies ViewState['chains'][number];
  const second = {
    chain: 'edge',
    namespace: 'torchain-edge',
    hops: [{ number: 1, type: 'openconnect', server: 'EDGE:hop1.s0', state: 'up', switches: 0, killed: [] }],
    traffic: { flowing: true, rttMs: 1.25, sent: 10, received: 10 },
  } satisfies ViewState['chains'][number];
  const state: ViewState = {
    chains: [first, second],
    selected: 0,
    timings: 'lab',
    events: ['10:00:01 hop 1 switched to srv-1-a'],
    now: new Date('2026-11-26T10:00:05Z'),
  };

  it('draws the chain from the LAN to the internet with each hop’s type, server, state and switches', () => {
    const text = renderView(state, { color: false });
    const lines = text.split('\n');
    const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
    expect(at('LAN client')).toBeLessThan(at('[hop 3]'));
    expect(at('[hop 3]')).toBeLessThan(at('[hop 2]'));
    expect(at('[hop 2]')).toBeLessThan(at('[hop 1]'));
    expect(at('[hop 1]')).toBeLessThan(at('internet'));
    expect(lines[at('[hop 1]')]).toMatch(
      /openvpn\s+server srv-1-a\s+UP\s+switches 2\s+last failover 9\.4 s\s+killed: srv-1-b/,
    );
    expect(lines[at('[hop 2]')]).toMatch(/wireguard\s+server srv-2-a\s+SWITCHING/);
    expect(lines[at('[hop 3]')]).toMatch(/DOWN\s+switches 1\s+last switch 09:59:58Z/);
    expect(text).toMatch(/NO TRAFFIC down for 4\.2 s\s+25\.0% lost of 200/);
    expect(text).toContain('keys (chain lab): 1/2/3 kill');
    expect(text).not.toContain('\x1b[');
  });

  it('draws every chain, marks the one the keys act on, and shows its traffic', () => {
    const text = renderView({ ...state, selected: 1 }, { color: false });
    expect(text).toMatch(/▶ chain edge in namespace torchain-edge/);
    expect(text).toMatch(/ {2}chain lab in namespace torchain-lab/);
    expect(text).toMatch(/openconnect\s+server EDGE:hop1\.s0\s+UP/);
    expect(text).toMatch(/FLOWING rtt 1\.3 ms/);
    expect(text).toContain('keys (chain edge): 1 kill');
  });

  it('colours states only when asked', () => {
    expect(renderView(state, { color: true })).toContain('\x1b[31m');
  });
});

describe('traffic bookkeeping', () => {
  it('parses ping -O -D replies and misses', () => {
    expect(parsePingLine('[1764151205.123456] 64 bytes from 198.18.0.100: icmp_seq=3 ttl=60 time=1.84 ms')).toEqual({
      at: 1764151205123,
      ok: true,
      rttMs: 1.84,
    });
    expect(parsePingLine('[1764151206.000100] no answer yet for icmp_seq=4')).toEqual({ at: 1764151206000, ok: false });
    expect(parsePingLine('PING 198.18.0.100 (198.18.0.100) 56(84) bytes of data.')).toBeUndefined();
  });

  it('an outage starts at the first miss after traffic flowed and ends at the next reply', async () => {
    const m = new TrafficMonitor({} as Supervisor, { netns: 'x', target: 'y' });
    m.record({ at: 1000, ok: false }); // before the first reply: not an outage
    m.record({ at: 1200, ok: true, rttMs: 1 });
    m.record({ at: 1400, ok: false });
    m.record({ at: 1600, ok: false });
    const back = m.waitFlowing(1500, 1000);
    m.record({ at: 2600, ok: true, rttMs: 2 });
    expect(await back).toBe(2600);
    expect(m.state.outages).toEqual([{ from: 1400, to: 2600 }]);
    expect(m.state).toMatchObject({ sent: 5, received: 2, flowing: true });
  });
});
