// A small HTTP/1.1 server over node:net. Why not node:http: Vault's API uses the LIST method (node-vault sends it),
// and Node's llhttp parser refuses any method outside its fixed table (LIST gives HPE_INVALID_METHOD and a dropped
// socket), while Go's net/http — what real Vault runs — accepts any token. This parser accepts any RFC 9110 token
// method, Content-Length and chunked bodies, keep-alive and pipelined requests (answered in order).
import net from 'node:net';
import { STATUS_CODES } from 'node:http';

export interface Http1Request {
  method: string;
  /** Decoded path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: Buffer;
  remoteAddress: string;
}

export interface Http1Response {
  status: number;
  /** JSON-encoded when an object; omitted for 204. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type Http1Handler = (req: Http1Request) => Promise<Http1Response>;

const MAX_HEAD = 64 * 1024;
const MAX_BODY = 32 * 1024 * 1024; // Vault's default max_request_size
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

class ProtocolError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Parsed {
  req: Omit<Http1Request, 'remoteAddress'>;
  keepAlive: boolean;
  consumed: number;
}

/** Parses one request from the front of buf; undefined when more bytes are needed. */
function parseRequest(buf: Buffer): Parsed | undefined {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (buf.length > MAX_HEAD) throw new ProtocolError(431, 'request header too large');
    return undefined;
  }
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const [method, target, version] = (lines[0] ?? '').split(' ');
  if (!method || !TOKEN.test(method) || !target || !/^HTTP\/1\.[01]$/.test(version ?? '')) {
    throw new ProtocolError(400, 'malformed request line');
  }
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ProtocolError(400, 'malformed header line');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let offset = headEnd + 4;
  let body: Buffer;
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', offset);
      if (lineEnd < 0) return undefined;
      const len = parseInt(buf.subarray(offset, lineEnd).toString('latin1').split(';')[0] as string, 16);
      if (!Number.isFinite(len) || len < 0) throw new ProtocolError(400, 'malformed chunk size');
      if (len === 0) {
        // Skip optional trailers up to the blank line.
        const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd);
        if (buf.subarray(lineEnd, lineEnd + 4).toString('latin1') === '\r\n\r\n') offset = lineEnd + 4;
        else if (trailerEnd < 0) return undefined;
        else offset = trailerEnd + 4;
        break;
      }
      if (buf.length < lineEnd + 2 + len + 2) return undefined;
      size += len;
      if (size > MAX_BODY) throw new ProtocolError(413, 'request body too large');
      chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + len));
      offset = lineEnd + 2 + len + 2;
    }
    body = Buffer.concat(chunks);
  } else {
    const raw = headers['content-length'];
    const len = raw === undefined ? 0 : Number(raw);
    if (!Number.isInteger(len) || len < 0) throw new ProtocolError(400, 'malformed content-length');
    if (len > MAX_BODY) throw new ProtocolError(413, 'request body too large');
    if (buf.length < offset + len) return undefined;
    body = Buffer.from(buf.subarray(offset, offset + len));
    offset += len;
  }
  const url = new URL(target, 'http://vault.invalid');
  const connection = (headers['connection'] ?? '').toLowerCase();
  const keepAlive = version === 'HTTP/1.1' ? !connection.includes('close') : connection.includes('keep-alive');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    throw new ProtocolError(400, 'malformed percent-encoding in path');
  }
  return { req: { method, path, query: url.searchParams, headers, body }, keepAlive, consumed: offset };
}

function serialize(res: Http1Response, method: string, keepAlive: boolean): Buffer {
  const payload =
    res.status === 204 || res.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(typeof res.body === 'string' ? res.body : JSON.stringify(res.body));
  const headers: Record<string, string> = {
    'Cache-Control': 'no-store',
    'Content-Type': 'application/json',
    Date: new Date().toUTCString(),
    ...res.headers,
    Connection: keepAlive ? 'keep-alive' : 'close',
  };
  if (res.status !== 204) headers['Content-Length'] = String(payload.length);
  const head =
    `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? 'Status'}\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';
  return method === 'HEAD' ? Buffer.from(head) : Buffer.concat([Buffer.from(head), payload]);
}

export interface Http1Server {
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

export function createHttp1Server(handler: Http1Handler): Http1Server {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;

  function onConnection(socket: net.Socket): void {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf: Buffer = Buffer.alloc(0);
    let busy = false;
    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        while (!socket.destroyed) {
          let parsed: Parsed | undefined;
          try {
            parsed = parseRequest(buf);
          } catch (err) {
            const e = err as ProtocolError;
            socket.end(serialize({ status: e.status ?? 400, body: { errors: [e.message] } }, 'GET', false));
            return;
          }
          if (!parsed) {
            // curl and others wait for "100 Continue" before sending a large body.
            if (/100-continue/i.test(buf.toString('latin1', 0, Math.min(buf.length, MAX_HEAD)))) {
              const headEnd = buf.indexOf('\r\n\r\n');
              if (headEnd >= 0 && buf.length === headEnd + 4) socket.write('HTTP/1.1 100 Continue\r\n\r\n');
            }
            return;
          }
          buf = buf.subarray(parsed.consumed);
          let res: Http1Response;
          try {
            res = await handler({ ...parsed.req, remoteAddress: socket.remoteAddress ?? '' });
          } catch (err) {
            res = { status: 500, body: { errors: [(err as Error).message] } };
          }
          if (socket.destroyed) return;
          const out = serialize(res, parsed.req.method, parsed.keepAlive);
          if (parsed.keepAlive) socket.write(out);
          else {
            socket.end(out);
            return;
          }
        }
      } finally {
        busy = false;
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      void pump();
    });
  }

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const s = net.createServer(onConnection);
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          server = s;
          resolve((s.address() as net.AddressInfo).port);
        });
      });
    },
    close() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (!s) return Promise.resolve();
      return new Promise((resolve) => s.close(() => resolve()));
    },
  };
}
