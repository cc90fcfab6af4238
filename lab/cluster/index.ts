// The lab's cluster network: pod network (Calico routed model), NetworkPolicy enforcer, service proxy (kube-proxy),
// cluster DNS (CoreDNS stand-in, dnsmasq), and their crash cleanup. docs/lab.md#the-cluster-network tells how the
// lab wires them.
export {
  createPodNetwork,
  cleanupPodNetwork,
  POD_GATEWAY,
  type PodNetwork,
  type PodNetworkOptions,
} from './pod-network.js';
export {
  startNetworkPolicy,
  cleanupNetworkPolicy,
  type NetworkPolicyEnforcer,
  type NetworkPolicyOptions,
} from './network-policy.js';
export {
  startServiceProxy,
  cleanupServiceProxy,
  type ServiceProxy,
  type ServiceProxyOptions,
} from './service-proxy.js';
export {
  startClusterDns,
  cleanupClusterDns,
  writePodResolvConf,
  removePodResolvConf,
  DNS_SERVICE_IP,
  CLUSTER_DOMAIN,
  type ClusterDns,
  type ClusterDnsOptions,
} from './dns.js';
export { cleanupCluster, type ClusterCleanupReport } from './cleanup.js';
export { clusterNames, type ClusterNames } from './names.js';
