// The lab's cluster DNS (CoreDNS stand-in): Debian's dnsmasq, run as a pod on the pod network, as CoreDNS is:
// - its own network namespace `<stem>-dns` on the pod network, registered in the API as a mirror pod (the
//   `kubernetes.io/config.mirror` annotation a kubelet puts on static pods, so no kubelet tries to run it)
//   `kube-system/cluster-dns` labelled `k8s-app: kube-dns`, Running and Ready with its pod IP, behind the Service
//   `kube-system/kube-dns` (ClusterIP 10.96.0.10, ports dns/53/UDP and dns-tcp/53/TCP). Pods and host processes reach
//   it through the service proxy, and NetworkPolicies that allow DNS the usual way (namespace kube-system, pods
//   k8s-app=kube-dns) allow it here too;
// - it answers `<service>.<namespace>.svc.cluster.local` from a hosts file regenerated from Services and
//   EndpointSlices on every change (SIGHUP rereads it), NXDOMAIN for other names under cluster.local, REFUSED for
//   everything else: it has no upstream and never forwards (the lab has no internet);
// - `writePodResolvConf()` gives a pod namespace the resolv.conf a pod gets; `ip netns exec` bind-mounts
//   /etc/netns/<netns>/resolv.conf over /etc/resolv.conf, so processes started there resolve like a pod.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Service,
} from '@kubernetes/client-node';
import { run } from '../netns/exec.js';
import { dnsmasqConf, hostsFile, podResolvConf, RESOLV_MARKER } from './dns/render.js';
import { clusterNames } from './names.js';
import type { Log, PodNetwork } from './pod-network.js';
import { servicesFromApi, slicesFromApi } from './service/model.js';
import { ClusterWatch, Debounced } from './watch.js';

export const DNS_SERVICE_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
const DNS_NAMESPACE = 'kube-system';
const DNS_POD = 'cluster-dns';
const DNS_SERVICE = 'kube-dns';
const NETNS_ETC = '/etc/netns';

export interface ClusterDnsOptions {
  stem: string;
  /** An admin kubeconfig: the DNS registers its pod and Service, and watches Services and EndpointSlices. */
  kubeconfigPath: string;
  podNetwork: PodNetwork;
  /** ClusterIP of `kube-system/kube-dns` (default 10.96.0.10). */
  serviceIP?: string;
  clusterDomain?: string;
  /** Node name the mirror pod is bound to (default `lab`). */
  nodeName?: string;
  log?: Log;
}

export interface ClusterDns {
  /** The nameserver pods use: the kube-dns ClusterIP. */
  readonly nameserver: string;
  readonly podIP: string;
  readonly netns: string;
  /** The hosts file dnsmasq serves now. */
  hosts(): string;
  /** Regenerates the hosts file now and waits until dnsmasq has reread it. */
  sync(): Promise<void>;
  /** Gives `netns` the resolv.conf of a pod in `namespace`. */
  writePodResolvConf(netns: string, namespace: string): void;
  stop(): Promise<void>;
}

/** Writes /etc/netns/<netns>/resolv.conf for a pod of `namespace` (marked, so cleanup finds it). */
export function writePodResolvConf(
  stem: string,
  netns: string,
  namespace: string,
  nameserver = DNS_SERVICE_IP,
  domain = CLUSTER_DOMAIN,
): string {
  const dir = join(NETNS_ETC, netns);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'resolv.conf');
  writeFileSync(file, podResolvConf(stem, namespace, nameserver, domain));
  return file;
}

export function removePodResolvConf(netns: string): void {
  const file = join(NETNS_ETC, netns, 'resolv.conf');
  try {
    if (!readFileSync(file, 'utf8').startsWith(RESOLV_MARKER)) return;
  } catch {
    return;
  }
  rmSync(file, { force: true });
  try {
    if (readdirSync(join(NETNS_ETC, netns)).length === 0) rmSync(join(NETNS_ETC, netns), { recursive: true });
  } catch {
    /* gone */
  }
}

