import { describe, expect, it } from 'vitest';
import { parseNotification } from '../../operator/src/core/alertmanager-payload.js';
import { notification, switchAlert } from './support/alerts.js';

describe('Alertmanager payload', () => {
  it('extracts firing switch alerts and counts the rest', () => {
    const r = parseNotification(
      notification([
        switchAlert(2),
        switchAlert(1, { status: 'resolved', endsAt: '2026-01-01T12:00:00Z' }),
        { ...switchAlert(1), labels: { alertname: 'TorchainExporterMissing', namespace: 'vpn' } },
      ]),
    );
    expect(r).toEqual({
      ok: true,
      value: {
        firing: [
          {
            namespace: 'vpn',
            torchain: 'alpha',
            hop: 2,
            startsAt: '2026-01-01T11:59:30.123456789Z',
            fingerprint: 'f2',
            alertname: 'TorchainHopTunnelDown',
            server: 's2',
          },
        ],
        resolved: 1,
        ignored: 1,
        groupKey: '{}/{torchain_action="switch"}:{namespace="vpn", torchain="alpha"}',
        truncatedAlerts: 0,
      },
    });
  });

  it.each([
    ['a wrong version', notification([], { version: '3' }), /version "3": expected "4"/],
    ['no alerts array', { version: '4', status: 'firing' }, /alerts: Required value/],
    ['a bad status', notification([], { status: 'weird' }), /status/],
    ['a bad startsAt', notification([switchAlert(1, { startsAt: 'yesterday' })]), /alerts\[0\]\.startsAt/],
    [
      'a non-string label',
      notification([switchAlert(1, {}, { hop: 1 as unknown as string })]),
      /alerts\[0\]\.labels\.hop/,
    ],
    ['a switch alert without hop', notification([switchAlert(1, {}, { hop: '' })]), /lacks the label\(s\) hop/],
    [
      'a switch alert without namespace and torchain',
      notification([switchAlert(1, {}, { namespace: '', torchain: '' })]),
      /namespace, torchain/,
    ],
    ['hop 0', notification([switchAlert(0)]), /hop="0" is not a hop number/],
    ['a non-object body', 'hello', /invalid Alertmanager webhook payload/],
  ])('refuses %s, naming what is wrong', (_n, body, message) => {
    const r = parseNotification(body);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});
