// Whether a hop Deployment runs its current template with a ready pod (the pod is ready while the tunnel is up).
import type { V1Deployment } from '@kubernetes/client-node';
import type { DeploymentHealth } from './status.js';

export function deploymentHealth(dep: V1Deployment | undefined): DeploymentHealth {
  if (!dep) return { exists: false, ready: false, progressing: false };
  const want = dep.spec?.replicas ?? 1;
  const st = dep.status ?? {};
  const total = st.replicas ?? 0;
  const observed = (st.observedGeneration ?? 0) >= (dep.metadata?.generation ?? 0);
  const updated = st.updatedReplicas ?? 0;
  const readyReplicas = st.readyReplicas ?? 0;
  if (want === 0)
    return { exists: true, ready: false, progressing: false, replicas: 0, pods: total, message: 'scaled to 0' };
  const counts = { replicas: want, pods: total };
  if (!observed || updated < want || total > want)
    return {
      ...counts,
      exists: true,
      ready: false,
      progressing: true,
      message: `rollout in progress: ${String(updated)}/${String(want)} pod(s) updated`,
    };
  if (readyReplicas < want)
    return {
      ...counts,
      exists: true,
      ready: false,
      progressing: false,
      message: `${String(readyReplicas)}/${String(want)} pod(s) ready: the exporter reports the tunnel down`,
    };
  return { ...counts, exists: true, ready: true, progressing: false };
}
