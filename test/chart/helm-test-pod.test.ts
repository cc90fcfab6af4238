// The `helm test` pod's script, run by the real busybox (the image it runs in) against the real metrics output of
// the operator (its prom-client registry) and of the log-exporter (its one-shot mode over a captured OpenVPN log).
// Cluster DNS names reach them through a local HTTP proxy (busybox wget honours http_proxy) that plays the part of
// the cluster's Services: it maps each Service host name to the exposition that Service's pods serve.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../operator/src/metrics.js';
import { HELM, REPO_ROOT } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { ciValueFiles, one, render, RELEASE_NAMESPACE, type Manifest } from './render.js';

const BUSYBOX = '/bin/busybox'; // Debian package busybox (scripts/prereqs.sh)
const run = promisify(execFile);

describe.skipIf(skipUnless({ binaries: [HELM, BUSYBOX] }))('the helm test pod', () => {
  let proxy: Server;
  let proxyUrl = '';
  let dir = '';
  let operatorPage = '';
  let exporterPage = '';
  const pages = new Map<string, string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'torchain-helm-test-'));
    // The busybox image: its applets on PATH, nothing else.
    mkdirSync(join(dir, 'bin'));
    for (const applet of ['sh', 'wget', 'grep', 'sleep', 'timeout']) symlinkSync(BUSYBOX, join(dir, 'bin', applet));
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.leader.set(1);
    operatorPage = await metrics.registry.metrics();
    exporterPage = (
      await run(
        join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
        ['log-exporter/src/main.ts', '--once', '--type', 'openvpn', 'log-exporter/fixtures/openvpn-healthy.txt'],
        { cwd: REPO_ROOT },
      )
    ).stdout;
    proxy = createServer((req, res) => {
      // A proxied request line carries the absolute URL: http://<service>.<namespace>.svc:<port>/metrics
      const url = new URL(req.url ?? '', 'http://invalid');
      const page = pages.get(url.host);
      res.writeHead(page === undefined ? 502 : 200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(page ?? `no such service ${url.host}\n`);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function testPod(): Promise<Manifest> {
    const all = await render({ valuesFiles: ciValueFiles().filter((f) => f.includes('two-chains')) });
    return one(all, 'Pod', 'torchain-test-metrics', RELEASE_NAMESPACE);
  }

  function runScript(pod: Manifest): Promise<{ code: number; output: string }> {
    const container = pod.spec.containers[0] as Manifest;
    expect(container.command).toEqual(['sh', '-c']);
    return new Promise((resolve) => {
      const child = spawn(BUSYBOX, ['sh', '-c', container.args[0] as string], {
        env: { PATH: join(dir, 'bin'), http_proxy: proxyUrl, TMPDIR: dir, CHECK_TRIES: '2', CHECK_PAUSE: '0' },
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('exit', (code) => resolve({ code: code ?? -1, output }));
    });
  }

  it('passes when the operator and the exporters of every chain namespace serve their metrics', async () => {
    const pod = await testPod();
    expect(pod.metadata.annotations['helm.sh/hook']).toBe('test');
    pages.clear();
    pages.set(`torchain-operator.${RELEASE_NAMESPACE}.svc:8080`, operatorPage);
    pages.set('torchain-hops.torchain-alpha.svc:9108', exporterPage);
    pages.set('torchain-hops.torchain-beta.svc:9108', exporterPage);
    const { code, output } = await runScript(pod);
    expect(output).toContain(
      `ok: http://torchain-operator.${RELEASE_NAMESPACE}.svc:8080/metrics serves torchain_operator_leader`,
    );
    expect(output).toContain('ok: http://torchain-hops.torchain-alpha.svc:9108/metrics serves torchain_vpn_tunnel_up');
    expect(output).toContain('ok: http://torchain-hops.torchain-beta.svc:9108/metrics serves torchain_vpn_tunnel_up');
    expect(code).toBe(0);
  });

  it('fails, naming the endpoint, when one chain namespace has no exporter answering', async () => {
    pages.delete('torchain-hops.torchain-beta.svc:9108');
    const { code, output } = await runScript(await testPod());
    expect(output).toContain('ok: http://torchain-hops.torchain-alpha.svc:9108/metrics serves torchain_vpn_tunnel_up');
    expect(output).toContain(
      'FAILED: http://torchain-hops.torchain-beta.svc:9108/metrics did not serve torchain_vpn_tunnel_up',
    );
    expect(code).toBe(1);
  });
});
