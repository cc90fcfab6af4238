// Crash cleanup of a whole cluster network: what `npm run lab -- cleanup` should call for the lab's stem. Safe when
// nothing is left; touches only names derived from the stem (see names.ts).
import { cleanupClusterDns } from './dns.js';
import { cleanupNetworkPolicy } from './network-policy.js';
import { cleanupPodNetwork } from './pod-network.js';
import { cleanupServiceProxy } from './service-proxy.js';

export interface ClusterCleanupReport {
  links: string[];
  tables: string[];
  netns: string[];
  resolvConfs: string[];
}

export async function cleanupCluster(stem: string): Promise<ClusterCleanupReport> {
  const dns = await cleanupClusterDns(stem);
  const tables = [...(await cleanupNetworkPolicy(stem)), ...(await cleanupServiceProxy(stem))];
  const pod = await cleanupPodNetwork(stem);
  return { links: pod.links, tables: [...tables, ...pod.tables], netns: dns.netns, resolvConfs: dns.resolvConfs };
}
