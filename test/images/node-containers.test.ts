// The Node images run as a pod would run them: read-only root filesystem, no capabilities, no privilege escalation,
// as uid 65534 (checked on the running process), serving /metrics, /healthz and /readyz. The log-exporter image takes
// the same arguments as `npm run log-exporter --`; the operator image starts against lab/kube and lab/vault.
import { execFile } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { freePort } from '../../lab/runtime/ports.js';
import { containerProcessIds, removeContainers, runContainer, type Container } from '../../lab/runtime/containers.js';
import { waitFor } from '../../lab/runtime/wait.js';
import { startVault, type LabVault } from '../../lab/vault/server.js';
import { skipUnless } from '../support/env.js';
import { KUBECTL } from '../../scripts/paths.js';
import { IMAGE_BINARIES, REPO, ensureImages } from './support.js';

const PREFIX = 'tkf-node-';
const pexec = promisify(execFile);

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.text() };
}

/** uid, gid and effective capabilities of the container's first process, as the host kernel sees them. */
async function processIdentity(name: string): Promise<{ uid: number; gid: number; capEff: bigint }> {
  const ids = await containerProcessIds(name);
  const status = await readFile(`/proc/${ids.pid}/status`, 'utf8');
  return { uid: ids.uid, gid: ids.gid, capEff: BigInt(`0x${/^CapEff:\s+([0-9a-f]+)/m.exec(status)![1]}`) };
}

/** A world-readable folder, as a Secret or ConfigMap volume would be for a non-root container. */
async function podVolume(dir: string, files: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content, { mode: 0o644 });
  return dir;
}

