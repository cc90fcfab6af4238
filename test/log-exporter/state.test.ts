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
    applyProbe(s, true, 100);
    expect(s.tunnelUp).toBe(true);
    applyProbe(s, false, 100);
    expect(s.tunnelUp).toBe(true);
    applyProbe(s, true, 100);
    applyProbe(s, false, 100);
    expect(s.tunnelUp).toBe(true);
    applyProbe(s, false, 100);
    expect(s.tunnelUp).toBe(false);
    expect(s.errors.probe_failed).toBe(3);
    applyProbe(s, true, 100);
    expect(s.tunnelUp).toBe(true);
  });

  it('reads a missing tunnel interface as down without counting a probe failure', () => {
    const s = initialState('wireguard');
    applyProbe(s, true, 100);
    applyTunnelMissing(s, 100);
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

  // The detection miss of the WireGuard-blackholed benchmark runs: the client completes a handshake, the server goes
  // silent, two probes fail and the exporter logs the tunnel down; the handshake reader (every 5 s, so up to 5 s
  // late) then reads that handshake as newer than the one it knew and took the tunnel up again. Only a later failed
  // probe undid it, and where no probe runs (a /32 tunnel, the probe off) nothing did until REJECT_AFTER_TIME.
  it('keeps the tunnel down when the handshake reader reports a handshake older than the down evidence', () => {
    const s = initialState('wireguard', 2);
    applyHandshakeReading(s, 990, 990.5); // first reading: the handshake of the connection
    applyProbe(s, true, 991);
    applyHandshakeReading(s, 1000, 1001); // a new handshake while the server answers: up
    expect(s.tunnelUp).toBe(true);
    // 1003: the server has died (silently) just after a handshake at 1003.
    // The reader's earlier call returned before it; the probes fail.
    applyProbe(s, false, 1005.5);
    applyProbe(s, false, 1007);
    expect(s.tunnelUp).toBe(false);
    // The reader's next call, up to an interval later, sees the handshake of 1003.
    applyHandshakeReading(s, 1003, 1008);
    expect(s.lastHandshakeSeconds).toBe(1003); // the gauge still reports it
    expect(s.tunnelUp).toBe(false); // but it is not evidence of a live server now
    // A handshake after the failures is: the server came back.
    applyHandshakeReading(s, 1012, 1013);
    expect(s.tunnelUp).toBe(true);
  });

  it('keeps the tunnel down when a handshake reading predates a down log line', () => {
    const s = initialState('wireguard');
    applyHandshakeReading(s, 990, 990.5);
    applyHandshakeReading(s, 995, 996);
    expect(s.tunnelUp).toBe(true);
    const timeout = pattern('wg_handshake_retry');
    applyLine(s, 'Handshake did not complete after 5 seconds, retrying (try 2)', timeout, 1020);
    expect(s.tunnelUp).toBe(false);
    applyHandshakeReading(s, 1001, 1022); // read late: happened before the failure line
    expect(s.tunnelUp).toBe(false);
  });
});
