// The exporter's own Kubernetes access (log-exporter/src/sources/kube-api.ts, kubeconfig-yaml.ts): kubeconfigs as
// the real kubectl writes them read exactly as the `yaml` package reads them; credentials and refusals; and the
// exporter following its pod's log with nothing but a ServiceAccount token allowed `get` on pods and pods/log.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { kubeconfigYaml } from '../../lab/kube/kubeconfig.js';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { accessFromKubeconfig, KubeConfigError, loadKubeAccess } from '../../log-exporter/src/sources/kube-api.js';
import { KubeconfigSyntaxError, parseKubeconfig } from '../../log-exporter/src/sources/kubeconfig-yaml.js';
import { KUBECTL } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { eventually, startExporter, type RunningExporter } from './support/exporter-process.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tkj-kubeapi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skipUnless({ binaries: [KUBECTL] }))('kubeconfig reader', () => {
  it('reads what kubectl writes exactly as the yaml package does', async () => {
    const file = join(dir, 'kubectl-config');
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const kc = (...args: string[]) => run(KUBECTL, ['config', ...args, `--kubeconfig=${file}`]);
    await kc('set-cluster', 'prod', '--server=https://10.0.0.1:6443', `--certificate-authority=${ca}`, '--embed-certs');
    await kc('set-cluster', 'dev', '--server=https://dev.example:443', '--insecure-skip-tls-verify=true');
    await kc('set-credentials', 'sa', '--token=abc.def-ghi');
    await kc('set-credentials', 'me', `--client-certificate=${ca}`, `--client-key=${ca}`, '--embed-certs');
    await kc('set-context', 'hop', '--cluster=prod', '--user=sa', '--namespace=chain-a');
    await kc('set-context', 'admin', '--cluster=dev', '--user=me');
    await kc('use-context', 'hop');
    const text = (await run(KUBECTL, ['config', 'view', '--raw', `--kubeconfig=${file}`])).stdout;
    expect(parseKubeconfig(text)).toEqual(parse(text));
    const access = accessFromKubeconfig(text, file);
    expect(access.server).toBe('https://10.0.0.1:6443');
    expect(access.token?.()).toBe('abc.def-ghi');
    expect(access.ca?.toString()).toContain('BEGIN CERTIFICATE');
  });

  it("reads the lab's kubeconfig, JSON, comments and quoted scalars like the yaml package", () => {
    const docs = [
      kubeconfigYaml('https://127.0.0.1:6443', 'PEM', { token: 'tok' }),
      JSON.stringify({ 'current-context': 'c', contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }] }),
      [
        '# a comment',
        'apiVersion: v1',
        'clusters:',
        '  - name: "quoted name"',
        '    cluster:',
        "      server: 'https://h:1' # trailing comment",
        '      insecure-skip-tls-verify: false',
        'users: []',
        'preferences: {}',
        'current-context: x',
      ].join('\n'),
    ];
    for (const d of docs) expect(parseKubeconfig(d)).toEqual(parse(d));
  });

  it('refuses YAML it does not read, naming the line', () => {
    expect(() => parseKubeconfig('a: &x 1\nb: *x\n')).toThrow(KubeconfigSyntaxError);
    expect(() => parseKubeconfig('a: 1\nb: |\n  text\n')).toThrow(/line 2: unsupported YAML syntax/);
    expect(() => parseKubeconfig('a: [1, 2]\n')).toThrow(/line 1/);
    expect(() => parseKubeconfig('a: 1\n    b: 2\n')).toThrow(/line 2: unexpected indentation/);
  });

  it('refuses exec plugins and missing contexts with what to do, and says where it looked', () => {
    const exec = parse(kubeconfigYaml('https://h:1', 'PEM', { token: 't' })) as { users: { user: unknown }[] };
    exec.users[0] = { ...exec.users[0], user: { exec: { command: 'aws' } } };
    expect(() => accessFromKubeconfig(JSON.stringify(exec), '/x/config')).toThrow(/exec plugin .* token or a client/);
    expect(() => accessFromKubeconfig('apiVersion: v1\n', '/x/config')).toThrow(/no current-context/);
    const missing = join(dir, 'nope');
    expect(() => loadKubeAccess({ KUBECONFIG: missing })).toThrow(KubeConfigError);
    expect(() => loadKubeAccess({ KUBECONFIG: missing })).toThrow(new RegExp(`cannot read ${missing}.*set KUBECONFIG`));
  });

  it('reads a token file relative to the kubeconfig, again at every use (rotation)', () => {
    const doc = parse(kubeconfigYaml('https://h:1', 'PEM', { token: 'unused' })) as {
      users: { user: Record<string, string> }[];
    };
    doc.users[0] = { ...doc.users[0], user: { tokenFile: 'token' } } as never;
    writeFileSync(join(dir, 'token'), 'first\n');
    const access = accessFromKubeconfig(JSON.stringify(doc), join(dir, 'config'));
    expect(access.token?.()).toBe('first');
    writeFileSync(join(dir, 'token'), 'second\n');
    expect(access.token?.()).toBe('second');
  });
});

