// A lab node's pod sandboxes, as the container runtime and the CNI plugins make them on a node: a fresh network
// namespace per pod, IPv6 off (the lab cluster is IPv4-only), the pod's sysctls (only the safe ones, or unsafe ones
// the node allows, as the kubelet's --allowed-unsafe-sysctls: otherwise the pod is refused with SysctlForbidden), the
// primary interface from the pod network (Calico stand-in), the pod's resolv.conf (cluster DNS), and every Multus
// attachment its annotation asks for, made from the NetworkAttachmentDefinitions in the API (multus.ts) with the
// node's side in the node's namespace (the lab's "fabric", where the chart's bridges live).
import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/server.js';
import type { Sandbox, SandboxProvider } from '../kubelet/kubelet.js';
import { ipBatch, linkNames, run } from '../netns/exec.js';
import { removePodResolvConf, type ClusterDns } from './dns.js';
import {
  missingBridges,
  NETWORKS_ANNOTATION,
  nodeSideName,
  parseNetworks,
  planAttachment,
  type CniConfig,
} from './multus.js';
import type { PodNetwork } from './pod-network.js';

/** Namespaced sysctls Kubernetes considers safe (allowed on every node). https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/ */
export const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

export class SysctlForbidden extends Error {}

export interface SandboxOptions {
  /** Name prefix of pod namespaces (`<prefix>-p-<hash>`) and of node-side attachment interfaces. */
  prefix: string;
  kube: Kube;
  podNetwork: PodNetwork;
  dns: ClusterDns;
  /** The node's namespace holding the Multus bridges and parent interfaces. */
  nodeNetns: string;
  /** The kubelet's --allowed-unsafe-sysctls. */
  allowedUnsafeSysctls: string[];
  log(entry: Record<string, unknown>): void;
}

export function podNetnsName(prefix: string, podUid: string): string {
  return `${prefix}-p-${createHash('sha256').update(podUid).digest('hex').slice(0, 10)}`;
}

/** One attachment made for a pod, before any of its containers run (what a capture needs to follow pods). */
export interface AttachmentEvent {
  pod: V1Pod;
  podNetns: string;
  /** The interface inside the pod (the selection's `interface`). */
  interface: string;
  /** The node's side of it (a veth end in nodeNetns; for macvlan, none). */
  nodeSide?: string;
  nodeNetns: string;
  config: CniConfig;
  /** MAC address of the pod's interface. */
  mac: string;
}

export class LabSandboxes implements SandboxProvider {
  /** Awaited after each attachment is made and before the pod's containers start (e.g. a leak capture). */
  readonly onAttachment = new Set<(e: AttachmentEvent) => Promise<void>>();

  /** The last creation of node bridges: the next one waits for it. */
  private bridges: Promise<void> = Promise.resolve();

  constructor(private readonly o: SandboxOptions) {}

  async create(pod: V1Pod): Promise<Sandbox> {
    const m = pod.metadata!;
    const key = `${m.namespace}/${m.name}`;
    const sysctls = pod.spec?.securityContext?.sysctls ?? [];
    const forbidden = sysctls.filter((s) => !SAFE_SYSCTLS.has(s.name) && !this.o.allowedUnsafeSysctls.includes(s.name));
    if (forbidden.length)
      throw new SysctlForbidden(
        `SysctlForbidden: pod ${key} asks for unsafe sysctls ${forbidden.map((s) => s.name).join(', ')} the node does not allow (kubelet --allowed-unsafe-sysctls)`,
      );
    const netns = podNetnsName(this.o.prefix, m.uid!);
    await run('ip', ['netns', 'del', netns]).catch(() => undefined);
    await run('ip', ['netns', 'add', netns]);
    const attached: string[] = [];
    const destroy = async () => {
      // CNI DEL, as the kubelet calls it when it stops the sandbox: the bridge and macvlan plugins delete the pod's
      // interface there and then. `ip netns del` alone only drops the name: the kernel tears the namespace down
      // later (a process or socket still inside keeps it for good), and meanwhile the old pod's attachment stays
      // on the bridge with the hop's fixed gateway MAC and address, answering ARP beside the new pod: the hop
      // below sent its tunnel into the dead pod for 106 s once (bench:failover, production timings).
      for (const ifname of [...attached].reverse())
        await run('ip', ['-n', netns, 'link', 'del', 'dev', ifname]).catch(() => undefined);
      await this.o.podNetwork.remove(netns).catch(() => undefined);
      await run('ip', ['netns', 'del', netns]).catch(() => undefined);
      removePodResolvConf(netns);
    };
    try {
      await ipBatch(['link set lo up'], netns);
      await run('ip', [
        'netns',
        'exec',
        netns,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
        ...sysctls.map((s) => `${s.name}=${s.value}`),
      ]);
      const podIP = await this.o.podNetwork.add(netns, key);
      this.o.dns.writePodResolvConf(netns, m.namespace!);
      await this.attach(pod, netns, attached);
      return { netns, podIP, destroy };
    } catch (err) {
      await destroy();
      throw err;
    }
  }

