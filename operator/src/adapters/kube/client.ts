// The Kubernetes calls the operator makes, over @kubernetes/client-node 1.4. Patches always name their content type
// (client-node otherwise sends JSON Patch; custom resources never accept strategic merge).
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Observable,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type CoreV1Event,
  type ConfigurationOptions,
  type RequestContext,
  type ResponseContext,
  type V1Deployment,
  type V1Lease,
  type V1Secret,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type TorChain, type TorChainStatus } from '../../api/torchain.js';
import type { ListWatch, WatchEventType, WatchHandle } from '../../controller/informer.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../core/naming.js';
import { isNotFound, kubeError } from './errors.js';
import { withKeepAlive } from './keep-alive.js';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Request options that abort the call (and its socket) after ms: client-node has no timeout of its own. */
function abortAfter(ms: number): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(AbortSignal.timeout(ms));
          return new Observable(Promise.resolve(ctx));
        },
        post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

export interface KubeClientOptions {
  /** Only this namespace (TORCHAIN_WATCH_NAMESPACE); empty: all namespaces. */
  namespace?: string;
  /** Watch timeout asked of the server (seconds); the informer restarts watches that end. */
  watchTimeoutSeconds?: number;
  /** Items per list page (default 500). */
  pageSize?: number;
}

/** Loads KUBECONFIG when set, else in-cluster config, else ~/.kube/config. */
export function loadKubeConfig(env: Record<string, string | undefined> = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (env.KUBECONFIG) kc.loadFromFile(env.KUBECONFIG);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster())
    throw new Error('no Kubernetes cluster configured: set KUBECONFIG or run in a pod with a service account');
  return kc;
}

function asPlain<T>(v: unknown): T {
  // client-node turns timestamps into Date objects; the operator works on the JSON form everywhere.
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Lists are read in pages: the whole list is never held at once before it is trimmed (memory peak). */
const PAGE = 500;

interface Page<T> {
  items?: T[];
  metadata?: { resourceVersion?: string; continue?: string; _continue?: string };
}

function toPage<T>(list: { items: unknown[]; metadata?: { resourceVersion?: string; _continue?: string } }): Page<T> {
  return { items: asPlain<T[]>(list.items), metadata: list.metadata ?? {} };
}

async function paged<T>(
  what: string,
  transform: ((o: T) => T) | undefined,
  page: (cont: string | undefined) => Promise<Page<T>>,
): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let cont: string | undefined;
  let resourceVersion = '';
  try {
    do {
      const p = await page(cont);
      for (const item of p.items ?? []) items.push(transform ? transform(item) : item);
      resourceVersion = p.metadata?.resourceVersion ?? resourceVersion;
      cont = p.metadata?.continue || p.metadata?._continue || undefined;
    } while (cont);
  } catch (err) {
    throw kubeError(err, what);
  }
  return { items, resourceVersion };
}

export class KubeClient {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
  private readonly watcher: Watch;

  constructor(
    readonly kc: KubeConfig,
    private readonly opts: KubeClientOptions = {},
  ) {
    withKeepAlive(kc);
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.watcher = new Watch(kc);
  }

  private get pageSize(): number {
    return this.opts.pageSize ?? PAGE;
  }

  private get ns(): string | undefined {
    return this.opts.namespace || undefined;
  }

  private watchPath(base: string, plural: string): string {
    return this.ns ? `${base}/namespaces/${this.ns}/${plural}` : `${base}/${plural}`;
  }

