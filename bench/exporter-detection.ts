// Dead-server detection per protocol, with the real clients and servers in network namespaces this module creates
// (prefix tkj-d): the exporter (the image's bundle, with its node flags and its defaults) follows the client's log and
// probes through the tunnel; the server is then killed (SIGKILL of every server process) or blackholed (nftables in
// the server namespace drops its port both ways: no ICMP, no RST). Measured: server death → `tunnel_up 0` on
// /metrics (polled every 50 ms). The design contract is ≤ 10 s for every protocol, silent death included.
// Used by `npm run bench:exporter`; `measureDetection` is exported for the failover benchmark. Root only.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Protocol } from '../common/contracts/protocols.js';

export type DeathCase = 'killed' | 'blackholed';
export const DEATH_CASES: readonly DeathCase[] = ['killed', 'blackholed'];

const CLI = 'tkj-dc';
const SRV = 'tkj-ds';
const SRV_IP = '10.221.0.1';
const CLI_IP = '10.221.0.2';
/** Host side of the veth into the client namespace, only to scrape the exporter. */
const HOST_IP = '10.238.0.1';
const REACH_IP = '10.238.0.2';
const TUN_NET = '10.222.0'; // every protocol's tunnel subnet; the server is .1 (the probe's automatic target)

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}
const inNs = (ns: string, cmd: string, args: string[], input?: string) =>
  sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, read: () => Promise<T> | T, ok: (v: T) => boolean, ms: number, step = 100) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(step);
  }
}

interface Bench {
  dir: string;
  procs: ChildProcess[];
  spawnIn(ns: string, cmd: string[], log: string, opts?: { stdin?: string; env?: NodeJS.ProcessEnv }): ChildProcess;
  nsPids(ns: string): number[];
}

function makeBench(dir: string): Bench {
  const procs: ChildProcess[] = [];
  return {
    dir,
    procs,
    spawnIn(ns, cmd, log, opts = {}) {
      const out = openSync(log, 'a');
      const stdin = opts.stdin ? openSync(opts.stdin, 'r') : 'ignore';
      const p = spawn('ip', ['netns', 'exec', ns, ...cmd], {
        stdio: [stdin, out, out],
        env: { ...process.env, ...opts.env },
      });
      closeSync(out);
      if (typeof stdin === 'number') closeSync(stdin);
      procs.push(p);
      return p;
    },
    nsPids(ns) {
      return sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number);
    },
  };
}

function netUp() {
  netDown();
  for (const ns of [CLI, SRV]) {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  sh('ip', ['link', 'add', 'tkjdc0', 'netns', CLI, 'type', 'veth', 'peer', 'name', 'tkjds0', 'netns', SRV]);
  sh('ip', ['-n', CLI, 'addr', 'add', `${CLI_IP}/24`, 'dev', 'tkjdc0']);
  sh('ip', ['-n', SRV, 'addr', 'add', `${SRV_IP}/24`, 'dev', 'tkjds0']);
  sh('ip', ['-n', CLI, 'link', 'set', 'tkjdc0', 'up']);
  sh('ip', ['-n', SRV, 'link', 'set', 'tkjds0', 'up']);
  sh('ip', ['link', 'add', 'tkjdh0', 'type', 'veth', 'peer', 'name', 'tkjdh1', 'netns', CLI]);
  sh('ip', ['addr', 'add', `${HOST_IP}/30`, 'dev', 'tkjdh0']);
  sh('ip', ['link', 'set', 'tkjdh0', 'up']);
  sh('ip', ['-n', CLI, 'addr', 'add', `${REACH_IP}/30`, 'dev', 'tkjdh1']);
  sh('ip', ['-n', CLI, 'link', 'set', 'tkjdh1', 'up']);
}

function netDown() {
  // The host end first: deleting it removes the pair at once, while a deleted namespace frees its devices later.
  try {
    sh('ip', ['link', 'del', 'tkjdh0']);
  } catch {
    // not there
  }
  for (const ns of [CLI, SRV]) {
    try {
      for (const pid of sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean))
        process.kill(Number(pid), 'SIGKILL');
    } catch {
      // no such namespace
    }
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      // not there
    }
  }
  for (const s of ['tkjdwgc', 'tkjdwgs']) rmSync(`/var/run/wireguard/${s}.sock`, { force: true });
}

