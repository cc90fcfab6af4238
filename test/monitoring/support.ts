// Shared by the monitoring tests: the chart rendered with a value set, turned into the cluster kube-prometheus-stack
// would see (namespaces with their labels, deterministic UIDs, a fixed webhook token), and translated as
// prometheus-operator would with kps's default settings.
import { basename, join } from 'node:path';
import type { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { ciValueFiles, render, RELEASE_NAMESPACE, type Manifest } from '../chart/render.js';
import {
  kubePrometheusStack,
  translate,
  type KpsOptions,
  type KubeObject,
  type Translation,
} from '../../lab/monitoring/prometheus-operator/index.js';

export const EXTRA_VALUE_FILES = [join(import.meta.dirname, 'values', 'three-namespaces-values.yaml')];

/** Every ci/*.yaml of the chart and the extra multi-namespace set, by name. */
export function valueSets(): Array<{ name: string; file: string }> {
  return [...ciValueFiles(), ...EXTRA_VALUE_FILES].map((file) => ({ name: basename(file, '.yaml'), file }));
}

/** The webhook token every rendered token Secret is given here (helm template makes a random one each time). */
export const TOKEN = 'golden-webhook-token';

export interface Cluster {
  objects: KubeObject[];
  namespaces: string[];
  /** The chart's rendered objects as they are. */
  rendered: Manifest[];
}

/** The chart's objects as the cluster holds them: UIDs set, the token fixed; the namespaces they live in exist. */
export async function clusterFor(valuesFile: string): Promise<Cluster> {
  const rendered = await render({ valuesFiles: [valuesFile], skipTests: true });
  const objects: KubeObject[] = rendered
    .filter((o) => o.kind !== 'CustomResourceDefinition')
    .map((o) => {
      const copy = structuredClone(o) as KubeObject;
      copy.metadata.uid = `uid-${copy.metadata.namespace ?? ''}-${copy.metadata.name}`;
      if (copy.kind === 'Secret' && /webhook-token$/.test(copy.metadata.name))
        copy.data = { token: Buffer.from(TOKEN).toString('base64') };
      return copy;
    });
  const namespaces = new Set(['default', 'kube-system', 'monitoring', RELEASE_NAMESPACE]);
  for (const o of objects) if (o.metadata.namespace) namespaces.add(o.metadata.namespace);
  return { objects, namespaces: [...namespaces].sort(), rendered };
}

/** The translation with kps's defaults (release kube-prometheus-stack in namespace monitoring). */
export function translateWithKps(cluster: Cluster, opts: KpsOptions = {}, rulesDir?: string): Translation {
  const kps = kubePrometheusStack(opts);
  return translate({
    prometheus: kps.prometheus,
    alertmanager: kps.alertmanager,
    namespaces: cluster.namespaces.map((name) => ({ name })),
    objects: [...cluster.objects, ...kps.objects],
    ...(rulesDir ? { rulesDir } : {}),
  });
}

export interface ChainHop {
  namespace: string;
  chain: string;
  hop: number;
  type: string;
}

/** Every hop of every chain the chart renders as a TorChain. */
export function hopsOf(cluster: Cluster): ChainHop[] {
  return cluster.objects
    .filter((o) => o.kind === 'TorChain')
    .map((o) => {
      const spec = o.spec as { nameTorChain: string; numberNode: number; typeNode: string };
      return { namespace: o.metadata.namespace!, chain: spec.nameTorChain, hop: spec.numberNode, type: spec.typeNode };
    });
}

/**
 * What kube-prometheus-stack grants its Prometheus for service discovery (its ClusterRole, trimmed to discovery):
 * lab/kube enforces RBAC as kube-apiserver does, so a Prometheus token without it sees nothing.
 */
export async function grantPrometheusDiscovery(
  rbac: RbacAuthorizationV1Api,
  namespace: string,
  serviceAccount: string,
): Promise<void> {
  await rbac.createClusterRole({
    body: {
      metadata: { name: serviceAccount },
      rules: [
        { apiGroups: [''], resources: ['pods', 'services', 'endpoints', 'nodes'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      ],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: serviceAccount },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: serviceAccount },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
    },
  });
}
