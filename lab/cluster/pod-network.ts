// The lab's pod network, a stand-in for Calico's routed model (no bridge, no overlay):
// - each pod namespace gets a veth pair: `eth0` inside with the pod IP as a /32 and a default route via the
//   link-local gateway 169.254.1.1 (which nobody owns: the host side answers ARP for it by proxy ARP, as Calico's
//   cali* interfaces do), and the host side `<stem>-<hash>` in the root namespace without an address, with a /32
//   route to the pod, forwarding on and strict reverse-path filtering (a pod cannot spoof another pod's address);
// - the node IP sits on the node interface `<stem>node` (a bridge without ports: it stands in for a dummy interface,
//   which this machine's kernel lacks, and likewise drops what is routed into it); host processes (lab/kube,
//   lab/vault, Prometheus…) listen there so that pods reach them; host-to-pod traffic leaves with the node IP as its
//   source (route `src`), and the service CIDR is routed to the node interface, so host processes reach ClusterIPs
//   (DNAT in the output hook) even on a machine without a default route;
// - table `ip <stem>_pod` keeps pod traffic inside the cluster: pods reach other pods and the node IP, nothing else.
// Forwarding is enabled per host-side veth only (IPv4 forwards by the input device's setting), never machine-wide.
import { readFile, writeFile } from 'node:fs/promises';
import { ipBatch, linkNames, run } from '../netns/exec.js';
import { cidrContains, Ipam, isIPv4, parseCidr } from './ipv4.js';
import { clusterNames, type ClusterNames } from './names.js';
import { deleteTable, replaceTable } from './nft.js';

export const POD_GATEWAY = '169.254.1.1';
export const POD_INTERFACE = 'eth0';

export type Log = (entry: Record<string, unknown>) => void;

export interface PodNetworkOptions {
  /** Stem of every name (see names.ts), e.g. `tcl`; 2-8 of [a-z0-9], starting with a letter. */
  stem: string;
  /** Pod IPs come from here (default 10.250.0.0/16). */
  podCIDR?: string;
  /** The node IP, on the node interface (default 10.251.0.1). Must be outside the pod CIDR. */
  nodeIP?: string;
  /** Routed to the node interface so host processes reach ClusterIPs (default 10.96.0.0/12). */
  serviceCIDR?: string;
  log?: Log;
}

export interface PodNetwork {
  readonly names: ClusterNames;
  readonly nodeIP: string;
  readonly podCIDR: string;
  readonly serviceCIDR: string;
  /** nftables wildcard of the host-side pod interfaces (what the policy enforcer polices). */
  readonly interfaceWildcard: string;
  /** Connects a network namespace as a pod; returns its pod IP. `podKey` (`namespace/name`) is for the logs. */
  add(netns: string, podKey: string): Promise<string>;
  /** Disconnects a pod namespace and releases its IP (also fine when the namespace is already gone). */
  remove(netns: string): Promise<void>;
  podIP(netns: string): string | undefined;
  close(): Promise<void>;
}

async function sysctl(path: string, value: string): Promise<void> {
  await writeFile(`/proc/sys/net/${path}`, value);
}

function podTableBody(n: ClusterNames, nodeIP: string): string {
  const pods = `"${n.podIfWildcard}"`;
  return `  comment "lab pod network ${n.stem}: pods reach pods and the node IP ${nodeIP}, nothing else"
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname ${pods} oifname != ${pods} counter drop comment "pod traffic is routed only to pods"
    oifname ${pods} iifname != ${pods} counter drop comment "only pods reach pods through the router"
  }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname ${pods} ip daddr != ${nodeIP} counter drop comment "pods reach the host only at the node IP"
  }
`;
}

/** Removes everything of `stem`'s pod network, also what a crashed process left: veths, the node interface, the table. */
export async function cleanupPodNetwork(stem: string): Promise<{ links: string[]; tables: string[] }> {
  const n = clusterNames(stem);
  const gone = (await linkNames()).filter((l) => l === n.nodeIf || l.startsWith(`${stem}-`));
  for (const l of gone) await run('ip', ['link', 'del', l]).catch(() => undefined);
  const tables = (await deleteTable('ip', n.podTable)) ? [n.podTable] : [];
  return { links: gone, tables };
}