function pki(dir: string) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  sh('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    `${dir}/ca.key`,
    '-out',
    `${dir}/ca.crt`,
    '-days',
    '30',
    '-subj',
    '/CN=tkj-ca',
  ]);
  for (const [name, eku] of [
    ['server', 'serverAuth'],
    ['client', 'clientAuth'],
  ] as const) {
    sh('openssl', [
      'req',
      ...ec,
      '-keyout',
      `${dir}/${name}.key`,
      '-out',
      `${dir}/${name}.csr`,
      '-subj',
      `/CN=tkj-${name}`,
    ]);
    writeFileSync(
      `${dir}/${name}.ext`,
      `extendedKeyUsage=${eku}\nkeyUsage=digitalSignature,keyAgreement\nsubjectAltName=IP:${SRV_IP}\n`,
    );
    sh('openssl', [
      'x509',
      '-req',
      '-in',
      `${dir}/${name}.csr`,
      '-CA',
      `${dir}/ca.crt`,
      '-CAkey',
      `${dir}/ca.key`,
      '-CAcreateserial',
      '-out',
      `${dir}/${name}.crt`,
      '-days',
      '30',
      '-extfile',
      `${dir}/${name}.ext`,
    ]);
  }
  sh('ocpasswd', ['-c', `${dir}/ocpasswd`, 'tkj-user'], 'tkj-password\ntkj-password\n');
  writeFileSync(`${dir}/oc-pass.txt`, 'tkj-password\n', { mode: 0o600 });
  writeFileSync(
    `${dir}/oc-tun.sh`,
    '#!/bin/sh\ncase "$reason" in connect|reconnect)\n  ip link set dev "$TUNDEV" up mtu "${INTERNAL_IP4_MTU:-1300}"\n' +
      '  ip addr replace "$INTERNAL_IP4_ADDRESS/${INTERNAL_IP4_NETMASKLEN:-32}" dev "$TUNDEV" ;;\nesac\nexit 0\n',
    { mode: 0o755 },
  );
  sh('wg', ['genkey']);
  writeFileSync(`${dir}/wgs.key`, sh('wg', ['genkey']), { mode: 0o600 });
  writeFileSync(`${dir}/wgc.key`, sh('wg', ['genkey']), { mode: 0o600 });
}

/** One protocol's server and client, as the hop and the lab run them. */
interface Setup {
  tunIf: string;
  /** UDP/TCP port the server listens on (what the blackhole drops). */
  port: number;
  startServer(b: Bench, log: string): Promise<void>;
  startClient(b: Bench, log: string): Promise<void>;
}

