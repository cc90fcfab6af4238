// Start-up step: the lab's nodes. Each chain gets its own node (as the chart wants: all hops of a chain on one node,
// joined by that node's bridges) and its own world around it — the node's namespace (the "fabric": the LAN bridge,
// the internet bridge, and the bridges the chain's attachments create), the LAN client, the internet host and the
// chain's VPN server pools. A kubelet per node runs the pods bound to it, in sandboxes from the pod network and
// the node's Multus attachments.
import { join } from 'node:path';
import type { Protocol } from '../../common/contracts/protocols.js';
import { LabSandboxes } from '../cluster/sandboxes.js';
import { LabKubelet, type RunningPod } from '../kubelet/kubelet.js';
import type { ContainerRuntime } from '../kubelet/runtime/types.js';
import { buildWorld, type World } from '../netns/topology.js';
import type { LabCluster } from './cluster.js';
import type { LabContext } from './context.js';

/** The kubelet flag the chart's hop pods need (docs/install.md): they set net.ipv4.ip_forward to 0 at creation. */
export const ALLOWED_UNSAFE_SYSCTLS = ['net.ipv4.ip_forward'];

export interface ChainPlan {
  /** The chain's name (nameTorChain) and namespace. */
  name: string;
  namespace: string;
  /** Hop types, hop 1 first. */
  hops: Protocol[];
  serversPerHop: number;
  /** One letter or digit: the chain's world id (namespace and interface names). */
  id: string;
  /** The node its hops run on. */
  node: string;
}

export interface LabNode {
  name: string;
  chain: ChainPlan;
  world: World;
  kubelet: LabKubelet;
  sandboxes: LabSandboxes;
}

/**
 * The Vault key of server j of a hop's pool: deliberately not a valid label value (a colon, capitals, dots), so every
 * scenario exercises the label form of server names (docs/vault.md promises any key).
 */
export function vaultKey(chain: ChainPlan, hop: number, j: number): string {
  return `${chain.name.toUpperCase()}:hop${hop}.s${j}`;
}

export async function startNodes(
  ctx: LabContext,
  cluster: LabCluster,
  chains: ChainPlan[],
  runtime: ContainerRuntime,
): Promise<LabNode[]> {
  const nodes: LabNode[] = [];
  for (const chain of chains) {
    ctx.progress(
      `building node ${chain.node}: its namespace, a LAN client, an internet host and ${chain.hops.length * chain.serversPerHop} VPN servers (${chain.hops.join(', ')})`,
    );
    const world = await buildWorld({
      hops: chain.hops.map((type) => ({ type })),
      prefix: ctx.prefix,
      id: chain.id,
      serversPerHop: chain.serversPerHop,
    });
    ctx.onClose(`world of ${chain.node}`, () => world.teardown());
    let sandboxes!: LabSandboxes;
    const kubelet = new LabKubelet({
      kube: cluster.kube,
      kubeconfigPath: cluster.adminKubeconfig,
      node: {
        name: chain.node,
        labels: {
          'kubernetes.io/hostname': chain.node,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
        },
      },
      nodeIP: cluster.nodeIP,
      runtime,
      sandboxes: (sandboxes = new LabSandboxes({
        prefix: ctx.prefix,
        kube: cluster.kube,
        podNetwork: cluster.podNetwork,
        dns: cluster.dns,
        nodeNetns: world.fabricNetns,
        allowedUnsafeSysctls: ALLOWED_UNSAFE_SYSCTLS,
        log: ctx.log,
      })),
      stateDir: join(ctx.stateDir, 'kubelet', chain.node),
      log: (e) => ctx.log({ component: `kubelet/${chain.node}`, ...e }),
    });
    await kubelet.start();
    ctx.onClose(`kubelet of ${chain.node}`, () => kubelet.stop());
    nodes.push({ name: chain.node, chain, world, kubelet, sandboxes });
  }
  return nodes;
}

export function runningPods(nodes: LabNode[]): RunningPod[] {
  return nodes.flatMap((n) => n.kubelet.runningPods());
}
