// The exporter's view of the gateway's DNS resolver (hops that serve DNS): unbound's statistics → answered and failed
// queries, and a probe query through it → torchain_dns_up. Pure parts on plain data; then the real exporter against
// the real resolver container (images/hop/dns.sh: unbound, non-root) forwarding to a real dnsmasq "exit resolver".
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../log-exporter/src/config.js';
import { answeredRcode, encodeQuery, QTYPE, replyRcode } from '../../log-exporter/src/dns/query.js';
import { dnsOutcomes, parseUnboundStats } from '../../log-exporter/src/dns/unbound-stats.js';
import { applyDnsProbe, applyDnsTotals, initialState } from '../../log-exporter/src/state.js';
import { Daemon, ENTRYPOINT, RESOLVER_UID, dnsQuery } from '../../lab/netns/index.js';
import { skipUnless } from '../support/env.js';
import { eventually, startExporter, type RunningExporter } from './support/exporter-process.js';
import { sample } from './support/exposition.js';

/** What unbound 1.17 prints for `stats_noreset` (extended statistics), abridged to the lines that matter and a few that do not. */
const STATS = `thread0.num.queries=9
time.now=1796067600.1
time.up=42.5
total.num.queries=9
total.num.cachehits=1
total.requestlist.current.all=1
total.requestlist.current.user=1
total.recursion.time.avg=0.012
num.query.type.A=9
num.answer.rcode.NOERROR=4
num.answer.rcode.FORMERR=0
num.answer.rcode.SERVFAIL=1
num.answer.rcode.NXDOMAIN=1
num.answer.rcode.NOTIMPL=0
num.answer.rcode.REFUSED=1
num.answer.rcode.nodata=2
num.answer.secure=0
`;

describe('unbound statistics', () => {
  it('answered: NOERROR and NXDOMAIN; failed: error replies and queries never answered (not the pending ones)', () => {
    const t = parseUnboundStats(STATS);
    expect(t).toEqual({ queries: 9, answered: 5, errorReplies: 2, pending: 1, uptimeSeconds: 42.5 });
    // 9 queries: 5 answered, 2 error replies, 1 still waiting, so 1 never answered.
    expect(dnsOutcomes(t)).toEqual({ answered: 5, failed: 3, uptimeSeconds: 42.5 });
  });

  it('refuses what is not unbound statistics', () => {
    expect(() => parseUnboundStats('error unknown command\n')).toThrow(/no total.num.queries/);
  });

  it('counts growth after a baseline, all of a restarted resolver, and never goes down', () => {
    const s = initialState('openvpn');
    applyDnsTotals(s, { answered: 100, failed: 7, uptimeSeconds: 500 }); // before the exporter: baseline
    expect([s.dns.answered, s.dns.failed]).toEqual([0, 0]);
    applyDnsTotals(s, { answered: 103, failed: 8, uptimeSeconds: 505 });
    expect([s.dns.answered, s.dns.failed]).toEqual([3, 1]);
    applyDnsTotals(s, { answered: 103, failed: 7, uptimeSeconds: 510 }); // a waiting query counted back: no decrease
    applyDnsTotals(s, { answered: 104, failed: 8, uptimeSeconds: 515 });
    expect([s.dns.answered, s.dns.failed]).toEqual([4, 1]);
    applyDnsTotals(s, { answered: 2, failed: 1, uptimeSeconds: 3 }); // restarted for a new upstream
    expect([s.dns.answered, s.dns.failed]).toEqual([6, 2]);
  });

  it('the probe: up at once when answered, down after the configured failures in a row', () => {
    const s = initialState('openvpn', 2);
    expect(s.dns.up).toBe(false);
    applyDnsProbe(s, true);
    expect(s.dns.up).toBe(true);
    applyDnsProbe(s, false);
    expect(s.dns.up).toBe(true);
    applyDnsProbe(s, false);
    expect(s.dns.up).toBe(false);
    applyDnsProbe(s, true);
    expect(s.dns.up).toBe(true);
  });
});

