// Start-up step: the cluster — the pod network (Calico stand-in), lab/kube on the node IP at the API server's port
// with an audit log, and the node components with identities and ClusterRoles of their own (kube-proxy, the network
// policy enforcer, cluster DNS, the scheduler): nothing of the lab's cluster talks to lab/kube as more than it needs,
// except the kubelets and the scheduler (the lab has no Node authoriser; they use the admin certificate).
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import {
  createPodNetwork,
  startClusterDns,
  startNetworkPolicy,
  startServiceProxy,
  type ClusterDns,
  type NetworkPolicyEnforcer,
  type PodNetwork,
  type ServiceProxy,
} from '../cluster/index.js';
import { LabScheduler } from '../kubelet/scheduler.js';
import { startKube, type Kube } from '../kube/server.js';
import { KUBECTL, REPO_ROOT } from '../../scripts/paths.js';
import type { LabContext } from './context.js';
import { ignoreExists } from '../runtime/already-exists.js';

export const API_SERVER_PORT = 6443;
const ADDON_CRDS = join(REPO_ROOT, 'lab', 'cluster', 'addon-crds.yaml');
const execFileAsync = promisify(execFile);

export interface LabCluster {
  kube: Kube;
  podNetwork: PodNetwork;
  proxy: ServiceProxy;
  policy: NetworkPolicyEnforcer;
  dns: ClusterDns;
  scheduler: LabScheduler;
  nodeIP: string;
  adminKubeconfig: string;
  auditLog: string;
  core: CoreV1Api;
  /**
   * A kubeconfig acting as ServiceAccount `namespace/name`, created with a ClusterRole and binding of `rules` (when
   * given): how the lab's own components and the kube-prometheus-stack stand-in get least-privilege identities.
   */
  identity(namespace: string, name: string, rules?: V1PolicyRule[]): Promise<string>;
}

const READ = ['get', 'list', 'watch'];

export async function startCluster(ctx: LabContext, firstNode: string): Promise<LabCluster> {
  ctx.progress('starting the pod network (Calico stand-in) and lab/kube (authentication, RBAC, audit log)');
  const podNetwork = await createPodNetwork({ stem: ctx.prefix, log: ctx.log });
  ctx.onClose('pod network', () => podNetwork.close());
  const kubeDir = join(ctx.stateDir, 'kube');
  mkdirSync(kubeDir, { recursive: true, mode: 0o700 });
  const auditLog = join(kubeDir, 'audit.log');
  const kube = await startKube({
    host: podNetwork.nodeIP,
    port: API_SERVER_PORT,
    dir: kubeDir,
    auditLogPath: auditLog,
    log: ctx.log,
  });
  ctx.onClose('lab/kube', () => kube.close());
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);

  // What the cluster's add-ons bring before torchain is installed: kube-prometheus-stack's, Multus' and
  // multi-networkpolicy's CRDs, applied as an admin applies them.
  await execFileAsync(KUBECTL, ['apply', '-f', ADDON_CRDS], {
    env: { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: kubeDir },
  });
  await execFileAsync(KUBECTL, ['wait', '--for=condition=Established', '-f', ADDON_CRDS, '--timeout=60s'], {
    env: { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: kubeDir },
  });

  const identity = async (namespace: string, name: string, rules?: V1PolicyRule[]) => {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch(ignoreExists);
    if (rules) {
      const role = `lab:${namespace}:${name}`;
      await rbac.createClusterRole({ body: { metadata: { name: role }, rules } }).catch(ignoreExists);
      await rbac
        .createClusterRoleBinding({
          body: {
            metadata: { name: role },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
            subjects: [{ kind: 'ServiceAccount', name, namespace }],
          },
        })
        .catch(ignoreExists);
    }
    const token = kube.mintServiceAccountToken(namespace, name, { expirationSeconds: 7 * 86400 });
    const path = join(kubeDir, `${namespace}.${name}.kubeconfig`);
    writeFileSync(path, kube.kubeconfigFor(token, namespace), { mode: 0o600 });
    return path;
  };

  ctx.progress('starting kube-proxy, the network policy enforcer and cluster DNS stand-ins');
  const proxy = await startServiceProxy({
    stem: ctx.prefix,
    nodeIP: podNetwork.nodeIP,
    kubeconfigPath: await identity('kube-system', 'kube-proxy', [
      { apiGroups: [''], resources: ['services', 'endpoints', 'nodes'], verbs: READ },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
    ]),
    log: ctx.log,
  });
  ctx.onClose('service proxy', () => proxy.stop());
  const policy = await startNetworkPolicy({
    stem: ctx.prefix,
    kubeconfigPath: await identity('kube-system', 'calico-node', [
      { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: READ },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: READ },
    ]),
    log: ctx.log,
  });
  ctx.onClose('network policy enforcer', () => policy.stop());
  const dns = await startClusterDns({
    stem: ctx.prefix,
    podNetwork,
    nodeName: firstNode,
    // It registers its own mirror pod and Service (a kubelet's and an installer's job), so it needs more than
    // CoreDNS' read-only role.
    kubeconfigPath: kube.kubeconfigPath,
    log: ctx.log,
  });
  ctx.onClose('cluster DNS', () => dns.stop());
  const scheduler = new LabScheduler(
    kube.kubeconfigPath,
    (ns, name, status) => kube.setStatus(ns, 'pods', name, status as Record<string, unknown>),
    ctx.log,
  );
  await scheduler.start();
  ctx.onClose('scheduler', () => scheduler.stop());
  return {
    kube,
    podNetwork,
    proxy,
    policy,
    dns,
    scheduler,
    nodeIP: podNetwork.nodeIP,
    adminKubeconfig: kube.kubeconfigPath,
    auditLog,
    core,
    identity,
  };
}
