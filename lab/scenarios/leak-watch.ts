// Captures everything that leaves a chain's hop pods, including pods that start during the capture (every switch
// makes a new one): a capture starts on each new pod's external attachment and on its pod-network interface before
// any of its containers run (the sandbox hook), so no instant of a pod's life goes unwatched. Then each packet is
// classified: on an external link only tunnel packets to the hop's own servers may pass (lab/netns/leaks.ts); on the
// pod network only cluster traffic (pods, the node, Services).
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { clusterNames } from '../cluster/names.js';
import { nodeSideName, type CniConfig } from '../cluster/multus.js';
import { podNetnsName, type AttachmentEvent } from '../cluster/sandboxes.js';
import { startCapture, type Capture, type CapturedPacket } from '../netns/capture.js';
import { run } from '../netns/exec.js';
import { violation, type LinkParties } from '../netns/leaks.js';
import { SERVER_MODULES } from '../netns/servers/index.js';
import type { Lab, LabChain } from '../stack.js';

interface Watched {
  capture: Capture;
  hop: number;
  what: string;
  judge(p: CapturedPacket): string | undefined;
}

function inCidr(ip: string | undefined, cidr: string): boolean {
  if (!ip || ip.includes(':')) return false;
  const [base, bits] = cidr.split('/') as [string, string];
  const n = (a: string) => a.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (n(ip) & mask) === (n(base) & mask);
}

export interface LeakReport {
  leaked: number;
  perHop: Record<string, number>;
  captured: Record<string, number>;
  examples: string[];
  /** DNS packets (port 53, UDP or TCP) in clear on any watched link: each is a name leaked outside the tunnels. */
  dnsInClear: number;
  dnsExamples: string[];
}

export class LeakWatch {
  private readonly watched: Watched[] = [];
  private readonly hook = (e: AttachmentEvent) => this.onAttachment(e);
  private n = 0;

  constructor(
    private readonly lab: Lab,
    private readonly chain: LabChain,
  ) {}

  private hopOf(pod: V1Pod): number | undefined {
    const l = pod.metadata?.labels ?? {};
    if (pod.metadata?.namespace !== this.chain.namespace || l['torchain.dev/chain'] !== this.chain.name)
      return undefined;
    return Number(l['torchain.dev/hop']);
  }

  async start(): Promise<void> {
    this.chain.node.sandboxes.onAttachment.add(this.hook);
    // The pods already running: their external attachment and pod-network interface, by their stable names.
    const tcs = await this.chain.torchains();
    for (const [hop, tc] of tcs) {
      const pod = this.chain.hopPod(hop);
      if (!pod) continue;
      const uid = pod.metadata!.uid!;
      const podNetns = podNetnsName(this.lab.cluster.podNetwork.names.stem, uid);
      const outIf = tc.spec.outInterface ?? 'eth0';
      const nad = this.lab.cluster.kube.getObject(
        this.chain.namespace,
        'network-attachment-definitions',
        `${this.chain.name}-hop${hop}-out`,
        'k8s.cni.cncf.io',
      );
      const config = JSON.parse(String((nad?.spec as { config?: string } | undefined)?.config ?? '{}')) as CniConfig;
      const { stdout } = await run('ip', ['-n', podNetns, '-o', 'link', 'show', 'dev', outIf]);
      await this.onAttachment({
        pod,
        podNetns,
        interface: outIf,
        nodeSide: nodeSideName(this.lab.cluster.podNetwork.names.stem, uid, outIf),
        nodeNetns: this.chain.node.world.fabricNetns,
        config,
        mac: /link\/ether ([0-9a-f:]{17})/.exec(stdout)?.[1] ?? '',
      });
    }
  }

  private async onAttachment(e: AttachmentEvent): Promise<void> {
    const hop = this.hopOf(e.pod);
    if (!hop || !e.nodeSide || !e.config.name?.endsWith('-out')) return;
    const pool = this.chain.node.world.pools[hop - 1]!;
    const address = e.config.ipam?.addresses?.[0];
    const parties: LinkParties = {
      hopAddress: address?.address.split('/')[0] ?? '',
      hopMac: e.mac,
      servers: pool.servers.map((s) => ({ address: s.spec.address, port: s.spec.port })),
      protos: SERVER_MODULES[pool.type].protos(pool.transport),
      ...(address?.gateway ? { gateway: address.gateway } : {}),
    };
    const dir = this.lab.endpoints.stateDir;
    const tag = `${this.chain.name}-hop${hop}-${++this.n}`;
    this.watched.push({
      capture: await startCapture(e.nodeNetns, e.nodeSide, join(dir, `leak-${tag}-out.pcap`)),
      hop,
      what: `external link of ${e.pod.metadata?.name}`,
      judge: (p) => violation(p, parties),
    });
    // The pod network side: only cluster traffic, whatever the pod's routes say.
    const net = this.lab.cluster.podNetwork;
    const hostVeth = clusterNames(net.names.stem).hostVeth(e.podNetns);
    const cluster = (ip?: string) =>
      ip === net.nodeIP || ip === '169.254.1.1' || inCidr(ip, net.podCIDR) || inCidr(ip, net.serviceCIDR);
    this.watched.push({
      capture: await startCapture('', hostVeth, join(dir, `leak-${tag}-eth0.pcap`)),
      hop,
      what: `pod network interface of ${e.pod.metadata?.name}`,
      judge: (p) =>
        p.kind === 'arp' || (cluster(p.src) && cluster(p.dst))
          ? undefined
          : `non-cluster packet on the pod network: ${p.kind} ${p.src} -> ${p.dst} ${p.proto ?? ''} ${p.sport ?? ''}->${p.dport ?? ''}`,
    });
  }

  async stop(): Promise<LeakReport> {
    this.chain.node.sandboxes.onAttachment.delete(this.hook);
    const report: LeakReport = { leaked: 0, perHop: {}, captured: {}, examples: [], dnsInClear: 0, dnsExamples: [] };
    for (const w of this.watched) {
      const packets = await w.capture.stop().catch(() => [] as CapturedPacket[]);
      const bad = packets.map((p) => w.judge(p)).filter((v): v is string => v !== undefined);
      const h = String(w.hop);
      report.perHop[h] = (report.perHop[h] ?? 0) + bad.length;
      report.captured[h] = (report.captured[h] ?? 0) + packets.length;
      report.leaked += bad.length;
      report.examples.push(...bad.slice(0, 3).map((b) => `${w.what}: ${b}`));
      const dns = packets.filter((p) => p.sport === 53 || p.dport === 53);
      report.dnsInClear += dns.length;
      report.dnsExamples.push(
        ...dns
          .slice(0, 3)
          .map((p) => `${w.what}: ${p.proto ?? ''} ${p.src ?? ''}:${p.sport} -> ${p.dst ?? ''}:${p.dport}`),
      );
    }
    return report;
  }
}
