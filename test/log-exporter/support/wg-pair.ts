// A real wireguard-go client/server pair in two network namespaces this test creates (prefix tkj), plus a host-side
// veth into the client namespace so the test can scrape an exporter that runs inside it. Everything is removed by
// destroy(), which is safe to call after a partial set-up.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const WIREGUARD_GO = '/usr/bin/wireguard-go';
export const WG = '/usr/bin/wg';
export const IP = '/usr/sbin/ip';

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface WgPair {
  cli: string;
  srv: string;
  dir: string;
  clientLog: string;
  /** Address of the client namespace reachable from the host (for the exporter's HTTP). */
  hostReach: string;
  serverTunnelIp: string;
  clientIf: string;
  startServer(): Promise<void>;
  killServer(): void;
  destroy(): void;
}

async function waitFor(what: string, check: () => boolean, ms = 5000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not happen within ${ms} ms`);
}

export async function createWgPair(tag: string): Promise<WgPair> {
  const cli = `tkj-${tag}c`;
  const srv = `tkj-${tag}s`;
  const clientIf = `tkj${tag}wgc`;
  const serverIf = `tkj${tag}wgs`;
  const dir = mkdtempSync(join(tmpdir(), `tkj-${tag}-`));
  const clientLog = join(dir, 'client.log');
  const procs: ChildProcess[] = [];
  let server: ChildProcess | undefined;
  const env = { ...process.env, LOG_LEVEL: 'verbose', WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' };
  const wgGo = (ns: string, ifname: string, log: string) => {
    const fd = openSync(log, 'a');
    const p = spawn(IP, ['netns', 'exec', ns, WIREGUARD_GO, '-f', ifname], { env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    procs.push(p);
    return p;
  };
  const ifUp = (ns: string, ifname: string) => {
    try {
      run(IP, ['-n', ns, 'link', 'show', ifname]);
      return true;
    } catch {
      return false;
    }
  };
  const removeSockets = () => {
    for (const i of [clientIf, serverIf]) rmSync(`/var/run/wireguard/${i}.sock`, { force: true });
  };

  const removeNet = () => {
    for (const ns of [cli, srv]) {
      try {
        run(IP, ['netns', 'del', ns]);
      } catch {
        // not there
      }
    }
    removeSockets();
  };

  const pair: WgPair = {
    cli,
    srv,
    dir,
    clientLog,
    hostReach: '10.237.0.2',
    serverTunnelIp: '10.217.0.1',
    clientIf,
    async startServer() {
      server = wgGo(srv, serverIf, join(dir, 'server.log'));
      await waitFor(`${serverIf} in ${srv}`, () => ifUp(srv, serverIf));
      run(IP, [
        'netns',
        'exec',
        srv,
        WG,
        'set',
        serverIf,
        'listen-port',
        '51820',
        'private-key',
        join(dir, 's.key'),
        'peer',
        run(WG, ['pubkey'], run('cat', [join(dir, 'c.key')])).trim(),
        'allowed-ips',
        '10.217.0.2/32',
      ]);
      run(IP, ['-n', srv, 'addr', 'add', '10.217.0.1/24', 'dev', serverIf]);
      run(IP, ['-n', srv, 'link', 'set', serverIf, 'up']);
    },
    killServer() {
      server?.kill('SIGKILL');
      server = undefined;
      rmSync(`/var/run/wireguard/${serverIf}.sock`, { force: true });
    },
    destroy() {
      for (const p of procs) p.kill('SIGKILL');
      removeNet();
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    removeNet(); // leftovers of an aborted run
    for (const ns of [cli, srv]) {
      run(IP, ['netns', 'add', ns]);
      run(IP, ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    run(IP, ['link', 'add', `tkj${tag}c0`, 'netns', cli, 'type', 'veth', 'peer', 'name', `tkj${tag}s0`, 'netns', srv]);
    run(IP, ['-n', cli, 'addr', 'add', '10.216.0.2/24', 'dev', `tkj${tag}c0`]);
    run(IP, ['-n', srv, 'addr', 'add', '10.216.0.1/24', 'dev', `tkj${tag}s0`]);
    run(IP, ['-n', cli, 'link', 'set', `tkj${tag}c0`, 'up']);
    run(IP, ['-n', srv, 'link', 'set', `tkj${tag}s0`, 'up']);
    // Host side: only to scrape the exporter inside the client namespace (deleted with the namespace).
    run(IP, ['link', 'add', `tkj${tag}h0`, 'type', 'veth', 'peer', 'name', `tkj${tag}h1`, 'netns', cli]);
    run(IP, ['addr', 'add', '10.237.0.1/30', 'dev', `tkj${tag}h0`]);
    run(IP, ['link', 'set', `tkj${tag}h0`, 'up']);
    run(IP, ['-n', cli, 'addr', 'add', '10.237.0.2/30', 'dev', `tkj${tag}h1`]);
    run(IP, ['-n', cli, 'link', 'set', `tkj${tag}h1`, 'up']);
    writeFileSync(join(dir, 's.key'), run(WG, ['genkey']), { mode: 0o600 });
    writeFileSync(join(dir, 'c.key'), run(WG, ['genkey']), { mode: 0o600 });
    writeFileSync(clientLog, '');
    await pair.startServer();
    wgGo(cli, clientIf, clientLog);
    await waitFor(`${clientIf} in ${cli}`, () => ifUp(cli, clientIf));
    run(IP, [
      'netns',
      'exec',
      cli,
      WG,
      'set',
      clientIf,
      'private-key',
      join(dir, 'c.key'),
      'peer',
      run(WG, ['pubkey'], run('cat', [join(dir, 's.key')])).trim(),
      'endpoint',
      '10.216.0.1:51820',
      'allowed-ips',
      '10.217.0.0/24',
    ]);
    run(IP, ['-n', cli, 'addr', 'add', '10.217.0.2/24', 'dev', clientIf]);
    run(IP, ['-n', cli, 'link', 'set', clientIf, 'up']);
    return pair;
  } catch (err) {
    pair.destroy();
    throw err;
  }
}
