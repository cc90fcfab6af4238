// The path the lab takes (the API lab/stack.ts calls): the chart installed with the real helm into lab/kube, the
// monitoring objects read back from lab/kube (readMonitoringObjects), translated with the kube-prometheus-stack
// preset, and run by the launchers: Prometheus (Debian 13, Kubernetes SD) loads the chart's rules and finds
// Alertmanager through its Service in lab/kube; Alertmanager 0.28 delivers a switch alert of a chain in another
// namespace than the release to the operator's webhook with the token of the Secret helm created.
import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { startAlertmanager, type LabAlertmanager } from '../../lab/monitoring/alertmanager.js';
import { ALERTMANAGER_028, PROMETHEUS_K8S } from '../../lab/monitoring/binaries.js';
import { readMonitoringObjects } from '../../lab/monitoring/cluster-objects.js';
import { labMonitoringTranslation } from '../../lab/monitoring/lab-translation.js';
import {
  kubePrometheusStack,
  translate,
  type TranslateInput,
  type Translation,
} from '../../lab/monitoring/prometheus-operator/index.js';
import {
  rulesDirOf,
  startPrometheusFromTranslation,
  type TranslatedPrometheus,
} from '../../lab/monitoring/prometheus.js';
import { freePort } from '../../lab/runtime/ports.js';
import { Supervisor } from '../../lab/runtime/supervisor.js';
import { CHART_DIR, HELM, KUBECTL } from '../../scripts/paths.js';
import { ciValueFiles } from '../chart/render.js';
import { skipUnless } from '../support/env.js';
import { grantPrometheusDiscovery } from './support.js';

