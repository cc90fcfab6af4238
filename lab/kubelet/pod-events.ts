// A core/v1 Event about a pod, as the scheduler and the kubelet record them (`kubectl describe pod` shows them).
// Best effort, as upstream's event recorder: a failed write is dropped, never a reason to stop the caller.
import type { CoreV1Api, V1EventSource, V1Pod } from '@kubernetes/client-node';

export async function recordPodEvent(
  core: CoreV1Api,
  source: V1EventSource,
  pod: V1Pod,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
): Promise<void> {
  const m = pod.metadata!;
  const now = new Date();
  await core
    .createNamespacedEvent({
      namespace: m.namespace!,
      body: {
        metadata: { generateName: `${m.name}.`, namespace: m.namespace! },
        involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: m.namespace!, name: m.name!, uid: m.uid! },
        type,
        reason,
        message,
        source,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    })
    .catch(() => undefined);
}