  private startWatch(
    path: string,
    params: Record<string, string | number | boolean | undefined>,
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: unknown) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    return this.watcher
      .watch(
        path,
        {
          ...params,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
        },
        (type, obj) => onEvent(type as WatchEventType, obj),
        (err) => onDone(err ?? undefined),
      )
      .then((controller) => ({ abort: () => controller.abort() }));
  }

  // ---- TorChains

  torchainListWatch(): ListWatch<TorChain> {
    return {
      list: (transform) =>
        paged(
          'list TorChains',
          transform,
          async (cont) =>
            (this.ns
              ? await this.custom.listNamespacedCustomObject({
                  group: GROUP,
                  version: VERSION,
                  namespace: this.ns,
                  plural: PLURAL,
                  limit: this.pageSize,
                  _continue: cont,
                })
              : await this.custom.listClusterCustomObject({
                  group: GROUP,
                  version: VERSION,
                  plural: PLURAL,
                  limit: this.pageSize,
                  _continue: cont,
                })) as Page<TorChain>,
        ),
      watch: (rv, onEvent, onDone) =>
        this.startWatch(this.watchPath(`/apis/${GROUP}/${VERSION}`, PLURAL), {}, rv, onEvent, onDone),
    };
  }

  async getTorChain(namespace: string, name: string): Promise<TorChain | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
      })) as TorChain;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw kubeError(err, `read TorChain ${namespace}/${name}`);
    }
  }

  /** Merge patch of the main resource (spec, metadata); include metadata.resourceVersion for a precondition. */
  async patchTorChain(namespace: string, name: string, patch: Record<string, unknown>): Promise<TorChain> {
    return (await this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: patch },
      MERGE,
    )) as TorChain;
  }

  async patchTorChainStatus(namespace: string, name: string, status: TorChainStatus): Promise<TorChain> {
    try {
      return (await this.custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { status } },
        MERGE,
      )) as TorChain;
    } catch (err) {
      throw kubeError(err, `write the status of TorChain ${namespace}/${name}`);
    }
  }

  // ---- Deployments (only the operator's, by label)

  deploymentListWatch(): ListWatch<V1Deployment> {
    const labelSelector = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    return {
      list: (transform) =>
        paged('list hop Deployments', transform, async (cont) =>
          toPage<V1Deployment>(
            this.ns
              ? await this.apps.listNamespacedDeployment({
                  namespace: this.ns,
                  labelSelector,
                  limit: this.pageSize,
                  _continue: cont,
                })
              : await this.apps.listDeploymentForAllNamespaces({
                  labelSelector,
                  limit: this.pageSize,
                  _continue: cont,
                }),
          ),
        ),
      watch: (rv, onEvent, onDone) =>
        this.startWatch(this.watchPath('/apis/apps/v1', 'deployments'), { labelSelector }, rv, onEvent, onDone),
    };
  }

  async createDeployment(body: V1Deployment): Promise<V1Deployment> {
    const namespace = body.metadata!.namespace!;
    try {
      return asPlain(await this.apps.createNamespacedDeployment({ namespace, body }));
    } catch (err) {
      throw kubeError(err, `create Deployment ${namespace}/${body.metadata!.name!}`);
    }
  }

  async replaceDeployment(body: V1Deployment): Promise<V1Deployment> {
    const namespace = body.metadata!.namespace!;
    const name = body.metadata!.name!;
    try {
      return asPlain(await this.apps.replaceNamespacedDeployment({ namespace, name, body }));
    } catch (err) {
      throw kubeError(err, `update Deployment ${namespace}/${name}`);
    }
  }

  /** Merge patch of spec.replicas alone (spec.drop): needs nothing but the Deployment's name, never Vault. */
  async scaleDeployment(namespace: string, name: string, replicas: number): Promise<V1Deployment> {
    try {
      return asPlain(
        await this.apps.patchNamespacedDeployment({ namespace, name, body: { spec: { replicas } } }, MERGE),
      );
    } catch (err) {
      throw kubeError(err, `scale Deployment ${namespace}/${name} to ${String(replicas)}`);
    }
  }

  /** Merge patch of metadata.annotations with a resourceVersion precondition (409 when the object moved on). */
  async annotateDeployment(
    namespace: string,
    name: string,
    resourceVersion: string,
    annotations: Record<string, string>,
  ): Promise<V1Deployment> {
    try {
      return asPlain(
        await this.apps.patchNamespacedDeployment(
          { namespace, name, body: { metadata: { resourceVersion, annotations } } },
          MERGE,
        ),
      );
    } catch (err) {
      throw kubeError(err, `annotate Deployment ${namespace}/${name}`);
    }
  }

  // ---- Secrets (only the operator's, by label)

  secretListWatch(): ListWatch<V1Secret> {
    const labelSelector = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    return {
      list: (transform) =>
        paged('list hop Secrets', transform, async (cont) =>
          toPage<V1Secret>(
            this.ns
              ? await this.core.listNamespacedSecret({
                  namespace: this.ns,
                  labelSelector,
                  limit: this.pageSize,
                  _continue: cont,
                })
              : await this.core.listSecretForAllNamespaces({ labelSelector, limit: this.pageSize, _continue: cont }),
          ),
        ),
      watch: (rv, onEvent, onDone) =>
        this.startWatch(this.watchPath('/api/v1', 'secrets'), { labelSelector }, rv, onEvent, onDone),
    };
  }

  async createSecret(body: V1Secret): Promise<V1Secret> {
    const namespace = body.metadata!.namespace!;
    try {
      return asPlain(await this.core.createNamespacedSecret({ namespace, body }));
    } catch (err) {
      throw kubeError(err, `create Secret ${namespace}/${body.metadata!.name!}`);
    }
  }

  async replaceSecret(body: V1Secret): Promise<V1Secret> {
    const namespace = body.metadata!.namespace!;
    const name = body.metadata!.name!;
    try {
      return asPlain(await this.core.replaceNamespacedSecret({ namespace, name, body }));
    } catch (err) {
      throw kubeError(err, `update Secret ${namespace}/${name}`);
    }
  }

  // ---- Events

  async createEvent(body: CoreV1Event): Promise<void> {
    const namespace = body.metadata!.namespace!;
    try {
      await this.core.createNamespacedEvent({ namespace, body });
    } catch (err) {
      throw kubeError(err, `record Event ${body.reason ?? ''} in ${namespace}`);
    }
  }

  // ---- Leases (every call gives up after timeoutMs: the elector must never wait past its renew deadline)

  async getLease(namespace: string, name: string, opts: { timeoutMs: number }): Promise<V1Lease | undefined> {
    try {
      return asPlain(await this.coordination.readNamespacedLease({ namespace, name }, abortAfter(opts.timeoutMs)));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw kubeError(err, `read Lease ${namespace}/${name}`);
    }
  }

  /** Throws the raw error on 409 (someone else wrote first) so the caller can tell a lost race apart. */
  async createLease(body: V1Lease, opts: { timeoutMs: number }): Promise<V1Lease> {
    return asPlain(
      await this.coordination.createNamespacedLease(
        { namespace: body.metadata!.namespace!, body },
        abortAfter(opts.timeoutMs),
      ),
    );
  }

  async replaceLease(body: V1Lease, opts: { timeoutMs: number }): Promise<V1Lease> {
    return asPlain(
      await this.coordination.replaceNamespacedLease(
        { namespace: body.metadata!.namespace!, name: body.metadata!.name!, body },
        abortAfter(opts.timeoutMs),
      ),
    );
  }
}
