// The desired Secret and Deployment of one hop, built from the TorChain, the chosen server and the computed MTU.
// Pure: the reconciler compares the result with what exists and writes only the difference.
import { createHash } from 'node:crypto';
import type { V1Container, V1Deployment, V1EnvVar, V1Secret } from '@kubernetes/client-node';
import type { Protocol } from '../../../common/contracts/protocols.js';
import { API_VERSION, KIND, type TorChain } from '../api/torchain.js';
import { protocolModule } from '../protocols/index.js';
import {
  ANNOTATION_CONFIG_HASH,
  ANNOTATION_IN_NETWORK,
  ANNOTATION_OUT_NETWORK,
  APP_NAME_HOP,
  CONFIG_MOUNT_DIR,
  EXPORTER_PORT,
  LABEL_APP_NAME,
  LABEL_CHAIN,
  LABEL_HOP,
  LABEL_MANAGED_BY,
  LABEL_OWNER_UID,
  LABEL_SERVER,
  LABEL_TYPE,
  MANAGED_BY,
  MULTUS_NETWORKS,
  configFileName,
  defaultNetworkName,
  deploymentName,
  labelValue,
  secretName,
  tunnelInterfaceName,
} from './naming.js';
import type { ServerEndpoint } from './vpn-config.js';

/** On the Secret: which server it holds and for which switchServer it was chosen (server-choice.ts StickyChoice). */
export const ANNOTATION_SERVER = 'torchain.dev/server';
export const ANNOTATION_SWITCH_SERVER = 'torchain.dev/switch-server';
/** On owned objects: digest of the desired object, so an unchanged object is never rewritten. */
export const ANNOTATION_DESIRED_HASH = 'torchain.dev/desired-hash';

export const DEFAULT_OUT_INTERFACE = 'eth0';
/** Multus names attachments net1, net2, …: the first one is the LAN side unless inInterface says otherwise. */
export const DEFAULT_IN_INTERFACE = 'net1';
export const DEFAULT_TMP_DIR = '/tmp';
/** The log-exporter runs as this non-root uid, set here so it does not depend on the image's USER. */
export const EXPORTER_UID = 65532;
/**
 * DNS for the LAN (spec.dns): the `dns` container runs the hop image's resolver (images/hop/dns.sh) as this uid —
 * the kill switch confines that user's packets to the tunnel — on an unprivileged port the kill switch redirects
 * port 53 to, with its statistics on 127.0.0.1 for the exporter. The vpn container publishes the exit resolver to it
 * through the shared emptyDir at DNS_DIR.
 */
export const DNS_UID = 65531;
export const DNS_PORT = 1053;
export const DNS_CONTROL_PORT = 8953;
export const DNS_DIR = '/run/torchain/dns';

/** The vpn container image of each protocol, and the exporter's. */
export type HopImages = Record<Protocol, string> & {
  logExporter: string;
  pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
};

export interface HopBuildInput {
  tc: TorChain;
  server: string;
  /** The VPN config file as read from Vault. */
  config: string;
  /** The pool entry prepared by the protocol module: endpoint, transports, the config the client runs. */
  endpoint: ServerEndpoint;
  /** IPv4 host:port the exporter probes through the tunnel (the pool entry's `probe`). */
  probe?: string;
  /** Tunnel MTU (spec.mtu or computed by core/mtu.ts). */
  mtu: number;
  images: HopImages;
  /** ServiceAccount of hop pods (the exporter reads its own pod's log with it); empty: the namespace default. */
  serviceAccountName?: string;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export function hopLabels(tc: TorChain): Record<string, string> {
  return {
    [LABEL_APP_NAME]: APP_NAME_HOP,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_CHAIN]: tc.spec.nameTorChain,
    [LABEL_HOP]: String(tc.spec.numberNode),
    [LABEL_TYPE]: tc.spec.typeNode,
  };
}

export function selectorLabels(tc: TorChain): Record<string, string> {
  return { [LABEL_APP_NAME]: APP_NAME_HOP, [LABEL_OWNER_UID]: tc.metadata.uid ?? '' };
}

