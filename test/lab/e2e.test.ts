// End to end, as root: one real lab (namespaces, OpenVPN and wireguard-go servers, lab/kube, lab/vault, Prometheus,
// Alertmanager, the operator, the lab kubelet) runs every scripted scenario in turn. Each scenario must heal the chain
// (traffic flows LAN → internet again), switch exactly the hops it should, and leak nothing; afterwards nothing of the
// lab is left on the machine.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from '../../lab/scenarios/scenarios.js';
import { DEFAULT_PREFIX, DEFAULT_STATE_DIR, startLab, type Lab } from '../../lab/stack.js';
import { cleanupLab } from '../../lab/cleanup.js';
import { skipUnless } from '../support/env.js';

const tcHop = (lab: Lab, hop: number) => lab.torchains().then((m) => m.get(hop));

describe.skipIf(
  skipUnless({ root: true, binaries: ['/usr/sbin/openvpn', '/usr/bin/wireguard-go', '/usr/bin/prometheus'] }),
)('the lab, end to end', () => {
  let lab: Lab;
  const results: ScenarioResult[] = [];
  const run = async (name: string) => {
    const r = await runScenario(lab, name);
    results.push(r);
    return r;
  };
  const failed = (r: ScenarioResult) => JSON.stringify(r.checks.filter((c) => !c.ok));

  beforeAll(async () => {
    await cleanupLab(DEFAULT_PREFIX, DEFAULT_STATE_DIR);
    lab = await startLab();
  }, 300_000);

  afterAll(async () => {
    await lab?.close();
    console.log(
      JSON.stringify(
        results.map(({ scenario, passed, recoverySeconds, switches }) => ({
          scenario,
          passed,
          recoverySeconds,
          switches,
        })),
      ),
    );
  }, 120_000);

  it('failover-hop1: hop 1 moves to its next server, once; status and metrics agree', async () => {
    const r = await run('failover-hop1');
    expect(r.passed, failed(r)).toBe(true);
    const tc = await tcHop(lab, 1);
    expect(tc?.status?.currentServer).toBe(
      lab.topology.hops[0]!.servers.map((s) => s.spec.name).find((n) => n !== r.killed?.toString()),
    );
    expect(tc?.status?.switches).toBeGreaterThanOrEqual(1);
    const res = await fetch(
      `${lab.prometheus.url}/api/v1/query?query=${encodeURIComponent('sum(torchain_operator_switches_total{hop="1"})')}`,
    );
    const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
    expect(Number(body.data.result[0]?.value[1])).toBe(tc?.status?.switches);
  }, 240_000);

  it('failover-hop2: the WireGuard hop is switched, hops 1 and 3 are not', async () => {
    const r = await run('failover-hop2');
    expect(r.passed, failed(r)).toBe(true);
  }, 240_000);

  it('two-hops-down: hop 1 recovers first, then hop 3', async () => {
    const r = await run('two-hops-down');
    expect(r.passed, failed(r)).toBe(true);
  }, 300_000);

  it('leak-check: no clear-text packet on any external link while hop 1 is down', async () => {
    const r = await run('leak-check');
    expect(r.leakedPackets).toBe(0);
    expect(r.passed, failed(r)).toBe(true);
  }, 240_000);

  it('vault-down-during-failover: the running Secret stays, the chain converges when Vault is back', async () => {
    const r = await run('vault-down-during-failover');
    expect(r.passed, failed(r)).toBe(true);
  }, 300_000);

  it('operator-restart-mid-failover: converges after the restart with no double switch', async () => {
    const r = await run('operator-restart-mid-failover');
    expect(r.passed, failed(r)).toBe(true);
  }, 300_000);

  it('alertmanager-down: the operator’s Prometheus poll heals the chain', async () => {
    const r = await run('alertmanager-down');
    expect(r.passed, failed(r)).toBe(true);
  }, 300_000);

  it('pool-exhausted: condition, alert, then recovery once servers return', async () => {
    const r = await run('pool-exhausted');
    expect(r.passed, failed(r)).toBe(true);
  }, 400_000);

  it('closing the lab leaves no namespace, process or file behind', async () => {
    await lab.close();
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(netns).not.toMatch(new RegExp(`^${DEFAULT_PREFIX}-`, 'm'));
    const procs = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(procs).not.toMatch(/tcl(-lab-|wglab)|torchain-lab/);
    expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toMatch(/tcllabcn/);
    expect(
      existsSync(`${DEFAULT_STATE_DIR}/pids.json`)
        ? execFileSync('cat', [`${DEFAULT_STATE_DIR}/pids.json`], { encoding: 'utf8' })
        : '[]',
    ).toBe('[]');
  }, 60_000);
});