const run = promisify(execFile);
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.skipIf(skipUnless({ binaries: [HELM, KUBECTL, PROMETHEUS_K8S, ALERTMANAGER_028] }))(
  'the lab monitoring path',
  () => {
    let kube: Kube;
    let dir = '';
    let supervisor: Supervisor;
    let receiver: Server;
    let webhookUrl = '';
    const received: Array<{ headers: IncomingHttpHeaders; body: Obj }> = [];
    let translation: Translation;
    let input: TranslateInput;
    let prometheus: TranslatedPrometheus;
    let alertmanager: LabAlertmanager;
    let token = '';

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'torchain-lab-monitoring-'));
      mkdirSync(join(dir, 'kube'));
      kube = await startKube({ dir: join(dir, 'kube') });
      supervisor = new Supervisor(join(dir, 'supervisor'));
      receiver = createServer((req, res) => {
        let data = '';
        req.on('data', (c: Buffer) => (data += c.toString()));
        req.on('end', () => {
          received.push({ headers: req.headers, body: JSON.parse(data || '{}') });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      webhookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/v1/alertmanager`;

      const kubectl = (...args: string[]) => run(KUBECTL, ['--kubeconfig', kube.kubeconfigPath, ...args]);
      await kubectl('apply', '-f', join(import.meta.dirname, '..', '..', 'lab', 'cluster', 'addon-crds.yaml'));
      for (const ns of ['torchain-alpha', 'torchain-beta', 'torchain-lab', 'monitoring'])
        await kubectl('create', 'namespace', ns);
      const env = {
        ...process.env,
        HELM_CACHE_HOME: join(dir, 'helm'),
        HELM_CONFIG_HOME: join(dir, 'helm'),
        HELM_DATA_HOME: join(dir, 'helm'),
      };
      await run(
        HELM,
        [
          'install',
          'torchain',
          CHART_DIR,
          '-n',
          'torchain-system',
          '--create-namespace',
          '-f',
          ciValueFiles().find((f) => f.endsWith('two-chains-values.yaml'))!,
          '--set',
          `alerting.webhook.url=${webhookUrl}`,
          '--set',
          'alerting.route.groupWait=1s',
          '--kubeconfig',
          kube.kubeconfigPath,
        ],
        { env, maxBuffer: 32 << 20 },
      );

      // Alertmanager first: Prometheus finds it through the Service kps creates, whose Endpoints name its pod's address.
      const amPort = await freePort();
      const kps = kubePrometheusStack({
        prometheusSpec: {
          scrapeInterval: '1s',
          evaluationInterval: '1s',
          apiserverConfig: {
            host: kube.url,
            authorization: { credentialsFile: join(dir, 'token') },
            tlsConfig: { caFile: join(dir, 'ca.crt') },
          },
        },
      });
      const kc = new KubeConfig();
      kc.loadFromFile(kube.kubeconfigPath);
      const core = kc.makeApiClient(CoreV1Api);
      await core.createNamespacedService({
        namespace: 'monitoring',
        body: {
          metadata: { name: `${kps.fullname}-alertmanager` },
          spec: { ports: [{ name: 'http-web', port: 9093 }] },
        },
      });
      await core.createNamespacedEndpoints({
        namespace: 'monitoring',
        body: {
          metadata: { name: `${kps.fullname}-alertmanager` },
          subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http-web', port: amPort }] }],
        },
      });
      await core.createNamespacedServiceAccount({
        namespace: 'monitoring',
        body: { metadata: { name: `${kps.fullname}-prometheus` } },
      });
      await grantPrometheusDiscovery(
        kc.makeApiClient(RbacAuthorizationV1Api),
        'monitoring',
        `${kps.fullname}-prometheus`,
      );
      writeFileSync(
        join(dir, 'token'),
        kube.mintServiceAccountToken('monitoring', `${kps.fullname}-prometheus`, { expirationSeconds: 3600 }),
      );
      writeFileSync(join(dir, 'ca.crt'), kube.caPem);

      const cluster = await readMonitoringObjects(kube.kubeconfigPath);
      input = {
        prometheus: kps.prometheus,
        alertmanager: kps.alertmanager,
        namespaces: cluster.namespaces,
        objects: [...cluster.objects, ...kps.objects],
        rulesDir: rulesDirOf(join(dir, 'prometheus')),
      };
      translation = translate(input);
      // The one-call form lab/stack.ts uses gives the same translation.
      const oneCall = await labMonitoringTranslation({
        kubeconfigPath: kube.kubeconfigPath,
        apiServer: { url: kube.url, tokenFile: join(dir, 'token'), caFile: join(dir, 'ca.crt') },
        rulesDir: rulesDirOf(join(dir, 'prometheus')),
        prometheusSpec: { scrapeInterval: '1s', evaluationInterval: '1s' },
      });
      expect(oneCall.prometheus.yaml).toBe(translation.prometheus.yaml);
      expect(oneCall.alertmanager.yaml).toBe(translation.alertmanager.yaml);
      const secret = await core.readNamespacedSecret({ namespace: 'torchain-system', name: 'torchain-webhook-token' });
      token = Buffer.from(secret.data!.token!, 'base64').toString();
      alertmanager = await startAlertmanager(supervisor, {
        dir: join(dir, 'alertmanager'),
        configYaml: translation.alertmanager.yaml,
        port: amPort,
        binary: ALERTMANAGER_028,
        extraArgs: ['--enable-feature=receiver-name-in-metrics'],
      });
      prometheus = await startPrometheusFromTranslation(supervisor, { dir: join(dir, 'prometheus'), translation });
    });

    afterAll(async () => {
      await supervisor?.stopAll(3000);
      await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
      await kube?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('reads the objects helm created back from lab/kube: one AlertmanagerConfig per namespace, all selected', () => {
      expect(translation.rejected).toEqual([]);
      expect(translation.selected).toEqual({
        PodMonitor: ['torchain-system/torchain-hops'],
        ServiceMonitor: ['torchain-system/torchain-operator'],
        PrometheusRule: ['torchain-system/torchain-rules'],
        AlertmanagerConfig: [
          'torchain-alpha/torchain-operator',
          'torchain-beta/torchain-operator',
          'torchain-lab/torchain-operator',
          'torchain-system/torchain-operator',
        ],
      });
    });

    it('Prometheus loads the rules and finds Alertmanager through lab/kube', async () => {
      const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as Obj;
      expect((rules.data.groups as Obj[]).length).toBe(2);
      const deadline = Date.now() + 30_000;
      let ams: Obj[] = [];
      while (!ams.length && Date.now() < deadline) {
        ams = ((await (await fetch(`${prometheus.url}/api/v1/alertmanagers`)).json()) as Obj).data.activeAlertmanagers;
        if (!ams.length) await new Promise((r) => setTimeout(r, 250));
      }
      expect(ams.map((a) => a.url)).toEqual([`http://${alertmanager.address}/api/v2/alerts`]);
    });

    it('a switch alert of a chain outside the release namespace reaches the operator with the token helm created', async () => {
      const labels = {
        alertname: 'TorchainHopTunnelDown',
        severity: 'warning',
        torchain_action: 'switch',
        namespace: 'torchain-beta',
        torchain: 'beta',
        hop: '1',
        type: 'wireguard',
        server: 'wg-1',
      };
      const res = await fetch(`${alertmanager.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ labels }]),
      });
      expect(res.status).toBe(200);
      const deadline = Date.now() + 30_000;
      while (!received.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(received).toHaveLength(1);
      expect(received[0]!.headers.authorization).toBe(`Bearer ${token}`);
      expect(received[0]!.body.receiver).toBe('torchain-beta/torchain-operator/torchain-operator');
      expect(received[0]!.body.alerts.map((a: Obj) => a.labels.torchain)).toEqual(['beta']);
    });

    it('reload() writes a new translation and Prometheus takes it: the PrometheusRule gone, its rules gone', async () => {
      const groups = async () =>
        (((await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as Obj).data.groups as Obj[]).length;
      await prometheus.reload(
        translate({ ...input, objects: input.objects.filter((o) => o.kind !== 'PrometheusRule') }),
      );
      expect(await groups()).toBe(0);
      await prometheus.reload(translation);
      expect(await groups()).toBe(2);
    });
  },
);
