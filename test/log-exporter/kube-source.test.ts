// The Kubernetes log source against lab/kube (the project's API server stand-in), with the real exporter process
// and @kubernetes/client-node 1.4: follow the `vpn` container with timestamps, resume after every dropped or renewed
// stream with sinceTime, and count each line exactly once (none lost, none doubled).
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { eventually, startExporter, type RunningExporter } from './support/exporter-process.js';
import { sample } from './support/exposition.js';

const NS = 'default';
const POD = 'tcx-hop-1-abc';
const REFUSED = 'read UDPv4 [ECONNREFUSED]: Connection refused (fd=3,code=111)';

function running(kube: Kube) {
  kube.setPodStatus(NS, POD, {
    phase: 'Running',
    containerStatuses: [
      {
        name: 'vpn',
        ready: true,
        restartCount: 0,
        state: { running: { startedAt: new Date().toISOString() } },
        image: 'vpn:1',
        imageID: '',
      },
    ],
  });
}

describe('kube source against lab/kube', () => {
  let kube: Kube;
  let exporter: RunningExporter | undefined;

  beforeAll(async () => {
    kube = await startKube();
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    await kc.makeApiClient(CoreV1Api).createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: POD, labels: { 'app.kubernetes.io/name': 'torchain-hop' } },
        spec: {
          containers: [
            { name: 'vpn', image: 'vpn:1' },
            { name: 'log-exporter', image: 'exp:1' },
          ],
        },
      },
    });
    running(kube);
  });
  afterAll(async () => {
    await exporter?.stop();
    await kube?.close();
  });

  it('counts every line once across renewed streams and a container restart', async () => {
    // An hour-old failure (before this exporter started, as after an exporter restart): state only, never counted.
    kube.appendPodLog(NS, POD, 'vpn', REFUSED, new Date(Date.now() - 3600_000));
    kube.appendPodLog(NS, POD, 'vpn', '2026-11-26 11:00:52 Initialization Sequence Completed');
    kube.appendPodLog(NS, POD, 'vpn', 'noise before the exporter starts');
    // A renewal every second: each new stream asks for sinceTime (one-second precision) and gets replayed lines.
    exporter = await startExporter(['--type', 'openvpn', '--kube-refresh-seconds', '1'], {
      env: { KUBECONFIG: kube.kubeconfigPath, POD_NAME: POD, POD_NAMESPACE: NS },
    });
    const e = exporter;
    await eventually(
      'backlog read',
      () => e.metrics(),
      (m) => m.get('torchain_vpn_tunnel_up') === 1,
    );
    const health = JSON.parse((await e.get('/healthz')).body);
    expect(health.source).toMatchObject({ kind: 'kube', state: 'running' });

    // Lines arrive in bursts that share timestamps' seconds, while streams are renewed underneath.
    let appended = 0;
    for (let i = 0; i < 40; i++) {
      kube.appendPodLog(NS, POD, 'vpn', REFUSED);
      kube.appendPodLog(NS, POD, 'vpn', `noise ${i}`);
      appended++;
      await new Promise((r) => setTimeout(r, 100));
    }
    const m1 = await eventually(
      'all refusals',
      () => e.metrics(),
      (m) => m.get('torchain_vpn_connection_errors_total{reason="connection_refused"}') === appended,
    );
    const renewals = e.logs().filter((l) => l.msg === 'following the VPN log').length;
    expect(renewals).toBeGreaterThanOrEqual(3);
    expect(e.logs().filter((l) => l.msg === 'following the VPN log' && l.sinceTime).length).toBeGreaterThanOrEqual(2);

    // The container restarts: the follow stream ends (dropped), the new instance's lines follow.
    kube.restartContainer(NS, POD, 'vpn');
    running(kube);
    kube.appendPodLog(NS, POD, 'vpn', '[tcx-server] Inactivity timeout (--ping-restart), restarting');
    kube.appendPodLog(NS, POD, 'vpn', 'SIGUSR1[soft,ping-restart] received, process restarting');
    const m2 = await eventually(
      'restart lines',
      () => e.metrics(),
      (m) => m.get('torchain_vpn_restarts_total{reason="ping_timeout"}') === 1,
    );
    // Wait past a few more renewals: nothing may be counted again.
    await new Promise((r) => setTimeout(r, 2500));
    const m3 = await e.metrics();
    expect(sample(m3, 'torchain_vpn_connection_errors_total{reason="connection_refused"}')).toBe(appended);
    expect(sample(m3, 'torchain_vpn_connection_errors_total{reason="ping_timeout"}')).toBe(1);
    expect(sample(m3, 'torchain_vpn_restarts_total{reason="ping_timeout"}')).toBe(1);
    const total = (m: Map<string, number>) =>
      sample(m, 'torchain_log_exporter_lines_total{matched="true"}') +
      sample(m, 'torchain_log_exporter_lines_total{matched="false"}');
    expect(total(m1)).toBe(2 + 2 * appended);
    expect(total(m2)).toBe(2 + 2 * appended + 2);
    expect(total(m3)).toBe(total(m2));
    expect(sample(m3, 'torchain_vpn_tunnel_up')).toBe(0);
    // The last-line gauge carries the API's timestamp of the last line (recent), not the read time of a replay.
    expect(Math.abs(sample(m3, 'torchain_log_exporter_last_line_timestamp_seconds') - Date.now() / 1000)).toBeLessThan(
      10,
    );
  }, 60_000);

  it('retries with a clear message while the pod is unknown', async () => {
    const e = await startExporter(['--type', 'openvpn'], {
      env: { KUBECONFIG: kube.kubeconfigPath, POD_NAME: 'tcx-missing', POD_NAMESPACE: NS },
    });
    try {
      const h = await eventually(
        'retrying',
        async () => JSON.parse((await e.get('/healthz')).body),
        (b) => b.source?.state === 'retrying',
      );
      expect(h.source.detail).toMatch(/pod default\/tcx-missing container vpn: HTTP 404/);
      expect((await e.get('/healthz')).status).toBe(200);
    } finally {
      await e.stop();
    }
  });
});
