// Builds a chain of hops in network namespaces, joined the way the pods are joined in the cluster:
//
//   client ─macvlan─┐                                  (br-lan: the LAN; macvlan children of one bridge parent)
//                 hop N ─ br-l(N-1) ─ hop N-1 ─ … ─ br-l1 ─ hop 1 ─ br-inet ─┬─ VPN servers (one netns each)
//                                                                           └─ internet host
//
// All bridges live in one "fabric" namespace (the node), so nothing is created in the root namespace. Hop k's
// servers sit on the internet segment but admit their VPN port only from the servers of hop k-1: the only way to
// reach them is through hop k-1's tunnel (whose server masquerades onto the internet segment).
// IPv4 only; IPv6 is disabled in every namespace so that captures hold nothing the test did not send.
//
// Like a pod's attachments, hop k's outIf gets its address from the topology (the chart's IPAM) and its inIf gets
// none: the hop entrypoint assigns it (TORCHAIN_GATEWAY, the TorChain's ipGateWay) once its kill switch holds. With
// `podNetwork`, every hop also gets the pod's primary interface `eth0` with a default route into a cluster network,
// exactly where a leak would go.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipBatch, linkNames, run } from './exec.js';
import { DEFAULT_PREFIX, names, randomId, type Names } from './names.js';
import { createPki, type Pki } from './pki.js';
import { PROTOCOLS, isProtocol } from '../../common/contracts/protocols.js';
import { protocolModule, type PreparedServer } from '../../operator/src/protocols/index.js';
import { createVpnServer, SERVER_MODULES, type Transport, type VpnServer, type VpnType } from './servers/index.js';
import { cleanupPrefix } from './cleanup-core.js';
import { RESOLVER_ADDRESSES, startResolvers, type LabResolvers } from './resolvers.js';

export interface HopSpec {
  type: VpnType;
  /** Transport to the server; WireGuard is always udp. Default udp. */
  transport?: Transport;
}

export interface TopologySpec {
  /** hops[0] is hop 1 (outermost). 1..9 hops. */
  hops: HopSpec[];
  /** Name prefix of every namespace (`<prefix>-<id>-…`) and WireGuard interface (`<prefix>wg<id>…`). Default tcd. */
  prefix?: string;
  /** Short id that tells two topologies of one prefix apart. Default random. */
  id?: string;
  /** Servers in each hop's pool (1..9). Default 1. */
  serversPerHop?: number;
  /** MTU of every link (veth, macvlan, bridge). Default 1500. */
  linkMtu?: number;
  /** Start every VPN server right away. Default true. */
  startServers?: boolean;
  /** Give every hop a pod network interface (eth0, default route into the cluster network). Default false. */
  podNetwork?: boolean;
}

export interface Endpoint {
  netns: string;
  iface: string;
  /** Address without prefix length. */
  address: string;
}