describe('following the log with a least-privilege ServiceAccount token (lab/kube enforces RBAC)', () => {
  const NS = 'chain-a';
  const POD = 'tkd-hop-1-xyz';
  let kube: Kube;
  let exporter: RunningExporter | undefined;

  beforeAll(async () => {
    kube = await startKube();
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'hop' } } });
    // What the chart grants the hop's exporter: get on pods and pods/log in its own namespace, nothing else.
    await rbac.createNamespacedRole({
      namespace: NS,
      body: {
        metadata: { name: 'hop-log-reader' },
        rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: NS,
      body: {
        metadata: { name: 'hop-log-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'hop-log-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'hop', namespace: NS }],
      },
    });
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: POD },
        spec: { serviceAccountName: 'hop', containers: [{ name: 'vpn', image: 'vpn:1' }] },
      },
    });
    // The same pod name in another namespace, where the ServiceAccount has no grant.
    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: POD }, spec: { containers: [{ name: 'vpn', image: 'vpn:1' }] } },
    });
    kube.setPodStatus(NS, POD, {
      phase: 'Running',
      containerStatuses: [
        { name: 'vpn', ready: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } },
      ],
    });
    const token = kube.mintServiceAccountToken(NS, 'hop');
    writeFileSync(join(dir, 'hop-kubeconfig'), kubeconfigYaml(kube.url, kube.caPem, { token }, NS));
  });
  afterAll(async () => {
    await exporter?.stop();
    await kube?.close();
  });

  it('follows its own pod with that token alone, and names the missing permission elsewhere', async () => {
    kube.appendPodLog(NS, POD, 'vpn', '[2026-11-30 17:15:51] Configured as 10.216.0.111, with SSL connected');
    exporter = await startExporter(['--type', 'openconnect', '--history-seconds', '0'], {
      env: { KUBECONFIG: join(dir, 'hop-kubeconfig'), POD_NAME: POD, POD_NAMESPACE: NS },
    });
    const e = exporter;
    await eventually(
      'tunnel up from the pod log',
      () => e.metrics(),
      (m) => m.get('torchain_vpn_tunnel_up') === 1,
      20_000,
    );
    kube.appendPodLog(NS, POD, 'vpn', '[2026-11-30 17:16:49] CSTP Dead Peer Detection detected dead peer!');
    await eventually(
      'dead peer counted',
      () => e.metrics(),
      (m) => m.get('torchain_vpn_connection_errors_total{reason="ping_timeout"}') === 1,
      20_000,
    );
    await e.stop();
    // The pod of the same name in another namespace: RBAC refuses, and /healthz says what to grant.
    exporter = await startExporter(['--type', 'openconnect'], {
      env: { KUBECONFIG: join(dir, 'hop-kubeconfig'), POD_NAME: POD, POD_NAMESPACE: 'default' },
    });
    const other = exporter;
    const h = await eventually(
      'retrying with the reason',
      async () => JSON.parse((await other.get('/healthz')).body) as { source: { state: string; detail?: string } },
      (x) => x.source.state === 'retrying',
      20_000,
    );
    expect(h.source.detail).toMatch(/HTTP 403 \(RBAC: the pod service account needs get on pods\/log/);
  }, 60_000);
});
