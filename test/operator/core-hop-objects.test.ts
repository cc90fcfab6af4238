import { describe, expect, it } from 'vitest';
import {
  ANNOTATION_SERVER,
  ANNOTATION_SWITCH_SERVER,
  buildDeployment,
  buildSecret,
  configHash,
  upToDate,
  type HopBuildInput,
} from '../../operator/src/core/hop-objects.js';
import { labelValue, tunnelInterfaceName } from '../../operator/src/core/naming.js';
import { serverEndpoint } from '../../operator/src/core/vpn-config.js';
import { ovpnConfig, torchain, wgConfig } from './support/fixtures.js';
import type { TorChain } from '../../operator/src/api/torchain.js';

const images = {
  openvpn: 'reg/torchain/openvpn:1',
  wireguard: 'reg/torchain/wireguard:1',
  openconnect: 'reg/torchain/openconnect:1',
  logExporter: 'reg/torchain/log-exporter:1',
  pullPolicy: 'IfNotPresent' as const,
};

function input(tc: TorChain, config = ovpnConfig('198.51.100.7'), server = 'srv-a'): HopBuildInput {
  const ep = serverEndpoint(tc.spec.typeNode, config);
  if (!ep.ok) throw new Error(ep.error);
  return { tc, server, config, endpoint: ep.value, mtu: 1420, images };
}

const lastHop = torchain('alpha-3', {
  numberNode: 3,
  typeNode: 'openvpn',
  switchServer: 4,
  inInterface: 'net-lan',
  outInterface: 'net-up',
  ipGateWay: '192.168.50.1/24',
  nameK8sNode: 'worker-1',
  tmpDir: '/scratch',
});

describe('hop Secret', () => {
  it('holds the config as the client runs it under vpnFileConfig, owned by the TorChain, with the chosen server and switch counter', () => {
    const s = buildSecret(input(lastHop));
    expect(s.metadata?.name).toBe('alpha-3-vpn-config');
    const held = Buffer.from(s.data?.['client.ovpn'] ?? '', 'base64').toString();
    expect(held).toBe(input(lastHop).endpoint.runConfig);
    expect(held).toMatch(/^remote 198\.51\.100\.7 1194$/m);
    expect(held).not.toMatch(/^dev tun$/m);
    expect(s.metadata?.annotations).toMatchObject({ [ANNOTATION_SERVER]: 'srv-a', [ANNOTATION_SWITCH_SERVER]: '4' });
    expect(s.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'torchain.dev/v1alpha1',
        kind: 'TorChain',
        name: 'alpha-3',
        uid: 'uid-alpha-3',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });
});

describe('hop Deployment', () => {
  const d = buildDeployment(input(lastHop));
  const pod = d.spec!.template.spec!;
  const [vpn, exporter] = pod.containers;
  const env = Object.fromEntries((vpn!.env ?? []).map((e) => [e.name, e.value]));

  it('labels pods with the identity labels the PodMonitor relabels', () => {
    expect(d.spec!.template.metadata!.labels).toMatchObject({
      'app.kubernetes.io/name': 'torchain-hop',
      'torchain.dev/chain': 'alpha',
      'torchain.dev/hop': '3',
      'torchain.dev/type': 'openvpn',
      'torchain.dev/server': 'srv-a',
    });
    // The selector is immutable: it depends on the owner's uid only, never on a spec field.
    expect(d.spec!.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'torchain-hop',
      'torchain.dev/owner-uid': 'uid-alpha-3',
    });
    expect(d.spec!.template.metadata!.labels).toMatchObject(d.spec!.selector.matchLabels!);
  });

  it('gives the vpn container the entrypoint environment of the contract', () => {
    expect(env).toEqual({
      TORCHAIN_TYPE: 'openvpn',
      TORCHAIN_CONFIG: '/etc/torchain/vpn/client.ovpn',
      TORCHAIN_ENDPOINT: '198.51.100.7:1194',
      TORCHAIN_PROTO: 'udp',
      TORCHAIN_OUT_IF: 'net-up',
      TORCHAIN_IN_IF: 'net-lan',
      TORCHAIN_GATEWAY: '192.168.50.1/24',
      TORCHAIN_MTU: '1420',
      TORCHAIN_TUN_IF: tunnelInterfaceName('vpn', 'alpha', 3, 'openvpn'),
      TORCHAIN_TMP_DIR: '/scratch',
    });
  });

  it('grants NET_ADMIN to the vpn container only; the exporter is non-root, read-only, without capabilities', () => {
    expect(vpn!.securityContext).toMatchObject({
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] },
      privileged: false,
    });
    expect(exporter!.name).toBe('log-exporter');
    expect(exporter!.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(exporter!.securityContext!.runAsUser).toBeGreaterThan(0);
    expect(exporter!.securityContext!.capabilities!.add).toBeUndefined();
    expect(exporter!.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 9108 });
    expect(vpn!.readinessProbe).toBeUndefined();
  });

  it('attaches the Multus networks (the LAN side without an address: the entrypoint assigns it), and pins the node', () => {
    const nets = JSON.parse(d.spec!.template.metadata!.annotations!['k8s.v1.cni.cncf.io/networks']!);
    expect(nets).toEqual([
      { name: 'alpha-hop3-out', interface: 'net-up' },
      { name: 'alpha-hop3-in', interface: 'net-lan' },
    ]);
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/hostname': 'worker-1' });
  });

  it('honours network name overrides ("namespace/name") from annotations', () => {
    const tc = torchain(
      'h1',
      { numberNode: 1, outInterface: 'ext0' },
      { annotations: { 'torchain.dev/out-network': 'kube-system/uplink' } },
    );
    const nets = JSON.parse(
      buildDeployment(input(tc)).spec!.template.metadata!.annotations!['k8s.v1.cni.cncf.io/networks']!,
    );
    expect(nets).toEqual([
      { name: 'uplink', namespace: 'kube-system', interface: 'ext0' },
      { name: 'alpha-hop1-in', interface: 'net1' },
    ]);
  });

  it('owns the Deployment, mounts the Secret read-only, recreates instead of surging', () => {
    expect(d.metadata!.ownerReferences![0]).toMatchObject({ kind: 'TorChain', uid: 'uid-alpha-3', controller: true });
    expect(d.spec!.strategy).toEqual({ type: 'Recreate' });
    expect(pod.volumes!.find((v) => v.name === 'vpn-config')!.secret!.secretName).toBe('alpha-3-vpn-config');
    expect(vpn!.volumeMounts!.find((m) => m.name === 'vpn-config')).toMatchObject({
      mountPath: '/etc/torchain/vpn',
      readOnly: true,
    });
  });

  it('drop > 0 scales to 0 and keeps everything else', () => {
    const dropped = buildDeployment(input({ ...lastHop, spec: { ...lastHop.spec, drop: 1 } }));
    expect(d.spec!.replicas).toBe(1);
    expect(dropped.spec!.replicas).toBe(0);
    expect(dropped.spec!.template.spec!.containers).toHaveLength(2);
  });

  it('image follows typeNode unless spec.image overrides it', () => {
    const wg = torchain('w', { numberNode: 2, typeNode: 'wireguard' });
    expect(buildDeployment(input(wg, wgConfig('10.0.0.1:51820'))).spec!.template.spec!.containers[0]!.image).toBe(
      images.wireguard,
    );
    expect(vpn!.image).toBe(images.openvpn);
    const custom = torchain('c', { numberNode: 1, image: 'my/openvpn:2' });
    expect(buildDeployment(input(custom)).spec!.template.spec!.containers[0]!.image).toBe('my/openvpn:2');
  });
});

