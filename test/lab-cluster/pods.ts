// Test pods on the lab pod network: a network namespace, connected by the pod network, registered in lab/kube
// (labels, container ports, status.podIP, Ready), with fixtures/pod-agent.mjs inside answering on its ports and
// probing others. Host-side probes use the test process itself (a host process, source = the node IP).
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { PodNetwork } from '../../lab/cluster/pod-network.js';
import type { Kube } from '../../lab/kube/server.js';
import type { Obj } from '../../lab/kube/types.js';
import { run } from '../../lab/netns/exec.js';
import { createPod } from './kube-fixtures.js';

const AGENT = join(import.meta.dirname, 'fixtures', 'pod-agent.mjs');
export const PROBE_TIMEOUT_MS = 1500;

export interface TestPodSpec {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  tcp?: number[];
  udp?: number[];
  /** Container ports declared in the pod spec: `{name, containerPort, protocol}` (for named ports). */
  ports?: Obj[];
  ready?: boolean;
}

export class TestPod {
  ip = '';
  private agent: ChildProcess | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: string) => void>();

  constructor(
    readonly netns: string,
    readonly spec: TestPodSpec,
  ) {}

  get key(): string {
    return `${this.spec.namespace}/${this.spec.name}`;
  }

  /** Creates the namespace, connects it, registers the pod (unless `register` is false) and starts the agent. */
  async start(net: PodNetwork, kube?: Kube): Promise<this> {
    await run('ip', ['netns', 'del', this.netns]).catch(() => undefined);
    await run('ip', ['netns', 'add', this.netns]);
    this.ip = await net.add(this.netns, this.key);
    if (kube)
      createPod(kube, {
        namespace: this.spec.namespace,
        name: this.spec.name,
        labels: this.spec.labels ?? {},
        ports: this.spec.ports ?? [],
        podIP: this.ip,
        ready: this.spec.ready ?? true,
      });
    const cfg = { name: this.spec.name, tcp: this.spec.tcp ?? [], udp: this.spec.udp ?? [] };
    const agent = spawn('ip', ['netns', 'exec', this.netns, process.execPath, AGENT, JSON.stringify(cfg)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.agent = agent;
    await new Promise<void>((resolve, reject) => {
      agent.once('exit', (code) => reject(new Error(`pod agent ${this.key} exited with ${code}`)));
      createInterface({ input: agent.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: boolean; id?: number; result?: string };
        if (msg.ready) resolve();
        if (msg.id !== undefined) {
          this.waiting.get(msg.id)?.(msg.result ?? '');
          this.waiting.delete(msg.id);
        }
      });
    });
    return this;
  }

  /** From this pod: the peer's answer (its pod name), `timeout` (dropped) or `refused`. */
  probe(
    proto: 'tcp' | 'udp',
    host: string,
    port: number,
    timeoutMs = PROBE_TIMEOUT_MS,
    connectOnly = false,
  ): Promise<string> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.agent!.stdin!.write(JSON.stringify({ id, proto, host, port, timeoutMs, connectOnly }) + '\n');
    });
  }

  async stop(net: PodNetwork): Promise<void> {
    this.agent?.stdin?.end();
    this.agent?.kill('SIGKILL');
    await net.remove(this.netns);
    await run('ip', ['netns', 'del', this.netns]).catch(() => undefined);
  }
}

/** From the host (the test process): the answer, `timeout` or `refused`. */
export function hostProbe(
  proto: 'tcp' | 'udp',
  host: string,
  port: number,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<string> {
  return new Promise((resolve) => {
    if (proto === 'udp') {
      const sock = createSocket('udp4');
      const done = (r: string) => {
        clearTimeout(t);
        sock.close();
        resolve(r);
      };
      const t = setTimeout(() => done('timeout'), timeoutMs);
      sock.on('message', (m) => done(m.toString()));
      sock.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : String(e.code)));
      sock.send('ping', port, host);
      return;
    }
    const s = connect({ host, port });
    let data = '';
    const done = (r: string) => {
      clearTimeout(t);
      s.destroy();
      resolve(r);
    };
    const t = setTimeout(() => done('timeout'), timeoutMs);
    s.on('data', (d) => (data += d));
    s.on('end', () => done(data.trim()));
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : String(e.code)));
  });
}
