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
        malformed: [],
        groupKey: '{}/{torchain_action="switch"}:{namespace="vpn", torchain="alpha"}',
        truncatedAlerts: 0,
      },
    });
  });

  it.each([
    ['a wrong version', notification([], { version: '3' }), /version "3": expected "4"/],
    ['no alerts array', { version: '4', status: 'firing' }, /alerts: Required value/],
    ['alerts that are not an array', { ...notification([]), alerts: {} }, /alerts/],
    ['a bad status', notification([], { status: 'weird' }), /status/],
    ['a non-object body', 'hello', /invalid Alertmanager webhook payload/],
  ])('refuses %s (not a version-4 payload at all), naming what is wrong', (_n, body, message) => {
    const r = parseNotification(body);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it.each([
    ['a bad startsAt', switchAlert(1, { startsAt: 'yesterday' }), /alerts\[0\]\.startsAt/],
    ['a non-string label', switchAlert(1, {}, { hop: 1 as unknown as string }), /alerts\[0\]\.labels\.hop/],
    ['a switch alert without hop', switchAlert(1, {}, { hop: '' }), /lacks the label\(s\) hop/],
    [
      'a switch alert without namespace and torchain',
      switchAlert(1, {}, { namespace: '', torchain: '' }),
      /namespace, torchain/,
    ],
    ['hop 0', switchAlert(0), /hop="0" is not a hop number/],
    ['an alert that is not an object', 'oops' as unknown as Record<string, unknown>, /alerts\[0\]/],
  ])('skips and reports %s, and acts on the other alerts of the notification', (_n, bad, message) => {
    const good = switchAlert(2, {}, { torchain: 'beta' });
    const r = parseNotification(notification([bad, good]));
    if (!r.ok) throw new Error(r.error);
    expect(r.value.firing.map((a) => [a.torchain, a.hop])).toEqual([['beta', 2]]);
    expect(r.value.malformed).toHaveLength(1);
    expect(r.value.malformed[0]).toMatchObject({ index: 0 });
    expect(r.value.malformed[0]!.error).toMatch(message);
  });

  it('an informational alert is ignored even when it is malformed; the labels it has are reported for a switch alert', () => {
    const r = parseNotification(
      notification([
        { labels: { alertname: 'TorchainExporterMissing' }, status: 'firing', startsAt: 'never' },
        switchAlert(3, { startsAt: 'never' }, { torchain: 'gamma' }),
      ]),
    );
    if (!r.ok) throw new Error(r.error);
    expect(r.value).toMatchObject({ ignored: 1, firing: [] });
    expect(r.value.malformed).toEqual([
      expect.objectContaining({
        index: 1,
        alertname: 'TorchainHopTunnelDown',
        namespace: 'vpn',
        torchain: 'gamma',
        hop: '3',
      }),
    ]);
  });
});