/** Crash cleanup: the DNS namespace and its processes, and every resolv.conf written for `stem`'s pods. */
export async function cleanupClusterDns(stem: string): Promise<{ netns: string[]; resolvConfs: string[] }> {
  const { dnsNetns } = clusterNames(stem);
  const out = { netns: [] as string[], resolvConfs: [] as string[] };
  const { stdout } = await run('ip', ['netns', 'pids', dnsNetns]).catch(() => ({ stdout: '' }));
  for (const pid of stdout.split(/\s+/).filter(Boolean))
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  if (
    await run('ip', ['netns', 'del', dnsNetns]).then(
      () => true,
      () => false,
    )
  )
    out.netns.push(dnsNetns);
  let entries: string[] = [];
  try {
    entries = readdirSync(NETNS_ETC);
  } catch {
    /* none */
  }
  for (const ns of entries) {
    try {
      if (!readFileSync(join(NETNS_ETC, ns, 'resolv.conf'), 'utf8').startsWith(`${RESOLV_MARKER} (${stem})`)) continue;
    } catch {
      continue;
    }
    removePodResolvConf(ns);
    out.resolvConfs.push(ns);
  }
  return out;
}

const asList = <T>(p: Promise<T>) => p as unknown as Promise<KubernetesListObject<KubernetesObject>>;
const isNotFound = (e: unknown) => (e as { code?: number }).code === 404;

