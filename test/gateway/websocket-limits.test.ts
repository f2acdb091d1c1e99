// What a gateway websocket may cost (issue 14, finding 7): frames held while the upstream is not
// open yet are bounded per socket and in all, a frame over the size limit closes its socket, sockets
// that have not sent their auth message are capped per address and in all and closed after a short
// wait, and a receiver that does not keep up stops the gateway reading from the sender.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBSOCKET_LIMITS } from '../../src/gateway/websocket.js';
import { startHarness, type Harness } from '../support/harness.js';
import { workspaceWithUpstream } from '../support/members.js';

const MiB = 1024 * 1024;
/** The defaults, except caps small enough to reach with a few sockets and a short auth wait. */
const LIMITS = { maxPendingBytesTotal: 6 * MiB, maxAwaitingAuthPerAddress: 3, maxAwaitingAuth: 5, authMessageTimeoutMs: 400 };

let h: Harness;
let owner: { accountId: string; key: string };
let gateway: string;
/** Takes upgrade requests and never answers them: the upstream socket never opens. */
let stuck: Server;
let stuckWs: string;
const stuckSockets = new Set<Duplex>();
/** Completes Prefect's handshake, then reads nothing until told to. */
let slow: { server: Server; wss: WebSocketServer; sockets: WebSocket[]; received: number };
let slowWs: string;

const workspaceAt = async (url: string) => (await workspaceWithUpstream(h, owner, url)).id;

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
};

