// Conformance of lab/kube with the real Helm 3 binary: install (lookup, resource creation, the protobuf-encoded release
// Secret), upgrade (three-way strategic merge), uninstall (protobuf DeleteOptions). Uses a small fixture chart so the
// test checks the protocol, not torchain's chart.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { HELM, KUBECTL } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { clusterIpRefusal, serviceRange } from '../../lab/kube/cluster-ip.js';

const run = promisify(execFile);

/** A small chart written at test time (Go templates are not YAML, so it does not live among the linted files). */
const TEMPLATE = `{{- $existing := lookup "v1" "Secret" .Release.Namespace "probe-token" }}
apiVersion: v1
kind: Secret
metadata:
  name: probe-token
data:
  token: {{ if $existing }}{{ index $existing.data "token" }}{{ else }}{{ randAlphaNum 16 | b64enc }}{{ end }}
---
apiVersion: v1
kind: Service
metadata:
  name: probe
spec:
  selector: {app: probe}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: probe
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: probe}}
  template:
    metadata: {labels: {app: probe}}
    spec:
      containers:
        - name: vpn
          image: {{ .Values.image }}
          env: [{name: KUBE_ENDPOINT, value: {{ (lookup "v1" "Endpoints" "default" "kubernetes").subsets | toJson | quote }}}]
`;

function writeChart(dir: string): string {
  const chart = join(dir, 'chart');
  mkdirSync(join(chart, 'templates'), { recursive: true });
  writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: lab-kube-probe\nversion: 0.1.0\n');
  writeFileSync(join(chart, 'values.yaml'), 'image: hop:1\nreplicas: 1\n');
  writeFileSync(join(chart, 'templates', 'objects.yaml'), TEMPLATE);
  return chart;
}

describe.skipIf(skipUnless({ binaries: [HELM, KUBECTL] }))('lab/kube with the real helm', () => {
  let kube: Kube;
  let home: string;
  let CHART: string;
  const sh = async (bin: string, args: string[]) => {
    const env = {
      ...process.env,
      KUBECONFIG: kube.kubeconfigPath,
      HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    };
    try {
      const r = await run(bin, args, { env });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'lab-kube-helm-'));
    kube = await startKube({ dir: home });
    CHART = writeChart(home);
  });
  afterAll(async () => {
    await kube?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('installs: objects created, release stored as a helm.sh/release.v1 Secret, lookup sees the API endpoint', async () => {
    // Real: Helm stores releases in Secrets through a protobuf client-go clientset; `lookup` reads live objects.
    // https://helm.sh/docs/topics/advanced/#storage-backends and https://helm.sh/docs/chart_template_guide/functions_and_pipelines/#using-the-lookup-function
    // The default/kubernetes Endpoints: https://kubernetes.io/docs/concepts/services-networking/service/#services-without-selectors
    const r = await sh(HELM, ['install', 'probe', CHART, '-n', 'default']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('STATUS: deployed');
    const secrets = await sh(KUBECTL, ['get', 'secrets', '-l', 'owner=helm', '-o', 'jsonpath={.items[*].type}']);
    expect(secrets.stdout).toBe('helm.sh/release.v1');
    const env = await sh(KUBECTL, [
      'get',
      'deploy',
      'probe',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].env[0].value}',
    ]);
    const subsets = JSON.parse(env.stdout) as Array<{ ports: Array<{ port: number }> }>;
    expect(subsets[0]!.ports[0]!.port).toBe(Number(new URL(kube.url).port));
    const svc = await sh(KUBECTL, ['get', 'svc', 'probe', '-o', 'jsonpath={.spec.clusterIP}']);
    // An address of the service CIDR (10.96.0.0/12), allocated at random above its static band as the real server does.
    expect(clusterIpRefusal(serviceRange(), svc.stdout, new Set())).toBeUndefined();
    expect(svc.stdout).not.toMatch(/^10\.96\.0\./);
  });

  it('upgrades with a three-way merge and keeps the looked-up token; lists releases', async () => {
    // Real: helm upgrade patches live objects (strategic merge for built-ins) and writes release v2.
    const token = (await sh(KUBECTL, ['get', 'secret', 'probe-token', '-o', 'jsonpath={.data.token}'])).stdout;
    const r = await sh(HELM, [
      'upgrade',
      'probe',
      CHART,
      '-n',
      'default',
      '--set',
      'image=hop:2',
      '--set',
      'replicas=2',
    ]);
    expect(r.stderr).toBe('');
    const d = await sh(KUBECTL, [
      'get',
      'deploy',
      'probe',
      '-o',
      'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.metadata.generation}',
    ]);
    expect(d.stdout).toBe('2 hop:2 2');
    expect((await sh(KUBECTL, ['get', 'secret', 'probe-token', '-o', 'jsonpath={.data.token}'])).stdout).toBe(token);
    const list = await sh(HELM, ['list', '-n', 'default', '-o', 'json']);
    expect(JSON.parse(list.stdout)).toMatchObject([{ name: 'probe', revision: '2', status: 'deployed' }]);
  });

  it('uninstalls: objects and release Secrets deleted, dependents collected', async () => {
    // Real: helm uninstall deletes each object (DeleteOptions in protobuf) and the release history.
    const r = await sh(HELM, ['uninstall', 'probe', '-n', 'default']);
    expect(r.stdout.trim()).toBe('release "probe" uninstalled');
    const left = await sh(KUBECTL, ['get', 'deploy,svc,secrets', '-o', 'name']);
    expect(left.stdout.trim().split('\n').filter(Boolean)).toEqual(['service/kubernetes']);
    for (let i = 0; i < 50 && (await sh(KUBECTL, ['get', 'pods', '-o', 'name'])).stdout.trim(); i++)
      await new Promise((res) => setTimeout(res, 100));
    expect((await sh(KUBECTL, ['get', 'pods', '-o', 'name'])).stdout.trim()).toBe('');
  });
});
