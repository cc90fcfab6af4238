// The lab's stand-in for the pod network (Calico in a cluster): a bridge in the host namespace and one veth into each
// hop namespace, named `cn0` there. The lab's Prometheus scrapes the exporters over it, the exporters reach lab/kube
// over it, and the lab kubelet probes readiness over it. Like a pod's primary interface it is not a Multus attachment,
// so the hop's kill switch (which polices outInterface and forwarded traffic) leaves it alone.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ip = (...args: string[]) => exec('ip', args);

export const POD_INTERFACE = 'cn0';

export interface ClusterNet {
  bridge: string;
  /** The host's address on the bridge: lab/kube listens here so that pods can reach it. */
  hostAddress: string;
  /** Pod IP of each attached namespace. */
  podIPs: Map<string, string>;
  attach(netns: string): Promise<string>;
  remove(): Promise<void>;
}

/**
 * `stem` is at most 10 bytes (interface names are at most 15); `subnet` the first three octets of a /24 used for the
 * pod network only.
 */
export async function createClusterNet(stem: string, subnet = '10.250.0'): Promise<ClusterNet> {
  if (!/^[a-z][a-z0-9]{0,9}$/.test(stem)) throw new Error(`cluster network stem ${stem} must be 1-10 of [a-z0-9]`);
  const bridge = `${stem}cn`;
  const hostAddress = `${subnet}.1`;
  await removeClusterNet(stem);
  await ip('link', 'add', bridge, 'type', 'bridge');
  await ip('addr', 'add', `${hostAddress}/24`, 'dev', bridge);
  await ip('link', 'set', bridge, 'up');
  const podIPs = new Map<string, string>();
  let next = 10;
  return {
    bridge,
    hostAddress,
    podIPs,
    async attach(netns) {
      const n = next++;
      if (n > 250) throw new Error(`cluster network ${bridge} is full`);
      const hostSide = `${stem}c${n}`;
      const address = `${subnet}.${n}`;
      await ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', POD_INTERFACE, 'netns', netns);
      await ip('link', 'set', hostSide, 'master', bridge, 'up');
      await ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', POD_INTERFACE);
      await ip('-n', netns, 'link', 'set', POD_INTERFACE, 'up');
      podIPs.set(netns, address);
      return address;
    },
    remove: async () => {
      await removeClusterNet(stem);
    },
  };
}

/** Deletes the bridge and every host-side veth of `stem` (also what a crashed lab left). */
export async function removeClusterNet(stem: string): Promise<string[]> {
  const { stdout } = await ip('-o', 'link', 'show');
  const names = stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n && (n === `${stem}cn` || new RegExp(`^${stem}c\\d+$`).test(n)));
  for (const name of names) await ip('link', 'del', name).catch(() => undefined);
  return names;
}
