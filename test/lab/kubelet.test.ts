// The lab kubelet against lab/kube: pods of a Deployment run as processes in their network namespace, report
// Running/Ready through the API, stream their logs to `pods/log`, restart when they exit, and a rollout stops the old
// pod before the new one starts in the same namespace.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterNet, type ClusterNet } from '../../lab/cluster-net.js';
import { LabKubelet } from '../../lab/kubelet/kubelet.js';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { Supervisor } from '../../lab/runtime/supervisor.js';
import { waitFor } from '../../lab/runtime/wait.js';
import { skipUnless } from '../support/env.js';

const NETNS = 'tclk-t1-hop1';
const NS = 'kubelet-test';

function deployment(message: string): V1Deployment {
  return {
    metadata: { name: 'hop1', namespace: NS },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { app: 'hop1' } },
      template: {
        metadata: { labels: { app: 'hop1', 'torchain.dev/hop': '1' } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'web',
              image: 'lab/web',
              env: [
                { name: 'MESSAGE', value: message },
                { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
              readinessProbe: { httpGet: { path: '/', port: 9108 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

describe.skipIf(skipUnless({ root: true }))('lab kubelet', () => {
  let kube: Kube;
  let net: ClusterNet;
  let kubelet: LabKubelet;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const dir = mkdtempSync(join(tmpdir(), 'tc-kubelet-'));
  const supervisor = new Supervisor(dir);

  beforeAll(async () => {
    execFileSync('ip', ['netns', 'add', NETNS]);
    execFileSync('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
    net = await createClusterNet('tclkt1', '10.249.0');
    const podIP = await net.attach(NETNS);
    kube = await startKube({ host: net.hostAddress, dir });
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    kubelet = new LabKubelet({
      kube,
      kubeconfigPath: kube.kubeconfigPath,
      supervisor,
      stateDir: dir,
      labelSelector: 'torchain.dev/hop',
      placement: () => ({ netns: NETNS, podIP }),
      commandFor: () => ({
        command: process.execPath,
        args: [
          '-e',
          "console.log(process.env.MESSAGE + ' from ' + process.env.POD); require('http').createServer((q, s) => s.end('ok')).listen(9108)",
        ],
      }),
      log: () => undefined,
    });
    await kubelet.start();
  }, 60_000);

  afterAll(async () => {
    await kubelet?.stop();
    await supervisor.stopAll();
    await kube?.close();
    await net?.remove();
    try {
      execFileSync('ip', ['netns', 'del', NETNS]);
    } catch {
      /* not created */
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const podOf = async () =>
    (await core.listNamespacedPod({ namespace: NS })).items.filter((p) => !p.metadata?.deletionTimestamp);

  it('runs the pod in its namespace, reports it Ready, and streams its log to pods/log', async () => {
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('hello') });
    const pod = await waitFor('a Ready pod', async () => {
      const [p] = await podOf();
      return p?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
    });
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.podIP).toMatch(/^10\.249\.0\./);
    const log = await waitFor('the log line', async () => {
      const text = await core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: NS, container: 'web' });
      return text.includes('hello from') ? text : undefined;
    });
    expect(log).toContain(`hello from ${pod.metadata!.name}`);
    await waitFor(
      'readyReplicas 1',
      async () => (await apps.readNamespacedDeployment({ name: 'hop1', namespace: NS })).status?.readyReplicas === 1,
    );
  }, 60_000);

  it('restarts a container that exits and counts the restart', async () => {
    const [pod] = await podOf();
    const pid = execFileSync('ip', ['netns', 'pids', NETNS], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    for (const p of pid) process.kill(p, 'SIGKILL');
    const restarted = await waitFor(
      'restartCount 1 and Ready again',
      async () => {
        const p = (await core.readNamespacedPod({ name: pod!.metadata!.name!, namespace: NS })).status;
        const c = p?.containerStatuses?.[0];
        return c?.restartCount === 1 && c.ready ? c : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(restarted.lastState?.terminated).toBeDefined();
  }, 30_000);

  it('a template change replaces the pod: the old one stops before the new one runs in the namespace', async () => {
    const [old] = await podOf();
    await apps.patchNamespacedDeployment({
      name: 'hop1',
      namespace: NS,
      body: [{ op: 'replace', path: '/spec/template/spec/containers/0/env/0/value', value: 'again' }],
    });
    const fresh = await waitFor(
      'a new Ready pod',
      async () => {
        const pods = await podOf();
        const p = pods.find((x) => x.metadata?.uid !== old!.metadata?.uid);
        return p?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const log = await core.readNamespacedPodLog({ name: fresh.metadata!.name!, namespace: NS, container: 'web' });
    expect(log).toContain('again from');
    // Exactly one process tree in the namespace: the old pod's was stopped.
    expect(kubelet.runningPods()).toHaveLength(1);
  }, 40_000);
});
