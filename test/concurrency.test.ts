// Concurrent writes to one service account: the database, not luck, decides who wins, and the loser
// gets a 409 rather than a 5xx or a second current key. Each scenario runs on one server and again
// spread over two servers on one database (the multi-process case).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';
import { createApp, type App } from '../src/app.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';

interface Res {
  status: number;
  body: any;
}

let h: Harness;
let second: App;
let accountId: string;
let ownerKey: string;
let bots: string;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  second = await createApp({ ...(await h.handle.reopen()), clock: h.clock });
  ({ accountId, key: ownerKey } = await h.bootstrap());
  bots = `/api/accounts/${accountId}/bots`;
});
afterAll(async () => {
  await second.server.close();
  await h.close();
});

async function send(app: App, method: string, url: string, body?: unknown, key = ownerKey): Promise<Res> {
  const res = await app.server.inject({
    method: method as never,
    url,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

async function createBot(): Promise<any> {
  const res = await send(h.app, 'POST', `${bots}/`, { name: `race-${++seq}` });
  expect(res.status).toBe(201);
  return res.body;
}

async function authenticates(key: string): Promise<boolean> {
  const res = await send(h.app, 'GET', '/api/me/workspaces', undefined, key);
  expect([200, 401]).toContain(res.status);
  return res.status === 200;
}

function count(results: Res[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of results) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

const layouts: [string, () => App[]][] = [
  ['one server', () => [h.app]],
  ['two servers on one database', () => [h.app, second]],
];

describe.each(layouts)('on %s', (_label, appsOf) => {
  const appFor = (i: number) => appsOf()[i % appsOf().length];

  it('20 concurrent creates of one name: exactly one 201 and nineteen 409 SERVICE_ACCOUNT_NAME_TAKEN', async () => {
    const name = `contested-${++seq}`;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => send(appFor(i), 'POST', `${bots}/`, { name })));
    expect(count(results)).toEqual({ 201: 1, 409: 19 });
    for (const r of results.filter((r) => r.status === 409)) expect(r.body.code).toBe('SERVICE_ACCOUNT_NAME_TAKEN');
    const list = await send(h.app, 'POST', `${bots}/filter`, { service_accounts: { name: { any_: [name] } } });
    expect(list.body).toHaveLength(1);
    const winner = results.find((r) => r.status === 201)!;
    expect(list.body[0].id).toBe(winner.body.id);
    expect(await authenticates(winner.body.api_key.key)).toBe(true);
  });

  it('10 concurrent rotations without grace: 201 or 409 CONCURRENT_CHANGE, then exactly one working key', async () => {
    const bot = await createBot();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(appFor(i), 'POST', `${bots}/${bot.id}/rotate_api_key`, { api_key_expiration: null })),
    );
    for (const r of results) {
      expect([201, 409], JSON.stringify(r.body)).toContain(r.status);
      if (r.status === 409) expect(r.body.code).toBe('CONCURRENT_CHANGE');
    }
    expect(results.some((r) => r.status === 201)).toBe(true);

    const keys = await send(h.app, 'GET', `${bots}/${bot.id}/read_bot_api_keys`);
    expect(keys.body.active_key).not.toBeNull();
    expect(keys.body.rotating_keys).toEqual([]);
    const issued = [bot.api_key, ...results.filter((r) => r.status === 201).map((r) => r.body.api_key)];
    const working = [];
    for (const k of issued) if (await authenticates(k.key)) working.push(k);
    expect(working).toHaveLength(1);
    expect(working[0].id).toBe(keys.body.active_key.id);
    expect((await send(h.app, 'GET', `${bots}/${bot.id}`)).body.api_key.id).toBe(working[0].id);
  });

  it('10 concurrent rotations with grace: one active key, the key it replaced rotating, every other issued key refused', async () => {
    const bot = await createBot();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(appFor(i), 'POST', `${bots}/${bot.id}/rotate_api_key`, { old_key_expires_in_seconds: 3600 })),
    );
    for (const r of results) expect([201, 409]).toContain(r.status);
    const issued = [bot.api_key, ...results.filter((r) => r.status === 201).map((r) => r.body.api_key)];
    expect(issued.length).toBeGreaterThan(1);
    const keys = await send(h.app, 'GET', `${bots}/${bot.id}/read_bot_api_keys`);
    // At most one old key stays in grace (pentest issue 14): each rotation ended the older graces.
    expect(keys.body.rotating_keys).toHaveLength(1);
    const listed = new Set([keys.body.active_key.id, keys.body.rotating_keys[0].id]);
    for (const k of issued) expect(await authenticates(k.key)).toBe(listed.has(k.id));
  });

  it('rotate racing delete: never 5xx; afterwards the service account is gone with all its keys, or whole', async () => {
    for (let round = 0; round < 6; round++) {
      const bot = await createBot();
      const ws = await send(h.app, 'POST', `/api/accounts/${accountId}/workspaces/`, { name: `race-ws-${++seq}`, handle: `race-ws-${seq}` });
      expect(ws.status).toBe(201);
      const grant = await send(h.app, 'POST', `/api/accounts/${accountId}/workspaces/${ws.body.id}/bot_access/`, {
        bot_id: bot.id,
        workspace_role_id: WORKSPACE_ROLE_IDS.Runner,
      });
      expect(grant.status).toBe(200);
      const rotateFirst = round % 2 === 0;
      const calls = [
        () => send(appFor(round), 'POST', `${bots}/${bot.id}/rotate_api_key`, { old_key_expires_in_seconds: round % 3 === 0 ? null : 600 }),
        () => send(appFor(round + 1), 'DELETE', `${bots}/${bot.id}`),
      ];
      const [rotation, removal] = rotateFirst
        ? await Promise.all([calls[0](), calls[1]()])
        : await Promise.all([calls[1](), calls[0]()]).then(([d, r]) => [r, d]);
      expect([201, 404, 409], JSON.stringify(rotation.body)).toContain(rotation.status);
      expect([204, 404], JSON.stringify(removal.body)).toContain(removal.status);

      const issued = [bot.api_key.key, ...(rotation.status === 201 ? [rotation.body.api_key.key] : [])];
      const read = await send(h.app, 'GET', `${bots}/${bot.id}`);
      if (removal.status === 204) {
        expect(read.status).toBe(404);
        for (const k of issued) expect(await authenticates(k)).toBe(false);
        const leftovers = await h.handle.store.db.selectFrom('api_keys').select('id').where('bot_id', '=', bot.id).execute();
        expect(leftovers).toEqual([]);
        const access = await h.handle.store.db.selectFrom('workspace_access').select('id').where('bot_id', '=', bot.id).execute();
        expect(access).toEqual([]);
        const membership = await h.handle.store.db.selectFrom('account_memberships').select('id').where('actor_id', '=', bot.actor_id).execute();
        expect(membership).toEqual([]);
      } else {
        // Delete lost only if it saw no bot, which cannot happen here: the bot existed throughout.
        expect.fail(`delete answered ${removal.status} for a bot that existed`);
      }
    }
  });

  it('granting workspace access racing removal: never 5xx, and no access row outlives the service account', async () => {
    const ws = await send(h.app, 'POST', `/api/accounts/${accountId}/workspaces/`, { name: `grant-ws-${++seq}`, handle: `grant-ws-${seq}` });
    const base = `/api/accounts/${accountId}/workspaces/${ws.body.id}/bot_access/`;
    for (let round = 0; round < 6; round++) {
      const bot = await createBot();
      const [grant, removal] = await Promise.all([
        send(appFor(round), 'POST', base, [{ bot_id: bot.id, workspace_role_id: WORKSPACE_ROLE_IDS.Worker }]),
        send(appFor(round + 1), 'DELETE', `${bots}/${bot.id}`),
      ]);
      expect(grant.status, JSON.stringify(grant.body)).toBeLessThan(500);
      expect(removal.status, JSON.stringify(removal.body)).toBe(204);
      const access = await h.handle.store.db.selectFrom('workspace_access').select('id').where('actor_id', '=', bot.actor_id).execute();
      expect(access).toEqual([]);
    }
  });
});