describe('config hash and change detection', () => {
  const base = input(lastHop);
  it.each([
    ['the config', { ...base, config: ovpnConfig('198.51.100.8') }],
    ['the server', { ...base, server: 'srv-b' }],
    ['the MTU', { ...base, mtu: 1400 }],
    [
      'switchServer (a switch restarts the hop even on a pool of one)',
      { ...base, tc: { ...lastHop, spec: { ...lastHop.spec, switchServer: 5 } } },
    ],
    ['any spec field', { ...base, tc: { ...lastHop, spec: { ...lastHop.spec, tmpDir: '/other' } } }],
  ])('changes with %s, so the pod rolls', (_n, changed) => {
    expect(configHash(changed)).not.toBe(configHash(base));
    expect(upToDate(buildDeployment(base), buildDeployment(changed))).toBe(false);
  });

  it('is stable for the same input, and a hand-scaled Deployment is not up to date', () => {
    expect(configHash(input(lastHop))).toBe(configHash(base));
    const d = buildDeployment(base);
    expect(upToDate(d, buildDeployment(input(lastHop)))).toBe(true);
    expect(upToDate({ ...d, spec: { ...d.spec!, replicas: 3 } }, d)).toBe(false);
    expect(upToDate(undefined, d)).toBe(false);
  });
});

describe('names', () => {
  it('makes label values of any server name, without collisions', () => {
    expect(labelValue('srv-a.example')).toBe('srv-a.example');
    const a = labelValue('de/frankfurt 1');
    const b = labelValue('de:frankfurt 1');
    expect(a).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    expect(a).not.toBe(b);
    expect(labelValue('x'.repeat(100)).length).toBeLessThanOrEqual(63);
  });

  it('tunnel interface names fit IFNAMSIZ and differ per chain and hop', () => {
    const names = new Set(
      ['a', 'b'].flatMap((c) => [1, 2, 99999].map((h) => tunnelInterfaceName('ns', c, h, 'wireguard'))),
    );
    expect(names.size).toBe(6);
    for (const n of names) expect(n.length).toBeLessThanOrEqual(15);
  });
});

