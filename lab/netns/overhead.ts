// Measures the bytes one VPN layer adds, with the real daemons: a hop namespace (running the hop entrypoint) and a
// server namespace joined by one veth carrying IPv4 and IPv6; one don't-fragment ping of a known inner size through
// the tunnel; tcpdump on the wire; overhead = outer IP length - inner IP length.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCapture } from './capture.js';
import { cleanupPrefix } from './cleanup-core.js';
import { ipBatch, nsRun, run } from './exec.js';
import { startHop } from './hop.js';
import { checkId, checkPrefix, DEFAULT_PREFIX, randomId } from './names.js';
import { createPki } from './pki.js';
import { writeFile } from 'node:fs/promises';
import { protocolModule } from '../../operator/src/protocols/index.js';
import { createVpnServer, SERVER_MODULES, type Family, type Transport, type VpnType } from './servers/index.js';
import type { HopHandle } from './topology.js';

export interface OverheadCase {
  type: VpnType;
  transport: Transport;
  family: Family;
}

export interface OverheadResult extends OverheadCase {
  innerLength: number;
  outerLength: number;
  overhead: number;
}

/** Inner IP packet size used: a multiple of 16, so WireGuard's padding adds nothing. */
export const INNER_LENGTH = 1024;

export async function measureOverhead(
  c: OverheadCase,
  opts: { prefix?: string; id?: string } = {},
): Promise<OverheadResult> {
  const prefix = checkPrefix(opts.prefix ?? DEFAULT_PREFIX);
  const id = checkId(opts.id ?? randomId());
  const hopNs = `${prefix}-${id}-ovhop`;
  const srvNs = `${prefix}-${id}-ovsrv`;
  const dir = await mkdtemp(join(tmpdir(), `torchain-netns-${prefix}-${id}-`));
  const v6 = c.family === 'ipv6';
  const hopAddr = v6 ? 'fd00:7c::2' : '192.0.2.2';
  const srvAddr = v6 ? 'fd00:7c::1' : '192.0.2.1';
  const plen = v6 ? 64 : 24;
  let server: Awaited<ReturnType<typeof createVpnServer>> | undefined;
  let stopHop: (() => Promise<void>) | undefined;
  try {
    for (const ns of [hopNs, srvNs]) {
      await run('ip', ['netns', 'add', ns]);
      await ipBatch(['link set lo up'], ns);
    }
    await ipBatch(
      [
        `link add wire mtu 1500 type veth peer name eth0 mtu 1500 netns ${srvNs}`,
        `address add ${hopAddr}/${plen} dev wire nodad`,
        'link set wire up',
        // The entrypoint wants an inInterface: a veth pair that stays inside the hop namespace.
        'link add in0 type veth peer name in0peer',
        'link set in0 up',
        'link set in0peer up',
      ],
      hopNs,
    );
    await ipBatch([`address add ${srvAddr}/${plen} dev eth0 nodad`, 'link set eth0 up'], srvNs);
    const wgName = `${prefix}${protocolModule(c.type).interfacePrefix}${id}o`;
    server = await createVpnServer(
      {
        name: `overhead-${c.type}-${c.transport}-${c.family}`,
        type: c.type,
        transport: c.transport,
        netns: srvNs,
        address: srvAddr,
        port: SERVER_MODULES[c.type].port,
        tunnelIf: SERVER_MODULES[c.type].globalTunnelNames ? `${wgName}s` : 'tun0',
        tunnelNet: '10.77.0.0/24',
        egressIf: 'eth0',
      },
      dir,
      SERVER_MODULES[c.type].needsPki ? await createPki(join(dir, 'pki')) : undefined,
    );
    await server.start();
    const tunIf = SERVER_MODULES[c.type].globalTunnelNames ? `${wgName}h` : 'tun1';
    const srv = server;
    const module = protocolModule(c.type);
    const ready = module.prepare(srv.clientConfig);
    if (!ready.ok) throw new Error(`overhead ${c.type}: ${ready.error}`);
    const prepared = ready.value;
    const config = join(dir, `hop.${c.type}.conf`);
    await writeFile(config, prepared.runConfig, { mode: 0o600 });
    for (const [suffix, text] of Object.entries(prepared.companions))
      await writeFile(`${config}.${suffix}`, text, { mode: 0o600 });
    const hop: HopHandle = {
      number: 1,
      type: c.type,
      transport: c.transport,
      netns: hopNs,
      inIf: 'in0',
      outIf: 'wire',
      tunIf,
      outAddress: `${hopAddr}/${plen}`,
      outMac: '',
      externalLink: { netns: hopNs, iface: 'wire' },
      servers: [srv],
      tmpDir: join(dir, 'hop-tmp'),
      inAddress: '10.78.0.1/24',
      lanGateway: '10.78.0.1/24',
      prepared: () => prepared,
      newPodSandbox: () => Promise.reject(new Error('overhead: no pod sandbox here')),
      env: ({ mtu }) =>
        Promise.resolve({
          TORCHAIN_TYPE: c.type,
          TORCHAIN_CONFIG: config,
          TORCHAIN_ENDPOINT: prepared.endpoint,
          TORCHAIN_PROTO: prepared.protos.join(','),
          TORCHAIN_OUT_IF: 'wire',
          TORCHAIN_IN_IF: 'in0',
          TORCHAIN_MTU: String(mtu),
          TORCHAIN_TUN_IF: tunIf,
          TORCHAIN_TMP_DIR: join(dir, 'hop-tmp'),
          ...prepared.env,
          ...module.mtuEnv?.(prepared, mtu),
        }),
    };
    // A tunnel MTU well above the probe, so the probe is never the thing that is limited.
    const proc = await startHop(hop, { mtu: 1400 });
    stopHop = () => proc.stop();
    await proc.waitUp(20_000);
    const capture = await startCapture(hopNs, 'wire', join(dir, 'wire.pcap'));
    const payload = INNER_LENGTH - 28; // inner IPv4 + ICMP headers
    await nsRun(hopNs, 'ping', [
      '-c',
      '3',
      '-i',
      '0.2',
      '-W',
      '2',
      '-M',
      'do',
      '-I',
      tunIf,
      '-s',
      String(payload),
      srv.serverTunnelAddress,
    ]);
    const packets = await capture.stop();
    // The data packets: over TCP, segments of the one stream (OpenConnect's TLS fallback, OpenVPN over TCP).
    const outbound = packets.filter(
      (p) => p.src === hopAddr && p.dst === srvAddr && p.proto === c.transport && p.dport === srv.spec.port,
    );
    const outer = Math.max(0, ...outbound.map((p) => p.ipLength ?? 0));
    if (outer === 0) throw new Error(`overhead ${c.type}/${c.transport}/${c.family}: no tunnel packet captured`);
    return { ...c, innerLength: INNER_LENGTH, outerLength: outer, overhead: outer - INNER_LENGTH };
  } finally {
    await stopHop?.().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await cleanupPrefix(`${prefix}-${id}`, { quiet: true });
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every protocol over every transport its server module offers, IPv4 and IPv6. */
export const ALL_OVERHEAD_CASES: OverheadCase[] = (['ipv4', 'ipv6'] as const).flatMap((family) =>
  Object.values(SERVER_MODULES).flatMap((m) => m.transports.map((transport) => ({ type: m.type, transport, family }))),
);