export interface HopHandle {
  /** 1-based hop number (numberNode). */
  number: number;
  type: VpnType;
  transport: Transport;
  netns: string;
  /** Interface toward the LAN client (hop N) or toward hop k+1. */
  inIf: string;
  /** Interface toward the server: hop k-1's inIf, or the internet segment for hop 1. */
  outIf: string;
  /** Tunnel interface name (TORCHAIN_TUN_IF). */
  tunIf: string;
  /** Address on inIf with prefix length: the entrypoint assigns it (TORCHAIN_GATEWAY) once the kill switch holds. */
  inAddress: string;
  outAddress: string;
  /** MAC address of outIf: tells this hop's frames from others on a captured link. */
  outMac: string;
  /** Next hop toward the server on outIf (hop k-1's inIf address); undefined for hop 1 (servers are on-link). */
  outGateway?: string;
  /**
   * TORCHAIN_GATEWAY (the TorChain's ipGateWay), the same as inAddress: on hop N the LAN's fixed gateway, on the
   * others the next hop's outGateway. The entrypoint assigns it once the kill switch holds.
   */
  lanGateway: string;
  /** The wire side of this hop's external link (its outIf), in the fabric namespace: capture here. */
  externalLink: { netns: string; iface: string };
  /** With `podNetwork`: the wire side of the hop's pod network interface, in the fabric namespace. */
  podLink?: { netns: string; iface: string };
  /** This hop's server pool. */
  servers: VpnServer[];
  /** Scratch directory for the entrypoint (TORCHAIN_TMP_DIR). */
  tmpDir: string;
  /**
   * The entrypoint environment (the cluster contract) for server `server` of the pool: its client config prepared
   * by the operator's protocol module (as the hop's Secret holds it) and written beside the others.
   */
  env(opts: { mtu: number; server?: number }): Promise<Record<string, string>>;
  /** The server `server` of the pool as the operator's protocol module prepares it. */
  prepared(server?: number): PreparedServer;
  /**
   * Puts the hop's namespace into the state of a new pod sandbox before its containers run: no nftables, no tunnel
   * device, no routes or rules of the entrypoint, no address on inIf; IPv4 forwarding as a new namespace on this node
   * inherits it, then `sysctls` (the pod's securityContext.sysctls). The attachments stay (captures keep running).
   */
  newPodSandbox(sysctls?: Array<{ name: string; value: string }>, opts?: { ipamInAddress?: boolean }): Promise<void>;
}

export interface Topology {
  prefix: string;
  id: string;
  names: Names;
  dir: string;
  linkMtu: number;
  fabricNetns: string;
  client: Endpoint & { gateway: string };
  internet: Endpoint;
  /** The internet side's resolvers: the exit's (pushed by hop N's servers), an alternate and an outside one. */
  resolvers: LabResolvers;
  hops: HopHandle[];
  servers: VpnServer[];
  /** Stops every daemon, removes every namespace and the key directory. Safe to call twice. */
  teardown(): Promise<void>;
}

const LAN_NET = '10.200.0';
const LAN_GATEWAY = `${LAN_NET}.1/24`;
const CLIENT_ADDRESS = `${LAN_NET}.100`;
const INTERNET_HOST = '198.18.0.100';
const HOP1_OUT = '198.18.0.2';
/** The most servers per hop a topology builds (the lab, the bench and the CLI check against it). */
export const MAX_SERVERS_PER_HOP = 9;

const serverAddress = (k: number, j: number) => `198.18.${k}.${10 + j}`;
const linkNet = (k: number) => `10.201.${k}`;
const tunnelNet = (k: number, j: number) => `10.${100 + k}.${j}.0/24`;
const POD_NET = '10.202.0';
/**
 * The resolver server j of hop k hands out, as providers push theirs (only the exit hop's is used): the exit
 * resolver, but the alternate one from every second server of the exit hop, so a switch of the exit hop changes the
 * resolver the gateway must follow.
 */
const pushedResolver = (k: number, j: number, n: number) =>
  k === n && j % 2 === 1 ? RESOLVER_ADDRESSES.alternate : RESOLVER_ADDRESSES.exit;

function validate(spec: TopologySpec): void {
  if (!Array.isArray(spec.hops) || spec.hops.length < 1 || spec.hops.length > 9) {
    throw new Error(`topology: hops must list 1..9 hops, got ${spec.hops?.length}`);
  }
  spec.hops.forEach((h, i) => {
    if (!isProtocol(h.type))
      throw new Error(`topology: hop ${i + 1} type ${String(h.type)} is not one of ${PROTOCOLS.join(', ')}`);
    if (h.transport && h.transport !== 'udp' && h.transport !== 'tcp')
      throw new Error(`topology: hop ${i + 1} transport ${String(h.transport)} is not udp or tcp`);
    const transports = SERVER_MODULES[h.type].transports;
    if (h.transport && !transports.includes(h.transport))
      throw new Error(`topology: hop ${i + 1} is ${h.type}, which runs over ${transports.join(' or ')} only`);
  });
  const per = spec.serversPerHop ?? 1;
  if (!Number.isInteger(per) || per < 1 || per > MAX_SERVERS_PER_HOP)
    throw new Error(`topology: serversPerHop ${per} must be 1..${MAX_SERVERS_PER_HOP}`);
  const mtu = spec.linkMtu ?? 1500;
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 9000) throw new Error(`topology: linkMtu ${mtu} must be 576..9000`);
}