describe('hop Deployment: probe target, out gateway and interface defaults', () => {
  const envOf = (d: ReturnType<typeof buildDeployment>, container: string) =>
    Object.fromEntries(
      (d.spec!.template.spec!.containers.find((c) => c.name === container)!.env ?? []).map((e) => [e.name, e.value]),
    );

  it('a pool entry with `probe` routes it into the tunnel and hands it to the exporter', () => {
    const d = buildDeployment({ ...input(lastHop), probe: '10.8.0.1:53' });
    expect(envOf(d, 'vpn').TORCHAIN_TUNNEL_ROUTES).toBe('10.8.0.1/32');
    expect(envOf(d, 'log-exporter').TORCHAIN_PROBE_TARGET).toBe('10.8.0.1:53');
  });

  it('without `probe` the exporter chooses its own target and no route is added', () => {
    const d = buildDeployment(input(lastHop));
    expect(envOf(d, 'vpn').TORCHAIN_TUNNEL_ROUTES).toBeUndefined();
    expect(envOf(d, 'log-exporter').TORCHAIN_PROBE_TARGET).toBeUndefined();
  });

  it('passes outGateway, and always names the LAN-side interface (the entrypoint needs one)', () => {
    const tc = torchain('alpha-2', { numberNode: 2, typeNode: 'openvpn', outGateway: '10.201.1.1' });
    const env = envOf(buildDeployment(input(tc)), 'vpn');
    expect(env.TORCHAIN_OUT_GATEWAY).toBe('10.201.1.1');
    expect(env.TORCHAIN_IN_IF).toBe('net1');
  });
});

describe('DNS for the LAN (spec.dns)', () => {
  const withDns = torchain('alpha-3', { ...lastHop.spec, dns: { servers: ['9.9.9.9', '149.112.112.112'] } });
  const containers = (tc: TorChain) => buildDeployment(input(tc)).spec!.template.spec!.containers;
  const envOf = (c: { env?: Array<{ name: string; value?: string }> }) =>
    Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

  it('adds the resolver container: the hop image in its dns role, non-root, no capabilities, read-only', () => {
    const dns = containers(withDns).find((c) => c.name === 'dns')!;
    expect(dns.image).toBe(images.openvpn);
    expect(dns.command).toBeUndefined();
    expect(dns.args).toEqual(['dns']);
    expect(dns.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65531,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(dns.securityContext?.capabilities?.add).toBeUndefined();
    expect(envOf(dns)).toMatchObject({ TORCHAIN_GATEWAY: '192.168.50.1/24', TORCHAIN_DNS_PORT: '1053' });
    expect(dns.volumeMounts).toContainEqual({ name: 'dns', mountPath: '/run/torchain/dns', readOnly: true });
  });

  it('tells the vpn container to redirect DNS to it and publish the exit resolver, the chain’s own first', () => {
    const vpn = containers(withDns).find((c) => c.name === 'vpn')!;
    expect(envOf(vpn)).toMatchObject({
      TORCHAIN_DNS: '1',
      TORCHAIN_DNS_DIR: '/run/torchain/dns',
      TORCHAIN_DNS_UID: '65531',
      TORCHAIN_DNS_SERVERS: '9.9.9.9,149.112.112.112',
    });
    expect(vpn.volumeMounts).toContainEqual({ name: 'dns', mountPath: '/run/torchain/dns' });
    const exporter = containers(withDns).find((c) => c.name === 'log-exporter')!;
    expect(envOf(exporter)).toMatchObject({
      TORCHAIN_DNS_RESOLVER: '127.0.0.1:1053',
      TORCHAIN_DNS_CONTROL: '127.0.0.1:8953',
    });
    const serverPushed = torchain('alpha-3', { ...lastHop.spec, dns: {} });
    expect(envOf(containers(serverPushed).find((c) => c.name === 'vpn')!).TORCHAIN_DNS_SERVERS).toBeUndefined();
  });

  it('changes nothing on a hop without it, and restarts the hop when it is turned on', () => {
    expect(containers(lastHop).map((c) => c.name)).toEqual(['vpn', 'log-exporter']);
    const vpn = containers(lastHop).find((c) => c.name === 'vpn')!;
    expect(Object.keys(envOf(vpn)).filter((k) => k.startsWith('TORCHAIN_DNS'))).toEqual([]);
    expect(configHash(input(withDns))).not.toBe(configHash(input(lastHop)));
  });
});
