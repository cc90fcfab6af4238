// Adapter: reads from a Kubernetes API (lab/kube or a real cluster, through a kubeconfig) what prometheus-operator
// watches — namespaces with their labels, PodMonitors, ServiceMonitors, PrometheusRules, AlertmanagerConfigs and the
// Secrets they reference — as the plain input of the pure translation (./prometheus-operator/).
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { KubeObject, NamespaceInfo } from './prometheus-operator/index.js';

const MONITORING_KINDS = [
  { version: 'v1', plural: 'podmonitors', kind: 'PodMonitor' },
  { version: 'v1', plural: 'servicemonitors', kind: 'ServiceMonitor' },
  { version: 'v1', plural: 'prometheusrules', kind: 'PrometheusRule' },
  { version: 'v1alpha1', plural: 'alertmanagerconfigs', kind: 'AlertmanagerConfig' },
] as const;

export interface ClusterMonitoringObjects {
  namespaces: NamespaceInfo[];
  objects: KubeObject[];
}

const isNotFound = (e: unknown) => (e as { code?: number }).code === 404;

/** Everything the translation reads, listed across all namespaces. A monitoring CRD that is not installed yields none. */
export async function readMonitoringObjects(kubeconfigPath: string): Promise<ClusterMonitoringObjects> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespaces = (await core.listNamespace()).items.map((n) => ({
    name: n.metadata!.name!,
    labels: n.metadata!.labels ?? {},
  }));
  const objects: KubeObject[] = [];
  for (const k of MONITORING_KINDS) {
    try {
      const list = (await custom.listClusterCustomObject({
        group: 'monitoring.coreos.com',
        version: k.version,
        plural: k.plural,
      })) as {
        items: KubeObject[];
      };
      for (const o of list.items)
        objects.push({ ...o, apiVersion: `monitoring.coreos.com/${k.version}`, kind: k.kind });
    } catch (e) {
      if (!isNotFound(e)) throw new Error(`listing ${k.plural}.monitoring.coreos.com failed: ${(e as Error).message}`);
    }
  }
  for (const s of (await core.listSecretForAllNamespaces()).items)
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: s.metadata!.name!,
        namespace: s.metadata!.namespace!,
        labels: s.metadata!.labels ?? {},
        uid: s.metadata!.uid,
      },
      data: s.data ?? {},
    });
  return { namespaces, objects };
}