export async function createPodNetwork(opts: PodNetworkOptions): Promise<PodNetwork> {
  const names = clusterNames(opts.stem);
  const log: Log = opts.log ?? (() => undefined);
  const podCIDR = parseCidr(opts.podCIDR ?? '10.250.0.0/16').text;
  const serviceCIDR = parseCidr(opts.serviceCIDR ?? '10.96.0.0/12').text;
  const nodeIP = opts.nodeIP ?? '10.251.0.1';
  if (!isIPv4(nodeIP)) throw new Error(`pod network ${opts.stem}: nodeIP ${JSON.stringify(nodeIP)} is not IPv4`);
  if (cidrContains(parseCidr(podCIDR), nodeIP))
    throw new Error(`pod network ${opts.stem}: nodeIP ${nodeIP} is inside the pod CIDR ${podCIDR}: pick one outside`);
  const ipam = new Ipam(podCIDR);

  await cleanupPodNetwork(opts.stem);
  await ipBatch([
    `link add ${names.nodeIf} type bridge`,
    `addr add ${nodeIP}/32 dev ${names.nodeIf}`,
    `link set ${names.nodeIf} up`,
    // proxy ARP answers for the gateway only when the host routes it through another interface
    `route append ${POD_GATEWAY}/32 dev ${names.nodeIf} scope link`,
    `route append ${serviceCIDR} dev ${names.nodeIf} src ${nodeIP}`,
  ]);
  await replaceTable('ip', names.podTable, podTableBody(names, nodeIP));
  log({ level: 'info', msg: 'pod network up', stem: opts.stem, nodeIP, podCIDR, serviceCIDR, table: names.podTable });

  const byNetns = new Map<string, { ip: string; hostIf: string; podKey: string }>();
  let closed = false;
  // Writing net.ipv4.ip_forward (or conf.all.forwarding) resets forwarding on every interface: a process elsewhere on
  // the machine turning it off would cut every pod off. Put it back and say so.
  const watchdog = setInterval(async () => {
    const off: string[] = [];
    for (const { hostIf } of byNetns.values()) {
      const v = await readFile(`/proc/sys/net/ipv4/conf/${hostIf}/forwarding`, 'utf8').catch(() => '1');
      if (v.trim() === '0') {
        off.push(hostIf);
        await sysctl(`ipv4/conf/${hostIf}/forwarding`, '1').catch(() => undefined);
      }
    }
    if (off.length)
      log({
        level: 'warn',
        msg: 'forwarding was turned off on pod interfaces (net.ipv4.ip_forward=0 written?); turned it back on',
        interfaces: off,
      });
  }, 2000);
  watchdog.unref();
  return {
    names,
    nodeIP,
    podCIDR,
    serviceCIDR,
    interfaceWildcard: names.podIfWildcard,
    podIP: (netns) => byNetns.get(netns)?.ip,
    async add(netns, podKey) {
      if (closed) throw new Error(`pod network ${opts.stem} is closed: cannot add ${podKey}`);
      const had = byNetns.get(netns);
      if (had) return had.ip;
      const hostIf = names.hostVeth(netns);
      const ip = ipam.allocate(netns);
      try {
        await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', POD_INTERFACE, 'netns', netns]);
        await sysctl(`ipv4/conf/${hostIf}/forwarding`, '1');
        await sysctl(`ipv4/conf/${hostIf}/proxy_arp`, '1');
        await sysctl(`ipv4/conf/${hostIf}/rp_filter`, '1');
        await sysctl(`ipv4/neigh/${hostIf}/proxy_delay`, '0');
        await ipBatch([
          `link set ${hostIf} addrgenmode none`,
          `link set ${hostIf} up`,
          `route add ${ip}/32 dev ${hostIf} scope link src ${nodeIP}`,
        ]);
        await ipBatch(
          [
            `link set lo up`,
            `link set ${POD_INTERFACE} addrgenmode none`,
            `addr add ${ip}/32 dev ${POD_INTERFACE}`,
            `link set ${POD_INTERFACE} up`,
            `route add ${POD_GATEWAY} dev ${POD_INTERFACE} scope link`,
            `route add default via ${POD_GATEWAY} dev ${POD_INTERFACE}`,
          ],
          netns,
        );
      } catch (err) {
        ipam.release(netns);
        await run('ip', ['link', 'del', hostIf]).catch(() => undefined);
        throw new Error(
          `pod network ${opts.stem}: cannot connect ${podKey} (netns ${netns}): ${(err as Error).message}`,
        );
      }
      byNetns.set(netns, { ip, hostIf, podKey });
      log({ level: 'info', msg: 'pod added', pod: podKey, netns, podIP: ip, hostInterface: hostIf });
      return ip;
    },
    async remove(netns) {
      const had = byNetns.get(netns);
      if (!had) return;
      byNetns.delete(netns);
      await run('ip', ['link', 'del', had.hostIf]).catch(() => undefined); // gone with its namespace already
      ipam.release(netns);
      log({ level: 'info', msg: 'pod removed', pod: had.podKey, netns, podIP: had.ip });
    },
    async close() {
      closed = true;
      clearInterval(watchdog);
      byNetns.clear();
      const r = await cleanupPodNetwork(opts.stem);
      log({ level: 'info', msg: 'pod network down', stem: opts.stem, ...r });
    },
  };
}
