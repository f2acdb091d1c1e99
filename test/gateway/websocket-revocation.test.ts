// A live websocket whose key is revoked: found by the real Prefect worker (test/real), whose events
// socket went on delivering events to the Prefect server after the rotating call had returned. The
// periodic re-check is set to a minute here, so only a check of each message can stop them.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import type { Harness } from '../support/harness.js';
import { botWithRole, type Bot } from '../support/members.js';
import type { FakePrefect } from '../support/fake-prefect.js';
import { startWebsocketGateway, type WebsocketGateway } from '../support/websocket-gateway.js';

let h: Harness;
let fake: FakePrefect;
let owner: { accountId: string; key: string };
let wsId: string;
let url: (path: string) => string;
let gateway: WebsocketGateway;

beforeAll(async () => {
  gateway = await startWebsocketGateway({ websocketRecheckMs: 60_000 });
  ({ h, fake, owner, wsId, url } = gateway);
});

afterAll(() => gateway.close());

/** A Worker service account with its events socket open and one event delivered upstream. */
async function emitting(): Promise<{ bot: Bot; socket: WebSocket; closed: Promise<number> }> {
  const bot = await botWithRole(h, owner, wsId, WORKSPACE_ROLE_IDS.Worker);
  const socket = new WebSocket(url('/events/in'), { headers: { authorization: `Bearer ${bot.key}` } });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
  });
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.send(JSON.stringify({ event: 'before', id: bot.id }));
  await fake.until(() => fake.sockets.find((s) => s.messages.some((m: any) => m?.id === bot.id)), 'the first event upstream');
  return { bot, socket, closed };
}

/** The close code, or 'still open' after 5 s. */
const closeWithin = (closed: Promise<number>) => Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve('still open'), 5_000))]);

const upstreamEvents = (bot: Bot) => fake.sockets.flatMap((s) => s.messages).filter((m: any) => m?.id === bot.id).map((m: any) => m.event);

describe('a websocket whose key is revoked', () => {
  it('relays nothing the caller sends after the key is rotated out without grace, and closes with 1008', async () => {
    const { bot, socket, closed } = await emitting();
    const rotated = await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`, {
      key: owner.key,
      body: { api_key_expiration: null, old_key_expires_in_seconds: null },
    });
    expect(rotated.status).toBe(201);
    socket.send(JSON.stringify({ event: 'after', id: bot.id }));
    expect(await closeWithin(closed)).toBe(1008);
    expect(upstreamEvents(bot)).toEqual(['before']);
  });

  it('relays nothing the caller sends after its service account is removed, and closes with 1008', async () => {
    const { bot, socket, closed } = await emitting();
    expect((await h.request('DELETE', `/api/accounts/${owner.accountId}/bots/${bot.id}`, { key: owner.key })).status).toBe(204);
    socket.send(JSON.stringify({ event: 'after', id: bot.id }));
    expect(await closeWithin(closed)).toBe(1008);
    expect(upstreamEvents(bot)).toEqual(['before']);
  });

  it('keeps relaying, in order, while the key is valid', async () => {
    const { bot, socket } = await emitting();
    for (const n of [1, 2, 3]) socket.send(JSON.stringify({ event: `more-${n}`, id: bot.id }));
    await fake.until(() => upstreamEvents(bot).length === 4, 'four events upstream');
    expect(upstreamEvents(bot)).toEqual(['before', 'more-1', 'more-2', 'more-3']);
    socket.close();
  });
});
