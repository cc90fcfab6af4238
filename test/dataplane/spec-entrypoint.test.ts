// A spec the API accepts must run. The generated CRD's openAPIV3Schema (read from the chart's CRD file, validated with
// plain ajv, not the operator's validator) against the hop entrypoint's own checks, with the environment the operator
// builds from the spec (buildDeployment), the Secret and emptyDir mapped to disk as a kubelet would, and the pod's
// attachments created under the names the spec gives:
//   - every refusal of the entrypoint that a spec field can cause is refused by the CRD;
//   - every spec of a table of accepted ones (edge values of every field) passes the entrypoint's checks
//     (TORCHAIN_CHECK_ONLY=1: the checks run in full, nothing is changed).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROTOCOLS, type Protocol } from '../../common/contracts/protocols.js';
import { CRD_PATH } from '../../operator/src/api/crd-file.js';
import { API_VERSION, KIND, type TorChain, type TorChainSpec } from '../../operator/src/api/torchain.js';
import { hopMtu } from '../../operator/src/core/chain-mtu.js';
import { buildDeployment, buildSecret, type HopImages } from '../../operator/src/core/hop-objects.js';
import { tunnelMtus } from '../../operator/src/core/mtu.js';
import { CONFIG_MOUNT_DIR } from '../../operator/src/core/naming.js';
import { protocolModule, type PreparedServer } from '../../operator/src/protocols/index.js';
import { ENTRYPOINT, ipBatch, run } from '../../lab/netns/index.js';
import { REPO_ROOT } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { DATAPLANE_BINARIES, PREFIX } from './support.js';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const crd = parse(readFileSync(join(REPO_ROOT, CRD_PATH), 'utf8')) as Obj;
const specSchema = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec as Obj;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const schemaAccepts = ajv.compile(specSchema);
/** The CRD's CEL rules (ajv does not evaluate CEL; the API server does): the same comparisons, stated here. */
const CEL_RULE = "self.inInterface != (has(self.outInterface) ? self.outInterface : 'eth0')";
const CEL_DNS_RULE = '!has(self.dns) || has(self.ipGateWay)';
const celAccepts = (spec: Obj) =>
  spec.inInterface !== (spec.outInterface ?? 'eth0') && (spec.dns === undefined || spec.ipGateWay !== undefined);
const crdAccepts = (spec: Obj) => schemaAccepts(spec) && celAccepts(spec);

const PIN = `pin-sha256:${'A'.repeat(43)}=`;
const PEM =
  '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----';
/** A pool entry of each protocol, at an IPv4 or an IPv6 endpoint. */
function poolEntry(type: Protocol, v6: boolean): string {
  const host = v6 ? 'fd00:5::7' : '198.51.100.7';
  switch (type) {
    case 'openvpn':
      return `client\nremote ${host} 1194\n`;
    case 'wireguard':
      return `[Interface]\nPrivateKey = x\nAddress = 10.9.0.2/32\n[Peer]\nPublicKey = y\nEndpoint = ${v6 ? `[${host}]` : host}:51820\n`;
    case 'openconnect':
      return `server = https://${v6 ? `[${host}]` : host}/\nservercert = ${PIN}\nuser = u\n<cert>\n${PEM}\n</cert>\n<password>\np\n</password>\n`;
  }
}

const images = {
  ...(Object.fromEntries(PROTOCOLS.map((p) => [p, `img/${p}`])) as Record<Protocol, string>),
  logExporter: 'img/exporter',
} satisfies HopImages;

const BASE: Obj = { numberNode: 1, typeNode: 'openvpn', nameTorChain: 'a', inInterface: 'in0', outInterface: 'out0' };