describe('the probe query', () => {
  it('encodes a TCP-framed query for the root and for a name', () => {
    const root = encodeQuery(0x1234, '.', QTYPE.NS);
    expect(root.toString('hex')).toBe('0011' + '1234' + '0100' + '0001000000000000' + '00' + '0002' + '0001');
    const named = encodeQuery(7, 'a.example.', QTYPE.A);
    expect(named.subarray(14, 25).toString('hex')).toBe('016107' + Buffer.from('example').toString('hex') + '00');
    expect(() => encodeQuery(1, `${'x'.repeat(64)}.example`, QTYPE.A)).toThrow(/label of 64 bytes/);
  });

  it('reads the reply code of a whole reply to its own query', () => {
    const reply = (id: number, flags: number) => {
      const b = Buffer.alloc(14);
      b.writeUInt16BE(12, 0);
      b.writeUInt16BE(id, 2);
      b.writeUInt16BE(flags, 4);
      return b;
    };
    expect(replyRcode(reply(9, 0x8180), 9)).toBe('NOERROR');
    expect(replyRcode(reply(9, 0x8183), 9)).toBe('NXDOMAIN');
    expect(replyRcode(reply(9, 0x8182), 9)).toBe('SERVFAIL');
    expect(replyRcode(reply(9, 0x8180).subarray(0, 8), 9)).toBeUndefined(); // not all there yet
    expect(() => replyRcode(reply(8, 0x8180), 9)).toThrow(/another id/);
    expect(() => replyRcode(reply(9, 0x0100), 9)).toThrow(/not a reply/);
    expect(['NOERROR', 'NXDOMAIN'].every(answeredRcode)).toBe(true);
    expect(['SERVFAIL', 'REFUSED'].some(answeredRcode)).toBe(false);
  });
});

describe('DNS flags', () => {
  const base = ['--type', 'openvpn', '--source', 'stdin'];
  it('reads them from flags and environment, with defaults', () => {
    const c = parseConfig([...base], {
      TORCHAIN_DNS_RESOLVER: '127.0.0.1:1053',
      TORCHAIN_DNS_CONTROL: '127.0.0.1:8953',
    });
    expect(c).toMatchObject({
      dnsResolver: { host: '127.0.0.1', port: 1053 },
      dnsControl: { host: '127.0.0.1', port: 8953 },
      dnsProbeName: '.',
      dnsIntervalSeconds: 5,
      dnsTimeoutSeconds: 3,
    });
    expect(parseConfig(base, {}).dnsResolver).toBeUndefined();
  });
  it.each([
    [['--dns-resolver', 'localhost'], /--dns-resolver.*not HOST:PORT/],
    [['--dns-control', '127.0.0.1:0'], /port 0 cannot be reached/],
    [['--dns-probe-name', 'bad name'], /not a DNS name/],
    [['--dns-interval-seconds', '1', '--dns-timeout-seconds', '2'], /DNS timeout must be shorter/],
  ])('refuses %j', (flags, message) => {
    expect(() => parseConfig([...base, ...flags], {})).toThrow(ConfigError);
    expect(() => parseConfig([...base, ...flags], {})).toThrow(message);
  });
});

// The resolver container and an exit resolver in two namespaces of this suite's prefix; the exporter scraped over a
// veth from this (root) namespace, as in probe-wireguard.test.ts.
const GW = 'tkh-lxg';
const UP = 'tkh-lxu';
const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
const BINARIES = ['/usr/sbin/unbound', '/usr/sbin/dnsmasq', '/usr/bin/dig', '/usr/bin/setpriv', '/usr/sbin/nft'];

