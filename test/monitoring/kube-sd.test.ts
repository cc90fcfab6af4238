// A real Prometheus (Debian 13's 2.53, which has Kubernetes service discovery) with the configuration translated from
// the chart's objects discovers pods in lab/kube the way kube-prometheus-stack's Prometheus does in a cluster:
// kubernetes_sd_configs against lab/kube's API (apiserverConfig → api_server, a ServiceAccount token file, the CA
// file), the chart's PodMonitor relabelings giving each hop's target the identity labels, pods of namespaces the
// PodMonitor does not list left out, the operator's ServiceMonitor finding its pods through the Endpoints lab/kube's
// endpoints controller fills, kps' Alertmanager found through Endpoints written by hand.
// Targets are loopback addresses where nothing listens: discovery and relabeling are under test, not the scrape.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { PROMETHEUS_K8S } from '../../lab/monitoring/binaries.js';
import { freePort } from '../../lab/runtime/ports.js';
import { HELM } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { clusterFor, grantPrometheusDiscovery, translateWithKps, valueSets } from './support.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const KPS_NS = 'monitoring';
const PROM_SA = 'kube-prometheus-stack-prometheus';

describe.skipIf(skipUnless({ binaries: [HELM, PROMETHEUS_K8S] }))(
  'Prometheus discovers pods in lab/kube with the translated configuration',
  () => {
    let kube: Kube;
    let core: CoreV1Api;
    let prometheus: ChildProcess | undefined;
    let url = '';
    let dir = '';
    let stderr = '';

    const hopPod = (
      namespace: string,
      name: string,
      chain: string,
      hop: number,
      type: string,
      server: string,
    ): V1Pod => ({
      metadata: {
        name,
        namespace,
        labels: {
          'app.kubernetes.io/name': 'torchain-hop',
          'torchain.dev/chain': chain,
          'torchain.dev/hop': String(hop),
          'torchain.dev/type': type,
          'torchain.dev/server': server,
        },
      },
      spec: {
        containers: [
          { name: 'vpn', image: `hop-${type}` },
          { name: 'log-exporter', image: 'log-exporter', ports: [{ name: 'metrics', containerPort: 9108 }] },
        ],
      },
    });
    const createPod = async (pod: V1Pod, ip: string, phase = 'Running') => {
      await core.createNamespacedPod({ namespace: pod.metadata!.namespace!, body: pod });
      kube.setPodStatus(pod.metadata!.namespace!, pod.metadata!.name!, { phase, podIP: ip, podIPs: [{ ip }] }); // what a kubelet reports
    };
    const targets = async (): Promise<Obj[]> => {
      const body = (await (await fetch(`${url}/api/v1/targets?state=active`)).json()) as Obj;
      return body.data.activeTargets as Obj[];
    };
    const waitTargets = async (what: string, ok: (t: Obj[]) => boolean): Promise<Obj[]> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const t = await targets();
        if (ok(t)) return t;
        if (Date.now() > deadline)
          throw new Error(
            `timed out waiting for ${what}; targets: ${JSON.stringify(t.map((x) => x.labels))}\n${stderr}`,
          );
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const hopTargets = (t: Obj[]) => t.filter((x) => String(x.labels.job) === 'torchain-system/torchain-hops');

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'torchain-kube-sd-'));
      mkdirSync(join(dir, 'kube'));
      kube = await startKube({ dir: join(dir, 'kube') });
      const kc = new KubeConfig();
      kc.loadFromFile(kube.kubeconfigPath); // admin, as the lab's installer
      core = kc.makeApiClient(CoreV1Api);
      const rbac = kc.makeApiClient(RbacAuthorizationV1Api);

      const set = valueSets().find((s) => s.name === 'two-chains-values')!; // chains in torchain-alpha and torchain-beta
      const cluster = await clusterFor(set.file);
      for (const ns of [...cluster.namespaces, 'vpn-other'])
        if (!['default', 'kube-system'].includes(ns)) await core.createNamespace({ body: { metadata: { name: ns } } });

      // kps' Prometheus runs as a ServiceAccount allowed to read what discovery lists (its ClusterRole, trimmed).
      await core.createNamespacedServiceAccount({ namespace: KPS_NS, body: { metadata: { name: PROM_SA } } });
      await grantPrometheusDiscovery(rbac, KPS_NS, PROM_SA);
      writeFileSync(join(dir, 'token'), kube.mintServiceAccountToken(KPS_NS, PROM_SA, { expirationSeconds: 3600 }), {
        mode: 0o600,
      });
      writeFileSync(join(dir, 'ca.crt'), kube.caPem);

      // Hop pods of the chains, one pod of a namespace the PodMonitor does not list, one pod that has finished.
      await createPod(hopPod('torchain-alpha', 'alpha-hop-1-abc', 'alpha', 1, 'openvpn', 'nl-ams-01'), '127.77.1.1');
      await createPod(hopPod('torchain-alpha', 'alpha-hop-2-def', 'alpha', 2, 'openvpn', 'de-fra-02'), '127.77.1.2');
      await createPod(hopPod('torchain-beta', 'beta-hop-1-ghi', 'beta', 1, 'wireguard', 'wg-zrh-03'), '127.77.2.1');
      await createPod(hopPod('vpn-other', 'other-hop-1-jkl', 'other', 1, 'openvpn', 'x'), '127.77.3.1');
      await createPod(
        hopPod('torchain-alpha', 'alpha-hop-1-old', 'alpha', 1, 'openvpn', 'old'),
        '127.77.1.9',
        'Succeeded',
      );

      // The operator's Service and kps' Alertmanager Service, with Endpoints as an endpoints controller writes them.
      const operatorSvc = cluster.objects.find((o) => o.kind === 'Service' && o.metadata.name === 'torchain-operator')!;
      await core.createNamespacedService({
        namespace: 'torchain-system',
        body: { metadata: operatorSvc.metadata, spec: operatorSvc.spec } as Obj,
      });
      // The operator's pods as its Deployment defines them: lab/kube's endpoints controller fills the Service's
      // Endpoints from them (the ready one under addresses, the other under notReadyAddresses).
      const deployment = cluster.objects.find(
        (o) => o.kind === 'Deployment' && o.metadata.name === 'torchain-operator',
      )!;
      const template = (deployment.spec as Obj).template as Obj;
      // Its ServiceAccount first: the ServiceAccount admission refuses a pod whose account does not exist.
      await core.createNamespacedServiceAccount({
        namespace: 'torchain-system',
        body: { metadata: { name: 'torchain-operator' } },
      });
      for (const [name, ip, ready] of [
        ['torchain-operator-a', '127.77.0.5', 'True'],
        ['torchain-operator-b', '127.77.0.7', 'False'],
      ] as const) {
        await core.createNamespacedPod({
          namespace: 'torchain-system',
          body: {
            metadata: { name, namespace: 'torchain-system', labels: template.metadata.labels },
            spec: template.spec,
          },
        });
        kube.setPodStatus('torchain-system', name, {
          phase: 'Running',
          podIP: ip,
          podIPs: [{ ip }],
          conditions: [{ type: 'Ready', status: ready }],
        });
      }
      const amName = 'kube-prometheus-stack-alertmanager';
      await core.createNamespacedService({
        namespace: KPS_NS,
        body: { metadata: { name: amName }, spec: { ports: [{ name: 'http-web', port: 9093 }] } },
      });
      await core.createNamespacedEndpoints({
        namespace: KPS_NS,
        body: {
          metadata: { name: amName },
          subsets: [
            {
              addresses: [{ ip: '127.77.0.6' }],
              ports: [
                { name: 'http-web', port: 9093 },
                { name: 'reloader-web', port: 8080 },
              ],
            },
          ],
        },
      });

      const t = translateWithKps(
        cluster,
        {
          prometheusSpec: {
            scrapeInterval: '1s',
            evaluationInterval: '1s',
            apiserverConfig: {
              host: kube.url,
              authorization: { type: 'Bearer', credentialsFile: join(dir, 'token') },
              tlsConfig: { caFile: join(dir, 'ca.crt') },
            },
          },
        },
        join(dir, 'rules'),
      );
      for (const [rel, text] of Object.entries(t.prometheus.ruleFiles)) {
        mkdirSync(dirname(join(dir, 'rules', rel)), { recursive: true });
        writeFileSync(join(dir, 'rules', rel), text);
      }
      writeFileSync(join(dir, 'prometheus.yml'), t.prometheus.yaml);
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      prometheus = spawn(
        PROMETHEUS_K8S,
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      prometheus.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-6000)));
      for (let i = 0; ; i++) {
        if (
          await fetch(`${url}/-/ready`).then(
            (r) => r.ok,
            () => false,
          )
        )
          break;
        if (i > 150 || prometheus.exitCode !== null) throw new Error(`prometheus did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    });

    afterAll(async () => {
      if (prometheus && prometheus.exitCode === null) {
        const exited = new Promise((r) => prometheus!.once('exit', r));
        prometheus.kill('SIGTERM');
        await exited;
      }
      await kube?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('the hop pods of the listed namespaces become targets with the identity labels of the metrics contract', async () => {
      const t = hopTargets(await waitTargets('three hop targets', (x) => hopTargets(x).length >= 3));
      const labels = t
        .map((x) => {
          const { namespace, torchain, hop, type, server, pod, container, instance } = x.labels as Record<
            string,
            string
          >;
          return { namespace, torchain, hop, type, server, pod, container, instance };
        })
        .sort((a, b) => String(a.pod).localeCompare(String(b.pod)));
      expect(labels).toEqual([
        {
          namespace: 'torchain-alpha',
          torchain: 'alpha',
          hop: '1',
          type: 'openvpn',
          server: 'nl-ams-01',
          pod: 'alpha-hop-1-abc',
          container: 'log-exporter',
          instance: '127.77.1.1:9108',
        },
        {
          namespace: 'torchain-alpha',
          torchain: 'alpha',
          hop: '2',
          type: 'openvpn',
          server: 'de-fra-02',
          pod: 'alpha-hop-2-def',
          container: 'log-exporter',
          instance: '127.77.1.2:9108',
        },
        {
          namespace: 'torchain-beta',
          torchain: 'beta',
          hop: '1',
          type: 'wireguard',
          server: 'wg-zrh-03',
          pod: 'beta-hop-1-ghi',
          container: 'log-exporter',
          instance: '127.77.2.1:9108',
        },
      ]);
      // Not a target: the pod in vpn-other (the PodMonitor does not list it), the finished pod, the vpn container.
      expect(t.map((x) => x.labels.pod)).not.toContain('other-hop-1-jkl');
      expect(t.map((x) => x.labels.pod)).not.toContain('alpha-hop-1-old');
      expect(t.every((x) => x.scrapeInterval === '2s')).toBe(true); // monitoring.podMonitor.interval
    });

    it('follows the API: a new hop pod appears, a deleted one goes', async () => {
      await createPod(hopPod('torchain-beta', 'beta-hop-2-mno', 'beta', 2, 'openvpn', 'ch-zrh-01'), '127.77.2.2');
      await waitTargets('the new pod', (x) =>
        hopTargets(x).some((y) => y.labels.pod === 'beta-hop-2-mno' && y.labels.hop === '2'),
      );
      await core.deleteNamespacedPod({ namespace: 'torchain-alpha', name: 'alpha-hop-2-def', gracePeriodSeconds: 0 });
      await waitTargets('the deleted pod gone', (x) => !hopTargets(x).some((y) => y.labels.pod === 'alpha-hop-2-def'));
    });

    it("the operator's ServiceMonitor finds its pods through the Endpoints lab/kube fills, and kps' Alertmanager through its Service", async () => {
      const ops = (
        await waitTargets(
          'both operator pods',
          (x) => x.filter((y) => y.labels.job === 'torchain-operator').length === 2,
        )
      )
        .filter((y) => y.labels.job === 'torchain-operator')
        .sort((a, b) => String(a.labels.pod).localeCompare(String(b.labels.pod)));
      expect(
        ops.map((o) => [
          o.labels.pod,
          o.labels.instance,
          o.labels.endpoint,
          o.labels.service,
          o.discoveredLabels.__meta_kubernetes_endpoint_ready,
        ]),
      ).toEqual([
        ['torchain-operator-a', '127.77.0.5:8080', 'http', 'torchain-operator', 'true'],
        ['torchain-operator-b', '127.77.0.7:8080', 'http', 'torchain-operator', 'false'],
      ]);
      const deadline = Date.now() + 30_000;
      let ams: Obj[] = [];
      while (Date.now() < deadline) {
        ams = ((await (await fetch(`${url}/api/v1/alertmanagers`)).json()) as Obj).data.activeAlertmanagers as Obj[];
        if (ams.length) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(ams.map((a) => a.url)).toEqual(['http://127.77.0.6:9093/api/v2/alerts']);
    });

    it('the rules of the chart are loaded', async () => {
      const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as Obj;
      expect((body.data.groups as Obj[]).map((g) => g.name).sort()).toEqual(['torchain.health', 'torchain.hops']);
    });
  },
);