describe.skipIf(skipUnless({ root: true, binaries: DATAPLANE_BINARIES }))('CRD and hop entrypoint agree', () => {
  const netns = `${PREFIX}-se-hop`;
  let dir: string;
  let seq = 0;

  beforeAll(async () => {
    await run('ip', ['netns', 'del', netns]).catch(() => undefined);
    await run('ip', ['netns', 'add', netns]);
    dir = await mkdtemp(join(tmpdir(), `torchain-netns-${PREFIX}-se-`));
  });
  afterAll(async () => {
    await run('ip', ['netns', 'del', netns]).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs the entrypoint's checks for `spec` as the operator would deploy it: env from buildDeployment, the Secret's
   * files and the emptyDir on disk, attachments named as the spec says (`attach`: which to create).
   */
  async function entrypointCheck(
    spec: Obj,
    attach: 'both' | 'out' | 'none' = 'both',
  ): Promise<{ code: number; stderr: string }> {
    const n = ++seq;
    const v6 = typeof spec.outGateway === 'string' && spec.outGateway.includes(':');
    const prepared = protocolModule(spec.typeNode).prepare(poolEntry(spec.typeNode as Protocol, v6));
    if (!prepared.ok) throw new Error(prepared.error);
    const tc: TorChain = {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: `a-hop-${n}`, namespace: 'vpn', uid: `u${n}` },
      spec: spec as TorChainSpec,
    };
    // The MTU as the operator takes it: spec.mtu, else computed for the chain.
    const mtu = hopMtu(tc, [tc], new Map(), 1500, tunnelMtus);
    const d = buildDeployment({ tc, server: 's', config: '', endpoint: prepared.value as PreparedServer, mtu, images });
    const vpn = d.spec!.template.spec!.containers.find((c) => c.name === 'vpn')!;
    const secretDir = join(dir, `secret-${n}`);
    const emptyDir = join(dir, `tmp-${n}`);
    await mkdir(secretDir, { recursive: true });
    await mkdir(emptyDir, { recursive: true });
    const secret = buildSecret({
      tc,
      server: 's',
      config: '',
      endpoint: prepared.value,
      mtu,
      images,
    });
    for (const [file, b64] of Object.entries(secret.data ?? {}))
      await writeFile(join(secretDir, file), Buffer.from(b64, 'base64'), { mode: 0o400 });
    const tmpMount = vpn.volumeMounts!.find((m) => m.name === 'tmp')!.mountPath;
    const dnsMount = vpn.volumeMounts!.find((m) => m.name === 'dns')?.mountPath;
    const mapPath = (v: string) =>
      v.startsWith(CONFIG_MOUNT_DIR)
        ? secretDir + v.slice(CONFIG_MOUNT_DIR.length)
        : v === tmpMount || v === dnsMount
          ? emptyDir
          : v;
    const env = Object.fromEntries((vpn.env ?? []).map((e) => [e.name, mapPath(e.value ?? '')]));
    // The pod's attachments (and eth0, its primary interface), created under the names the spec gives.
    const names = { both: [env.TORCHAIN_IN_IF!, env.TORCHAIN_OUT_IF!], out: [env.TORCHAIN_OUT_IF!], none: [] }[attach];
    const created = [...new Set(names)];
    if (created.length)
      await ipBatch(
        created.map((name, i) => `link add ${name} type veth peer name pe${n}x${i}`),
        netns,
      );
    try {
      await run('ip', ['netns', 'exec', netns, 'bash', ENTRYPOINT], {
        env: { PATH: process.env.PATH, ...env, TORCHAIN_CHECK_ONLY: '1' },
        timeoutMs: 10_000,
      });
      return { code: 0, stderr: '' };
    } catch (e) {
      const m = /command failed \((\d+)\)/.exec((e as Error).message);
      return { code: Number(m?.[1] ?? -1), stderr: (e as Error).message };
    } finally {
      if (created.length)
        await ipBatch(
          created.map((name) => `link del ${name}`),
          netns,
        ).catch(() => undefined);
    }
  }

  it('the CRD carries the rules no schema keyword can state', () => {
    expect(specSchema['x-kubernetes-validations']).toEqual([
      { rule: CEL_RULE, message: 'inInterface and outInterface (default eth0) must be two different interfaces' },
      { rule: CEL_DNS_RULE, message: "dns needs ipGateWay: the hop's resolver answers on its LAN address" },
    ]);
    expect(specSchema.required).toContain('inInterface');
  });

  // [what, spec change, the entrypoint's refusal, which attachments the pod would have]
  const refusals: Array<[string, Obj, RegExp, ('both' | 'out' | 'none')?]> = [
    [
      'ipGateWay without a prefix',
      { ipGateWay: '192.168.50.1' },
      /TORCHAIN_GATEWAY must be an IPv4 address with a prefix/,
    ],
    ['an IPv6 ipGateWay', { ipGateWay: 'fd00:50::1/64' }, /TORCHAIN_GATEWAY must be an IPv4/],
    ['a /31 ipGateWay', { ipGateWay: '10.0.0.1/31' }, /prefix of \/30 or shorter/],
    ['a /32 ipGateWay', { ipGateWay: '10.0.0.1/32' }, /prefix of \/30 or shorter/],
    ['an octet above 255 in ipGateWay', { ipGateWay: '10.0.0.256/24' }, /TORCHAIN_GATEWAY must be/],
    ['an MTU above 9000', { mtu: 9001 }, /TORCHAIN_MTU must be an integer in 576..9000/],
    ['the largest MTU the old CRD took', { mtu: 65535 }, /TORCHAIN_MTU must be an integer in 576..9000/],
    ['an MTU below 576', { mtu: 575 }, /TORCHAIN_MTU must be an integer in 576..9000/],
    ['no inInterface (no attachment requested)', { inInterface: undefined }, /interface net1 does not exist/, 'out'],
    [
      'an inInterface with a semicolon',
      { inInterface: 'in0;x' },
      /TORCHAIN_IN_IF is not a plain interface name/,
      'none',
    ],
    [
      'an inInterface starting with a dash',
      { inInterface: '-in0' },
      /TORCHAIN_IN_IF is not a plain interface name/,
      'none',
    ],
    [
      'an outInterface with a space',
      { outInterface: 'eth 0' },
      /TORCHAIN_OUT_IF is not a plain interface name/,
      'none',
    ],
    [
      'an outInterface Linux takes but nft strings do not',
      { outInterface: 'wan"1' },
      /TORCHAIN_OUT_IF is not a plain/,
      'none',
    ],
    [
      'a 16-byte interface name',
      { inInterface: 'abcdefghijklmnop' },
      /TORCHAIN_IN_IF is not a plain interface name/,
      'none',
    ],
    [
      'the same interface in and out',
      { inInterface: 'lan0', outInterface: 'lan0' },
      /must be three different interfaces/,
    ],
    [
      'inInterface eth0 without outInterface',
      { inInterface: 'eth0', outInterface: undefined },
      /must be three different/,
    ],
    ['an outGateway that is no address', { outGateway: 'router' }, /TORCHAIN_OUT_GATEWAY must be an IP address/],
    ['an unknown typeNode', { typeNode: 'ipsec' }, /TORCHAIN_TYPE must be one of/, 'none'],
    ['dns without ipGateWay', { dns: {} }, /TORCHAIN_DNS=1 needs TORCHAIN_GATEWAY/],
    [
      'a loopback DNS server',
      { ipGateWay: '192.168.50.1/24', dns: { servers: ['127.0.0.53'] } },
      /TORCHAIN_DNS_SERVERS must be/,
    ],
    [
      'a DNS server host name',
      { ipGateWay: '192.168.50.1/24', dns: { servers: ['dns.example'] } },
      /TORCHAIN_DNS_SERVERS must be/,
    ],
    [
      'an IPv6 DNS server',
      { ipGateWay: '192.168.50.1/24', dns: { servers: ['2001:db8::53'] } },
      /TORCHAIN_DNS_SERVERS must be/,
    ],
    [
      'a multicast DNS server',
      { ipGateWay: '192.168.50.1/24', dns: { servers: ['224.0.0.251'] } },
      /TORCHAIN_DNS_SERVERS must be/,
    ],
    [
      'four DNS servers',
      { ipGateWay: '192.168.50.1/24', dns: { servers: ['1.1.1.1', '1.0.0.1', '9.9.9.9', '8.8.8.8'] } },
      /more than 3 resolvers/,
    ],
  ];

  it.each(refusals)(
    '%s: the CRD refuses it, and so does the entrypoint (exit 64)',
    async (_what, change, message, attach) => {
      const spec = { ...BASE, ...change };
      for (const [k, v] of Object.entries(change)) if (v === undefined) delete spec[k];
      expect(crdAccepts(spec), JSON.stringify(spec)).toBe(false);
      // An unknown type has no protocol module to prepare a server with: the entrypoint gets the type as it is.
      if (spec.typeNode === 'ipsec') {
        const direct = await run('ip', ['netns', 'exec', netns, 'bash', ENTRYPOINT], {
          env: {
            PATH: process.env.PATH,
            TORCHAIN_TYPE: 'ipsec',
            TORCHAIN_CONFIG: '/dev/null',
            TORCHAIN_ENDPOINT: '198.51.100.7:1194',
            TORCHAIN_PROTO: 'udp',
            TORCHAIN_OUT_IF: 'out0',
            TORCHAIN_IN_IF: 'in0',
            TORCHAIN_MTU: '1400',
            TORCHAIN_TUN_IF: 'tun0',
          },
        }).then(
          () => ({ code: 0, stderr: '' }),
          (e: Error) => ({ code: Number(/command failed \((\d+)\)/.exec(e.message)?.[1] ?? -1), stderr: e.message }),
        );
        expect(direct.code).toBe(64);
        expect(direct.stderr).toMatch(message);
        return;
      }
      const r = await entrypointCheck(spec, attach ?? 'both');
      expect(r.code, r.stderr).toBe(64);
      expect(r.stderr).toMatch(message);
    },
  );

  // Edge values of every field the entrypoint reads, combined.
  const accepted: Obj[] = [
    {},
    { inInterface: 'abcdefghijklmno', outInterface: 'A_b.c@d+e-f' },
    { inInterface: 'x', outInterface: undefined },
    { inInterface: '_in', outInterface: 'eth0.100' },
    { ipGateWay: '192.168.50.1/24' },
    { ipGateWay: '10.254.0.5/30' },
    { ipGateWay: '10.0.0.1/0' },
    { ipGateWay: '255.255.255.254/30', mtu: 9000 },
    { ipGateWay: '0.0.0.0/8', mtu: 576 },
    { mtu: 1280 },
    { outGateway: '10.201.1.1' },
    { outGateway: 'fd00:1::1' },
    { tmpDir: '/var/tmp/vpn', vpnFileConfig: 'office.ovpn' },
    { vpnFileConfig: 'x', numberNode: 17, nameTorChain: `c${'a'.repeat(38)}z` },
    { drop: 1, switchServer: 3, poolPath: 'custom/pool', image: 'my/img:1', nameK8sNode: 'w1' },
    { ipGateWay: '192.168.50.1/24', dns: {} },
    { ipGateWay: '10.254.0.5/30', dns: { servers: ['1.1.1.1', '9.9.9.9', '223.255.255.254'] } },
    { ipGateWay: '10.0.0.1/8', dns: { servers: ['126.0.0.1'] } },
  ];
  const cases = PROTOCOLS.flatMap((typeNode) => accepted.map((change) => ({ typeNode, change })));

  it.each(cases.map((c) => [`${c.typeNode} ${JSON.stringify(c.change)}`, c] as const))(
    'accepted by the CRD and by the entrypoint: %s',
    async (_name, { typeNode, change }) => {
      const spec: Obj = { ...BASE, typeNode, ...change };
      for (const [k, v] of Object.entries(change)) if (v === undefined) delete spec[k];
      expect(crdAccepts(spec), JSON.stringify(schemaAccepts.errors)).toBe(true);
      const r = await entrypointCheck(spec);
      expect(r.code, r.stderr).toBe(0);
    },
  );
});