describe.skipIf(skipUnless({ root: true, binaries: BINARIES }))('the exporter and the real resolver', () => {
  let dir: string;
  let shared: string;
  let resolver: Daemon;
  const exits: Daemon[] = [];
  let exporter: RunningExporter | undefined;

  const removeNet = () => {
    for (const ns of [GW, UP]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        /* not there */
      }
    }
    try {
      ip('link', 'del', 'tkhlxh0');
    } catch {
      /* not there */
    }
  };
  const exitResolver = (address: string, answer: string) => {
    const d = new Daemon({
      netns: UP,
      cmd: 'dnsmasq',
      args: [
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--no-resolv',
        '--no-hosts',
        '--pid-file=',
        '--user=root',
        '--bind-interfaces',
        `--listen-address=${address}`,
        `--address=/exit.example/${answer}`,
        '--local=/#/',
      ],
    });
    d.start();
    exits.push(d);
  };
  const setUpstream = (address: string) => {
    writeFileSync(join(shared, '.u'), `nameserver ${address}\n`, { mode: 0o644 });
    execFileSync('mv', ['-f', join(shared, '.u'), join(shared, 'upstream')]);
  };
  const ask = (name: string) => dnsQuery(GW, '127.0.0.1', name, { port: 1053, timeoutSeconds: 1 });
  const metric = async (key: string) => sample(await exporter!.metrics(), key);

  beforeAll(async () => {
    removeNet();
    dir = mkdtempSync(join(tmpdir(), 'torchain-netns-tkh-lx-'));
    chmodSync(dir, 0o755);
    shared = join(dir, 'shared');
    mkdirSync(shared, { mode: 0o755 });
    mkdirSync(join(dir, 'tmp'));
    chownSync(join(dir, 'tmp'), RESOLVER_UID, RESOLVER_UID);
    for (const ns of [GW, UP]) {
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    ip('link', 'add', 'tkhlxu0', 'netns', GW, 'type', 'veth', 'peer', 'name', 'tkhlxu1', 'netns', UP);
    ip('-n', GW, 'addr', 'add', '10.99.78.1/24', 'dev', 'tkhlxu0');
    ip('-n', UP, 'addr', 'add', '10.99.78.2/24', 'dev', 'tkhlxu1');
    ip('-n', UP, 'addr', 'add', '10.99.78.3/24', 'dev', 'tkhlxu1');
    ip('-n', GW, 'link', 'set', 'tkhlxu0', 'up');
    ip('-n', UP, 'link', 'set', 'tkhlxu1', 'up');
    ip('-n', GW, 'addr', 'add', '10.99.76.1/24', 'dev', 'lo'); // the hop's LAN address (no LAN needed here)
    ip('link', 'add', 'tkhlxh0', 'type', 'veth', 'peer', 'name', 'tkhlxh1', 'netns', GW);
    ip('addr', 'add', '10.99.77.1/30', 'dev', 'tkhlxh0');
    ip('link', 'set', 'tkhlxh0', 'up');
    ip('-n', GW, 'addr', 'add', '10.99.77.2/30', 'dev', 'tkhlxh1');
    ip('-n', GW, 'link', 'set', 'tkhlxh1', 'up');
    exitResolver('10.99.78.2', '192.0.2.2');
    exitResolver('10.99.78.3', '192.0.2.3');
    setUpstream('10.99.78.2');
    resolver = new Daemon({
      netns: GW,
      cmd: 'setpriv',
      args: [
        `--reuid=${RESOLVER_UID}`,
        `--regid=${RESOLVER_UID}`,
        '--clear-groups',
        '--inh-caps=-all',
        'bash',
        ENTRYPOINT,
        'dns',
      ],
      env: {
        PATH: process.env.PATH,
        TORCHAIN_GATEWAY: '10.99.76.1/24',
        TORCHAIN_DNS_DIR: shared,
        TORCHAIN_TMP_DIR: join(dir, 'tmp'),
      },
    });
    resolver.start();
    exporter = await startExporter(
      [
        '--type',
        'openvpn',
        '--source',
        'stdin',
        '--dns-resolver',
        '127.0.0.1:1053',
        '--dns-control',
        '127.0.0.1:8953',
        '--dns-probe-name',
        'probe.exit.example',
        '--dns-interval-seconds',
        '0.5',
        '--dns-timeout-seconds',
        '0.4',
      ],
      { netns: GW, host: '10.99.77.2' },
    );
  });
  afterAll(async () => {
    await exporter?.stop();
    await resolver?.close();
    await Promise.allSettled(exits.map((d) => d.close()));
    removeNet();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads up and counts the queries it answered', async () => {
    await eventually(
      'torchain_dns_up 1',
      () => metric('torchain_dns_up'),
      (v) => v === 1,
      20_000,
    );
    const answered = await metric('torchain_dns_queries_total{result="answered"}');
    expect(await metric('torchain_dns_queries_total{result="failed"}')).toBe(0);
    expect((await ask('a.exit.example')).answers).toEqual(['192.0.2.2']);
    expect((await ask('b.exit.example')).answers).toEqual(['192.0.2.2']);
    expect((await ask('nowhere.example')).status).toBe('NXDOMAIN');
    await eventually(
      '3 more answered (and the probes)',
      () => metric('torchain_dns_queries_total{result="answered"}'),
      (v) => v >= answered + 3,
    );
    expect(await metric('torchain_dns_queries_total{result="failed"}')).toBe(0);
  });

  it('a silent exit resolver: down, and the queries that got no answer count as failed', async () => {
    execFileSync('ip', ['netns', 'exec', UP, 'nft', '-f', '-'], {
      input:
        'table inet tkh_blackhole { chain in { type filter hook input priority -10; udp dport 53 drop; tcp dport 53 drop; }; }\n',
    });
    try {
      const r = await ask('c.exit.example');
      expect(r.answers).toEqual([]);
      await eventually(
        'torchain_dns_up 0',
        () => metric('torchain_dns_up'),
        (v) => v === 0,
        20_000,
      );
      await eventually(
        'failed counted',
        () => metric('torchain_dns_queries_total{result="failed"}'),
        (v) => v >= 1,
        20_000,
      );
    } finally {
      execFileSync('ip', ['netns', 'exec', UP, 'nft', 'delete', 'table', 'inet', 'tkh_blackhole']);
    }
    // Back at once: the resolver wrote nothing off while its upstream was silent.
    await eventually(
      'torchain_dns_up 1 again',
      () => metric('torchain_dns_up'),
      (v) => v === 1,
      20_000,
    );
    expect((await ask('d.exit.example')).answers).toEqual(['192.0.2.2']);
  });

  it('a new exit resolver: the resolver restarts on it, the counters keep counting up', async () => {
    const before = await exporter!.metrics();
    setUpstream('10.99.78.3');
    await eventually(
      'answers from the new exit',
      () => ask('e.exit.example'),
      (r) => r.answers[0] === '192.0.2.3',
      20_000,
    );
    await eventually(
      'torchain_dns_up 1 on the new one',
      () => metric('torchain_dns_up'),
      (v) => v === 1,
    );
    await ask('f.exit.example');
    await eventually(
      'answered keeps growing',
      () => metric('torchain_dns_queries_total{result="answered"}'),
      (v) => v > sample(before, 'torchain_dns_queries_total{result="answered"}'),
    );
    expect(await metric('torchain_dns_queries_total{result="failed"}')).toBeGreaterThanOrEqual(
      sample(before, 'torchain_dns_queries_total{result="failed"}'),
    );
  });

  it('no exit resolver known: no resolver runs, and the probe says down', async () => {
    rmSync(join(shared, 'upstream'));
    await eventually(
      'torchain_dns_up 0',
      () => metric('torchain_dns_up'),
      (v) => v === 0,
      20_000,
    );
    expect((await ask('g.exit.example')).status).toBe('unreachable');
    setUpstream('10.99.78.2');
    await eventually(
      'torchain_dns_up 1',
      () => metric('torchain_dns_up'),
      (v) => v === 1,
      20_000,
    );
  });
});