function ownerReference(tc: TorChain) {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: tc.metadata.name ?? '',
    uid: tc.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Digest of everything that must restart the hop when it changes: config, server, switch counter, spec, MTU. */
export function configHash(input: HopBuildInput): string {
  return sha256(
    JSON.stringify({
      config: sha256(input.config),
      server: input.server,
      endpoint: input.endpoint.endpoint,
      proto: input.endpoint.proto,
      mtu: input.mtu,
      spec: input.tc.spec,
    }),
  ).slice(0, 32);
}

function withDesiredHash<T extends { metadata?: { annotations?: Record<string, string> } }>(obj: T): T {
  const digest = sha256(JSON.stringify(obj)).slice(0, 32);
  obj.metadata!.annotations = { ...(obj.metadata!.annotations ?? {}), [ANNOTATION_DESIRED_HASH]: digest };
  return obj;
}

export function buildSecret(input: HopBuildInput): V1Secret {
  const { tc } = input;
  return withDesiredHash<V1Secret>({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secretName(tc),
      namespace: tc.metadata.namespace ?? '',
      labels: hopLabels(tc),
      annotations: {
        [ANNOTATION_SERVER]: input.server,
        [ANNOTATION_SWITCH_SERVER]: String(tc.spec.switchServer ?? 0),
      },
      ownerReferences: [ownerReference(tc)],
    },
    type: 'Opaque',
    // The config as the client runs it (its protocol module's output), and its companion files beside it.
    data: Object.fromEntries(
      [
        [configFileName(tc), input.endpoint.runConfig],
        ...Object.entries(input.endpoint.companions).map(([suffix, text]) => [`${configFileName(tc)}.${suffix}`, text]),
      ].map(([name, text]) => [name, Buffer.from(text!, 'utf8').toString('base64')]),
    ),
  });
}

/** "name" or "namespace/name" → a Multus network selection element. */
function networkRef(ref: string, iface: string): Record<string, unknown> {
  const slash = ref.indexOf('/');
  return slash > 0
    ? { name: ref.slice(slash + 1), namespace: ref.slice(0, slash), interface: iface }
    : { name: ref, interface: iface };
}

/** The `k8s.v1.cni.cncf.io/networks` value: outInterface first (toward the server), then inInterface (LAN side). */
export function multusNetworks(tc: TorChain): string | undefined {
  const { nameTorChain: chain, numberNode: hop, outInterface, inInterface } = tc.spec;
  const a = tc.metadata.annotations ?? {};
  const list: Record<string, unknown>[] = [];
  if (outInterface)
    list.push(networkRef(a[ANNOTATION_OUT_NETWORK] ?? defaultNetworkName(chain, hop, 'out'), outInterface));
  // No `ips` for the LAN side: the entrypoint assigns ipGateWay itself once the kill switch holds (see the chart's
  // attachment, which has no IPAM), so LAN clients find no gateway in a pod that forwards but is not yet guarded.
  if (inInterface) list.push(networkRef(a[ANNOTATION_IN_NETWORK] ?? defaultNetworkName(chain, hop, 'in'), inInterface));
  return list.length ? JSON.stringify(list) : undefined;
}