/** Creates namespace `ns` with loopback up and IPv6 off. */
async function addNetns(ns: string): Promise<void> {
  await run('ip', ['netns', 'add', ns]);
  await ipBatch(['link set lo up'], ns);
  await run('ip', [
    'netns',
    'exec',
    ns,
    'sysctl',
    '-qw',
    'net.ipv6.conf.all.disable_ipv6=1',
    'net.ipv6.conf.default.disable_ipv6=1',
  ]);
}

async function macOf(ns: string, dev: string): Promise<string> {
  const { stdout } = await run('ip', ['-n', ns, '-o', 'link', 'show', 'dev', dev]);
  const m = /link\/ether ([0-9a-f:]{17})/.exec(stdout);
  if (!m) throw new Error(`topology: no MAC address on ${dev} in ${ns}`);
  return m[1]!;
}

async function segmentOnTransmit(ns: string): Promise<void> {
  const devs = (await linkNames(ns)).filter((d) => d !== 'lo');
  if (devs.length)
    await ipBatch(
      devs.map((d) => `link set dev ${d} gso_max_segs 1`),
      ns,
    );
}

/** See HopHandle.newPodSandbox. */
async function newPodSandbox(
  ns: string,
  tunIf: string,
  sysctls: Array<{ name: string; value: string }>,
  ipamInAddress: string | undefined,
) {
  // Forwarding first, straight to the new sandbox's values (a real new pod is a new namespace: there is no moment
  // with the old forwarding and no kill switch). A new namespace inherits the node's IPv4 settings
  // (net.core.devconf_inherit_init_net=0, the default): on a node that routes (ip_forward=1, as Kubernetes nodes do)
  // a pod forwards from its first instant unless its own sysctls say otherwise.
  const node = (key: string) => readFileSync(`/proc/sys/net/ipv4/conf/${key}/forwarding`, 'utf8').trim();
  let all = node('all');
  let dflt = node('default');
  let in0 = dflt;
  const others: string[] = [];
  for (const { name, value } of sysctls) {
    if (name === 'net.ipv4.ip_forward' || name === 'net.ipv4.conf.all.forwarding') all = dflt = in0 = value;
    else if (name === 'net.ipv4.conf.default.forwarding') dflt = in0 = value;
    else others.push(`${name}=${value}`);
  }
  await run('ip', [
    'netns',
    'exec',
    ns,
    'sysctl',
    '-qw',
    `net.ipv4.conf.all.forwarding=${all}`,
    `net.ipv4.conf.default.forwarding=${dflt}`,
    `net.ipv4.conf.in0.forwarding=${in0}`,
    ...others,
  ]);
  await run('ip', ['netns', 'exec', ns, 'nft', 'flush', 'ruleset']);
  await ipBatch([`link del ${tunIf}`], ns).catch(() => undefined);
  await ipBatch(
    ['address flush dev in0', 'rule del pref 188', 'route flush table 188', 'route flush proto 73'],
    ns,
  ).catch(() => undefined);
  // The design this replaced: an attachment whose IPAM gives inIf its address from the start.
  if (ipamInAddress) await ipBatch([`address add ${ipamInAddress} dev in0`], ns);
}

/** A hop's server pool in a world. */
export interface HopPool {
  number: number;
  type: VpnType;
  transport: Transport;
  servers: VpnServer[];
}

/**
 * Everything of a chain but its hops: the node ("fabric") namespace with the LAN bridge and the internet bridge,
 * the LAN client, the internet host and every hop's server pool. The lab builds one per chain and lets its pods'
 * attachments (the chart's NetworkAttachmentDefinitions) join the bridges; buildTopology adds fixed hop namespaces.
 */
