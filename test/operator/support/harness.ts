// Integration harness: lab/kube and lab/vault (the only stand-ins), the TorChain CRD applied, a hop pool seeded in
// Vault, the real operator process started with its environment contract, and a tiny "kubelet" that marks hop pods
// ready or not (what the lab kubelet reports from the exporter's /readyz).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1Secret,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startKube, type Kube } from '../../../lab/kube/server.js';
import { startVault, type LabVault } from '../../../lab/vault/server.js';
import type { TorChain, TorChainSpec } from '../../../operator/src/api/torchain.js';
import { REPO_ROOT } from '../../../scripts/paths.js';
import { notification, switchAlert } from './alerts.js';
import { torchain } from './fixtures.js';

export const NS = 'vpn';
export const OP_NS = 'torchain-system';
export const WEBHOOK_TOKEN = 'integration-webhook-token-0123456789';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export async function eventually<T>(fn: () => Promise<T | undefined | false>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}

export interface StandIns {
  kube: Kube;
  vault: LabVault;
  dir: string;
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
  close(): Promise<void>;
}

export async function startStandIns(opts: { auditLogPath?: string } = {}): Promise<StandIns> {
  const kube = await startKube({ bookmarkIntervalMs: 2000, ...opts });
  const vault = await startVault();
  const dir = mkdtempSync(join(tmpdir(), 'torchain-operator-it-'));
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const crd = parse(readFileSync(join(REPO_ROOT, 'helm/torchain/crds/torchain.dev_torchains.yaml'), 'utf8'));
  await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: crd });
  for (const name of [NS, OP_NS]) await core.createNamespace({ body: { metadata: { name } } });
  writeFileSync(join(dir, 'webhook-token'), WEBHOOK_TOKEN + '\n', { mode: 0o600 });
  writeFileSync(join(dir, 'vault-token'), vault.rootToken, { mode: 0o600 });
  const custom = kc.makeApiClient(CustomObjectsApi);
  // The CRD becomes servable asynchronously (Established): wait until a list works.
  await eventually(
    async () =>
      (await custom.listNamespacedCustomObject({
        group: 'torchain.dev',
        version: 'v1alpha1',
        namespace: NS,
        plural: 'torchains',
      })) && true,
    'the TorChain CRD to be served',
  );
  return {
    kube,
    vault,
    dir,
    kc,
    core,
    apps: kc.makeApiClient(AppsV1Api),
    custom,
    coordination: kc.makeApiClient(CoordinationV1Api),
    close: async () => {
      await vault.close();
      await kube.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- Vault pools

export async function vaultRequest(s: StandIns, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${s.vault.url}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': s.vault.rootToken, 'Content-Type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

export async function putServer(
  s: StandIns,
  chain: string,
  hop: number,
  server: string,
  config: string,
  endpoint?: string,
) {
  const res = await vaultRequest(s, 'POST', `secret/data/torchain/${NS}/${chain}/hop-${String(hop)}/${server}`, {
    data: { config, ...(endpoint ? { endpoint } : {}) },
  });
  if (!res.ok) throw new Error(`seeding Vault failed: ${String(res.status)} ${await res.text()}`);
}

export const ovpn = (ip: string, port = 1194) => `client\ndev tun\nproto udp\nremote ${ip} ${String(port)}\nnobind\n`;
export const wg = (endpoint: string) =>
  `[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nAddress = 10.9.0.2/32\n\n[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nEndpoint = ${endpoint}\nAllowedIPs = 0.0.0.0/0\n`;

/** A 3-hop chain (openvpn, wireguard, openvpn) with `servers` servers per hop: hop k server i at 198.51.100.(10k+i). */
export async function seedChain(s: StandIns, chain: string, servers = 3): Promise<void> {
  for (let hop = 1; hop <= 3; hop++)
    for (let i = 0; i < servers; i++) {
      const name = `h${String(hop)}-s${String(i)}`;
      const ip = `198.51.100.${String(hop * 10 + i)}`;
      await putServer(s, chain, hop, name, hop === 2 ? wg(`${ip}:51820`) : ovpn(ip));
    }
}

export async function createChain(s: StandIns, chain: string, extra: Partial<TorChainSpec> = {}): Promise<void> {
  const types = ['openvpn', 'wireguard', 'openvpn'] as const;
  for (let hop = 1; hop <= 3; hop++) {
    const tc = torchain(`${chain}-${String(hop)}`, {
      numberNode: hop,
      typeNode: types[hop - 1]!,
      nameTorChain: chain,
      outInterface: 'net-up',
      ...(hop < 3 ? { inInterface: 'net-down' } : { inInterface: 'net-lan', ipGateWay: '192.168.50.1/24' }),
      ...extra,
    });
    const body = {
      apiVersion: tc.apiVersion,
      kind: tc.kind,
      metadata: { name: tc.metadata.name, namespace: NS },
      spec: tc.spec,
    };
    await s.custom.createNamespacedCustomObject({
      group: 'torchain.dev',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'torchains',
      body,
    });
  }
}

export async function getTc(s: StandIns, name: string): Promise<TorChain> {
  return (await s.custom.getNamespacedCustomObject({
    group: 'torchain.dev',
    version: 'v1alpha1',
    namespace: NS,
    plural: 'torchains',
    name,
  })) as TorChain;
}

export async function patchTc(s: StandIns, name: string, patch: Record<string, unknown>): Promise<TorChain> {
  return (await s.custom.patchNamespacedCustomObject(
    { group: 'torchain.dev', version: 'v1alpha1', namespace: NS, plural: 'torchains', name, body: patch },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  )) as TorChain;
}

export async function getSecret(s: StandIns, name: string): Promise<V1Secret | undefined> {
  try {
    return await s.core.readNamespacedSecret({ namespace: NS, name });
  } catch {
    return undefined;
  }
}

export async function getDeployment(s: StandIns, name: string): Promise<V1Deployment | undefined> {
  try {
    return await s.apps.readNamespacedDeployment({ namespace: NS, name });
  } catch {
    return undefined;
  }
}

export function secretConfig(secret: V1Secret | undefined): string | undefined {
  const data = secret?.data ?? {};
  const first = Object.values(data)[0];
  return first === undefined ? undefined : Buffer.from(first, 'base64').toString('utf8');
}

export async function eventsFor(s: StandIns, name: string): Promise<Array<{ reason?: string; message?: string }>> {
  const list = await s.core.listNamespacedEvent({ namespace: NS });
  return list.items.filter((e) => e.involvedObject.name === name);
}

// ---- The kubelet stand-in: pod readiness per Deployment name

export class PodReadiness {
  private timer: NodeJS.Timeout | undefined;
  /** Deployment names whose pods must read not ready (their tunnel is down). */
  readonly down = new Set<string>();

  constructor(private readonly s: StandIns) {}

  start(): void {
    const tick = async () => {
      try {
        const pods = await this.s.core.listNamespacedPod({
          namespace: NS,
          labelSelector: 'app.kubernetes.io/name=torchain-hop',
        });
        for (const p of pods.items) {
          const owner = p.metadata?.name?.replace(/-[a-z0-9]+-[a-z0-9]+$/, '') ?? '';
          const want = this.down.has(owner) ? 'False' : 'True';
          const have = p.status?.conditions?.find((c) => c.type === 'Ready')?.status;
          if (have === want || p.metadata?.deletionTimestamp) continue;
          this.s.kube.setPodStatus(NS, p.metadata!.name!, {
            phase: 'Running',
            conditions: [{ type: 'Ready', status: want, lastTransitionTime: new Date().toISOString() }],
          });
        }
      } catch {
        // the next tick tries again
      }
      this.timer = setTimeout(() => void tick(), 100);
    };
    void tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

// ---- The operator process

export interface OperatorProcess {
  url: string;
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  post(body: unknown, token?: string): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startOperatorProcess(s: StandIns, env: Record<string, string> = {}): Promise<OperatorProcess> {
  const logs: Array<Record<string, unknown>> = [];
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'operator/src/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: s.dir,
      KUBECONFIG: s.kube.kubeconfigPath,
      TORCHAIN_HTTP_HOST: '127.0.0.1',
      TORCHAIN_HTTP_PORT: '0',
      TORCHAIN_WEBHOOK_TOKEN_FILE: join(s.dir, 'webhook-token'),
      POD_NAME: 'operator-a',
      POD_NAMESPACE: OP_NS,
      TORCHAIN_VAULT_ADDR: s.vault.url,
      TORCHAIN_VAULT_AUTH: 'token',
      TORCHAIN_VAULT_TOKEN_FILE: join(s.dir, 'vault-token'),
      TORCHAIN_COOLDOWN_SECONDS: '4',
      // These tests fire alerts at hops that were just created and have no running pods: no start-up grace.
      TORCHAIN_GRACE_SECONDS: '0',
      TORCHAIN_SETTLE_SECONDS: '0',
      TORCHAIN_QUARANTINE_SECONDS: '600',
      TORCHAIN_LEASE_DURATION_SECONDS: '3',
      TORCHAIN_RELIST_SECONDS: '5',
      TORCHAIN_IMAGE_OPENVPN: 'reg.test/hop-openvpn:1',
      TORCHAIN_IMAGE_WIREGUARD: 'reg.test/hop-wireguard:1',
      TORCHAIN_IMAGE_LOG_EXPORTER: 'reg.test/log-exporter:1',
      TORCHAIN_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffer = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: 'non-JSON line', line });
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const started = await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`operator exited ${String(child.exitCode)}: ${stderr}`);
      return logs.find((l) => l.msg === 'operator started');
    },
    'the operator to start',
    30_000,
  );
  const url = String(started.url);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    child,
    logs,
    post: async (body, token = WEBHOOK_TOKEN) => {
      const res = await fetch(`${url}/v1/alertmanager`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep the text
      }
      return { status: res.status, body: parsed };
    },
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      // OPERATOR_IT_LOGS=1 prints what the operator said at warn level and above, to debug a failing test.
      if (process.env.OPERATOR_IT_LOGS)
        for (const l of logs) if (l.level === 'warn' || l.level === 'error') console.log(JSON.stringify(l));
    },
  };
}

/** Waits until the operator process holds the Lease and answers the webhook (a 200 to an empty notification). */
export async function waitLeader(op: OperatorProcess): Promise<void> {
  await eventually(async () => (await op.post(notification([]))).status === 200, 'the operator to lead');
}

export { notification, switchAlert };

/** A KubeConfig for lab/kube, for tests that drive the operator's adapters in-process. */
export function loadKc(s: StandIns): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(s.kube.kubeconfigPath);
  return kc;
}
