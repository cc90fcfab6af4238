import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { autoProbeTarget } from '../../log-exporter/src/probe/target.js';
import { tcpProbe } from '../../log-exporter/src/probe/tcp-probe.js';

describe('auto probe target', () => {
  const v4 = (cidr: string) => [{ address: cidr.split('/')[0] as string, family: 'IPv4', cidr }];
  it('is the first host of the tunnel subnet, port 53, skipping our own address', () => {
    expect(autoProbeTarget(v4('10.217.0.2/24'))).toEqual({ host: '10.217.0.1', port: 53 });
    expect(autoProbeTarget(v4('10.217.0.1/24'))).toEqual({ host: '10.217.0.2', port: 53 });
    expect(autoProbeTarget(v4('172.16.5.77/20'))).toEqual({ host: '172.16.0.1', port: 53 });
    expect(autoProbeTarget(v4('10.0.0.6/30'))).toEqual({ host: '10.0.0.5', port: 53 });
  });
  it('cannot be derived from a /32 address, an IPv6-only interface, or nothing', () => {
    expect(autoProbeTarget(v4('10.64.3.9/32'))).toEqual({ reason: expect.stringMatching(/\/32/) });
    expect(autoProbeTarget([{ address: 'fd00::2', family: 'IPv6', cidr: 'fd00::2/64' }])).toHaveProperty('reason');
    expect(autoProbeTarget(undefined)).toHaveProperty('reason');
  });
});

describe('tcp probe on loopback', () => {
  it('counts an accepted connection and a refused one (RST) as answers', async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    expect(await tcpProbe({ host: '127.0.0.1', port }, 1000)).toMatchObject({ ok: true, outcome: 'connected' });
    await new Promise<void>((r) => server.close(() => r()));
    expect(await tcpProbe({ host: '127.0.0.1', port }, 1000)).toMatchObject({ ok: true, outcome: 'refused' });
  });
});
