// The namespace lab: topology builder, real VPN servers, the hop entrypoint as a process, captures, cleanup.
export {
  buildTopology,
  type Topology,
  type TopologySpec,
  type HopHandle,
  type HopSpec,
  type Endpoint,
} from './topology.js';
export {
  startHop,
  startHopResolver,
  wgLatestHandshake,
  ENTRYPOINT,
  RESOLVER_UID,
  type HopProcess,
  type ResolverProcess,
  type StartHopOptions,
} from './hop.js';
export { dnsQuery, type DnsResult } from './dns-client.js';
export { LAB_DOMAIN, RESOLVER_ADDRESSES, RESOLVER_ANSWERS, type LabResolvers } from './resolvers.js';
export {
  createVpnServer,
  openvpnConfigs,
  wireguardConfigs,
  formatEndpoint,
  type VpnServer,
  type VpnServerSpec,
} from './servers/index.js';
export { createPki, type Pki } from './pki.js';
export { cleanupPrefix, type CleanupReport } from './cleanup-core.js';
export { startCapture, type Capture, type CapturedPacket } from './capture.js';
export { Daemon } from './daemon.js';
export { run, nsRun, ipBatch, waitFor, sleep } from './exec.js';
export { DEFAULT_PREFIX, names } from './names.js';
