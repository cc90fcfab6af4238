// Fixtures shared by the cluster-network tests: lab/kube objects written in-process (what a kubelet or a test
// author does), and the real kubectl against lab/kube.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Kube } from '../../lab/kube/server.js';
import type { KObject, Obj } from '../../lab/kube/types.js';
import { KUBECTL } from '../../scripts/paths.js';

const exec = promisify(execFile);

export async function kubectl(kube: Kube, args: string[]): Promise<string> {
  const { stdout } = await exec(KUBECTL, args, { env: { ...process.env, KUBECONFIG: kube.kubeconfigPath } });
  return stdout;
}

const type = (kube: Kube, group: string, plural: string) => kube.api.registry.byGroupResource(group, plural)!;

export function ensureNamespace(kube: Kube, name: string, labels: Record<string, string> = {}): void {
  const t = type(kube, '', 'namespaces');
  const cur = kube.api.store.get('/namespaces', '', name);
  if (cur)
    kube.api.update(
      t,
      '',
      name,
      { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, ...labels } } },
      { version: 'v1' },
    );
  else kube.api.create(t, '', { metadata: { name, labels } }, { version: 'v1' });
  // what the namespace controller does a moment later: pods are refused until the default ServiceAccount exists
  if (!kube.api.store.get('/serviceaccounts', name, 'default'))
    kube.api.create(type(kube, '', 'serviceaccounts'), name, { metadata: { name: 'default' } }, { version: 'v1' });
}

export interface PodFixture {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  /** Container ports: `{name, containerPort, protocol}`. */
  ports?: Obj[];
  podIP?: string;
  ready?: boolean;
  hostNetwork?: boolean;
}

/** Creates a pod bound to node `lab` and reports its status as a kubelet would. */
export function createPod(kube: Kube, p: PodFixture): KObject {
  kube.api.create(
    type(kube, '', 'pods'),
    p.namespace,
    {
      metadata: { name: p.name, labels: p.labels ?? {} },
      spec: {
        nodeName: 'lab',
        ...(p.hostNetwork ? { hostNetwork: true } : {}),
        containers: [{ name: 'main', image: 'lab/agent', ports: p.ports ?? [] }],
      },
    },
    { version: 'v1' },
  );
  return setPodState(kube, p.namespace, p.name, { podIP: p.podIP, ready: p.ready ?? true });
}

export function setPodState(
  kube: Kube,
  namespace: string,
  name: string,
  s: { podIP?: string; ready: boolean; phase?: string },
): KObject {
  const cur = kube.api.store.get('/pods', namespace, name)!;
  const podIP = s.podIP ?? ((cur.status as Obj | undefined)?.podIP as string | undefined);
  const now = new Date().toISOString();
  return kube.setPodStatus(namespace, name, {
    phase: s.phase ?? 'Running',
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    conditions: [
      { type: 'Ready', status: s.ready ? 'True' : 'False', lastTransitionTime: now },
      { type: 'ContainersReady', status: s.ready ? 'True' : 'False', lastTransitionTime: now },
    ],
    containerStatuses: [{ name: 'main', ready: s.ready, restartCount: 0, state: { running: { startedAt: now } } }],
  });
}

export function deletePod(kube: Kube, namespace: string, name: string): void {
  const t = type(kube, '', 'pods');
  kube.api.delete(t, namespace, name, { version: 'v1', gracePeriodSeconds: 0 });
}

export function apply(kube: Kube, group: string, plural: string, obj: KObject | Obj): KObject {
  const t = type(kube, group, plural);
  const meta = (obj as KObject).metadata;
  const ns = t.namespaced ? (meta.namespace ?? 'default') : '';
  const version = t.versions[0]!.name;
  const cur = kube.api.store.get(`${group}/${plural}`, ns, meta.name!);
  if (cur) return kube.api.update(t, ns, meta.name!, { ...obj, metadata: { ...cur.metadata, ...meta } }, { version });
  return kube.api.create(t, ns, obj, { version });
}

export function remove(kube: Kube, group: string, plural: string, namespace: string, name: string): void {
  const t = type(kube, group, plural);
  kube.api.delete(t, t.namespaced ? namespace : '', name, { version: t.versions[0]!.name });
}
