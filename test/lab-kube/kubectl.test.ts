// Conformance of lab/kube with the real kubectl 1.31 binary. Each case names the real API server behaviour it relies
// on, with the Kubernetes documentation that defines it.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { CHART_DIR, KUBECTL } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';

const run = promisify(execFile);
const CRD = join(CHART_DIR, 'crds', 'torchain.dev_torchains.yaml');

function torchain(name: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'torchain.dev/v1alpha1',
    kind: 'TorChain',
    metadata: { name, namespace: 'default' },
    spec: {
      numberNode: 1,
      typeNode: 'wireguard',
      nameTorChain: 'alpha',
      outInterface: 'eth1',
      inInterface: 'net1',
      ...extra,
    },
  });
}

describe.skipIf(skipUnless({ binaries: [KUBECTL] }))('lab/kube with the real kubectl', () => {
  let kube: Kube;
  let home: string;

  const kubectl = async (args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> => {
    const env = { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: home };
    if (stdin === undefined) {
      try {
        const r = await run(KUBECTL, args, { env });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string };
        return { code: err.code, stdout: err.stdout, stderr: err.stderr };
      }
    }
    return new Promise((resolve) => {
      const p = spawn(KUBECTL, args, { env });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      p.stdin.end(stdin);
    });
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'lab-kube-kubectl-'));
    kube = await startKube({ dir: home });
    const r = await kubectl(['apply', '-f', CRD]);
    expect(r.stderr).toBe('');
  });

  afterAll(async () => {
    await kube?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('applies the CRD and kubectl resolves the short name `tc` through discovery', async () => {
    // Real: a CRD's names (plural, shortNames) appear in discovery once it is Established; kubectl maps short names
    // through discovery. https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#create-a-customresourcedefinition
    const crd = await kubectl([
      'get',
      'crd',
      'torchains.torchain.dev',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Established")].status}',
    ]);
    expect(crd.stdout).toBe('True');
    const r = await kubectl(['api-resources', '--api-group=torchain.dev', '--no-headers']);
    expect(r.stdout).toMatch(/^torchains\s+tc\s+torchain\.dev\/v1alpha1\s+true\s+TorChain/m);
  });

  it('creates with apply, then `get tc` prints the CRD printer columns from the server-side Table', async () => {
    // Real: kubectl get asks for `application/json;as=Table;v=v1;g=meta.k8s.io`; the server renders
    // additionalPrinterColumns. https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables
    const applied = await kubectl(['apply', '-f', '-'], torchain('hop-1'));
    expect(applied.stdout.trim()).toBe('torchain.torchain.dev/hop-1 created');
    await kube.api.patch(
      kube.api.registry.byGroupResource('torchain.dev', 'torchains')!,
      'default',
      'hop-1',
      'merge',
      {
        status: {
          currentServer: 'nl-1',
          switches: 2,
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'TunnelUp',
              message: 'up',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ],
        },
      },
      { version: 'v1alpha1', subresource: 'status' },
    );
    const r = await kubectl(['get', 'tc']);
    const [header, row] = r.stdout.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual(['NAME', 'CHAIN', 'HOP', 'TYPE', 'SERVER', 'READY', 'SWITCHES', 'AGE']);
    expect(row!.split(/\s+/).slice(0, 7)).toEqual(['hop-1', 'alpha', '1', 'wireguard', 'nl-1', 'True', '2']);
  });

  it('get -o yaml shows server-set metadata and schema defaults', async () => {
    // Real: uid, creationTimestamp, resourceVersion and generation are set by the server; structural-schema defaults
    // are applied on write. https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#defaulting
    const r = await kubectl(['get', 'tc', 'hop-1', '-o', 'yaml']);
    expect(r.stdout).toMatch(/uid: [0-9a-f-]{36}/);
    expect(r.stdout).toMatch(/creationTimestamp: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/);
    expect(r.stdout).toMatch(/generation: 1\n/);
    expect(r.stdout).toMatch(/switchServer: 0\n/);
    expect(r.stdout).toMatch(/drop: 0\n/);
  });

  it('patch --type merge changes the spec and moves metadata.generation; a status write does not', async () => {
    // Real: generation increments on spec changes only when the status subresource is enabled.
    // https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#status-subresource
    const p = await kubectl(['patch', 'tc', 'hop-1', '--type', 'merge', '-p', '{"spec":{"switchServer":3}}']);
    expect(p.stdout.trim()).toBe('torchain.torchain.dev/hop-1 patched');
    const g = await kubectl(['get', 'tc', 'hop-1', '-o', 'jsonpath={.spec.switchServer}/{.metadata.generation}']);
    expect(g.stdout).toBe('3/2');
    await kubectl([
      'patch',
      'tc',
      'hop-1',
      '--subresource',
      'status',
      '--type',
      'merge',
      '-p',
      '{"status":{"switches":5}}',
    ]);
    const s = await kubectl(['get', 'tc', 'hop-1', '-o', 'jsonpath={.status.switches}/{.metadata.generation}']);
    expect(s.stdout).toBe('5/2');
    // a spec change sent to /status is ignored
    await kubectl([
      'patch',
      'tc',
      'hop-1',
      '--subresource',
      'status',
      '--type',
      'merge',
      '-p',
      '{"spec":{"switchServer":9}}',
    ]);
    const u = await kubectl(['get', 'tc', 'hop-1', '-o', 'jsonpath={.spec.switchServer}']);
    expect(u.stdout).toBe('3');
  });

  it('get --watch sees a change made by someone else', async () => {
    // Real: `kubectl get --watch` lists, then watches from the list's resourceVersion, and prints each change as a
    // Table row. https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
    const env = { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: home };
    const watcher = spawn(
      KUBECTL,
      ['get', 'tc', 'hop-1', '--watch', '-o', 'custom-columns=NAME:.metadata.name,SWITCH:.spec.switchServer'],
      { env },
    );
    let out = '';
    const seen = new Promise<void>((resolve) => {
      watcher.stdout.on('data', (d) => {
        out += d;
        if (/hop-1\s+7/.test(out)) resolve();
      });
    });
    try {
      await new Promise<void>((resolve) => {
        const check = () => (/hop-1\s+3/.test(out) ? resolve() : setTimeout(check, 50));
        check();
      });
      const p = await kubectl(['patch', 'tc', 'hop-1', '--type', 'merge', '-p', '{"spec":{"switchServer":7}}']);
      expect(p.code).toBe(0);
      await seen;
      expect(out).toMatch(/hop-1\s+3[\s\S]*hop-1\s+7/);
    } finally {
      watcher.kill('SIGTERM');
    }
  });

  it('kubectl wait --for=condition=Ready returns once the operator-side status says so', async () => {
    // Real: kubectl wait watches the object (fieldSelector metadata.name) until the condition holds.
    // https://kubernetes.io/docs/reference/kubectl/generated/kubectl_wait/
    await kubectl(['apply', '-f', '-'], torchain('hop-w'));
    const env = { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: home };
    const waiting = run(KUBECTL, ['wait', '--for=condition=Ready', 'tc/hop-w', '--timeout=20s'], { env });
    await new Promise((r) => setTimeout(r, 300));
    await kubectl([
      'patch',
      'tc',
      'hop-w',
      '--subresource',
      'status',
      '--type',
      'merge',
      '-p',
      JSON.stringify({
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'TunnelUp',
              message: 'up',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ],
        },
      }),
    ]);
    expect((await waiting).stdout.trim()).toBe('torchain.torchain.dev/hop-w condition met');
    await kubectl(['delete', 'tc', 'hop-w']);
  });

  it('refuses to delete the default namespace (403), as NamespaceLifecycle admission does', async () => {
    // Real: https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#namespacelifecycle
    const r = await kubectl(['delete', 'ns', 'default']);
    expect(r.stderr).toContain('namespaces "default" is forbidden: this namespace may not be deleted');
  });

  it('refuses an invalid TorChain with 422 naming the field, and changes nothing', async () => {
    // Real: objects failing the CRD's openAPIV3Schema are rejected with 422 Invalid and field paths in the message.
    // https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation
    const r = await kubectl(['apply', '-f', '-'], torchain('bad-hop', { numberNode: 0, typeNode: 'ipsec' }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('The TorChain "bad-hop" is invalid');
    expect(r.stderr).toContain('spec.numberNode');
    expect(r.stderr).toContain('spec.typeNode: Unsupported value: "ipsec"');
    const g = await kubectl(['get', 'tc', 'bad-hop']);
    expect(g.stderr).toContain('torchains.torchain.dev "bad-hop" not found');
  });

  it('refuses unknown fields under kubectl’s strict field validation', async () => {
    // Real: kubectl apply sends fieldValidation=Strict; unknown fields of a structural schema are a 400 BadRequest.
    // https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation
    const r = await kubectl(['apply', '-f', '-'], torchain('hop-x', { colour: 'blue' }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown field "spec.colour"');
  });

  it('delete cascades to owned objects (background by default, foreground on request)', async () => {
    // Real: the garbage collector deletes dependents whose owners are gone; `--cascade=foreground` keeps the owner
    // (with the foregroundDeletion finalizer) until its blocking dependents are gone.
    // https://kubernetes.io/docs/concepts/architecture/garbage-collection/#cascading-deletion
    for (const name of ['hop-2', 'hop-3']) {
      await kubectl(['apply', '-f', '-'], torchain(name, { numberNode: Number(name.slice(-1)) }));
      const uid = (await kubectl(['get', 'tc', name, '-o', 'jsonpath={.metadata.uid}'])).stdout;
      const secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: `${name}-vpn`,
          ownerReferences: [
            {
              apiVersion: 'torchain.dev/v1alpha1',
              kind: 'TorChain',
              name,
              uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        stringData: { 'client.conf': 'x' },
      };
      expect((await kubectl(['create', '-f', '-'], JSON.stringify(secret))).code).toBe(0);
    }
    const bg = await kubectl(['delete', 'tc', 'hop-2']);
    expect(bg.stdout.trim()).toBe('torchain.torchain.dev "hop-2" deleted');
    const fg = await kubectl(['delete', 'tc', 'hop-3', '--cascade=foreground']);
    expect(fg.code).toBe(0);
    // kubectl delete waits for the object to be gone; the GC works asynchronously, so poll briefly
    for (let i = 0; i < 50; i++) {
      const left = await kubectl(['get', 'secrets', '-o', 'name']);
      if (!/hop-[23]-vpn/.test(left.stdout)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const left = await kubectl(['get', 'secrets', '-o', 'name']);
    expect(left.stdout).not.toMatch(/hop-[23]-vpn/);
    const gone = await kubectl(['get', 'tc', '-o', 'name']);
    expect(gone.stdout.trim().split('\n')).toEqual(['torchain.torchain.dev/hop-1']);
  });

  it('applies a Deployment twice (client-side apply: create, then strategic merge patch)', async () => {
    // Real: kubectl apply GETs the object, POSTs it when absent, else PATCHes a three-way strategic merge patch with
    // the last-applied annotation. https://kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config/
    const deploy = (image: string, env: Array<{ name: string; value: string }>) =>
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'hop-web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'hop-web' } },
          template: { metadata: { labels: { app: 'hop-web' } }, spec: { containers: [{ name: 'vpn', image, env }] } },
        },
      });
    expect(
      (
        await kubectl(
          ['apply', '-f', '-'],
          deploy('a:1', [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ]),
        )
      ).code,
    ).toBe(0);
    const second = await kubectl(['apply', '-f', '-'], deploy('a:2', [{ name: 'B', value: '3' }]));
    expect(second.stdout.trim()).toBe('deployment.apps/hop-web configured');
    // the same manifest again is a no-op: kubectl's three-way strategic merge (patch merge keys from its compiled-in
    // types) finds nothing to send, although the server added defaults (protocol, imagePullPolicy...)
    const third = await kubectl(['apply', '-f', '-'], deploy('a:2', [{ name: 'B', value: '3' }]));
    expect(third.stdout.trim()).toBe('deployment.apps/hop-web unchanged');
    const svc = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'hop-web' },
      spec: { selector: { app: 'hop-web' }, ports: [{ name: 'metrics', port: 9108 }] },
    });
    expect((await kubectl(['apply', '-f', '-'], svc)).stdout.trim()).toBe('service/hop-web created');
    expect((await kubectl(['apply', '-f', '-'], svc)).stdout.trim()).toBe('service/hop-web unchanged');
    const r = await kubectl([
      'get',
      'deploy',
      'hop-web',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env} {.metadata.generation}',
    ]);
    expect(r.stdout).toBe('a:2 [{"name":"B","value":"3"}] 2');
  });

  it('kubectl rollout status follows a Deployment until its pods are Ready', async () => {
    // Real: rollout status watches the Deployment until observedGeneration, updatedReplicas and availableReplicas
    // catch up. https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status
    const env = { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: home };
    const waiting = run(KUBECTL, ['rollout', 'status', 'deployment/hop-web', '--timeout=20s'], { env });
    await new Promise((r) => setTimeout(r, 300));
    for (const p of kube.api.store.list('/pods', 'default').filter((p) => p.metadata.labels?.app === 'hop-web'))
      kube.setPodStatus('default', p.metadata.name!, {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      });
    expect((await waiting).stdout).toContain('deployment "hop-web" successfully rolled out');
  });

  it('kubectl logs reads a container log with --since-time and --timestamps', async () => {
    // Real: kubectl logs GETs pods/{name}/log with container, sinceTime and timestamps.
    // https://kubernetes.io/docs/reference/kubectl/generated/kubectl_logs/
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hop-logs' },
      spec: {
        containers: [
          { name: 'vpn', image: 'v:1' },
          { name: 'log-exporter', image: 'e:1' },
        ],
      },
    };
    expect((await kubectl(['create', '-f', '-'], JSON.stringify(pod))).code).toBe(0);
    const waiting = await kubectl(['logs', 'hop-logs', '-c', 'vpn']);
    expect(waiting.stderr).toContain('container "vpn" in pod "hop-logs" is waiting to start: ContainerCreating');
    kube.setPodStatus('default', 'hop-logs', {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'vpn',
          ready: true,
          restartCount: 0,
          image: 'v:1',
          imageID: '',
          state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
        },
      ],
    });
    kube.appendPodLog('default', 'hop-logs', 'vpn', 'first', new Date('2026-01-01T00:00:01Z'));
    kube.appendPodLog('default', 'hop-logs', 'vpn', 'second', new Date('2026-01-01T00:00:02Z'));
    const r = await kubectl(['logs', 'hop-logs', '-c', 'vpn', '--since-time=2026-01-01T00:00:02Z', '--timestamps']);
    expect(r.stdout).toBe('2026-01-01T00:00:02Z second\n');
  });

  it('allocates ClusterIPs as the real allocator: a free address, never one a Service holds; a taken one is a 422', async () => {
    // Real: a ClusterIP is a free address of the service CIDR; Services ask for the static band (10.96.0.10 for
    // kube-dns), dynamic ones come from the rest first; an address in use is refused with "provided IP is already
    // allocated". https://kubernetes.io/docs/concepts/services-networking/cluster-ip-allocation/
    const svc = (name: string, clusterIP?: string) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'default' },
        spec: { ...(clusterIP ? { clusterIP } : {}), ports: [{ port: 53, protocol: 'UDP' }] },
      });
    const ipOf = async (name: string) =>
      (await kubectl(['get', 'svc', name, '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    const dynamic: string[] = [];
    for (let i = 0; i < 12; i++) {
      expect((await kubectl(['create', '-f', '-'], svc(`dyn-${i}`))).code).toBe(0);
      dynamic.push(await ipOf(`dyn-${i}`));
    }
    // Dynamic addresses: in 10.96.0.0/12, above the static band (the first 256), distinct.
    for (const ip of dynamic) expect(ip).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    expect(dynamic.filter((ip) => /^10\.96\.0\./.test(ip))).toEqual([]);
    expect(new Set(dynamic).size).toBe(dynamic.length);

    expect((await kubectl(['create', '-f', '-'], svc('dns-like', '10.96.0.10'))).code).toBe(0);
    expect(await ipOf('dns-like')).toBe('10.96.0.10');

    const taken = await kubectl(['create', '-f', '-'], svc('dns-again', '10.96.0.10'));
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain(
      'The Service "dns-again" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated',
    );
    const apiserver = await kubectl(['create', '-f', '-'], svc('kubernetes-again', '10.96.0.1'));
    expect(apiserver.stderr).toContain('failed to allocate IP 10.96.0.1: provided IP is already allocated');
    const dynTaken = await kubectl(['create', '-f', '-'], svc('dyn-again', dynamic[0]));
    expect(dynTaken.stderr).toContain(`failed to allocate IP ${dynamic[0]!}: provided IP is already allocated`);
    const outside = await kubectl(['create', '-f', '-'], svc('outside', '10.200.0.1'));
    expect(outside.stderr).toContain(
      'failed to allocate IP 10.200.0.1: the provided IP (10.200.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    );
    // Nothing refused was created.
    const names = (await kubectl(['get', 'svc', '-n', 'default', '-o', 'name'])).stdout;
    for (const n of ['dns-again', 'kubernetes-again', 'dyn-again', 'outside']) expect(names).not.toContain(`/${n}\n`);

    // A deleted Service frees its address.
    expect((await kubectl(['delete', 'svc', 'dns-like', '-n', 'default'])).code).toBe(0);
    expect((await kubectl(['create', '-f', '-'], svc('dns-again', '10.96.0.10'))).code).toBe(0);
    expect(await ipOf('dns-again')).toBe('10.96.0.10');
    // A headless Service takes no address.
    const headless = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'headless', namespace: 'default' },
      spec: { clusterIP: 'None', ports: [{ port: 80 }] },
    });
    expect((await kubectl(['create', '-f', '-'], headless)).code).toBe(0);
    expect(await ipOf('headless')).toBe('None');
  });

  it('refuses server-side apply plainly (415) instead of applying without field ownership', async () => {
    // lab/kube does not implement managedFields; the real server would accept. Client-side apply (the kubectl
    // default) is what torchain and its chart use. https://kubernetes.io/docs/reference/using-api/server-side-apply/
    const r = await kubectl(['apply', '--server-side', '-f', '-'], torchain('hop-ssa'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('lab/kube does not implement server-side apply');
  });

  it('kubectl create token mints a ServiceAccount token; kubectl auth whoami reports who a token is', async () => {
    // Real: `kubectl create token` calls TokenRequest; `kubectl auth whoami` calls SelfSubjectReview.
    // https://kubernetes.io/docs/reference/kubectl/generated/kubectl_create/kubectl_create_token/
    // https://kubernetes.io/docs/reference/access-authn-authz/authentication/#self-subject-review
    const audience = await kubectl(['create', 'token', 'default', '--audience', 'vault', '--duration', '10m']);
    expect(kube.reviewToken(audience.stdout.trim(), ['vault'])).toMatchObject({
      authenticated: true,
      user: { username: 'system:serviceaccount:default:default' },
    });
    const token = (await kubectl(['create', 'token', 'default'])).stdout.trim();
    // a kubeconfig of its own: with the admin kubeconfig, kubectl would also present the admin's client certificate,
    // which the server authenticates first
    const saConfig = join(home, 'sa-kubeconfig');
    writeFileSync(saConfig, kube.kubeconfigFor(token));
    const who = await kubectl([
      '--kubeconfig',
      saConfig,
      'auth',
      'whoami',
      '-o',
      'jsonpath={.status.userInfo.username}',
    ]);
    expect(who.stdout).toBe('system:serviceaccount:default:default');
    const admin = await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(admin.stdout).toBe('kubernetes-admin');
  });

  it('writes a kubeconfig kubectl uses as it is (client certificate over TLS), and refuses a wrong token or CA', async () => {
    // Real: x509 client certificates signed by the client CA authenticate as CN/O; a bearer token that does not
    // verify, or a certificate from another CA, is 401 Unauthorized (never anonymous).
    // https://kubernetes.io/docs/reference/access-authn-authz/authentication/#x509-client-certificates
    const admin = await kubectl(['auth', 'whoami', '-o', 'json']);
    expect(JSON.parse(admin.stdout).status.userInfo).toEqual({
      username: 'kubernetes-admin',
      groups: ['kubeadm:cluster-admins', 'system:authenticated'],
    });
    const badToken = join(home, 'bad-token-kubeconfig');
    writeFileSync(badToken, kube.kubeconfigFor('not-the-token'));
    const r = await run(KUBECTL, ['get', 'ns'], { env: { ...process.env, KUBECONFIG: badToken, HOME: home } }).catch(
      (e: { stderr: string }) => e,
    );
    expect(r.stderr).toContain('You must be logged in to the server');
    // a client certificate for the same name, from a CA the server does not trust
    const other = mkdtempSync(join(tmpdir(), 'lab-kube-other-ca-'));
    try {
      const foreign = await startKube({ dir: other });
      await foreign.close();
      const badCert = join(home, 'bad-cert-kubeconfig');
      writeFileSync(
        badCert,
        readFileSync(kube.kubeconfigPath, 'utf8').replace(
          /client-certificate-data: .*\n(\s*)client-key-data: .*/,
          `client-certificate-data: ${Buffer.from(readFileSync(join(other, 'admin.crt'))).toString('base64')}\n$1client-key-data: ${Buffer.from(readFileSync(join(other, 'admin.key'))).toString('base64')}`,
        ),
      );
      const c = await run(KUBECTL, ['get', 'ns'], { env: { ...process.env, KUBECONFIG: badCert, HOME: home } }).catch(
        (e: { stderr: string }) => e,
      );
      expect(c.stderr).toContain('You must be logged in to the server');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    expect(kube.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });
});
