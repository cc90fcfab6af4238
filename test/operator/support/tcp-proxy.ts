// A TCP proxy in front of a server, for network faults: freeze() stops every byte in both directions on open
// connections and holds new ones unanswered (a network partition, or an API server that hangs); thaw() lets the
// bytes flow again.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let frozen = false;
  const pairs = new Set<[Socket, Socket | undefined]>();
  const held: Array<() => void> = [];
  const link = (client: Socket) => {
    const upstream = connect(targetPort, targetHost);
    const pair: [Socket, Socket | undefined] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  };
  const server = createServer((client) => {
    client.on('error', () => client.destroy());
    if (frozen) {
      client.pause();
      held.push(() => {
        client.resume();
        link(client);
      });
    } else link(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    freeze: () => {
      frozen = true;
      for (const [a, b] of pairs) {
        a.pause();
        b?.pause();
      }
    },
    thaw: () => {
      frozen = false;
      for (const [a, b] of pairs) {
        a.resume();
        b?.resume();
      }
      for (const go of held.splice(0)) go();
    },
    close: async () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b?.destroy();
      }
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
