// File source with `tail -F` semantics, by polling (inotify misses renames on some filesystems and in containers):
// - the file may not exist yet: wait for it;
// - rotation (the path now names another inode): finish the old file to its end, then read the new one from 0;
// - truncation (size below our position): start again at 0.
// The whole file is read on start, so the state (tunnel up, last handshake) is known without waiting for new lines.
import type { Stats } from 'node:fs';
import { builtins } from '../builtins.js';
import type { Logger } from '../log.js';
import type { LineSplitter } from '../line-splitter.js';
import type { LineProcessor } from '../processor.js';
import type { LineSource, SourceStatus } from './source.js';

const CHUNK = 64 * 1024;

// fs's callback API in promises. Not fs.promises: on node 24 it loads readline, the REPL history and streams, about
// 1 MB the exporter never uses (builtins.ts). Not util.promisify: an import of node:util loads worker_threads.
const settle =
  <T>(resolve: (v: T) => void, reject: (e: Error) => void) =>
  (err: Error | null, v: T) =>
    err ? reject(err) : resolve(v);
const open = (path: string) => new Promise<number>((res, rej) => builtins.fs().open(path, 'r', settle(res, rej)));
const closeFd = (fd: number) => new Promise<void>((res, rej) => builtins.fs().close(fd, (e) => (e ? rej(e) : res())));
const fstat = (fd: number) => new Promise<Stats>((res, rej) => builtins.fs().fstat(fd, settle(res, rej)));
const stat = (path: string) => new Promise<Stats>((res, rej) => builtins.fs().stat(path, settle(res, rej)));
const read = (fd: number, buf: Buffer, length: number, position: number) =>
  new Promise<number>((res, rej) => builtins.fs().read(fd, buf, 0, length, position, settle(res, rej)));

interface Current {
  fd: number;
  dev: number;
  ino: number;
  pos: number;
  splitter: LineSplitter;
}

export function startFileSource(
  processor: LineProcessor,
  opts: { path: string; maxLineBytes: number; pollMs?: number; log: Logger },
): LineSource {
  const pollMs = opts.pollMs ?? 250;
  const status: SourceStatus = { kind: 'file', state: 'starting' };
  const buf = Buffer.allocUnsafe(CHUNK);
  let current: Current | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function drain(c: Current): Promise<void> {
    for (;;) {
      const bytesRead = await read(c.fd, buf, CHUNK, c.pos);
      if (bytesRead === 0) return;
      c.pos += bytesRead;
      c.splitter.push(buf.subarray(0, bytesRead));
    }
  }

  async function close(c: Current): Promise<void> {
    await drain(c);
    c.splitter.end();
    await closeFd(c.fd);
  }

  async function tick(): Promise<void> {
    let st;
    try {
      st = await stat(opts.path);
    } catch {
      st = undefined;
    }
    if (current && (!st || st.ino !== current.ino || st.dev !== current.dev)) {
      // Rotated or removed: what the client wrote to the old file before it let go still counts.
      await close(current);
      opts.log.info('log file rotated or removed; following the path', { source: 'file', path: opts.path });
      current = undefined;
    }
    if (!st) {
      if (status.state !== 'retrying') opts.log.warn('log file not there yet; waiting', { path: opts.path });
      status.state = 'retrying';
      status.detail = `${opts.path} does not exist yet`;
      return;
    }
    if (!current) {
      try {
        const fd = await open(opts.path);
        const fst = await fstat(fd);
        current = { fd, dev: fst.dev, ino: fst.ino, pos: 0, splitter: processor.splitter(opts.maxLineBytes) };
      } catch (err) {
        status.state = 'retrying';
        status.detail = `cannot open ${opts.path}: ${(err as Error).message}; check the path and permissions`;
        return;
      }
    }
    const size = (await fstat(current.fd)).size;
    if (size < current.pos) {
      opts.log.info('log file truncated; reading it from the start', { source: 'file', path: opts.path });
      current.splitter.end();
      current.splitter = processor.splitter(opts.maxLineBytes);
      current.pos = 0;
    }
    await drain(current);
    status.state = 'running';
    delete status.detail;
  }

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((err: unknown) => {
        status.state = 'retrying';
        status.detail = `reading ${opts.path}: ${(err as Error).message}`;
        opts.log.warn('cannot read the log file; retrying', { path: opts.path, error: (err as Error).message });
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, pollMs);
      });
  };
  loop();
  return {
    status: () => ({ ...status }),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      if (current) await closeFd(current.fd).catch(() => undefined);
      current = undefined;
    },
  };
}
