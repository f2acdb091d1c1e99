// Revocation is immediate (DESIGN.md contract 4): once a call that deletes, rotates out or expires
// a key, or removes a service account or its access, has returned, no process on the same database
// accepts the key. Also: every refused key gets one indistinguishable 401, so a caller learns
// nothing about why (or whether the key ever existed).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHarness, type Harness, type Response } from './support/harness.js';
import { createApp, type App } from '../src/app.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { generateKey } from '../src/domain/api-keys/key-format.js';

let h: Harness;
let accountId: string;
let ownerKey: string;
let userId: string;
let bots: string;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  ({ accountId, key: ownerKey, userId } = await h.bootstrap());
  bots = `/api/accounts/${accountId}/bots`;
});
afterEach(() => vi.restoreAllMocks());
afterAll(() => h.close());

async function createBot(extra: Record<string, unknown> = {}) {
  const res = await h.request('POST', `${bots}/`, { key: ownerKey, body: { name: `rev-${++seq}`, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function createUserKey(extra: Record<string, unknown> = {}) {
  const res = await h.request('POST', `/api/users/${userId}/api_keys`, { key: ownerKey, body: { name: `rev-${++seq}`, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function ok(status: Promise<Response>) {
  const res = await status;
  expect(res.status, res.text).toBeLessThan(300);
  return res;
}

function freezeClock(at: number) {
  vi.spyOn(h.clock, 'now').mockImplementation(() => new Date(at));
}

describe('one 401 for every refused key', () => {
  it('answers missing, malformed, bad-checksum, unknown, expired, rotated-out and deleted keys alike', async () => {
    const me = '/api/me/workspaces';
    const valid = generateKey('bot');
    const badChecksum = valid.slice(0, 39) + (valid[39] === 'a' ? 'b' : 'a');

    const expiring = await createBot({ api_key_expiration: new Date(h.clock.now().getTime() + 60_000).toISOString() });
    const rotatedOut = await createBot();
    await ok(h.request('POST', `${bots}/${rotatedOut.id}/rotate_api_key`, { key: ownerKey, body: {} }));
    const graceOver = await createBot();
    await ok(h.request('POST', `${bots}/${graceOver.id}/rotate_api_key`, { key: ownerKey, body: { old_key_expires_in_seconds: 30 } }));
    const deletedKey = await createBot();
    await ok(h.request('DELETE', `${bots}/${deletedKey.id}/delete_bot_api_key/${deletedKey.api_key.id}`, { key: ownerKey }));
    const deletedBot = await createBot();
    await ok(h.request('DELETE', `${bots}/${deletedBot.id}`, { key: ownerKey }));
    const userKey = await createUserKey();
    await ok(h.request('DELETE', `/api/users/${userId}/api_keys/${userKey.id}`, { key: ownerKey }));
    h.clock.advance(60_000);

    const cases: Record<string, Record<string, string>> = {
      missing: {},
      'empty bearer': { authorization: 'Bearer ' },
      'basic scheme': { authorization: `Basic ${Buffer.from(`x:${ownerKey}`).toString('base64')}` },
      'key without scheme': { authorization: ownerKey },
      malformed: { authorization: 'Bearer not-a-key' },
      'wrong prefix': { authorization: `Bearer pcu_${valid.slice(4)}` },
      'bad checksum': { authorization: `Bearer ${badChecksum}` },
      'unknown but well-formed': { authorization: `Bearer ${valid}` },
      expired: { authorization: `Bearer ${expiring.api_key.key}` },
      'rotated out without grace': { authorization: `Bearer ${rotatedOut.api_key.key}` },
      'rotated out, grace over': { authorization: `Bearer ${graceOver.api_key.key}` },
      'deleted bot key': { authorization: `Bearer ${deletedKey.api_key.key}` },
      'deleted service account': { authorization: `Bearer ${deletedBot.api_key.key}` },
      'deleted user key': { authorization: `Bearer ${userKey.key}` },
    };
    for (const [label, headers] of Object.entries(cases)) {
      for (const url of [me, `${bots}/filter`]) {
        const res = await h.request(url === me ? 'GET' : 'POST', url, { headers, body: url === me ? undefined : {} });
        expect(res.status, `${label} ${url}`).toBe(401);
        expect(Object.keys(res.body).sort(), label).toEqual(['code', 'detail', 'request_id']);
        expect({ detail: res.body.detail, code: res.body.code }, label).toEqual({
          detail: 'Invalid authentication credentials',
          code: 'UNAUTHENTICATED',
        });
      }
    }
    // The control: the same requests with a live key pass, so the 401s above are about the key.
    expect((await h.request('GET', me, { key: ownerKey })).status).toBe(200);
  });
});

describe('expiry at the exact instant', () => {
  it.each(['bot', 'user'] as const)('accepts a %s key 1 ms before its expiration and refuses it at and after', async (kind) => {
    const start = h.clock.now().getTime();
    freezeClock(start);
    const expiresAt = new Date(start + 10 * 60_000);
    const key = kind === 'bot'
      ? (await createBot({ api_key_expiration: expiresAt.toISOString() })).api_key.key
      : (await createUserKey({ expiration: expiresAt.toISOString() })).key;
    freezeClock(expiresAt.getTime() - 1);
    expect((await h.request('GET', '/api/me/workspaces', { key })).status).toBe(200);
    for (const at of [0, 1, 86_400_000]) {
      freezeClock(expiresAt.getTime() + at);
      const res = await h.request('GET', '/api/me/workspaces', { key });
      expect(res.status, `T+${at}ms`).toBe(401);
      expect(res.body.detail).toBe('Invalid authentication credentials');
    }
  });
});

describe('revocation seen by a second server process on the same database', () => {
  let b: App;
  let workspaceId: string;
  let wsBase: string;

  /** A request to the second process. */
  async function onB(method: string, url: string, key: string, body?: unknown) {
    const res = await b.server.inject({
      method: method as never,
      url,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      payload: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
  }
  const meOnB = async (key: string) => (await onB('GET', '/api/me/workspaces', key)).status;

  beforeAll(async () => {
    b = await createApp({ ...(await h.handle.reopen()), clock: h.clock });
    const ws = await ok(h.request('POST', `/api/accounts/${accountId}/workspaces/`, { key: ownerKey, body: { name: 'shared', handle: 'shared' } }));
    workspaceId = ws.body.id;
    wsBase = `/api/accounts/${accountId}/workspaces/${workspaceId}`;
  });
  afterAll(() => b.server.close());

  async function botInWorkspace(roleId: string = WORKSPACE_ROLE_IDS.Developer) {
    const bot = await createBot();
    const grant = await ok(h.request('POST', `${wsBase}/bot_access/`, { key: ownerKey, body: [{ bot_id: bot.id, workspace_role_id: roleId }] }));
    return { bot, accessId: grant.body[0].id as string };
  }

  it('refuses a deleted user key on B at once', async () => {
    const created = await createUserKey();
    expect(await meOnB(created.key)).toBe(200);
    await ok(h.request('DELETE', `/api/users/${userId}/api_keys/${created.id}`, { key: ownerKey }));
    expect(await meOnB(created.key)).toBe(401);
  });

  it('refuses a deleted service-account key on B at once', async () => {
    const { bot } = await botInWorkspace();
    await ok(h.request('POST', `${bots}/${bot.id}/rotate_api_key`, { key: ownerKey, body: { old_key_expires_in_seconds: 3600 } }));
    expect(await meOnB(bot.api_key.key)).toBe(200);
    await ok(h.request('DELETE', `${bots}/${bot.id}/delete_bot_api_key/${bot.api_key.id}`, { key: ownerKey }));
    expect(await meOnB(bot.api_key.key)).toBe(401);
  });

  it.each([
    ['omitted', {}],
    ['0', { old_key_expires_in_seconds: 0 }],
  ])('refuses a key rotated out with grace %s on B at once, and accepts its successor', async (_label, body) => {
    const { bot } = await botInWorkspace();
    expect((await onB('GET', wsBase, bot.api_key.key)).status).toBe(200);
    const next = await ok(h.request('POST', `${bots}/${bot.id}/rotate_api_key`, { key: ownerKey, body }));
    expect((await onB('GET', wsBase, bot.api_key.key)).status).toBe(401);
    expect((await onB('GET', wsBase, next.body.api_key.key)).status).toBe(200);
  });

  it('refuses a key on B once its rotation grace runs out', async () => {
    const { bot } = await botInWorkspace();
    await ok(h.request('POST', `${bots}/${bot.id}/rotate_api_key`, { key: ownerKey, body: { old_key_expires_in_seconds: 60 } }));
    expect(await meOnB(bot.api_key.key)).toBe(200);
    h.clock.advance(60_000);
    expect(await meOnB(bot.api_key.key)).toBe(401);
  });

  it('refuses on B at once the older key whose grace a new graced rotation ended', async () => {
    const { bot } = await botInWorkspace();
    const second = await ok(h.request('POST', `${bots}/${bot.id}/rotate_api_key`, { key: ownerKey, body: { old_key_expires_in_seconds: 3600 } }));
    expect(await meOnB(bot.api_key.key)).toBe(200);
    const third = await ok(h.request('POST', `${bots}/${bot.id}/rotate_api_key`, { key: ownerKey, body: { old_key_expires_in_seconds: 3600 } }));
    expect(await meOnB(bot.api_key.key)).toBe(401);
    expect(await meOnB(second.body.api_key.key)).toBe(200);
    expect(await meOnB(third.body.api_key.key)).toBe(200);
  });

  it('refuses every key of a removed service account on B at once', async () => {
    const { bot } = await botInWorkspace();
    const next = await ok(h.request('POST', `${bots}/${bot.id}/rotate_api_key`, { key: ownerKey, body: { old_key_expires_in_seconds: 3600 } }));
    for (const k of [bot.api_key.key, next.body.api_key.key]) expect((await onB('GET', wsBase, k)).status).toBe(200);
    await ok(h.request('DELETE', `${bots}/${bot.id}`, { key: ownerKey }));
    for (const k of [bot.api_key.key, next.body.api_key.key]) expect((await onB('GET', wsBase, k)).status).toBe(401);
  });

  it('hides the workspace from the key on B at once when its access is removed', async () => {
    const { bot, accessId } = await botInWorkspace();
    expect((await onB('GET', wsBase, bot.api_key.key)).status).toBe(200);
    await ok(h.request('DELETE', `${wsBase}/bot_access/${accessId}`, { key: ownerKey }));
    expect((await onB('GET', wsBase, bot.api_key.key)).status).toBe(404);
    expect((await onB('GET', '/api/me/workspaces', bot.api_key.key)).body).toEqual([]);
  });

  it('withdraws a scope on B at once when the role changes from Developer to Viewer', async () => {
    const { bot } = await botInWorkspace(WORKSPACE_ROLE_IDS.Developer);
    // see_workspace_service_accounts: Developer has it, Viewer does not.
    expect((await onB('POST', `${wsBase}/bot_access/filter`, bot.api_key.key, {})).status).toBe(200);
    await ok(h.request('POST', `${wsBase}/bot_access/`, { key: ownerKey, body: { bot_id: bot.id, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer } }));
    expect((await onB('POST', `${wsBase}/bot_access/filter`, bot.api_key.key, {})).status).toBe(403);
    const scopes = await onB('GET', `/api/me/workspaces/${workspaceId}/scopes`, bot.api_key.key);
    expect(scopes.body).not.toContain('see_workspace_service_accounts');
    expect(scopes.body).toContain('see_flows');
  });

  it('lets B revoke what A then refuses (the promise holds in both directions)', async () => {
    const created = await createUserKey();
    expect((await h.request('GET', '/api/me/workspaces', { key: created.key })).status).toBe(200);
    const res = await onB('DELETE', `/api/users/${userId}/api_keys/${created.id}`, ownerKey);
    expect(res.status).toBe(204);
    expect((await h.request('GET', '/api/me/workspaces', { key: created.key })).status).toBe(401);
  });
});
