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
import { KUBE_CALLS, type KubeCall } from './calls.js';
import { isNotFound, kubeError, statusCodeOf } from './errors.js';
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
  /** TorChains in this namespace only (TORCHAIN_WATCH_NAMESPACE); empty: all namespaces. */
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
  call: KubeCall,
  namespace: string | undefined,
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
    throw kubeError(err, what, call, namespace);
  }
  return { items, resourceVersion };
}

/** The operator's own hop objects: lists and watches select them by label. */
const OWNED = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

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

  private startWatch(
    call: KubeCall,
    base: string,
    plural: string,
    namespace: string | undefined,
    params: Record<string, string | number | boolean | undefined>,
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: unknown) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    const path = namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}`;
    const what = `watch ${plural}${namespace ? ` in ${namespace}` : ' in every namespace'}`;
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
        // A refused watch (403) names its missing rule like any other call; 410 and the rest pass as they are.
        (err) => onDone(err && statusCodeOf(err) === 403 ? kubeError(err, what, call, namespace) : (err ?? undefined)),
      )
      .then((controller) => ({ abort: () => controller.abort() }));
  }

  // ---- TorChains (every namespace, or TORCHAIN_WATCH_NAMESPACE)

  torchainListWatch(): ListWatch<TorChain> {
    const ns = this.opts.namespace || undefined;
    return {
      list: (transform) =>
        paged(
          'list TorChains',
          KUBE_CALLS.listTorChains,
          ns,
          transform,
          async (cont) =>
            (ns
              ? await this.custom.listNamespacedCustomObject({
                  group: GROUP,
                  version: VERSION,
                  namespace: ns,
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
        this.startWatch(KUBE_CALLS.watchTorChains, `/apis/${GROUP}/${VERSION}`, PLURAL, ns, {}, rv, onEvent, onDone),
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
      throw kubeError(err, `read TorChain ${namespace}/${name}`, KUBE_CALLS.getTorChain, namespace);
    }
  }

  /**
   * Merge patch of the main resource (spec, metadata); include metadata.resourceVersion for a precondition. A 409 is
   * thrown as it is (the caller re-reads and decides again).
   */
  async patchTorChain(namespace: string, name: string, patch: Record<string, unknown>): Promise<TorChain> {
    try {
      return (await this.custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: patch },
        MERGE,
      )) as TorChain;
    } catch (err) {
      if (statusCodeOf(err) === 403)
        throw kubeError(err, `switch TorChain ${namespace}/${name}`, KUBE_CALLS.patchTorChain, namespace);
      throw err;
    }
  }

  async patchTorChainStatus(namespace: string, name: string, status: TorChainStatus): Promise<TorChain> {
    try {
      return (await this.custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { status } },
        MERGE,
      )) as TorChain;
    } catch (err) {
      throw kubeError(
        err,
        `write the status of TorChain ${namespace}/${name}`,
        KUBE_CALLS.patchTorChainStatus,
        namespace,
      );
    }
  }

  // ---- Deployments (only the operator's, by label; one namespace, or every namespace when namespace is undefined)

  deploymentListWatch(namespace: string | undefined): ListWatch<V1Deployment> {
    return {
      list: (transform) =>
        paged('list hop Deployments', KUBE_CALLS.listDeployments, namespace, transform, async (cont) =>
          toPage<V1Deployment>(
            namespace
              ? await this.apps.listNamespacedDeployment({
                  namespace,
                  labelSelector: OWNED,
                  limit: this.pageSize,
                  _continue: cont,
                })
              : await this.apps.listDeploymentForAllNamespaces({
                  labelSelector: OWNED,
                  limit: this.pageSize,
                  _continue: cont,
                }),
          ),
        ),
      watch: (rv, onEvent, onDone) =>
        this.startWatch(
          KUBE_CALLS.watchDeployments,
          '/apis/apps/v1',
          'deployments',
          namespace,
          { labelSelector: OWNED },
          rv,
          onEvent,
          onDone,
        ),
    };
  }

  /** With dryRun the API server answers what it would store (defaults, admission) and stores nothing. */
  async createDeployment(body: V1Deployment, opts: { dryRun?: boolean } = {}): Promise<V1Deployment> {
    const namespace = body.metadata!.namespace!;
    try {
      return asPlain(
        await this.apps.createNamespacedDeployment({ namespace, body, ...(opts.dryRun ? { dryRun: 'All' } : {}) }),
      );
    } catch (err) {
      throw kubeError(
        err,
        `create Deployment ${namespace}/${body.metadata!.name!}`,
        KUBE_CALLS.createDeployment,
        namespace,
      );
    }
  }

  async replaceDeployment(body: V1Deployment, opts: { dryRun?: boolean } = {}): Promise<V1Deployment> {
    const namespace = body.metadata!.namespace!;
    const name = body.metadata!.name!;
    try {
      return asPlain(
        await this.apps.replaceNamespacedDeployment({
          namespace,
          name,
          body,
          ...(opts.dryRun ? { dryRun: 'All' } : {}),
        }),
      );
    } catch (err) {
      throw kubeError(err, `update Deployment ${namespace}/${name}`, KUBE_CALLS.replaceDeployment, namespace);
    }
  }

  /** Merge patch of spec.replicas alone (spec.drop): needs nothing but the Deployment's name, never Vault. */
  async scaleDeployment(namespace: string, name: string, replicas: number): Promise<V1Deployment> {
    try {
      return asPlain(
        await this.apps.patchNamespacedDeployment({ namespace, name, body: { spec: { replicas } } }, MERGE),
      );
    } catch (err) {
      throw kubeError(
        err,
        `scale Deployment ${namespace}/${name} to ${String(replicas)}`,
        KUBE_CALLS.patchDeployment,
        namespace,
      );
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
      throw kubeError(err, `annotate Deployment ${namespace}/${name}`, KUBE_CALLS.patchDeployment, namespace);
    }
  }

  // ---- Secrets (only the operator's, by label; one namespace, or every namespace when namespace is undefined)

  secretListWatch(namespace: string | undefined): ListWatch<V1Secret> {
    return {
      list: (transform) =>
        paged('list hop Secrets', KUBE_CALLS.listSecrets, namespace, transform, async (cont) =>
          toPage<V1Secret>(
            namespace
              ? await this.core.listNamespacedSecret({
                  namespace,
                  labelSelector: OWNED,
                  limit: this.pageSize,
                  _continue: cont,
                })
              : await this.core.listSecretForAllNamespaces({
                  labelSelector: OWNED,
                  limit: this.pageSize,
                  _continue: cont,
                }),
          ),
        ),
      watch: (rv, onEvent, onDone) =>
        this.startWatch(
          KUBE_CALLS.watchSecrets,
          '/api/v1',
          'secrets',
          namespace,
          { labelSelector: OWNED },
          rv,
          onEvent,
          onDone,
        ),
    };
  }

  async createSecret(body: V1Secret): Promise<V1Secret> {
    const namespace = body.metadata!.namespace!;
    try {
      return asPlain(await this.core.createNamespacedSecret({ namespace, body }));
    } catch (err) {
      throw kubeError(err, `create Secret ${namespace}/${body.metadata!.name!}`, KUBE_CALLS.createSecret, namespace);
    }
  }

  async replaceSecret(body: V1Secret): Promise<V1Secret> {
    const namespace = body.metadata!.namespace!;
    const name = body.metadata!.name!;
    try {
      return asPlain(await this.core.replaceNamespacedSecret({ namespace, name, body }));
    } catch (err) {
      throw kubeError(err, `update Secret ${namespace}/${name}`, KUBE_CALLS.replaceSecret, namespace);
    }
  }

  // ---- Events

  async createEvent(body: CoreV1Event): Promise<void> {
    const namespace = body.metadata!.namespace!;
    try {
      await this.core.createNamespacedEvent({ namespace, body });
    } catch (err) {
      throw kubeError(err, `record Event ${body.reason ?? ''} in ${namespace}`, KUBE_CALLS.createEvent, namespace);
    }
  }

  // ---- Leases (every call gives up after timeoutMs: the elector must never wait past its renew deadline)

  async getLease(namespace: string, name: string, opts: { timeoutMs: number }): Promise<V1Lease | undefined> {
    try {
      return asPlain(await this.coordination.readNamespacedLease({ namespace, name }, abortAfter(opts.timeoutMs)));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw kubeError(err, `read Lease ${namespace}/${name}`, KUBE_CALLS.getLease, namespace);
    }
  }

  /** Throws the raw error on 409 (someone else wrote first) so the caller can tell a lost race apart. */
  async createLease(body: V1Lease, opts: { timeoutMs: number }): Promise<V1Lease> {
    const namespace = body.metadata!.namespace!;
    try {
      return asPlain(await this.coordination.createNamespacedLease({ namespace, body }, abortAfter(opts.timeoutMs)));
    } catch (err) {
      if (statusCodeOf(err) === 403)
        throw kubeError(err, `create Lease ${namespace}/${body.metadata!.name!}`, KUBE_CALLS.createLease, namespace);
      throw err;
    }
  }

  async replaceLease(body: V1Lease, opts: { timeoutMs: number }): Promise<V1Lease> {
    const namespace = body.metadata!.namespace!;
    const name = body.metadata!.name!;
    try {
      return asPlain(
        await this.coordination.replaceNamespacedLease({ namespace, name, body }, abortAfter(opts.timeoutMs)),
      );
    } catch (err) {
      if (statusCodeOf(err) === 403)
        throw kubeError(err, `renew Lease ${namespace}/${name}`, KUBE_CALLS.replaceLease, namespace);
      throw err;
    }
  }
}
