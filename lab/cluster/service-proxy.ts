// The lab's kube-proxy: watches Services and EndpointSlices and keeps table `ip <stem>_svc` (service/render.ts) in
// step, one atomic `nft -f` per change, so that ClusterIP:port reaches a ready endpoint from pods (prerouting) and
// from host processes (output). Selector-less Services work through EndpointSlices written by hand (how the lab points
// `vault.vault.svc` at a host process on the node IP). Each change of a Service port's endpoints is logged.
import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { clusterNames } from './names.js';
import { deleteTable, replaceTable } from './nft.js';
import type { Log } from './pod-network.js';
import { servicesFromApi, slicesFromApi } from './service/model.js';
import { renderServiceTable, type ServiceRenderResult } from './service/render.js';
import { ClusterWatch, Debounced } from './watch.js';

export interface ServiceProxyOptions {
  /** The pod network's stem (table `ip <stem>_svc`). */
  stem: string;
  /** A kubeconfig allowed to list and watch services and endpointslices. */
  kubeconfigPath: string;
  /** The node IP: the source of hairpin traffic. */
  nodeIP: string;
  log?: Log;
}

export interface ServiceProxy {
  readonly table: string;
  current(): ServiceRenderResult | undefined;
  sync(): Promise<void>;
  stop(): Promise<void>;
}

const asList = <T>(p: Promise<T>) => p as unknown as Promise<KubernetesListObject<KubernetesObject>>;

/** Removes the service table of `stem` (crash cleanup). */
export async function cleanupServiceProxy(stem: string): Promise<string[]> {
  const t = clusterNames(stem).serviceTable;
  return (await deleteTable('ip', t)) ? [t] : [];
}

export async function startServiceProxy(opts: ServiceProxyOptions): Promise<ServiceProxy> {
  const table = clusterNames(opts.stem).serviceTable;
  const log: Log = opts.log ?? (() => undefined);
  let last: ServiceRenderResult | undefined;
  const watch = new ClusterWatch(
    opts.kubeconfigPath,
    [
      {
        name: 'services',
        path: '/api/v1/services',
        list: (kc: KubeConfig) => () => asList(kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces()),
      },
      {
        name: 'endpointslices',
        path: '/apis/discovery.k8s.io/v1/endpointslices',
        list: (kc: KubeConfig) => () => asList(kc.makeApiClient(DiscoveryV1Api).listEndpointSliceForAllNamespaces()),
      },
    ],
    () => apply.trigger(),
    log,
  );
  const apply = new Debounced(async () => {
    const result = renderServiceTable({
      services: servicesFromApi(watch.list('services')),
      slices: slicesFromApi(watch.list('endpointslices')),
      hairpinSnatIP: opts.nodeIP,
    });
    if (last?.body === result.body) return;
    for (const e of result.errors) log({ level: 'error', msg: 'service conflict', table, error: e });
    try {
      await replaceTable('ip', table, result.body);
    } catch (err) {
      log({ level: 'error', msg: 'service ruleset refused by nft', table, error: (err as Error).message });
      return;
    }
    const before = new Map(
      (last?.targets ?? []).map((t) => [`${t.clusterIP}:${t.port.port}/${t.port.protocol}`, t.endpoints.join(',')]),
    );
    for (const t of result.targets) {
      const key = `${t.clusterIP}:${t.port.port}/${t.port.protocol}`;
      if (before.get(key) !== t.endpoints.join(','))
        log({
          level: 'info',
          msg: 'service endpoints',
          service: t.service,
          clusterIP: key,
          endpoints: t.endpoints,
        });
    }
    last = result;
    log({
      level: 'info',
      msg: 'service ruleset applied',
      table,
      servicePorts: result.targets.length,
      withoutEndpoints: result.targets.filter((t) => !t.endpoints.length).length,
    });
  });
  await watch.start();
  await apply.runNow();
  log({ level: 'info', msg: 'service proxy started', table });
  return {
    table,
    current: () => last,
    sync: () => apply.runNow(),
    async stop() {
      apply.cancel();
      await watch.stop();
      await deleteTable('ip', table);
      log({ level: 'info', msg: 'service proxy stopped', table });
    },
  };
}
