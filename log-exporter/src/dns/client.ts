// The exporter's two conversations with the gateway's resolver (the hop's `dns` container), both over loopback TCP:
// its statistics from unbound's remote control (plain text on 127.0.0.1: `UBCT1 <command>\n`, the answer until the
// connection closes) and a probe query through it, which unbound forwards through the chain to the exit's resolver.
import type { HostPort } from '../config.js';
import { builtins } from '../builtins.js';
import { encodeQuery, replyRcode } from './query.js';

const CONTROL_VERSION = 'UBCT1';
const MAX_STATS_BYTES = 1 << 20;

/** Sends `bytes`, collects what comes back until `done` says it is complete (or the peer closes), or times out. */
function exchange(
  target: HostPort,
  bytes: Buffer | string,
  timeoutMs: number,
  done: (received: Buffer) => boolean,
): Promise<Buffer> {
  const { connect } = builtins.net();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const sock = connect({ host: target.host, port: target.port });
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (b: Buffer) => {
      chunks.push(b);
      size += b.length;
      if (size > MAX_STATS_BYTES) finish(new Error('answer too long'));
      else if (done(Buffer.concat(chunks, size))) finish();
    });
    sock.on('end', () => finish());
    sock.on('error', (err: NodeJS.ErrnoException) => finish(new Error(err.code ?? err.message)));
  });
}

/** unbound's cumulative statistics text (`stats_noreset`: reading them resets nothing). */
export async function unboundStats(control: HostPort, timeoutMs: number): Promise<string> {
  const text = (await exchange(control, `${CONTROL_VERSION} stats_noreset\n`, timeoutMs, () => false)).toString();
  if (text.startsWith('error')) throw new Error(`unbound refused the command: ${text.trim()}`);
  return text;
}

/** One query for `name` (type `qtype`) asked of the resolver over TCP; answered = NOERROR or NXDOMAIN. */
export async function dnsProbe(
  resolver: HostPort,
  name: string,
  qtype: number,
  timeoutMs: number,
): Promise<{ rcode?: string; error?: string; millis: number }> {
  const id = Math.floor(Math.random() * 0x10000);
  const started = performance.now();
  const millis = () => Math.round(performance.now() - started);
  try {
    const reply = await exchange(
      resolver,
      encodeQuery(id, name, qtype),
      timeoutMs,
      (b) => replyRcode(b, id) !== undefined,
    );
    const rcode = replyRcode(reply, id);
    return rcode ? { rcode, millis: millis() } : { error: 'connection closed before a reply', millis: millis() };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err), millis: millis() };
  }
}
