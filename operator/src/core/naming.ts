// Names, labels and annotations of the objects the operator owns. Label keys here are a cross-area contract
// (PodMonitor relabelings, the lab kubelet, the dashboard): see docs/operator.md before changing one.
import { createHash } from 'node:crypto';
import type { HopType, TorChain } from '../api/torchain.js';
import { protocolModule } from '../protocols/index.js';

export const LABEL_APP_NAME = 'app.kubernetes.io/name';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_CHAIN = 'torchain.dev/chain';
export const LABEL_HOP = 'torchain.dev/hop';
export const LABEL_TYPE = 'torchain.dev/type';
export const LABEL_SERVER = 'torchain.dev/server';
/** The owning TorChain's uid: the Deployment selector (immutable), so it must not depend on any spec field. */
export const LABEL_OWNER_UID = 'torchain.dev/owner-uid';

export const APP_NAME_HOP = 'torchain-hop';
export const MANAGED_BY = 'torchain-operator';

export const ANNOTATION_CONFIG_HASH = 'torchain.dev/config-hash';
/** On the hop Deployment: digest of its spec as stored right after the operator's last write (core/drift.ts). */
export const ANNOTATION_SPEC_HASH = 'torchain.dev/spec-hash';
/**
 * On the hop Secret: when it began holding its current server (ISO time; kept across config changes of that server).
 * Alerts that began earlier say nothing about that server (core/failover.ts, stale-alert).
 */
export const ANNOTATION_SERVER_SINCE = 'torchain.dev/server-since';
/** Failover bookkeeping written atomically with each spec.switchServer patch (see failover-state.ts). */
export const ANNOTATION_FAILOVER = 'torchain.dev/failover';
/** Optional overrides of the Multus NetworkAttachmentDefinition names ("name" or "namespace/name"). */
export const ANNOTATION_OUT_NETWORK = 'torchain.dev/out-network';
export const ANNOTATION_IN_NETWORK = 'torchain.dev/in-network';
export const MULTUS_NETWORKS = 'k8s.v1.cni.cncf.io/networks';

/** Where the vpn container finds its config (the Secret is mounted here). */
export const CONFIG_MOUNT_DIR = '/etc/torchain/vpn';
export const EXPORTER_PORT = 9108;

export const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;
export const objectKey = (tc: TorChain): string => keyOf(tc.metadata.namespace ?? '', tc.metadata.name ?? '');

/** The Deployment carries the TorChain's own name, so `kubectl get tc,deploy` lines up one to one. */
export const deploymentName = (tc: TorChain): string => tc.metadata.name ?? '';
export const secretName = (tc: TorChain): string => `${tc.metadata.name ?? ''}-vpn-config`;

export function defaultConfigFileName(type: HopType, chain: string, hop: number): string {
  return protocolModule(type).defaultConfigFileName(chain, hop);
}

export function configFileName(tc: TorChain): string {
  return tc.spec.vpnFileConfig ?? defaultConfigFileName(tc.spec.typeNode, tc.spec.nameTorChain, tc.spec.numberNode);
}

/**
 * Tunnel interface name, unique per (namespace, chain, hop): wireguard-go's UAPI socket
 * /var/run/wireguard/<ifname>.sock is global on a host, so two hops on one node must not share a name.
 * At most 15 bytes (IFNAMSIZ - 1).
 */
export function tunnelInterfaceName(namespace: string, chain: string, hop: number, type: HopType): string {
  const digest = createHash('sha256').update(`${namespace}/${chain}`).digest('hex').slice(0, 6);
  const name = `${protocolModule(type).interfacePrefix}${digest}h${String(hop)}`;
  return name.length <= 15 ? name : name.slice(0, 15);
}

/** Multus attachment names by default: one NetworkAttachmentDefinition per hop interface, named by the chart. */
export function defaultNetworkName(chain: string, hop: number, side: 'in' | 'out'): string {
  return `${chain}-hop${String(hop)}-${side}`;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * A string as a valid label value (at most 63 characters of [-A-Za-z0-9_.], alphanumeric at both ends). Server names
 * come from Vault keys; a name that is not a label value already is mapped to one, with a short digest so two
 * different names never collide.
 */
export function labelValue(value: string): string {
  if (value.length <= 63 && LABEL_VALUE.test(value)) return value;
  const digest = createHash('sha256').update(value).digest('hex').slice(0, 8);
  const cleaned = value
    .replace(/[^-A-Za-z0-9_.]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 54)
    .replace(/[^A-Za-z0-9]+$/, '');
  return cleaned ? `${cleaned}-${digest}` : digest;
}

/**
 * Whether an alert's `server` label names the server a hop runs. Pods carry labelValue(server) (a Vault key may hold
 * colons, capitals, dots), so alerts carry that form: compare label forms, never a label with a raw Vault key.
 */
export function sameServer(a: string, b: string): boolean {
  return labelValue(a) === labelValue(b);
}