beforeAll(async () => {
  h = await startHarness({ upstreamConnectTimeoutMs: 10_000, upstreamResponseTimeoutMs: 10_000, websocketLimits: LIMITS });
  owner = await h.bootstrap();
  stuck = createServer();
  stuck.on('upgrade', (_req, socket) => stuckSockets.add(socket));
  const stuckUrl = await listen(stuck);
  const slowServer = createServer();
  const wss = new WebSocketServer({ server: slowServer, handleProtocols: () => 'prefect' });
  slow = { server: slowServer, wss, sockets: [], received: 0 };
  wss.on('connection', (ws) => {
    ws.once('message', () => {
      ws.send(JSON.stringify({ type: 'auth_success' }));
      ws.pause();
      slow.sockets.push(ws);
      ws.on('message', () => (slow.received += 1));
    });
  });
  const slowUrl = await listen(slowServer);
  gateway = (await h.app.server.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
  stuckWs = `${gateway}/api/accounts/${owner.accountId}/workspaces/${await workspaceAt(stuckUrl)}`;
  slowWs = `${gateway}/api/accounts/${owner.accountId}/workspaces/${await workspaceAt(slowUrl)}`;
});

afterAll(async () => {
  await h.close();
  for (const socket of stuckSockets) socket.destroy();
  for (const client of slow.wss.clients) client.terminate();
  slow.wss.close();
  for (const server of [stuck, slow.server]) {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

/** A socket with the owner's key in the header, once open. */
async function opened(base: string, path: string): Promise<WebSocket> {
  const socket = new WebSocket(`${base}${path}`, { headers: { authorization: `Bearer ${owner.key}` } });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

const closing = (socket: WebSocket) => new Promise<[number, string]>((resolve) => socket.once('close', (code, reason) => resolve([code, reason.toString()])));

/** A prefect-subprotocol socket that sends nothing, or the status its upgrade was refused with. */
function silent(localAddress: string): Promise<{ socket: WebSocket } | { status: number; body: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${stuckWs}/events/out`, ['prefect'], { localAddress });
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    socket.once('error', () => resolve({ status: 0, body: '' }));
  });
}

describe('frames held while the upstream is not open', () => {
  it('closes a socket with 1008 once it has sent more bytes than it may hold', async () => {
    const socket = await opened(stuckWs, '/events/in');
    const closed = closing(socket);
    for (let i = 0; i < 5; i++) socket.send(Buffer.alloc(MiB, 0x61));
    expect(await closed).toEqual([1008, 'More than 1000 frames or 4 MiB sent before the Prefect server was ready']);
  });

  it('closes a socket with 1008 once it has sent more frames than it may hold', async () => {
    const socket = await opened(stuckWs, '/events/in');
    const closed = closing(socket);
    for (let i = 0; i <= WEBSOCKET_LIMITS.maxPendingMessages; i++) socket.send('{}');
    expect(await closed).toEqual([1008, 'More than 1000 frames or 4 MiB sent before the Prefect server was ready']);
  });

  it('closes with 1013 the socket that would make all sockets together hold more than the total', async () => {
    const first = await opened(stuckWs, '/events/in');
    const second = await opened(stuckWs, '/events/in');
    const closed = closing(second);
    for (let i = 0; i < 3; i++) first.send(Buffer.alloc(MiB, 0x61));
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 4; i++) second.send(Buffer.alloc(MiB, 0x62));
    expect(await closed).toEqual([1013, 'Gatehouse holds too many frames for sockets not yet open; try again shortly']);
    // The first socket is still open: it stayed within its own share.
    expect(first.readyState).toBe(WebSocket.OPEN);
    const firstClosed = closing(first);
    first.close();
    await firstClosed;
  });

  it('closes a socket with 1009 on a frame over the size limit', async () => {
    const socket = await opened(stuckWs, '/events/in');
    const closed = closing(socket);
    socket.send(Buffer.alloc(WEBSOCKET_LIMITS.maxFrameBytes + 1, 0x61));
    expect((await closed)[0]).toBe(1009);
  });
});

describe('sockets that have not sent their auth message', () => {
  it('are capped per address (429) and in all (503), closed after the wait, and their places freed', async () => {
    const held: WebSocket[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await silent('127.0.0.1');
      if (!('socket' in s)) throw new Error(`refused with ${s.status}`);
      held.push(s.socket);
    }
    const overAddress = await silent('127.0.0.1');
    expect(overAddress).toEqual({
      status: 429,
      body: expect.stringContaining('Too many websockets from this address (3) have not sent their auth message yet; send it right after connecting'),
    });
    for (let i = 0; i < 2; i++) {
      const s = await silent('127.0.0.2');
      if (!('socket' in s)) throw new Error(`refused with ${s.status}`);
      held.push(s.socket);
    }
    const overAll = await silent('127.0.0.3');
    expect(overAll).toEqual({ status: 503, body: expect.stringContaining('Too many websockets are waiting for their auth message; try again shortly') });

    const closes = await Promise.all(held.map(closing));
    expect(closes).toEqual(held.map(() => [1008, 'No auth message within 0.4 s']));
    const again = await silent('127.0.0.1');
    expect('socket' in again).toBe(true);
    if ('socket' in again) again.socket.close();
  });
});

describe('relaying to a side that does not keep up', () => {
  it('stops reading from the sender while the receiver has a backlog, and delivers everything once it reads again', { timeout: 20_000 }, async () => {
    const socket = await opened(slowWs, '/events/in');
    const before = slow.sockets.length;
    // The upstream has answered auth_success, so frames are relayed rather than held.
    for (let waited = 0; slow.sockets.length === before && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(slow.sockets.length).toBe(before + 1);
    const frames = 32;
    for (let i = 0; i < frames; i++) socket.send(Buffer.alloc(MiB, 0x61));
    // Without backpressure the gateway reads all 32 MiB within a second and the sender's buffer
    // empties; with it, the gateway stops reading after about a MiB and the buffer stays full.
    let least = Infinity;
    for (let waited = 0; waited < 2_000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      least = Math.min(least, socket.bufferedAmount);
    }
    expect(least).toBeGreaterThan(16 * MiB);
    slow.sockets[before].resume();
    for (let waited = 0; slow.received < frames && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(slow.received).toBe(frames);
    expect(socket.bufferedAmount).toBe(0);
    socket.close();
  });
});
