// The lab scheduler and kubelet against lab/kube, as root: pods are bound to the node they fit (or stay Pending with
// the scheduler's reason), run as processes in a fresh pod sandbox on the pod network, see their ServiceAccount token
// where in-cluster clients look for it, run as their user with only their capabilities, report Running/Ready, stream
// their logs to pods/log, restart when they exit, and are refused when they ask for an unsafe sysctl the node does
// not allow — each as a kubelet does it.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupCluster,
  createPodNetwork,
  startClusterDns,
  type ClusterDns,
  type PodNetwork,
} from '../../lab/cluster/index.js';
import { NETWORKS_ANNOTATION } from '../../lab/cluster/multus.js';
import { LabSandboxes } from '../../lab/cluster/sandboxes.js';
import { LabKubelet } from '../../lab/kubelet/kubelet.js';
import type { ContainerRuntime, ImageConfig } from '../../lab/kubelet/runtime/types.js';
import { ProcessRuntime } from '../../lab/kubelet/runtime/process.js';
import { LabScheduler } from '../../lab/kubelet/scheduler.js';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { Supervisor } from '../../lab/runtime/supervisor.js';
import { waitFor } from '../../lab/runtime/wait.js';
import { REPO_ROOT } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';

const STEM = 'tkl';
const NS = 'kubelet-test';
const NODE = 'node-a';

// A test image for the process runtime: node running a script given in the env.
const SCRIPT = `
const fs = require('fs');
const token = (() => { try { return fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/token', 'utf8'); } catch (e) { return 'unreadable: ' + e.code; } })();
const caps = fs.readFileSync('/proc/self/status', 'utf8').match(/CapEff:\\s*(\\w+)/)[1];
console.log(process.env.MESSAGE + ' from ' + process.env.POD + ' uid ' + process.getuid() + ' caps ' + caps + ' token ' + token.split('.').length + ' api ' + process.env.KUBERNETES_SERVICE_HOST);
require('http').createServer((q, s) => s.end('ok')).listen(9108);
`;

class TestRuntime extends ProcessRuntime implements ContainerRuntime {
  override image(): ImageConfig {
    return {
      entrypoint: [process.execPath, '-e', SCRIPT],
      env: { PATH: '/usr/bin:/bin' },
      user: { uid: 0, gid: 0 },
    };
  }
}

function deployment(
  message: string,
  extra: Partial<NonNullable<NonNullable<V1Deployment['spec']>['template']['spec']>> = {},
): V1Deployment {
  return {
    metadata: { name: 'web', namespace: NS },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 2,
          securityContext: { runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534 },
          containers: [
            {
              name: 'web',
              image: 'lab/test',
              env: [
                { name: 'MESSAGE', value: message },
                { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
              securityContext: { capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false },
              readinessProbe: { httpGet: { path: '/', port: 9108 }, periodSeconds: 1 },
            },
          ],
          ...extra,
        },
      },
    },
  };
}

