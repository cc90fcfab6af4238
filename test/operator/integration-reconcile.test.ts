// The operator process against lab/kube and lab/vault over HTTP: reconcile of a 3-hop chain.
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NS,
  PodReadiness,
  createChain,
  eventsFor,
  eventually,
  getDeployment,
  getSecret,
  getTc,
  ovpn,
  patchTc,
  putServer,
  secretConfig,
  seedChain,
  startOperatorProcess,
  startStandIns,
  type OperatorProcess,
  type StandIns,
} from './support/harness.js';

describe('operator reconcile (lab/kube + lab/vault)', () => {
  let s: StandIns;
  let op: OperatorProcess;
  let kubelet: PodReadiness;

  beforeAll(async () => {
    s = await startStandIns();
    await seedChain(s, 'alpha');
    await createChain(s, 'alpha');
    kubelet = new PodReadiness(s);
    kubelet.start();
    op = await startOperatorProcess(s);
  });
  afterAll(async () => {
    kubelet?.stop();
    await op?.kill();
    await s?.close();
  });

  it('gives each hop of a 3-hop chain its Secret and Deployment, and a Ready status', async () => {
    for (let hop = 1; hop <= 3; hop++) {
      const name = `alpha-${String(hop)}`;
      const tc = await eventually(async () => {
        const t = await getTc(s, name);
        return t.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True') ? t : undefined;
      }, `${name} Ready`);
      expect(tc.status).toMatchObject({
        phase: 'Running',
        currentServer: `h${String(hop)}-s0`,
        switches: 0,
        observedGeneration: 1,
      });
      const secret = await getSecret(s, `${name}-vpn-config`);
      expect(secretConfig(secret)).toContain(`198.51.100.${String(hop * 10)}`);
      const dep = await getDeployment(s, name);
      const pod = dep!.spec!.template;
      expect(pod.metadata!.labels).toMatchObject({
        'torchain.dev/chain': 'alpha',
        'torchain.dev/hop': String(hop),
        'torchain.dev/type': hop === 2 ? 'wireguard' : 'openvpn',
        'torchain.dev/server': `h${String(hop)}-s0`,
      });
      expect(dep!.metadata!.ownerReferences![0]).toMatchObject({ kind: 'TorChain', name, uid: tc.metadata.uid });
      const env = Object.fromEntries(pod.spec!.containers[0]!.env!.map((e) => [e.name, e.value]));
      expect(env.TORCHAIN_ENDPOINT).toBe(hop === 2 ? '198.51.100.20:51820' : `198.51.100.${String(hop * 10)}:1194`);
      // Nested MTUs from the data plane's table: each hop's tunnel is smaller than the one above it.
      expect(Number(env.TORCHAIN_MTU)).toBe(tc.status!.mtu);
    }
    const mtus = await Promise.all([1, 2, 3].map(async (h) => (await getTc(s, `alpha-${String(h)}`)).status!.mtu!));
    expect(mtus[0]!).toBeGreaterThan(mtus[1]!);
    expect(mtus[1]!).toBeGreaterThan(mtus[2]!);
  });

  it('a spec change rolls the pod (config-hash), a status-only write does not', async () => {
    const hash = async () =>
      (await getDeployment(s, 'alpha-3'))!.spec!.template.metadata!.annotations!['torchain.dev/config-hash'];
    const before = await hash();
    const genBefore = (await getDeployment(s, 'alpha-3'))!.metadata!.generation;
    await patchTc(s, 'alpha-3', { spec: { tmpDir: '/var/tmp/vpn' } });
    const after = await eventually(async () => {
      const h = await hash();
      return h !== before ? h : undefined;
    }, 'a new config hash');
    expect(after).not.toBe(before);
    const dep = (await getDeployment(s, 'alpha-3'))!;
    expect(dep.metadata!.generation).toBeGreaterThan(genBefore!);
    const tc = await eventually(async () => {
      const t = await getTc(s, 'alpha-3');
      return t.status?.observedGeneration === 2 ? t : undefined;
    }, 'observedGeneration 2');
    expect(tc.status!.conditions!.every((c) => c.observedGeneration === 2)).toBe(true);
  });

  it('a changed config in Vault reaches the Secret and rolls the pod at the next relist', async () => {
    const before = (await getDeployment(s, 'alpha-1'))!.spec!.template.metadata!.annotations![
      'torchain.dev/config-hash'
    ];
    await putServer(s, 'alpha', 1, 'h1-s0', ovpn('198.51.100.99'));
    await eventually(
      async () => secretConfig(await getSecret(s, 'alpha-1-vpn-config'))?.includes('198.51.100.99'),
      'the new config in the Secret',
    );
    const dep = (await getDeployment(s, 'alpha-1'))!;
    expect(dep.spec!.template.metadata!.annotations!['torchain.dev/config-hash']).not.toBe(before);
    expect(dep.spec!.template.spec!.containers[0]!.env!.find((e) => e.name === 'TORCHAIN_ENDPOINT')!.value).toBe(
      '198.51.100.99:1194',
    );
    // The operator changed the Secret itself: not a hand edit (a switch to another server is the same path).
    expect(op.logs.filter((l) => l.msg === 'hop Secret edited by hand; putting it back')).toEqual([]);
  });

  it('a hop Secret deleted by hand is put back', async () => {
    const before = await getSecret(s, 'alpha-2-vpn-config');
    expect(Date.parse(before!.metadata!.annotations!['torchain.dev/server-since']!)).toBeGreaterThan(0);
    await s.core.deleteNamespacedSecret({ namespace: NS, name: 'alpha-2-vpn-config' });
    const back = await eventually(async () => getSecret(s, 'alpha-2-vpn-config'), 'the Secret to come back', 10_000);
    expect(secretConfig(back)).toContain('Endpoint = 198.51.100.20:51820');
    // Same server as before: when the hop took it is unknown now, never "just now" (its alerts stay valid).
    expect(back!.metadata!.annotations!['torchain.dev/server-since']).toBeUndefined();
  });

  it('a hand-edited hop Secret is put back (drift)', async () => {
    const before = await getSecret(s, 'alpha-1-vpn-config');
    const key = Object.keys(before!.data!)[0]!;
    await s.core.replaceNamespacedSecret({
      namespace: NS,
      name: 'alpha-1-vpn-config',
      body: { ...before!, data: { [key]: Buffer.from('client\nremote 203.0.113.66 1194\n').toString('base64') } },
    });
    const back = await eventually(async () => {
      const now = await getSecret(s, 'alpha-1-vpn-config');
      return now?.data?.[key] === before!.data![key] ? now : undefined;
    }, 'the Secret data put back');
    expect(Object.keys(back.data!)).toEqual([key]);
    expect(op.logs.filter((l) => l.msg === 'hop Secret edited by hand; putting it back')).toHaveLength(1);
  });

  it('a hand-edited pod template is put back: image, env, securityContext, the config-hash annotation (drift)', async () => {
    type Edit = [string, (spec: V1PodTemplateSpec) => void];
    const edits: Edit[] = [
      ['image', (t) => void (t.spec!.containers[0]!.image = 'evil.example/hop:latest')],
      ['env', (t) => t.spec!.containers[0]!.env!.push({ name: 'TORCHAIN_KILL_SWITCH', value: 'off' })],
      [
        'securityContext',
        (t) =>
          void (t.spec!.containers[0]!.securityContext = { privileged: true, capabilities: { add: ['SYS_ADMIN'] } }),
      ],
      ['config-hash', (t) => void (t.metadata!.annotations!['torchain.dev/config-hash'] = 'edited')],
      ['a sidecar', (t) => t.spec!.containers.push({ name: 'debug', image: 'busybox' })],
    ];
    const original = (await getDeployment(s, 'alpha-2'))!.spec!.template;
    for (const [what, edit] of edits) {
      // As `kubectl edit` does: read, change, write; a 409 (the operator wrote meanwhile) means read again.
      await eventually(async () => {
        const dep = (await getDeployment(s, 'alpha-2'))!;
        edit(dep.spec!.template);
        await s.apps.replaceNamespacedDeployment({ namespace: NS, name: 'alpha-2', body: dep });
        return true;
      }, `an edit of the ${what}`);
      await eventually(async () => {
        const now = (await getDeployment(s, 'alpha-2'))!.spec!.template;
        return JSON.stringify(now) === JSON.stringify(original);
      }, `the pod template put back after an edit of its ${what}`);
    }
  });

  it('drop > 0 scales the hop to 0 and keeps its objects; drop 0 brings it back', async () => {
    await patchTc(s, 'alpha-2', { spec: { drop: 1 } });
    await eventually(async () => (await getDeployment(s, 'alpha-2'))?.spec?.replicas === 0, 'replicas 0');
    const tc = await eventually(async () => {
      const t = await getTc(s, 'alpha-2');
      return t.status?.phase === 'Dropped' ? t : undefined;
    }, 'phase Dropped');
    expect(tc.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Dropped',
    });
    expect(await getSecret(s, 'alpha-2-vpn-config')).toBeDefined();
    await patchTc(s, 'alpha-2', { spec: { drop: 0 } });
    await eventually(async () => (await getDeployment(s, 'alpha-2'))?.spec?.replicas === 1, 'replicas 1');
  });

  it('drop never depends on Vault: with Vault down the hop is scaled to 0 and its status says so only then', async () => {
    await s.vault.stop();
    try {
      await patchTc(s, 'alpha-3', { spec: { drop: 1 } });
      await eventually(
        async () => (await getDeployment(s, 'alpha-3'))?.spec?.replicas === 0,
        'replicas 0 without Vault',
      );
      const tc = await eventually(async () => {
        const t = await getTc(s, 'alpha-3');
        return t.status?.phase === 'Dropped' && t.status.observedGeneration === t.metadata.generation ? t : undefined;
      }, 'alpha-3 Dropped');
      expect(tc.status!.conditions!.find((c) => c.type === 'TunnelUp')).toMatchObject({
        status: 'False',
        reason: 'Dropped',
      });
      expect(tc.status!.conditions!.find((c) => c.type === 'PoolExhausted')).toMatchObject({ reason: 'NotChecked' });
      expect(await getSecret(s, 'alpha-3-vpn-config')).toBeDefined();
    } finally {
      await s.vault.start();
    }
    await patchTc(s, 'alpha-3', { spec: { drop: 0 } });
    await eventually(async () => (await getDeployment(s, 'alpha-3'))?.spec?.replicas === 1, 'replicas 1');
    await eventually(async () => (await getTc(s, 'alpha-3')).status?.phase === 'Running', 'alpha-3 Running');
  });

  it('an empty pool sets PoolExhausted and records an Event, without a workload', async () => {
    await createChain(s, 'empty');
    const tc = await eventually(async () => {
      const t = await getTc(s, 'empty-1');
      return t.status?.conditions?.find((c) => c.type === 'PoolExhausted' && c.status === 'True') ? t : undefined;
    }, 'PoolExhausted on empty-1');
    expect(tc.status!.phase).toBe('PoolExhausted');
    expect(await getDeployment(s, 'empty-1')).toBeUndefined();
    await eventually(
      async () => (await eventsFor(s, 'empty-1')).some((e) => e.reason === 'PoolExhausted'),
      'the PoolExhausted Event',
    );
  });

  it('logs JSON lines only, and never a config or token', () => {
    expect(op.logs.length).toBeGreaterThan(3);
    expect(op.logs.every((l) => typeof l.msg === 'string' && typeof l.level === 'string')).toBe(true);
    const all = JSON.stringify(op.logs);
    expect(all).not.toContain('PrivateKey');
    expect(all).not.toContain(s.vault.rootToken);
    expect(all).not.toContain('integration-webhook-token');
    expect(NS).toBe('vpn');
  });
});
