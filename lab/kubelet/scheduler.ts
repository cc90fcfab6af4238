// The lab's scheduler: a pod goes to the least loaded node it fits (nodeSelector, required node affinity, taints);
// a pod that fits no node stays Pending with the reason a real scheduler gives (FailedScheduling), exactly as on a
// cluster without such a node.
// https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/
import {
  CoreV1Api,
  KubeConfig,
  makeInformer,
  type Informer,
  type ObjectCache,
  type V1Node,
  type V1NodeSelectorRequirement,
  type V1Pod,
  type V1Taint,
} from '@kubernetes/client-node';
import { recordPodEvent } from './pod-events.js';

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  taints?: V1Taint[];
}

export type Fit = { fits: true } | { fits: false; reason: string };

function matchesRequirement(labels: Record<string, string>, r: V1NodeSelectorRequirement): boolean {
  const value = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** Whether `pod` may run on `node`: nodeName, nodeSelector, required node affinity, taints (NoSchedule/NoExecute). */
export function fitsNode(pod: V1Pod, node: NodeInfo): Fit {
  const spec = pod.spec ?? { containers: [] };
  if (spec.nodeName && spec.nodeName !== node.name)
    return { fits: false, reason: `the pod is bound to node ${spec.nodeName}` };
  const selector = spec.nodeSelector ?? {};
  const mismatched = Object.entries(selector).filter(([k, v]) => node.labels[k] !== v);
  if (mismatched.length)
    return {
      fits: false,
      reason: `0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector (${mismatched
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}; node ${node.name} has ${JSON.stringify(node.labels)})`,
    };
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms?.length) {
    // Terms are ORed, expressions within a term ANDed; matchFields only knows metadata.name.
    const ok = terms.some(
      (t) =>
        (t.matchExpressions ?? []).every((r) => matchesRequirement(node.labels, r)) &&
        (t.matchFields ?? []).every((r) => matchesRequirement({ 'metadata.name': node.name }, r)),
    );
    if (!ok) return { fits: false, reason: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity" };
  }
  for (const taint of node.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    const tolerated = (spec.tolerations ?? []).some(
      (t) =>
        (t.effect === undefined || t.effect === '' || t.effect === taint.effect) &&
        (t.operator === 'Exists'
          ? t.key === undefined || t.key === '' || t.key === taint.key
          : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')),
    );
    if (!tolerated)
      return { fits: false, reason: `0/1 nodes are available: 1 node(s) had untolerated taint {${taint.key}}` };
  }
  return { fits: true };
}

/** Of the nodes a pod fits, the one running the fewest pods (ties: the first by name), or why none fits. */
export function pickNode(
  pod: V1Pod,
  nodes: NodeInfo[],
  podsPerNode: Map<string, number>,
): { node: string } | { reason: string } {
  const fits = nodes.map((n) => ({ n, fit: fitsNode(pod, n) }));
  const ok = fits.filter((f) => f.fit.fits).map((f) => f.n);
  if (!ok.length) {
    const reasons = fits.map((f) => (f.fit.fits ? '' : `${f.n.name}: ${f.fit.reason}`)).filter(Boolean);
    return { reason: `0/${nodes.length} nodes are available: ${reasons.join('; ') || 'no node'}` };
  }
  ok.sort((a, b) => (podsPerNode.get(a.name) ?? 0) - (podsPerNode.get(b.name) ?? 0) || a.name.localeCompare(b.name));
  return { node: ok[0]!.name };
}

/**
 * The lab's kube-scheduler: binds every unbound pod to a node it fits (pods/binding), or leaves it Pending with
 * PodScheduled=False/Unschedulable and a FailedScheduling Event, and tries again when nodes change.
 */
export class LabScheduler {
  private readonly core: CoreV1Api;
  private readonly pods: Informer<V1Pod> & ObjectCache<V1Pod>;
  private readonly nodes: Informer<V1Node> & ObjectCache<V1Node>;
  private readonly reported = new Map<string, string>();
  private closed = false;

  constructor(
    kubeconfigPath: string,
    private readonly setStatus: (ns: string, name: string, status: object) => void,
    private readonly log: (e: Record<string, unknown>) => void,
  ) {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    this.core = kc.makeApiClient(CoreV1Api);
    this.pods = makeInformer(kc, '/api/v1/pods', () => this.core.listPodForAllNamespaces());
    this.nodes = makeInformer(kc, '/api/v1/nodes', () => this.core.listNode());
    for (const inf of [this.pods, this.nodes] as Informer<V1Pod | V1Node>[]) {
      inf.on('error', (err) => {
        if (this.closed) return;
        log({ level: 'warn', msg: 'scheduler watch failed; restarting in 1s', error: String(err) });
        setTimeout(() => void inf.start().catch(() => undefined), 1000);
      });
    }
    this.pods.on('add', (p) => void this.schedule(p));
    this.pods.on('update', (p) => void this.schedule(p));
    this.nodes.on('add', () => this.retryAll());
    this.nodes.on('update', () => this.retryAll());
  }

  async start(): Promise<void> {
    await this.nodes.start();
    await this.pods.start();
  }

  async stop(): Promise<void> {
    this.closed = true;
    await this.pods.stop();
    await this.nodes.stop();
  }

  private retryAll(): void {
    for (const p of this.pods.list()) void this.schedule(p);
  }

  private async schedule(pod: V1Pod): Promise<void> {
    if (this.closed || pod.spec?.nodeName || pod.metadata?.deletionTimestamp) return;
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const nodes: NodeInfo[] = this.nodes.list().map((n) => ({
      name: n.metadata!.name!,
      labels: n.metadata?.labels ?? {},
      taints: n.spec?.taints,
    }));
    const load = new Map<string, number>();
    for (const p of this.pods.list())
      if (p.spec?.nodeName) load.set(p.spec.nodeName, (load.get(p.spec.nodeName) ?? 0) + 1);
    const choice = pickNode(pod, nodes, load);
    if ('reason' in choice) {
      if (this.reported.get(key) === choice.reason) return;
      this.reported.set(key, choice.reason);
      this.log({ level: 'warn', msg: 'pod fits no lab node; it stays Pending', pod: key, reason: choice.reason });
      try {
        this.setStatus(pod.metadata!.namespace!, pod.metadata!.name!, {
          ...(pod.status ?? {}),
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: choice.reason,
              lastTransitionTime: new Date().toISOString(),
            },
          ],
        });
      } catch {
        /* deleted meanwhile */
      }
      await this.event(pod, 'Warning', 'FailedScheduling', choice.reason);
      return;
    }
    this.reported.delete(key);
    try {
      await this.core.createNamespacedPodBinding({
        name: pod.metadata!.name!,
        namespace: pod.metadata!.namespace!,
        body: {
          metadata: { name: pod.metadata!.name!, namespace: pod.metadata!.namespace! },
          target: { apiVersion: 'v1', kind: 'Node', name: choice.node },
        },
      });
      await this.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${key} to ${choice.node}`);
    } catch (err) {
      this.log({
        level: 'debug',
        msg: 'binding failed (pod deleted or bound meanwhile?)',
        pod: key,
        error: String(err),
      });
    }
  }

  private event(pod: V1Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return recordPodEvent(this.core, { component: 'default-scheduler' }, pod, type, reason, message);
  }
}
