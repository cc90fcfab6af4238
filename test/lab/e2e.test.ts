// End to end, as root: one real lab — the product installed with its own chart into lab/kube (RBAC enforced, audit
// log on), its pods run by the lab kubelets on two nodes, two chains in two namespaces, Prometheus and Alertmanager
// configured as prometheus-operator would — runs the scripted scenarios in turn (lab timings). Each scenario must heal
// the chain, switch exactly the hops it should over the whole run (its quiet period included) and leak nothing; the
// product must have done it all as its ServiceAccounts, never refused; afterwards nothing of the lab is left.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupLab } from '../../lab/cleanup.js';
import { runScenario, type ScenarioResult } from '../../lab/scenarios/scenarios.js';
import { DEFAULT_PREFIX, DEFAULT_STATE_DIR, startLab, type Lab } from '../../lab/stack.js';
import { KUBECTL } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';

const run = promisify(execFile);

interface AuditEvent {
  stage: string;
  verb: string;
  user: { username: string };
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; subresource?: string };
  responseStatus?: { code?: number };
}

describe.skipIf(
  skipUnless({ root: true, binaries: ['/usr/sbin/openvpn', '/usr/bin/wireguard-go', '/usr/sbin/openconnect'] }),
)('the lab, end to end', () => {
  let lab: Lab;
  const results: ScenarioResult[] = [];
  const scenario = async (name: string) => {
    const r = await runScenario(lab, name);
    results.push(r);
    expect(r.passed, JSON.stringify(r.checks.filter((c) => !c.ok))).toBe(true);
    return r;
  };

  beforeAll(async () => {
    await cleanupLab(DEFAULT_PREFIX, DEFAULT_STATE_DIR);
    lab = await startLab();
  }, 600_000);

  afterAll(async () => {
    await lab?.close();
    console.log(
      JSON.stringify(
        results.map(({ scenario, passed, recoverySeconds, switches, quietSeconds }) => ({
          scenario,
          passed,
          recoverySeconds,
          switches,
          quietSeconds,
        })),
      ),
    );
  }, 120_000);

  it('the headless contract: two chains in two namespaces, neither the release namespace; an audit log', () => {
    const e = lab.endpoints;
    expect(e.chains.map((c) => c.namespace)).toEqual(['torchain-lab', 'torchain-edge']);
    expect(e.namespace).toBe('torchain-lab');
    expect(e.chain).toEqual({ name: 'lab', hops: 3 });
    expect(readFileSync(e.auditLog, 'utf8').length).toBeGreaterThan(0);
  });

  it('failover-hop1: hop 1 moves to its next server, once; the operator counts it', async () => {
    const r = await scenario('failover-hop1');
    const tc = (await lab.chains[0]!.torchains()).get(1);
    expect(tc?.status?.switches).toBeGreaterThanOrEqual(1);
    expect(r.recoverySeconds).toBeGreaterThan(0);
  }, 600_000);

  it('blackhole-hop2: a silently dead WireGuard server is replaced, no other hop is switched', async () => {
    await scenario('blackhole-hop2');
  }, 600_000);

  it('failover-second-chain: the chain in the other namespace fails over through its own AlertmanagerConfig', async () => {
    await scenario('failover-second-chain');
  }, 600_000);

  it('two-hops-down: hop 1 recovers first, then hop 3', async () => {
    await scenario('two-hops-down');
  }, 600_000);

  it('leak-check: nothing leaves any hop outside its tunnel, through every pod restart', async () => {
    const r = await scenario('leak-check');
    expect(r.leakedPackets).toBe(0);
  }, 600_000);

  it('dns-leak: the LAN resolves at the exit through the chain, nothing while hop 1 is down, no query in clear', async () => {
    const r = await scenario('dns-leak');
    expect(r.leakedPackets).toBe(0);
    expect(r.answeredDown).toBe(0);
    expect(r.answeredUp).toBeGreaterThan(0);
  }, 600_000);

  it('vault-down-during-failover: the running Secret stays, the chain converges when Vault is back', async () => {
    await scenario('vault-down-during-failover');
  }, 600_000);

  it('operator-restart-mid-failover: converges after the leader is killed, with no double switch', async () => {
    await scenario('operator-restart-mid-failover');
  }, 600_000);

  it('alertmanager-down: the operator’s Prometheus poll heals the chain', async () => {
    await scenario('alertmanager-down');
  }, 600_000);

  it('the product acted only as its ServiceAccounts, and nothing it asked was refused', () => {
    const events = readFileSync(lab.endpoints.auditLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEvent)
      .filter((e) => e.stage === 'ResponseComplete');
    const operator = events.filter(
      (e) => e.user.username === 'system:serviceaccount:torchain-system:torchain-operator',
    );
    const exporters = events.filter((e) =>
      /^system:serviceaccount:torchain-(lab|edge):torchain-hop$/.test(e.user.username),
    );
    expect(operator.length).toBeGreaterThan(50);
    expect(exporters.length).toBeGreaterThan(5);
    const refused = [...operator, ...exporters].filter((e) => e.responseStatus?.code === 403);
    expect(refused.map((e) => `${e.user.username} ${e.verb} ${JSON.stringify(e.objectRef)}`)).toEqual([]);
  });

  it("the operator's ServiceAccount is refused what the chart does not grant", async () => {
    const asOperator = ['--as', 'system:serviceaccount:torchain-system:torchain-operator'];
    const can = async (...args: string[]) =>
      (
        await run(KUBECTL, ['auth', 'can-i', ...args, ...asOperator], {
          env: { ...process.env, KUBECONFIG: lab.endpoints.kubeconfig },
        }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))
      ).stdout.trim();
    expect(await can('list', 'secrets', '--all-namespaces')).toBe('no');
    expect(await can('get', 'secrets', '-n', 'kube-system')).toBe('no');
    expect(await can('delete', 'namespaces')).toBe('no');
    expect(await can('patch', 'torchains.torchain.dev', '-n', 'torchain-lab')).toBe('yes');
  });

  it('closing the lab leaves no namespace, process, interface or nftables table behind', async () => {
    await lab.close();
    await cleanupLab(DEFAULT_PREFIX, DEFAULT_STATE_DIR);
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(netns).not.toMatch(new RegExp(`^${DEFAULT_PREFIX}-`, 'm'));
    const procs = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(procs).not.toMatch(/torchain-lab|lab\/main\.ts/);
    expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toMatch(
      new RegExp(`${DEFAULT_PREFIX}-|${DEFAULT_PREFIX}node`),
    );
    expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).not.toMatch(new RegExp(`${DEFAULT_PREFIX}_`));
  }, 120_000);
});
