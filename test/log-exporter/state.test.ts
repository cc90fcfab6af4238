import { describe, expect, it } from 'vitest';
import { allPatterns } from '../../log-exporter/src/protocols/index.js';
import {
  applyHandshakeReading,
  applyLine,
  applyProbe,
  applyTunnelMissing,
  initialState,
  lastLineTimestamp,
} from '../../log-exporter/src/state.js';

const pattern = (id: string) => {
  const p = allPatterns().find((x) => x.pattern.id === id)?.pattern;
  if (!p) throw new Error(`no pattern ${id}`);
  return p;
};

describe('state', () => {
  it('starts down with every reason at zero', () => {
    const s = initialState('openvpn');
    expect(s.tunnelUp).toBe(false);
    expect(Object.values(s.errors).every((v) => v === 0)).toBe(true);
    expect(Object.keys(s.errors)).toHaveLength(11);
  });

  it('counts lines, errors and restarts, and follows the latest tunnel evidence', () => {
    const s = initialState('openvpn');
    applyLine(s, 'Initialization Sequence Completed', pattern('ovpn_init_complete'), 100);
    expect(s.tunnelUp).toBe(true);
    applyLine(s, 'noise', undefined, 101);
    applyLine(s, 'Inactivity timeout (--ping-restart), restarting', pattern('ovpn_ping_timeout'), 102);
    applyLine(s, 'SIGUSR1[soft,ping-restart] received, process restarting', pattern('ovpn_restart_ping'), 103);
    expect(s).toMatchObject({ linesMatched: 3, linesUnmatched: 1, tunnelUp: false });
    expect(s.errors.ping_timeout).toBe(1);
    expect(s.restarts.ping_timeout).toBe(1);
  });

  it('lets history lines set the state without counting them', () => {
    const s = initialState('openvpn');
    applyLine(s, 'read UDPv4 [ECONNREFUSED]: Connection refused', pattern('ovpn_connection_refused'), 1, 1, true);
    applyLine(s, 'old noise', undefined, 1, 1, true);
    applyLine(s, 'Initialization Sequence Completed', pattern('ovpn_init_complete'), 2, 2, true);
    expect(s).toMatchObject({ linesMatched: 0, linesUnmatched: 0, tunnelUp: true, lastLineSeconds: 2 });
    expect(s.errors.connection_refused).toBe(0);
  });

  it('takes the last-line timestamp from the source, else the line prefix, else the read time', () => {
    const s = initialState('openvpn');
    applyLine(s, 'no prefix', undefined, 500);
    expect(lastLineTimestamp(s)).toBe(500);
    applyLine(s, '1795690860.930248 1 Note', undefined, 500);
    expect(lastLineTimestamp(s)).toBeCloseTo(1795690860.930248, 5);
    applyLine(s, '1795690860.930248 1 Note', undefined, 500, 42);
    expect(lastLineTimestamp(s)).toBe(42);
    applyLine(s, undefined, undefined, 600);
    expect(lastLineTimestamp(s)).toBe(600);
  });

  it('sets the WireGuard handshake time from a handshake line, never going backwards', () => {
    const s = initialState('wireguard');
    const line = 'DEBUG: (tcxwg0) 2026/11/26 11:02:58 peer(6DsA…+PgA) - Received handshake response';
    applyLine(s, line, pattern('wg_handshake_complete'), 1e10);
    expect(s.lastHandshakeSeconds).toBe(new Date(2026, 10, 26, 11, 2, 58).getTime() / 1000);
    applyLine(s, 'Received handshake response', pattern('wg_handshake_complete'), 1, 5);
    expect(s.lastHandshakeSeconds).toBe(new Date(2026, 10, 26, 11, 2, 58).getTime() / 1000);
    expect(s.tunnelUp).toBe(true);
  });

  it('takes the tunnel down only after the configured number of failed probes in a row', () => {
    const s = initialState('wireguard', 2);
    applyProbe(s, true);
    expect(s.tunnelUp).toBe(true);
    applyProbe(s, false);
    expect(s.tunnelUp).toBe(true);
    applyProbe(s, true);
    applyProbe(s, false);
    expect(s.tunnelUp).toBe(true);
    applyProbe(s, false);
    expect(s.tunnelUp).toBe(false);
    expect(s.errors.probe_failed).toBe(3);
    applyProbe(s, true);
    expect(s.tunnelUp).toBe(true);
  });

  it('reads a missing tunnel interface as down without counting a probe failure', () => {
    const s = initialState('wireguard');
    applyProbe(s, true);
    applyTunnelMissing(s);
    expect(s.tunnelUp).toBe(false);
    expect(s.errors.probe_failed).toBe(0);
  });

  it('reads a handshake: a newer fresh one is up, none or one older than 180 s is down', () => {
    const s = initialState('wireguard');
    applyHandshakeReading(s, 0, 1000);
    expect(s.tunnelUp).toBe(false);
    expect(s.lastHandshakeSeconds).toBeUndefined();
    applyHandshakeReading(s, 990, 1000);
    expect(s.lastHandshakeSeconds).toBe(990);
    expect(s.tunnelUp).toBe(false); // first reading: no proof of a live server yet
    applyHandshakeReading(s, 995, 1000);
    expect(s.tunnelUp).toBe(true);
    applyHandshakeReading(s, 995, 1174);
    expect(s.tunnelUp).toBe(true);
    applyHandshakeReading(s, 995, 1175);
    expect(s.tunnelUp).toBe(false);
  });
});
