// A TCP relay on 127.0.0.1 that tests put between Gatehouse and PostgreSQL to take the database
// away from Gatehouse without touching the database server (other tests share it). Two ways to fail:
// - 'down': as if the server stopped. Open connections are closed; new ones are reset on arrival.
// - 'blackhole': as if the network dropped every packet. Open connections stall (bytes are held,
//   not delivered), new connections are accepted and never answered.
// restore() relays again: held bytes flow on, as TCP would deliver them once the network healed.
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export type OutageMode = 'down' | 'blackhole';

interface Pair {
  client: Socket;
  upstream: Socket;
}

export interface TcpProxy {
  port: number;
  /** Connections accepted since the start (a new pg connection each time the pool grows). */
  accepted(): number;
  fail(mode: OutageMode): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: OutageMode | null = null;
  let accepted = 0;
  const pairs = new Set<Pair>();
  /** Blackholed connections that arrived during the outage: never relayed, closed on restore. */
  const held = new Set<Socket>();

  const drop = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };

  const relay = (client: Socket) => {
    const upstream = createConnection(target);
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    // Errors on either side end both; a relay never throws into the test process.
    client.on('error', () => drop(pair));
    upstream.on('error', () => drop(pair));
    client.on('close', () => drop(pair));
    upstream.on('close', () => drop(pair));
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const server: Server = createServer((client) => {
    accepted += 1;
    client.setNoDelay(true);
    if (mode === 'down') {
      client.on('error', () => {});
      client.resetAndDestroy();
    } else if (mode === 'blackhole') {
      client.on('error', () => {});
      client.pause();
      held.add(client);
      client.on('close', () => held.delete(client));
    } else {
      relay(client);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    fail(next) {
      mode = next;
      for (const pair of [...pairs]) {
        if (next === 'down') {
          drop(pair);
        } else {
          // Stop relaying both ways; what arrives waits in the socket buffers until restore().
          // Unpiping first: a piped stream resumes itself when its destination drains.
          pair.client.unpipe();
          pair.upstream.unpipe();
          pair.client.pause();
          pair.upstream.pause();
        }
      }
    },
    restore() {
      mode = null;
      for (const pair of pairs) {
        if (!pair.client.readableFlowing) pair.client.pipe(pair.upstream);
        if (!pair.upstream.readableFlowing) pair.upstream.pipe(pair.client);
      }
      // A connection that was never answered has a client that gave up on it long ago.
      for (const socket of held) socket.destroy();
      held.clear();
    },
    async close() {
      for (const pair of [...pairs]) drop(pair);
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A relay in front of the PostgreSQL server at `url`, and the same URL pointed at the relay. */
export async function relayedPostgres(url: string): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const viaProxy = new URL(url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  return { proxy, url: viaProxy.toString() };
}