describe.skipIf(skipUnless({ root: true, binaries: ['/usr/bin/setpriv', '/usr/sbin/dnsmasq'] }))(
  'lab scheduler and kubelet',
  () => {
    let kube: Kube;
    let net: PodNetwork;
    let dns: ClusterDns;
    let kubelet: LabKubelet;
    let scheduler: LabScheduler;
    let core: CoreV1Api;
    let apps: AppsV1Api;
    const dir = mkdtempSync(join(tmpdir(), 'tc-kubelet-'));
    const supervisor = new Supervisor(dir);
    const fabric = `${STEM}-fabric`;

    beforeAll(async () => {
      await cleanupCluster(STEM);
      execFileSync('ip', ['netns', 'add', fabric]);
      net = await createPodNetwork({ stem: STEM, podCIDR: '100.72.0.0/16', nodeIP: '100.73.0.1' });
      kube = await startKube({ host: net.nodeIP, dir });
      dns = await startClusterDns({ stem: STEM, kubeconfigPath: kube.kubeconfigPath, podNetwork: net, nodeName: NODE });
      const kc = new KubeConfig();
      kc.loadFromFile(kube.kubeconfigPath);
      core = kc.makeApiClient(CoreV1Api);
      apps = kc.makeApiClient(AppsV1Api);
      await core.createNamespace({ body: { metadata: { name: NS } } });
      await waitFor('the default ServiceAccount', () =>
        core.readNamespacedServiceAccount({ name: 'default', namespace: NS }),
      );
      scheduler = new LabScheduler(
        kube.kubeconfigPath,
        (ns, name, status) => kube.setStatus(ns, 'pods', name, status as never),
        () => undefined,
      );
      await scheduler.start();
      kubelet = new LabKubelet({
        kube,
        kubeconfigPath: kube.kubeconfigPath,
        node: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } },
        nodeIP: net.nodeIP,
        runtime: new TestRuntime(supervisor, REPO_ROOT),
        sandboxes: new LabSandboxes({
          prefix: STEM,
          kube,
          podNetwork: net,
          dns,
          nodeNetns: fabric,
          allowedUnsafeSysctls: [],
          log: () => undefined,
        }),
        stateDir: dir,
        log: () => undefined,
      });
      await kubelet.start();
    }, 120_000);

    afterAll(async () => {
      await kubelet?.stop();
      await scheduler?.stop();
      await supervisor.stopAll();
      await dns?.stop();
      await kube?.close();
      await net?.close();
      execFileSync('ip', ['netns', 'del', fabric]);
      await cleanupCluster(STEM);
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    const pods = async () =>
      (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=web' })).items.filter(
        (p) => !p.metadata?.deletionTimestamp,
      );
    const readyPod = (not?: string) =>
      waitFor(
        'a Ready pod',
        async () => {
          const p = (await pods()).find((x) => x.metadata?.uid !== not);
          return p?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
        },
        { timeoutMs: 60_000 },
      );

    it('schedules the pod, runs it in a fresh sandbox as its user with no capability and its bound token, reports it Ready', async () => {
      await apps.createNamespacedDeployment({ namespace: NS, body: deployment('hello') });
      const pod = await readyPod();
      expect(pod.spec?.nodeName).toBe(NODE);
      expect(pod.status?.podIP).toMatch(/^100\.72\./);
      const log = await waitFor('the log line', async () => {
        const text = await core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: NS, container: 'web' });
        return text.includes('hello from') ? text : undefined;
      });
      // uid 65534, an empty effective capability set, a three-part JWT readable through fsGroup, the API's Service IP.
      expect(log).toContain(`hello from ${pod.metadata!.name} uid 65534 caps 0000000000000000 token 3 api 10.96.0.1`);
      // The pod's token is refused once the pod is gone (bound to it): checked by lab/kube's tests; here, it exists.
      const ev = await core.listNamespacedEvent({ namespace: NS });
      expect(ev.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['Scheduled', 'Started']));
    }, 90_000);

    it('restarts a container that exits and counts the restart', async () => {
      const [pod] = await pods();
      expect(kubelet.killContainer(NS, pod!.metadata!.name!, 'web')).toBe(true);
      const restarted = await waitFor(
        'restartCount 1 and Ready again',
        async () => {
          const p = (await core.readNamespacedPod({ name: pod!.metadata!.name!, namespace: NS })).status;
          const c = p?.containerStatuses?.[0];
          return c?.restartCount === 1 && c.ready ? c : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(restarted.lastState?.terminated).toBeDefined();
    }, 40_000);

    it('a template change replaces the pod (Recreate): the old pod and its sandbox are gone', async () => {
      const [old] = await pods();
      await apps.patchNamespacedDeployment({
        name: 'web',
        namespace: NS,
        body: [{ op: 'replace', path: '/spec/template/spec/containers/0/env/0/value', value: 'again' }],
      });
      const fresh = await readyPod(old!.metadata!.uid);
      const log = await core.readNamespacedPodLog({ name: fresh.metadata!.name!, namespace: NS, container: 'web' });
      expect(log).toContain('again from');
      await waitFor('the old pod object deleted by its kubelet', async () =>
        (await pods()).every((p) => p.metadata?.uid !== old!.metadata?.uid),
      );
      expect(kubelet.runningPods()).toHaveLength(1);
    }, 60_000);

    it('removing a sandbox deletes its attachments at once, even while something still holds its namespace (CNI DEL)', async () => {
      // A hop's gateway keeps one MAC and address across its pods: a dead pod's attachment left on the bridge answers
      // ARP beside the new one and swallows the next hop's tunnel.
      const bridge = `${STEM}br9`;
      const nad = {
        metadata: { name: 'lan', namespace: NS },
        spec: {
          config: JSON.stringify({
            cniVersion: '0.3.1',
            name: 'lan',
            type: 'bridge',
            bridge,
            ipam: { type: 'static', addresses: [{ address: '10.77.0.1/30' }] },
          }),
        },
      };
      const sandboxes = new LabSandboxes({
        prefix: STEM,
        kube: Object.assign(Object.create(kube) as Kube, {
          getObject: (ns: string, resource: string, name: string, group?: string) =>
            resource === 'network-attachment-definitions' && name === 'lan'
              ? nad
              : kube.getObject(ns, resource, name, group),
        }),
        podNetwork: net,
        dns,
        nodeNetns: fabric,
        allowedUnsafeSysctls: [],
        log: () => undefined,
      });
      const pod = {
        metadata: {
          name: 'held',
          namespace: NS,
          uid: '0b7c5d2e-held-4a1f-9e3c-000000000001',
          annotations: { [NETWORKS_ANNOTATION]: JSON.stringify([{ name: 'lan', interface: 'down0' }]) },
        },
        spec: { containers: [] },
      };
      const ports = () => execFileSync('ip', ['-n', fabric, '-o', 'link', 'show', 'master', bridge]).toString().trim();
      const sandbox = await sandboxes.create(pod as never);
      expect(ports()).not.toBe('');
      // Anything still inside (a process, a socket) keeps the namespace alive after `ip netns del`.
      const holder = spawn('ip', ['netns', 'exec', sandbox.netns, 'sleep', '60'], { stdio: 'ignore' });
      try {
        await waitFor('the holder inside the namespace', async () =>
          execFileSync('ip', ['netns', 'pids', sandbox.netns]).toString().trim() ? true : undefined,
        );
        await sandbox.destroy();
        expect(ports()).toBe('');
      } finally {
        holder.kill('SIGKILL');
        execFileSync('ip', ['-n', fabric, 'link', 'del', bridge]);
      }
    }, 60_000);

    it('leaves a pod that fits no node Pending with the scheduler’s reason', async () => {
      await core.createNamespacedPod({
        namespace: NS,
        body: {
          metadata: { name: 'elsewhere' },
          spec: {
            nodeSelector: { 'kubernetes.io/hostname': 'node-z' },
            containers: [{ name: 'c', image: 'lab/test' }],
          },
        },
      });
      const cond = await waitFor('PodScheduled=False', async () =>
        (await core.readNamespacedPod({ name: 'elsewhere', namespace: NS })).status?.conditions?.find(
          (c) => c.type === 'PodScheduled' && c.status === 'False',
        ),
      );
      expect(cond.reason).toBe('Unschedulable');
      expect(cond.message).toMatch(/didn't match Pod's node affinity\/selector/);
    }, 30_000);

    it('refuses a pod asking for an unsafe sysctl the node does not allow (SysctlForbidden)', async () => {
      await core.createNamespacedPod({
        namespace: NS,
        body: {
          metadata: { name: 'forwarder' },
          spec: {
            securityContext: { sysctls: [{ name: 'net.ipv4.ip_forward', value: '0' }] },
            containers: [{ name: 'c', image: 'lab/test' }],
          },
        },
      });
      const status = await waitFor('phase Failed', async () => {
        const s = (await core.readNamespacedPod({ name: 'forwarder', namespace: NS })).status;
        return s?.phase === 'Failed' ? s : undefined;
      });
      expect(status.reason).toBe('SysctlForbidden');
    }, 30_000);
  },
);