describe.skipIf(skipUnless({ root: true, binaries: [...IMAGE_BINARIES, KUBECTL] }))('Node images in podman', () => {
  let refs: Record<string, string> = {};
  let dir: string;
  const running: Container[] = [];

  beforeAll(async () => {
    await removeContainers(PREFIX);
    ({ refs } = await ensureImages(['log-exporter', 'operator']));
    dir = await mkdtemp(join(tmpdir(), 'torchain-tkf-node-'));
  }, 600_000);
  afterAll(async () => {
    await Promise.all(running.map((c) => c.stop(1000)));
    await removeContainers(PREFIX);
    await rm(dir, { recursive: true, force: true });
  });

  it('log-exporter --once FILE prints what npm run log-exporter -- --once prints for the same file', async () => {
    const fixtures = join(REPO, 'log-exporter/fixtures');
    const file = 'openvpn-server-killed.txt';
    const lines: string[] = [];
    const c = runContainer({
      name: `${PREFIX}once`,
      image: refs['log-exporter']!,
      network: 'none',
      args: ['--once', '--type', 'openvpn', `/logs/${file}`],
      mounts: [{ hostPath: fixtures, mountPath: '/logs', readOnly: true }],
      readOnlyRootFilesystem: true,
      noNewPrivileges: true,
      onLine: (l, s) => s === 'stdout' && lines.push(l),
    });
    expect((await c.exited).code).toBe(0);
    const host = await pexec(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'log-exporter/src/main.ts'), '--once', '--type', 'openvpn', join(fixtures, file)],
      { cwd: REPO },
    );
    expect(lines.join('\n')).toBe(host.stdout.trimEnd());
    expect(lines.join('\n')).toMatch(/torchain_vpn_connection_errors_total\{reason="connection_refused"\} [1-9]/);
  });

  it('log-exporter serves /metrics, /healthz and /readyz as 65534 without capabilities, and follows the log', async () => {
    const logs = await podVolume(join(dir, 'logs'), { 'vpn.log': '' });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const started = Date.now();
    const c = runContainer({
      name: `${PREFIX}exporter`,
      image: refs['log-exporter']!,
      network: 'host',
      args: ['--type', 'openvpn', '--source', 'file', '--file', '/logs/vpn.log', '--listen', `127.0.0.1:${port}`],
      mounts: [{ hostPath: logs, mountPath: '/logs', readOnly: true }],
      readOnlyRootFilesystem: true,
      noNewPrivileges: true,
    });
    running.push(c);
    await waitFor(
      'the exporter container to answer /healthz',
      async () => (await get(`${base}/healthz`)).status === 200,
      {
        timeoutMs: 30_000,
        intervalMs: 50,
      },
    );
    console.log(`[start time] log-exporter image: ${Date.now() - started} ms from podman run to /healthz 200`);
    expect((await get(`${base}/readyz`)).status).toBe(503);
    await appendFile(join(logs, 'vpn.log'), '2026-01-01 00:00:00 Initialization Sequence Completed\n');
    await waitFor('/readyz 200 once the tunnel is up', async () => (await get(`${base}/readyz`)).status === 200, {
      timeoutMs: 15_000,
    });
    const metrics = await get(`${base}/metrics`);
    expect(metrics.body).toMatch(/^torchain_vpn_tunnel_up 1$/m);
    expect(metrics.body).toContain('torchain_log_exporter_lines_total');
    expect(await processIdentity(c.name)).toEqual({ uid: 65534, gid: 65534, capEff: 0n });
    // SIGTERM ends it cleanly: node is PID 1 and handles the signal itself.
    await c.stop(5000);
    expect((await c.exited).code).toBe(0);
  });

  describe('operator', () => {
    let kube: Kube;
    let vault: LabVault;

    beforeAll(async () => {
      kube = await startKube({});
      vault = await startVault();
      const kubectl = (...args: string[]) => pexec(KUBECTL, ['--kubeconfig', kube.kubeconfigPath, ...args]);
      await kubectl('apply', '-f', join(REPO, 'helm/torchain/crds/torchain.dev_torchains.yaml'));
      await kubectl('create', 'namespace', 'torchain-system');
    });
    afterAll(async () => {
      await vault?.close();
      await kube?.close();
    });

    it('starts against Kubernetes and Vault and serves /healthz, /readyz and /metrics as 65534', async () => {
      const kubeconfig = await readFile(kube.kubeconfigPath, 'utf8');
      const secrets = await podVolume(join(dir, 'operator'), {
        kubeconfig,
        'webhook-token': 'image-test-webhook-token-0123456789\n',
        'vault-token': vault.rootToken,
      });
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const lines: string[] = [];
      const started = Date.now();
      const c = runContainer({
        name: `${PREFIX}operator`,
        image: refs['operator']!,
        network: 'host',
        env: {
          KUBECONFIG: '/etc/torchain/kubeconfig',
          POD_NAME: 'operator-image-test',
          POD_NAMESPACE: 'torchain-system',
          TORCHAIN_HTTP_HOST: '127.0.0.1',
          TORCHAIN_HTTP_PORT: String(port),
          TORCHAIN_WEBHOOK_TOKEN_FILE: '/etc/torchain/webhook-token',
          TORCHAIN_VAULT_ADDR: vault.url,
          TORCHAIN_VAULT_AUTH: 'token',
          TORCHAIN_VAULT_TOKEN_FILE: '/etc/torchain/vault-token',
        },
        mounts: [{ hostPath: secrets, mountPath: '/etc/torchain', readOnly: true }],
        readOnlyRootFilesystem: true,
        noNewPrivileges: true,
        onLine: (l) => lines.push(l),
      });
      running.push(c);
      await waitFor(
        'the operator container to answer /healthz',
        async () => {
          if (!c.isRunning()) throw new Error(`operator exited: ${lines.slice(-5).join(' | ')}`);
          return (await get(`${base}/healthz`)).status === 200;
        },
        { timeoutMs: 40_000, intervalMs: 50 },
      );
      console.log(`[start time] operator image: ${Date.now() - started} ms from podman run to /healthz 200`);
      await waitFor('/readyz 200', async () => (await get(`${base}/readyz`)).status === 200, { timeoutMs: 30_000 });
      const metrics = await get(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.body).toMatch(/^# TYPE torchain_\w+/m);
      expect(lines.some((l) => l.includes('"operator started"'))).toBe(true);
      expect(await processIdentity(c.name)).toEqual({ uid: 65534, gid: 65534, capEff: 0n });
      await c.stop(10_000);
      expect((await c.exited).code).toBe(0);
    });
  });
});
