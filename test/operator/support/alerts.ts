// Alertmanager-shaped notifications for operator tests.
// Shaped like a real Alertmanager 0.25+ version-4 notification (notify/webhook Message).
export function notification(alerts: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) {
  return {
    receiver: 'torchain-operator',
    status: 'firing',
    alerts,
    groupLabels: { namespace: 'vpn', torchain: 'alpha' },
    commonLabels: { namespace: 'vpn', torchain: 'alpha', torchain_action: 'switch' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}/{torchain_action="switch"}:{namespace="vpn", torchain="alpha"}',
    truncatedAlerts: 0,
    ...extra,
  };
}

export function switchAlert(hop: number, extra: Record<string, unknown> = {}, labels: Record<string, string> = {}) {
  return {
    status: 'firing',
    labels: {
      alertname: 'TorchainHopTunnelDown',
      namespace: 'vpn',
      torchain: 'alpha',
      hop: String(hop),
      type: 'openvpn',
      server: `s${String(hop)}`,
      torchain_action: 'switch',
      ...labels,
    },
    annotations: { summary: 'tunnel down' },
    startsAt: '2026-01-01T11:59:30.123456789Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph',
    fingerprint: `f${String(hop)}`,
    ...extra,
  };
}