  /** Multus: every attachment of the pod's annotation, from its NetworkAttachmentDefinition. */
  private async attach(pod: V1Pod, netns: string, attached: string[]): Promise<void> {
    const m = pod.metadata!;
    const value = m.annotations?.[NETWORKS_ANNOTATION];
    if (!value) return;
    const selections = parseNetworks(value, m.namespace!);
    const configs: Array<{ sel: (typeof selections)[number]; config: CniConfig }> = [];
    for (const sel of selections) {
      const nad = this.o.kube.getObject(sel.namespace, 'network-attachment-definitions', sel.name, 'k8s.cni.cncf.io');
      if (!nad)
        throw new Error(
          `cannot attach network ${sel.namespace}/${sel.name} (interface ${sel.interface}): no such NetworkAttachmentDefinition`,
        );
      const raw = (nad.spec as { config?: string } | undefined)?.config;
      if (!raw) throw new Error(`NetworkAttachmentDefinition ${sel.namespace}/${sel.name} has no spec.config`);
      configs.push({ sel, config: JSON.parse(raw) as CniConfig });
    }
    // Two pods of a node starting at once would both see a bridge missing and both add it ("File exists"): the
    // check and the creation run one pod at a time.
    const create = this.bridges.then(async () => {
      const existing = new Set(await linkNames(this.o.nodeNetns));
      const bridges = missingBridges(
        configs.map((c) => c.config),
        existing,
      );
      if (bridges.length)
        await ipBatch(
          bridges.flatMap((b) => [`link add ${b} type bridge`, `link set ${b} up`]),
          this.o.nodeNetns,
        );
    });
    this.bridges = create.catch(() => undefined);
    await create;
    for (const { sel, config } of configs) {
      const plan = planAttachment(sel, config, { podNetns: netns, podUid: m.uid!, prefix: this.o.prefix });
      await ipBatch(plan.node, this.o.nodeNetns);
      attached.push(sel.interface);
      await ipBatch(plan.pod, netns);
      if (this.onAttachment.size) {
        const { stdout: link } = await run('ip', ['-n', netns, '-o', 'link', 'show', 'dev', sel.interface]);
        const event: AttachmentEvent = {
          pod,
          podNetns: netns,
          interface: sel.interface,
          nodeSide: config.type === 'bridge' ? nodeSideName(this.o.prefix, m.uid!, sel.interface) : undefined,
          nodeNetns: this.o.nodeNetns,
          config,
          mac: /link\/ether ([0-9a-f:]{17})/.exec(link)?.[1] ?? '',
        };
        for (const hook of this.onAttachment) await hook(event);
      }
      this.o.log({
        level: 'info',
        msg: 'pod attachment made',
        pod: `${m.namespace}/${m.name}`,
        network: `${sel.namespace}/${sel.name}`,
        interface: sel.interface,
        plugin: config.type,
      });
    }
  }
}