export interface World {
  prefix: string;
  id: string;
  names: Names;
  dir: string;
  linkMtu: number;
  fabricNetns: string;
  /** The LAN's bridge in the fabric: the macvlan parent of hop N's LAN attachment and of the client. */
  lanBridge: string;
  /** The internet segment's bridge in the fabric: hop 1's external attachment joins it. */
  internetBridge: string;
  /** LAN gateway address with prefix (hop N's ipGateWay). */
  lanGateway: string;
  /** Hop 1's address on the internet segment, with prefix. */
  hop1Address: string;
  client: Endpoint & { gateway: string };
  internet: Endpoint;
  /** The internet side's resolvers: the exit's (pushed by hop N's servers), an alternate and an outside one. */
  resolvers: LabResolvers;
  pools: HopPool[];
  servers: VpnServer[];
  teardown(): Promise<void>;
}

export async function buildWorld(spec: TopologySpec): Promise<World> {
  validate(spec);
  const prefix = spec.prefix ?? DEFAULT_PREFIX;
  const id = spec.id ?? randomId();
  const n = names(prefix, id);
  const linkMtu = spec.linkMtu ?? 1500;
  const per = spec.serversPerHop ?? 1;
  const N = spec.hops.length;
  // Fail before creating anything when a name would be too long.
  spec.hops.forEach((h, i) => {
    n.hopTunnel(i + 1, h.type);
    for (let j = 0; j < per; j++) n.serverTunnel(i + 1, j, h.type);
  });
  const dir = await mkdtemp(join(tmpdir(), n.tmpDirPrefix));
  const servers: VpnServer[] = [];
  let resolvers: LabResolvers | undefined;
  let torn = false;
  const teardown = async () => {
    if (torn) return;
    torn = true;
    await Promise.allSettled([...servers.map((s) => s.close()), resolvers?.stop()]);
    await cleanupPrefix(n.netnsPrefix.replace(/-$/, ''), { quiet: true });
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const all = [n.fabric, n.client, n.internet, n.dns];
    for (let k = 1; k <= N; k++) for (let j = 0; j < per; j++) all.push(n.server(k, j));
    for (const ns of all) await addNetns(ns);
    const mtu = `mtu ${linkMtu}`;
    const fabric: string[] = [
      `link add br-lan ${mtu} type bridge`,
      'link set br-lan up',
      `link add br-inet ${mtu} type bridge`,
      'link set br-inet up',
      // the LAN host: a macvlan child of br-lan, as on the node's LAN NIC
      `link add lan-client link br-lan ${mtu} type macvlan mode bridge`,
      `link set lan-client netns ${n.client} name eth0`,
      `link add inet ${mtu} type veth peer name eth0 ${mtu} netns ${n.internet}`,
      'link set inet master br-inet up',
    ];
    for (let k = 1; k <= N; k++)
      for (let j = 0; j < per; j++)
        fabric.push(
          `link add s${k}-${j} ${mtu} type veth peer name eth0 ${mtu} netns ${n.server(k, j)}`,
          `link set s${k}-${j} master br-inet up`,
        );
    await ipBatch(fabric, n.fabric);
    // veth and macvlan hand whole TSO/GSO super-packets to the peer; a real NIC segments them on the wire. Make
    // every link transmit MTU-sized frames, so that captures show what a wire would carry.
    for (const ns of all) await segmentOnTransmit(ns);
    await ipBatch(
      [`address add ${CLIENT_ADDRESS}/24 dev eth0`, 'link set eth0 up', `route add default via ${LAN_NET}.1`],
      n.client,
    );
    await ipBatch([`address add ${INTERNET_HOST}/16 dev eth0`, 'link set eth0 up'], n.internet);
    const pki: Pki | undefined = spec.hops.some((h) => SERVER_MODULES[h.type].needsPki)
      ? await createPki(join(dir, 'pki'))
      : undefined;
    const pools: HopPool[] = [];
    for (let k = 1; k <= N; k++) {
      const h = spec.hops[k - 1]!;
      const transport: Transport = h.transport ?? 'udp';
      const pool: VpnServer[] = [];
      for (let j = 0; j < per; j++) {
        const ns = n.server(k, j);
        const address = serverAddress(k, j);
        await ipBatch([`address add ${address}/16 dev eth0`, 'link set eth0 up'], ns);
        const server = await createVpnServer(
          {
            name: `hop${k}-s${j}`,
            type: h.type,
            transport,
            netns: ns,
            address,
            port: SERVER_MODULES[h.type].port,
            tunnelIf: n.serverTunnel(k, j, h.type),
            tunnelNet: tunnelNet(k, j),
            egressIf: 'eth0',
            allowFrom: k > 1 ? Array.from({ length: per }, (_, i) => serverAddress(k - 1, i)) : undefined,
            dns: pushedResolver(k, j, N),
          },
          dir,
          pki,
        );
        pool.push(server);
        servers.push(server);
      }
      pools.push({ number: k, type: h.type, transport, servers: pool });
    }
    if (spec.startServers ?? true) for (const s of servers) await s.start();
    resolvers = await startResolvers({
      netns: n.dns,
      fabricNetns: n.fabric,
      bridge: 'br-inet',
      linkMtu,
      exitServers: Array.from({ length: per }, (_, j) => serverAddress(N, j)),
    });
    return {
      prefix,
      id,
      names: n,
      dir,
      linkMtu,
      fabricNetns: n.fabric,
      lanBridge: 'br-lan',
      internetBridge: 'br-inet',
      lanGateway: LAN_GATEWAY,
      hop1Address: `${HOP1_OUT}/16`,
      client: { netns: n.client, iface: 'eth0', address: CLIENT_ADDRESS, gateway: `${LAN_NET}.1` },
      internet: { netns: n.internet, iface: 'eth0', address: INTERNET_HOST },
      resolvers,
      pools,
      servers,
      teardown,
    };
  } catch (e) {
    await teardown().catch(() => undefined);
    throw e;
  }
}