const SETUPS: Record<Protocol, Setup> = {
  openvpn: {
    tunIf: 'tkjdovpn',
    port: 1194,
    async startServer(b, log) {
      const conf = join(b.dir, 'ovpn-server.conf');
      writeFileSync(
        conf,
        [
          'dev tkjdovps',
          'dev-type tun',
          'topology subnet',
          `server ${TUN_NET}.0 255.255.255.0`,
          'proto udp',
          `local ${SRV_IP}`,
          'port 1194',
          `ca ${b.dir}/ca.crt`,
          `cert ${b.dir}/server.crt`,
          `key ${b.dir}/server.key`,
          'dh none',
          'keepalive 2 10',
          'verb 3',
        ].join('\n') + '\n',
      );
      b.spawnIn(SRV, ['openvpn', '--config', conf], log);
      await until(
        'openvpn server',
        () => sh('cat', [log]),
        (t) => t.includes('Initialization Sequence Completed'),
        15_000,
      );
    },
    async startClient(b, log) {
      const conf = join(b.dir, 'ovpn-client.conf');
      // The lab's client settings (ping 2, ping-restart 10).
      writeFileSync(
        conf,
        [
          'client',
          'dev tkjdovpn',
          'dev-type tun',
          'proto udp',
          `remote ${SRV_IP} 1194`,
          'nobind',
          `ca ${b.dir}/ca.crt`,
          `cert ${b.dir}/client.crt`,
          `key ${b.dir}/client.key`,
          'remote-cert-tls server',
          'verb 3',
          'connect-retry 1 1',
          'ping 2',
          'ping-restart 10',
          'hand-window 10',
        ].join('\n') + '\n',
      );
      b.spawnIn(CLI, ['openvpn', '--config', conf], log);
    },
  },
  wireguard: {
    tunIf: 'tkjdwgc',
    port: 51820,
    async startServer(b, log) {
      const env = { LOG_LEVEL: 'verbose', WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' };
      b.spawnIn(SRV, ['wireguard-go', '-f', 'tkjdwgs'], log, { env });
      await until('wireguard-go server', () => ifExists(SRV, 'tkjdwgs'), Boolean, 5000);
      const pub = sh('wg', ['pubkey'], sh('cat', [`${b.dir}/wgc.key`])).trim();
      inNs(SRV, 'wg', [
        'set',
        'tkjdwgs',
        'listen-port',
        '51820',
        'private-key',
        `${b.dir}/wgs.key`,
        'peer',
        pub,
        'allowed-ips',
        `${TUN_NET}.2/32`,
      ]);
      sh('ip', ['-n', SRV, 'addr', 'add', `${TUN_NET}.1/24`, 'dev', 'tkjdwgs']);
      sh('ip', ['-n', SRV, 'link', 'set', 'tkjdwgs', 'up']);
    },
    async startClient(b, log) {
      const env = { LOG_LEVEL: 'verbose', WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' };
      b.spawnIn(CLI, ['wireguard-go', '-f', 'tkjdwgc'], log, { env });
      await until('wireguard-go client', () => ifExists(CLI, 'tkjdwgc'), Boolean, 5000);
      const pub = sh('wg', ['pubkey'], sh('cat', [`${b.dir}/wgs.key`])).trim();
      // persistent-keepalive as the hop entrypoint sets it.
      inNs(CLI, 'wg', [
        'set',
        'tkjdwgc',
        'private-key',
        `${b.dir}/wgc.key`,
        'peer',
        pub,
        'endpoint',
        `${SRV_IP}:51820`,
        'allowed-ips',
        `${TUN_NET}.0/24`,
        'persistent-keepalive',
        '25',
      ]);
      sh('ip', ['-n', CLI, 'addr', 'add', `${TUN_NET}.2/24`, 'dev', 'tkjdwgc']);
      sh('ip', ['-n', CLI, 'link', 'set', 'tkjdwgc', 'up']);
    },
  },
  openconnect: {
    tunIf: 'tkjdoct',
    port: 443,
    async startServer(b, log) {
      const conf = join(b.dir, 'ocserv.conf');
      writeFileSync(
        conf,
        [
          `auth = "plain[passwd=${b.dir}/ocpasswd]"`,
          `listen-host = ${SRV_IP}`,
          'tcp-port = 443',
          'udp-port = 443',
          `socket-file = ${b.dir}/ocserv.sock`,
          `pid-file = ${b.dir}/ocserv.pid`,
          'use-occtl = false',
          'isolate-workers = false',
          `server-cert = ${b.dir}/server.crt`,
          `server-key = ${b.dir}/server.key`,
          'keepalive = 10',
          'dpd = 2',
          'mobile-dpd = 2',
          'try-mtu-discovery = false',
          'rate-limit-ms = 0',
          'max-ban-score = 0',
          'device = tkjdocs',
          `ipv4-network = ${TUN_NET}.0`,
          'ipv4-netmask = 255.255.255.0',
          'dtls-legacy = true',
          'cisco-client-compat = true',
          'log-level = 1',
        ].join('\n') + '\n',
      );
      b.spawnIn(SRV, ['ocserv', '-f', '-c', conf], log);
      await until(
        'ocserv',
        () => sh('cat', [log]),
        (t) => t.includes('listening (TCP)'),
        10_000,
      );
    },
    async startClient(b, log) {
      // The flags the corpus was captured with and the hop entrypoint should use (see the exporter README).
      b.spawnIn(
        CLI,
        [
          'openconnect',
          '--timestamp',
          '--non-inter',
          '--passwd-on-stdin',
          '--user',
          'tkj-user',
          '--cafile',
          `${b.dir}/ca.crt`,
          '--script',
          `${b.dir}/oc-tun.sh`,
          '--interface',
          'tkjdoct',
          '--force-dpd',
          '2',
          '--reconnect-timeout',
          '30',
          `https://${SRV_IP}/`,
        ],
        log,
        { stdin: `${b.dir}/oc-pass.txt` },
      );
    },
  },
};

function ifExists(ns: string, ifname: string): boolean {
  try {
    sh('ip', ['-n', ns, 'link', 'show', ifname]);
    return true;
  } catch {
    return false;
  }
}

function blackhole(port: number) {
  inNs(
    SRV,
    'nft',
    ['-f', '-'],
    `table inet tkjdrop {
  chain input { type filter hook input priority 0; policy accept; udp dport ${port} drop; tcp dport ${port} drop; }
  chain output { type filter hook output priority 0; policy accept; udp sport ${port} drop; tcp sport ${port} drop; }
}
`,
  );
}

let lastScrape = '';

async function tunnelUp(url: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(1000) })).text();
    lastScrape = text;
    const m = /^torchain_vpn_tunnel_up (\d)$/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch (err) {
    lastScrape = `scrape failed: ${String(err)}`;
    return undefined;
  }
}