export async function startClusterDns(opts: ClusterDnsOptions): Promise<ClusterDns> {
  const names = clusterNames(opts.stem);
  const log: Log = opts.log ?? (() => undefined);
  const domain = opts.clusterDomain ?? CLUSTER_DOMAIN;
  const netns = names.dnsNetns;
  const kc = new KubeConfig();
  kc.loadFromFile(opts.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);

  await cleanupClusterDns(opts.stem);
  await run('ip', ['netns', 'add', netns]);
  const podIP = await opts.podNetwork.add(netns, `${DNS_NAMESPACE}/${DNS_POD}`);
  const dir = mkdtempSync(join(tmpdir(), `torchain-dns-${opts.stem}-`));
  chmodSync(dir, 0o755); // dnsmasq rereads the hosts file after dropping to nobody
  const hostsPath = join(dir, 'hosts');
  const confPath = join(dir, 'dnsmasq.conf');
  writeFileSync(hostsPath, '', { mode: 0o644 });
  writeFileSync(confPath, dnsmasqConf({ listen: podIP, port: 53, hostsPath, domain }));

  const reads: Array<() => void> = [];
  const child: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', netns, 'dnsmasq', '--keep-in-foreground', `--conf-file=${confPath}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let exited = false;
  child.on('exit', (code, signal) => {
    exited = true;
    log({ level: 'warn', msg: 'dnsmasq exited', code, signal });
  });
  const started = new Promise<void>((resolve, reject) => {
    child.once('exit', () => reject(new Error(`dnsmasq in ${netns} exited at start: see the dnsmasq log lines`)));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      log({ level: 'debug', msg: 'dnsmasq', line });
      if (/started, version/.test(line)) resolve();
      if (line.includes(`read ${hostsPath}`)) reads.splice(0).forEach((f) => f());
    });
  });
  await started;

  // the DNS pod and its Service, as a cluster has them
  const now = new Date();
  const podBody = {
    metadata: {
      name: DNS_POD,
      namespace: DNS_NAMESPACE,
      labels: { 'k8s-app': 'kube-dns' },
      annotations: {
        'kubernetes.io/config.mirror': names.stem,
        'kubernetes.io/config.source': 'file',
        'kubernetes.io/config.hash': names.stem,
      },
    },
    spec: {
      nodeName: opts.nodeName ?? 'lab',
      containers: [
        {
          name: 'dnsmasq',
          image: 'debian/dnsmasq-base',
          ports: [
            { name: 'dns', containerPort: 53, protocol: 'UDP' },
            { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
          ],
        },
      ],
    },
  };
  await core
    .deleteNamespacedPod({ name: DNS_POD, namespace: DNS_NAMESPACE, gracePeriodSeconds: 0 })
    .catch(() => undefined);
  const pod = await core.createNamespacedPod({ namespace: DNS_NAMESPACE, body: podBody });
  await core.replaceNamespacedPodStatus({
    name: DNS_POD,
    namespace: DNS_NAMESPACE,
    body: {
      ...pod,
      status: {
        phase: 'Running',
        podIP,
        podIPs: [{ ip: podIP }],
        conditions: [
          { type: 'Ready', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
        ],
        containerStatuses: [
          {
            name: 'dnsmasq',
            ready: true,
            restartCount: 0,
            image: 'debian/dnsmasq-base',
            imageID: '',
            state: { running: { startedAt: now } },
          },
        ],
      },
    },
  });
  let svc: V1Service;
  try {
    svc = await core.readNamespacedService({ name: DNS_SERVICE, namespace: DNS_NAMESPACE });
  } catch (e) {
    if (!isNotFound(e)) throw e;
    svc = await core.createNamespacedService({
      namespace: DNS_NAMESPACE,
      body: {
        metadata: { name: DNS_SERVICE, namespace: DNS_NAMESPACE, labels: { 'k8s-app': 'kube-dns' } },
        spec: {
          selector: { 'k8s-app': 'kube-dns' },
          clusterIP: opts.serviceIP ?? DNS_SERVICE_IP,
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 'dns-tcp' },
          ],
        },
      },
    });
  }
  const nameserver = svc.spec!.clusterIP!;
  if (opts.serviceIP && nameserver !== opts.serviceIP)
    log({ level: 'warn', msg: 'kube-dns Service exists with another ClusterIP; using it', clusterIP: nameserver });

  let hosts = '';
  const watch = new ClusterWatch(
    opts.kubeconfigPath,
    [
      {
        name: 'services',
        path: '/api/v1/services',
        list: (k: KubeConfig) => () => asList(k.makeApiClient(CoreV1Api).listServiceForAllNamespaces()),
      },
      {
        name: 'endpointslices',
        path: '/apis/discovery.k8s.io/v1/endpointslices',
        list: (k: KubeConfig) => () => asList(k.makeApiClient(DiscoveryV1Api).listEndpointSliceForAllNamespaces()),
      },
    ],
    () => regenerate.trigger(),
    log,
  );
  const regenerate = new Debounced(async () => {
    const raw = watch.list<V1Service>('services');
    const text = hostsFile(
      servicesFromApi(raw),
      raw
        .filter((s) => s.spec?.clusterIP === 'None')
        .map((s) => ({ namespace: s.metadata!.namespace!, name: s.metadata!.name! })),
      slicesFromApi(watch.list('endpointslices')),
      domain,
    );
    if (text === hosts || exited) return;
    const tmp = `${hostsPath}.tmp`;
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, hostsPath);
    const reread = new Promise<void>((r) => reads.push(r));
    process.kill(child.pid!, 'SIGHUP');
    await Promise.race([reread, new Promise((r) => setTimeout(r, 2000))]);
    hosts = text;
    log({ level: 'info', msg: 'cluster DNS records updated', names: text.split('\n').filter(Boolean).length });
  });
  await watch.start();
  await regenerate.runNow();
  log({ level: 'info', msg: 'cluster DNS started', netns, podIP, nameserver, domain });

  return {
    nameserver,
    podIP,
    netns,
    hosts: () => hosts,
    sync: () => regenerate.runNow(),
    writePodResolvConf: (ns, namespace) => void writePodResolvConf(opts.stem, ns, namespace, nameserver, domain),
    async stop() {
      regenerate.cancel();
      await watch.stop();
      child.kill('SIGTERM');
      if (!exited) await new Promise((r) => child.once('exit', r));
      await core
        .deleteNamespacedPod({ name: DNS_POD, namespace: DNS_NAMESPACE, gracePeriodSeconds: 0 })
        .catch(() => undefined);
      await core.deleteNamespacedService({ name: DNS_SERVICE, namespace: DNS_NAMESPACE }).catch(() => undefined);
      await opts.podNetwork.remove(netns);
      await run('ip', ['netns', 'del', netns]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      log({ level: 'info', msg: 'cluster DNS stopped', netns });
    },
  };
}