/** The hop entrypoint's environment (contracts.md: hop entrypoint env). */
export function vpnEnv(input: HopBuildInput): V1EnvVar[] {
  const { tc } = input;
  const s = tc.spec;
  const env: Record<string, string> = {
    TORCHAIN_TYPE: s.typeNode,
    TORCHAIN_CONFIG: `${CONFIG_MOUNT_DIR}/${configFileName(tc)}`,
    TORCHAIN_ENDPOINT: input.endpoint.endpoint,
    // Every L4 protocol the client sends to the endpoint: the kill switch admits exactly these.
    TORCHAIN_PROTO: input.endpoint.protos.join(','),
    TORCHAIN_OUT_IF: s.outInterface ?? DEFAULT_OUT_INTERFACE,
  };
  env.TORCHAIN_IN_IF = s.inInterface ?? DEFAULT_IN_INTERFACE;
  // The hop's address on inInterface (the LAN gateway on the last hop, the next hop's outGateway on the others):
  // the entrypoint assigns it once the kill switch holds, never earlier.
  if (s.ipGateWay) env.TORCHAIN_GATEWAY = s.ipGateWay;
  if (s.outGateway) env.TORCHAIN_OUT_GATEWAY = s.outGateway;
  env.TORCHAIN_MTU = String(input.mtu);
  env.TORCHAIN_TUN_IF = tunnelInterfaceName(tc.metadata.namespace ?? '', s.nameTorChain, s.numberNode, s.typeNode);
  env.TORCHAIN_TMP_DIR = s.tmpDir ?? DEFAULT_TMP_DIR;
  // The probe is locally originated: it needs a route into the tunnel (forwarded traffic uses table 188).
  if (input.probe) env.TORCHAIN_TUNNEL_ROUTES = `${input.probe.slice(0, input.probe.lastIndexOf(':'))}/32`;
  if (s.dns) {
    env.TORCHAIN_DNS = '1';
    env.TORCHAIN_DNS_DIR = DNS_DIR;
    env.TORCHAIN_DNS_PORT = String(DNS_PORT);
    env.TORCHAIN_DNS_UID = String(DNS_UID);
    if (s.dns.servers?.length) env.TORCHAIN_DNS_SERVERS = s.dns.servers.join(',');
  }
  Object.assign(env, input.endpoint.env, protocolModule(s.typeNode).mtuEnv?.(input.endpoint, input.mtu));
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

export function vpnImage(tc: TorChain, images: HopImages): string {
  return tc.spec.image ?? images[protocolModule(tc.spec.typeNode).name];
}

/** The `dns` container of a hop with spec.dns: the hop image's resolver, non-root, no capabilities. */
function dnsContainer(tc: TorChain, images: HopImages): V1Container {
  return {
    name: 'dns',
    image: vpnImage(tc, images),
    ...(images.pullPolicy ? { imagePullPolicy: images.pullPolicy } : {}),
    args: ['dns'],
    env: [
      { name: 'TORCHAIN_GATEWAY', value: tc.spec.ipGateWay ?? '' },
      { name: 'TORCHAIN_DNS_DIR', value: DNS_DIR },
      { name: 'TORCHAIN_DNS_PORT', value: String(DNS_PORT) },
      { name: 'TORCHAIN_DNS_CONTROL_PORT', value: String(DNS_CONTROL_PORT) },
      { name: 'TORCHAIN_TMP_DIR', value: '/tmp' },
    ],
    securityContext: {
      runAsNonRoot: true,
      runAsUser: DNS_UID,
      runAsGroup: DNS_UID,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    },
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
    volumeMounts: [
      { name: 'dns', mountPath: DNS_DIR, readOnly: true },
      { name: 'dns-tmp', mountPath: '/tmp' },
    ],
  };
}

export function buildDeployment(input: HopBuildInput): V1Deployment {
  const { tc, images } = input;
  const s = tc.spec;
  const podLabels = {
    ...hopLabels(tc),
    ...selectorLabels(tc),
    [LABEL_SERVER]: labelValue(input.server),
  };
  const podAnnotations: Record<string, string> = { [ANNOTATION_CONFIG_HASH]: configHash(input) };
  const networks = multusNetworks(tc);
  if (networks) podAnnotations[MULTUS_NETWORKS] = networks;
  const pullPolicy = images.pullPolicy ? { imagePullPolicy: images.pullPolicy } : {};
  const tunIf = tunnelInterfaceName(tc.metadata.namespace ?? '', s.nameTorChain, s.numberNode, s.typeNode);

  return withDesiredHash<V1Deployment>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deploymentName(tc),
      namespace: tc.metadata.namespace ?? '',
      labels: hopLabels(tc),
      annotations: { [ANNOTATION_SERVER]: input.server },
      ownerReferences: [ownerReference(tc)],
    },
    spec: {
      // drop > 0 takes the hop down and keeps every object, so undoing it is one field.
      replicas: (s.drop ?? 0) > 0 ? 0 : 1,
      // Two pods of one hop would share the fixed gateway IP and the server session: the old one goes first.
      strategy: { type: 'Recreate' },
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(tc) },
      template: {
        metadata: { labels: podLabels, annotations: podAnnotations },
        spec: {
          ...(s.nameK8sNode ? { nodeSelector: { 'kubernetes.io/hostname': s.nameK8sNode } } : {}),
          ...(input.serviceAccountName ? { serviceAccountName: input.serviceAccountName } : {}),
          terminationGracePeriodSeconds: 10,
          // Forwarding OFF from the sandbox's first instant: a new network namespace inherits IPv4 forwarding from
          // the node (on, on a Kubernetes node), and a peer that still knows our MAC would have its packets routed
          // around the tunnel before the kill switch exists. The entrypoint turns forwarding on for its two
          // interfaces once the kill switch holds.
          securityContext: {
            seccompProfile: { type: 'RuntimeDefault' },
            sysctls: [{ name: 'net.ipv4.ip_forward', value: '0' }],
          },
          containers: [
            {
              name: 'vpn',
              image: vpnImage(tc, images),
              ...pullPolicy,
              env: vpnEnv(input),
              securityContext: {
                // Routes, nftables and the tunnel device need NET_ADMIN; nothing else, never privileged.
                capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] },
                privileged: false,
                allowPrivilegeEscalation: false,
                runAsUser: 0,
              },
              resources: { requests: { cpu: '50m', memory: '32Mi' } },
              volumeMounts: [
                { name: 'vpn-config', mountPath: CONFIG_MOUNT_DIR, readOnly: true },
                { name: 'tmp', mountPath: s.tmpDir ?? DEFAULT_TMP_DIR },
                { name: 'dev-net-tun', mountPath: '/dev/net/tun' },
                ...(s.dns ? [{ name: 'dns', mountPath: DNS_DIR }] : []),
              ],
            },
            ...(s.dns ? [dnsContainer(tc, images)] : []),
            {
              name: 'log-exporter',
              image: images.logExporter,
              ...pullPolicy,
              env: [
                { name: 'TORCHAIN_TYPE', value: s.typeNode },
                { name: 'TORCHAIN_TUN_IF', value: tunIf },
                { name: 'TORCHAIN_LOG_CONTAINER', value: 'vpn' },
                ...(input.probe ? [{ name: 'TORCHAIN_PROBE_TARGET', value: input.probe }] : []),
                // The hop's LAN resolver: probed through the chain, its statistics read on loopback.
                ...(s.dns
                  ? [
                      { name: 'TORCHAIN_DNS_RESOLVER', value: `127.0.0.1:${String(DNS_PORT)}` },
                      { name: 'TORCHAIN_DNS_CONTROL', value: `127.0.0.1:${String(DNS_CONTROL_PORT)}` },
                    ]
                  : []),
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              ],
              ports: [{ name: 'metrics', containerPort: EXPORTER_PORT, protocol: 'TCP' }],
              // The pod is Ready while the tunnel carries traffic: the exporter's /readyz says so.
              readinessProbe: {
                httpGet: { path: '/readyz', port: EXPORTER_PORT },
                periodSeconds: 2,
                failureThreshold: 1,
              },
              livenessProbe: { httpGet: { path: '/healthz', port: EXPORTER_PORT }, periodSeconds: 10 },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: EXPORTER_UID,
                runAsGroup: EXPORTER_UID,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                privileged: false,
                capabilities: { drop: ['ALL'] },
              },
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
            },
          ],
          volumes: [
            { name: 'vpn-config', secret: { secretName: secretName(tc), defaultMode: 0o400 } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            { name: 'dev-net-tun', hostPath: { path: '/dev/net/tun', type: 'CharDevice' } },
            ...(s.dns
              ? [
                  { name: 'dns', emptyDir: { sizeLimit: '1Mi' } },
                  { name: 'dns-tmp', emptyDir: { sizeLimit: '16Mi' } },
                ]
              : []),
          ],
        },
      },
    },
  });
}

/** True when the existing object was written from the same desired state (and nobody scaled it by hand). */
export function upToDate(
  existing: { metadata?: { annotations?: Record<string, string> }; spec?: { replicas?: number } } | undefined,
  desired: { metadata?: { annotations?: Record<string, string> }; spec?: { replicas?: number } },
): boolean {
  if (!existing) return false;
  const same =
    existing.metadata?.annotations?.[ANNOTATION_DESIRED_HASH] ===
    desired.metadata?.annotations?.[ANNOTATION_DESIRED_HASH];
  const replicas = desired.spec?.replicas === undefined || existing.spec?.replicas === desired.spec.replicas;
  return same && replicas;
}
