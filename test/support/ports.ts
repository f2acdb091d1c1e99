// Ports for tests: servers on an ephemeral port of the loopback address, never a fixed one.
import type { AddressInfo, Server } from 'node:net';
import { createServer } from 'node:net';

/** Starts `server` on an ephemeral port of 127.0.0.1 and answers the port. */
export async function listenLocal(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on right now (bound once, then released), for a process to start on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenLocal(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The same, named for what a test wants of it: a port a connection to is refused. */
export const closedPort = freePort;