/** The port of the exporter's "listening" line (JSON; field order is the logger's business). */
export function listeningPort(log: string): number | undefined {
  for (const line of log.split('\n')) {
    try {
      const o = JSON.parse(line) as { msg?: string; port?: number };
      if (o.msg === 'listening' && typeof o.port === 'number') return o.port;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

/** The exporter as the image runs it: `node [flags] bundle.mjs`, inside the client namespace. */
async function startExporter(b: Bench, exporter: string[], type: Protocol, clientLog: string, log: string) {
  const p = b.spawnIn(
    CLI,
    [
      ...exporter,
      '--type',
      type,
      '--source',
      'file',
      '--file',
      clientLog,
      '--tun-interface',
      SETUPS[type].tunIf,
      '--listen',
      `${REACH_IP}:0`,
    ],
    log,
  );
  const port = await until(
    'exporter listening',
    () => listeningPort(sh('cat', [log])),
    (v) => v !== undefined,
    20_000,
  );
  return { proc: p, url: `http://${REACH_IP}:${port}/metrics` };
}

/** Seconds from server death to tunnel_up 0, one run per element. */
export async function measureDetection(opts: {
  exporter: string[];
  protocols: readonly Protocol[];
  cases?: readonly DeathCase[];
  runs: number;
  onRun?: (type: Protocol, kind: DeathCase, seconds: number) => void;
}): Promise<Record<string, number[]>> {
  const dir = mkdtempSync(join(tmpdir(), 'tkj-detect-'));
  const out: Record<string, number[]> = {};
  try {
    pki(dir);
    for (const type of opts.protocols) {
      for (const kind of opts.cases ?? DEATH_CASES) {
        const key = `${type} ${kind}`;
        out[key] = [];
        for (let run = 0; run < opts.runs; run++) {
          netUp();
          const b = makeBench(dir);
          const tag = `${type}-${kind}-${run}`;
          const clientLog = join(dir, `${tag}-client.log`);
          writeFileSync(clientLog, '');
          try {
            const setup = SETUPS[type];
            await setup.startServer(b, join(dir, `${tag}-server.log`));
            const { url } = await startExporter(b, opts.exporter, type, clientLog, join(dir, `${tag}-exporter.log`));
            await setup.startClient(b, clientLog);
            await until(
              `${key}: tunnel up`,
              () => tunnelUp(url),
              (v) => v === 1,
              30_000,
            );
            // Steady state first: a few probes have succeeded and the client is past its start-up.
            await sleep(3000 + Math.random() * 2000);
            if ((await tunnelUp(url)) !== 1) throw new Error(`${key}: the tunnel did not stay up before the death`);
            const t0 = performance.now();
            if (kind === 'killed') for (const pid of b.nsPids(SRV)) process.kill(pid, 'SIGKILL');
            else blackhole(setup.port);
            await until(
              `${key}: tunnel_up 0`,
              () => tunnelUp(url),
              (v) => v === 0,
              30_000,
              50,
            );
            const seconds = (performance.now() - t0) / 1000;
            out[key].push(seconds);
            opts.onRun?.(type, kind, seconds);
          } catch (err) {
            // What the exporter and the client said, for the diagnosis.
            process.stderr.write(
              `--- last scrape\n${lastScrape
                .split('\n')
                .filter((l) => /^torchain_vpn|failed/.test(l))
                .join('\n')}\n`,
            );
            for (const f of [`${tag}-exporter.log`, `${tag}-client.log`]) {
              const text = sh('tail', ['-n', '40', join(dir, f)]);
              process.stderr.write(`--- ${f} (last lines)\n${text}\n`);
            }
            const keep = mkdtempSync(join(tmpdir(), `tkj-detect-failed-${tag}-`));
            sh('sh', ['-c', `cp ${dir}/${tag}-* ${keep}/`]);
            process.stderr.write(`--- logs kept in ${keep}\n`);
            throw err;
          } finally {
            for (const p of b.procs) p.kill('SIGKILL');
            netDown();
          }
        }
      }
    }
    return out;
  } finally {
    netDown();
    rmSync(dir, { recursive: true, force: true });
  }
}
