// lab/vault at the wire and as a process: the HTTP/1.1 framing Go's net/http (real Vault) accepts — any method token
// such as LIST, pipelined keep-alive requests, chunked bodies, Expect: 100-continue — and `npm run lab:vault`.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/paths.js';
import { startVault, type LabVault } from '../../lab/vault/server.js';

let vault: LabVault;
beforeAll(async () => {
  vault = await startVault();
  const put = await fetch(`${vault.url}/v1/secret/data/wire/a`, {
    method: 'POST',
    headers: { 'X-Vault-Token': vault.rootToken },
    body: JSON.stringify({ data: { k: 'v' } }),
  });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  await vault?.close();
});

/** Sends raw bytes on one connection and collects everything until the server closes or `until` matches. */
function raw(payload: string | Buffer[], until: (text: string) => boolean): Promise<string> {
  const { port } = new URL(vault.url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no complete answer; got: ${text}`));
    }, 5000);
    sock.on('data', (d) => {
      text += d.toString('latin1');
      if (until(text)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(text);
      }
    });
    sock.on('end', () => {
      clearTimeout(timer);
      resolve(text);
    });
    sock.on('error', reject);
    if (typeof payload === 'string') sock.write(payload);
    else {
      // Several writes with pauses: the parser must reassemble them.
      void (async () => {
        for (const part of payload) {
          sock.write(part);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
    }
  });
}

const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

describe('HTTP/1.1 as Go net/http serves it', () => {
  it('accepts the LIST method (Node http would drop it as HPE_INVALID_METHOD)', async () => {
    const text = await raw(
      `LIST /v1/secret/metadata/wire HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${vault.rootToken}\r\nConnection: close\r\n\r\n`,
      () => false,
    );
    expect(statuses(text)).toEqual([200]);
    expect(text).toContain('"keys":["a"]');
  });

  it('answers pipelined keep-alive requests in order on one connection', async () => {
    const h = `Host: x\r\nX-Vault-Token: ${vault.rootToken}\r\n`;
    const text = await raw(
      `GET /v1/secret/data/wire/a HTTP/1.1\r\n${h}\r\nGET /v1/secret/data/wire/missing HTTP/1.1\r\n${h}\r\nGET /v1/sys/health HTTP/1.1\r\n${h}Connection: close\r\n\r\n`,
      () => false,
    );
    expect(statuses(text)).toEqual([200, 404, 200]);
  });

  it('reassembles a chunked body split over several writes', async () => {
    const body = JSON.stringify({ data: { chunked: 'yes' } });
    const half = Math.floor(body.length / 2);
    const text = await raw(
      [
        Buffer.from(
          `POST /v1/secret/data/wire/chunked HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${vault.rootToken}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
        ),
        Buffer.from(`${half.toString(16)}\r\n${body.slice(0, half)}\r\n`),
        Buffer.from(`${(body.length - half).toString(16)}\r\n${body.slice(half)}\r\n0\r\n\r\n`),
      ],
      () => false,
    );
    expect(statuses(text)).toEqual([200]);
    const read = await fetch(`${vault.url}/v1/secret/data/wire/chunked`, {
      headers: { 'X-Vault-Token': vault.rootToken },
    });
    expect(((await read.json()) as { data: { data: unknown } }).data.data).toEqual({ chunked: 'yes' });
  });

  it('sends "100 Continue" to a client that waits for it before its body', async () => {
    const body = JSON.stringify({ data: { big: 'x'.repeat(2000) } });
    const head = `POST /v1/secret/data/wire/continue HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${vault.rootToken}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
    const interim = await raw(head, (t) => t.includes('\r\n\r\n'));
    expect(statuses(interim)).toEqual([100]);
    const full = await raw([Buffer.from(head), Buffer.from(body)], () => false);
    expect(statuses(full)).toEqual([100, 200]);
  });

  it('refuses a malformed request line with 400 and closes', async () => {
    const text = await raw('NOT A REQUEST\r\n\r\n', () => false);
    expect(statuses(text)).toEqual([400]);
    expect(text).toContain('"errors"');
  });

  it('a body that is not JSON is 400 "failed to parse JSON input"', async () => {
    const res = await fetch(`${vault.url}/v1/secret/data/wire/x`, {
      method: 'POST',
      headers: { 'X-Vault-Token': vault.rootToken },
      body: '{nope',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: string[] }).errors[0]).toMatch(/^failed to parse JSON input/);
  });
});

describe('npm run lab:vault', () => {
  it('prints one JSON line {url, rootToken}, serves Vault there, and exits 0 on SIGTERM', async () => {
    const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [join(REPO_ROOT, 'lab', 'vault', 'main.ts')], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await new Promise<string>((resolve, reject) => {
        lines.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`lab:vault exited with ${code} before printing`)));
      });
      const info = JSON.parse(first) as { url: string; rootToken: string };
      expect(Object.keys(info).sort()).toEqual(['rootToken', 'url']);
      expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${info.url}/v1/auth/token/lookup-self`, {
        headers: { 'X-Vault-Token': info.rootToken },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: { policies: string[] } }).data.policies).toEqual(['root']);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