export async function buildTopology(spec: TopologySpec): Promise<Topology> {
  validate(spec);
  const prefix = spec.prefix ?? DEFAULT_PREFIX;
  const id = spec.id ?? randomId();
  const n = names(prefix, id);
  const linkMtu = spec.linkMtu ?? 1500;
  const per = spec.serversPerHop ?? 1;
  const N = spec.hops.length;
  // Fail before creating anything when a name would be too long.
  spec.hops.forEach((h, i) => {
    n.hopTunnel(i + 1, h.type);
    for (let j = 0; j < per; j++) n.serverTunnel(i + 1, j, h.type);
  });
  const dir = await mkdtemp(join(tmpdir(), n.tmpDirPrefix));
  const servers: VpnServer[] = [];
  let resolvers: LabResolvers | undefined;
  let torn = false;
  const teardown = async () => {
    if (torn) return;
    torn = true;
    await Promise.allSettled([...servers.map((s) => s.close()), resolvers?.stop()]);
    await cleanupPrefix(n.netnsPrefix.replace(/-$/, ''), { quiet: true });
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const all = [n.fabric, n.client, n.internet, n.dns, ...spec.hops.map((_, i) => n.hop(i + 1))];
    for (let k = 1; k <= N; k++) for (let j = 0; j < per; j++) all.push(n.server(k, j));
    for (const ns of all) await addNetns(ns);

    const mtu = `mtu ${linkMtu}`;
    const fabric: string[] = [
      `link add br-lan ${mtu} type bridge`,
      'link set br-lan up',
      `link add br-inet ${mtu} type bridge`,
      'link set br-inet up',
    ];
    for (let k = 1; k < N; k++) fabric.push(`link add br-l${k} ${mtu} type bridge`, `link set br-l${k} up`);
    if (spec.podNetwork) {
      // The cluster network: pod IPs on one bridge, the "node" at .1 as everyone's default gateway.
      fabric.push(`link add br-pod ${mtu} type bridge`, `address add ${POD_NET}.1/24 dev br-pod`, 'link set br-pod up');
      for (let k = 1; k <= N; k++)
        fabric.push(
          `link add p${k} ${mtu} type veth peer name eth0 ${mtu} netns ${n.hop(k)}`,
          `link set p${k} master br-pod up`,
        );
    }
    // LAN: two macvlan children of br-lan (as hop N's macvlan attachment and a LAN host on the node's NIC).
    fabric.push(
      `link add lan-gw link br-lan ${mtu} type macvlan mode bridge`,
      `link set lan-gw netns ${n.hop(N)} name in0`,
      `link add lan-client link br-lan ${mtu} type macvlan mode bridge`,
      `link set lan-client netns ${n.client} name eth0`,
    );
    // Each hop's outIf: a veth whose wire end x<k> sits on the bridge above it.
    for (let k = 1; k <= N; k++) {
      fabric.push(`link add x${k} ${mtu} type veth peer name out0 ${mtu} netns ${n.hop(k)}`);
      fabric.push(`link set x${k} master ${k === 1 ? 'br-inet' : `br-l${k - 1}`} up`);
    }
    for (let k = 1; k < N; k++) {
      fabric.push(
        `link add l${k} ${mtu} type veth peer name in0 ${mtu} netns ${n.hop(k)}`,
        `link set l${k} master br-l${k} up`,
      );
    }
    fabric.push(
      `link add inet ${mtu} type veth peer name eth0 ${mtu} netns ${n.internet}`,
      'link set inet master br-inet up',
    );
    for (let k = 1; k <= N; k++) {
      for (let j = 0; j < per; j++) {
        fabric.push(
          `link add s${k}-${j} ${mtu} type veth peer name eth0 ${mtu} netns ${n.server(k, j)}`,
          `link set s${k}-${j} master br-inet up`,
        );
      }
    }
    await ipBatch(fabric, n.fabric);
    // veth and macvlan hand whole TSO/GSO super-packets to the peer; a real NIC segments them on the wire. Make
    // every link transmit MTU-sized frames, so that captures show what a wire would carry.
    for (const ns of all) await segmentOnTransmit(ns);

    await ipBatch(
      [`address add ${CLIENT_ADDRESS}/24 dev eth0`, 'link set eth0 up', `route add default via ${LAN_NET}.1`],
      n.client,
    );
    await ipBatch([`address add ${INTERNET_HOST}/16 dev eth0`, 'link set eth0 up'], n.internet);

    const pki: Pki | undefined = spec.hops.some((h) => SERVER_MODULES[h.type].needsPki)
      ? await createPki(join(dir, 'pki'))
      : undefined;
    const hops: HopHandle[] = [];
    for (let k = 1; k <= N; k++) {
      const h = spec.hops[k - 1]!;
      const transport: Transport = h.transport ?? 'udp';
      const hopNs = n.hop(k);
      const outAddress = k === 1 ? `${HOP1_OUT}/16` : `${linkNet(k - 1)}.2/24`;
      // inIf gets no address here: the entrypoint assigns it once the kill switch holds (TORCHAIN_GATEWAY).
      const inAddress = k < N ? `${linkNet(k)}.1/24` : LAN_GATEWAY;
      const batch = [`address add ${outAddress} dev out0`, 'link set out0 up', 'link set in0 up'];
      if (spec.podNetwork)
        batch.push(
          `address add ${POD_NET}.${10 + k}/24 dev eth0`,
          'link set eth0 up',
          `route add default via ${POD_NET}.1 dev eth0`,
        );
      await ipBatch(batch, hopNs);

      const outMac = await macOf(hopNs, 'out0');
      const pool: VpnServer[] = [];
      for (let j = 0; j < per; j++) {
        const ns = n.server(k, j);
        const address = serverAddress(k, j);
        await ipBatch([`address add ${address}/16 dev eth0`, 'link set eth0 up'], ns);
        const server = await createVpnServer(
          {
            name: `hop${k}-s${j}`,
            type: h.type,
            transport,
            netns: ns,
            address,
            port: SERVER_MODULES[h.type].port,
            tunnelIf: n.serverTunnel(k, j, h.type),
            tunnelNet: tunnelNet(k, j),
            egressIf: 'eth0',
            allowFrom: k > 1 ? Array.from({ length: per }, (_, i) => serverAddress(k - 1, i)) : undefined,
            dns: pushedResolver(k, j, N),
          },
          dir,
          pki,
        );
        pool.push(server);
        servers.push(server);
      }
      const tunIf = n.hopTunnel(k, h.type);
      const tmpDir = join(dir, `hop${k}-tmp`);
      const outGateway = k > 1 ? `${linkNet(k - 1)}.1` : undefined;
      const lanGateway = inAddress;
      const module = protocolModule(h.type);
      const prepared = (server = 0): PreparedServer => {
        const srv = pool[server];
        if (!srv) throw new Error(`topology: hop ${k} has no server ${server} (pool of ${pool.length})`);
        const r = module.prepare(srv.clientConfig);
        if (!r.ok) throw new Error(`topology: hop ${k} server ${srv.spec.name}: ${r.error}`);
        return r.value;
      };
      hops.push({
        number: k,
        type: h.type,
        transport,
        netns: hopNs,
        inIf: 'in0',
        outIf: 'out0',
        tunIf,
        inAddress,
        outAddress,
        outMac,
        outGateway,
        lanGateway,
        externalLink: { netns: n.fabric, iface: `x${k}` },
        servers: pool,
        tmpDir,
        podLink: spec.podNetwork ? { netns: n.fabric, iface: `p${k}` } : undefined,
        prepared,
        async env({ mtu, server = 0 }) {
          const p = prepared(server);
          // What the hop's Secret would hold: the run config and its companions, side by side.
          const runDir = join(dir, `hop${k}-config`, String(server));
          await mkdir(runDir, { recursive: true, mode: 0o700 });
          const config = join(runDir, module.defaultConfigFileName('lab', k));
          await writeFile(config, p.runConfig, { mode: 0o600 });
          for (const [suffix, text] of Object.entries(p.companions))
            await writeFile(`${config}.${suffix}`, text, { mode: 0o600 });
          return {
            TORCHAIN_TYPE: h.type,
            TORCHAIN_CONFIG: config,
            TORCHAIN_ENDPOINT: p.endpoint,
            TORCHAIN_PROTO: p.protos.join(','),
            TORCHAIN_OUT_IF: 'out0',
            TORCHAIN_IN_IF: 'in0',
            TORCHAIN_MTU: String(mtu),
            TORCHAIN_TUN_IF: tunIf,
            TORCHAIN_TMP_DIR: tmpDir,
            TORCHAIN_GATEWAY: lanGateway,
            ...(outGateway ? { TORCHAIN_OUT_GATEWAY: outGateway } : {}),
            ...p.env,
            ...module.mtuEnv?.(p, mtu),
          };
        },
        newPodSandbox: (sysctls = [], opts = {}) =>
          newPodSandbox(hopNs, tunIf, sysctls, opts.ipamInAddress ? inAddress : undefined),
      });
    }
    if (spec.startServers ?? true) for (const s of servers) await s.start();
    resolvers = await startResolvers({
      netns: n.dns,
      fabricNetns: n.fabric,
      bridge: 'br-inet',
      linkMtu,
      exitServers: Array.from({ length: per }, (_, j) => serverAddress(N, j)),
    });

    return {
      prefix,
      id,
      names: n,
      dir,
      linkMtu,
      fabricNetns: n.fabric,
      client: { netns: n.client, iface: 'eth0', address: CLIENT_ADDRESS, gateway: `${LAN_NET}.1` },
      internet: { netns: n.internet, iface: 'eth0', address: INTERNET_HOST },
      resolvers,
      hops,
      servers,
      teardown,
    };
  } catch (e) {
    await teardown().catch(() => undefined);
    throw e;
  }
}
