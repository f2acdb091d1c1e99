// The last use of every key, on both stores: used through the gateway and through Gatehouse's own
// API, it shows when, from which client address (a trusted proxy's client), with which client and
// against which workspace; an old key in its rotation grace keeps its own; no key lands in it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { writeKeyUses, type KeyUseNote } from '../src/auth/key-use.js';
import { authCore, type Presented } from '../src/auth/core.js';
import { keyThrottle } from '../src/auth/key-throttle.js';
import { AUTHENTICATED } from '../src/authz/requirements.js';
import { startHarness, type Harness } from './support/harness.js';
import { botWithRole, postBot, workspaceWithUpstream } from './support/members.js';
import { startFakePrefect, type FakePrefect } from './support/fake-prefect.js';
import { RFC3339_UTC } from './support/shapes.js';

let h: Harness;
let fake: FakePrefect;
let owner: { accountId: string; userId: string; key: string };
let ws: { id: string; base: string };
let bots: string;

// One proxy in front (GATEHOUSE_TRUST_PROXY=1): the client is the address it forwards for.
const via = (address: string, client: string) => ({ 'x-forwarded-for': address, 'user-agent': client });
const NEVER_USED = { last_used_at: null, last_used_from: null, last_used_client: null, last_used_workspace_id: null };

beforeAll(async () => {
  h = await startHarness({ trustProxy: 1 });
  fake = await startFakePrefect();
  owner = await h.bootstrap();
  ws = await workspaceWithUpstream(h, owner, fake.url);
  bots = `/api/accounts/${owner.accountId}/bots`;
});

afterAll(async () => {
  await h.close();
  await fake.close();
});

const readBot = async (id: string) => (await h.request('GET', `${bots}/${id}`, { key: owner.key })).body;

describe('a service-account key', () => {
  it('is "never used" until it is, and nothing is written before the flush', async () => {
    const bot = await botWithRole(h, owner, ws.id, WORKSPACE_ROLE_IDS.Developer);
    expect((await readBot(bot.id)).api_key).toMatchObject(NEVER_USED);
    const res = await h.request('POST', `${ws.base}/flows/filter`, { key: bot.key, body: {}, headers: via('10.0.0.4', 'prefect/3.9.1 (API 0.8.4)') });
    expect(res.status, res.text).toBe(200);
    expect((await readBot(bot.id)).api_key).toMatchObject(NEVER_USED);
  });

  it('used through the gateway, shows when, from where, with which client and in which workspace', async () => {
    const bot = await botWithRole(h, owner, ws.id, WORKSPACE_ROLE_IDS.Developer);
    const before = h.clock.now().toISOString();
    const res = await h.request('POST', `${ws.base}/flows/filter`, { key: bot.key, body: {}, headers: via('10.0.0.4', 'prefect/3.9.1 (API 0.8.4)') });
    expect(res.status, res.text).toBe(200);
    await h.app.keyUse.flush();
    const { api_key: key } = await readBot(bot.id);
    expect(key).toMatchObject({ last_used_from: '10.0.0.4', last_used_client: 'prefect/3.9.1 (API 0.8.4)', last_used_workspace_id: ws.id });
    expect(key.last_used_at).toMatch(RFC3339_UTC);
    expect(key.last_used_at >= before).toBe(true);
    // The same in the filter list and in the list of keys.
    const listed = (await h.request('POST', `${bots}/filter`, { key: owner.key, body: {} })).body.find((b: { id: string }) => b.id === bot.id);
    expect(listed.api_key).toEqual(key);
    expect((await h.request('GET', `${bots}/${bot.id}/read_bot_api_keys`, { key: owner.key })).body.active_key).toEqual(key);
  });

  it("used on Gatehouse's own API, shows that use, without a workspace when the route names none", async () => {
    const bot = await postBot(h, owner.accountId, owner.key);
    const res = await h.request('GET', '/api/me/workspaces', { key: bot.api_key.key, headers: via('192.168.7.9', 'terraform-provider-prefect/2.13') });
    expect(res.status, res.text).toBe(200);
    await h.app.keyUse.flush();
    expect((await readBot(bot.id)).api_key).toMatchObject({ last_used_from: '192.168.7.9', last_used_client: 'terraform-provider-prefect/2.13', last_used_workspace_id: null });
  });

  it('keeps the latest use when used many times between writes', async () => {
    const bot = await botWithRole(h, owner, ws.id, WORKSPACE_ROLE_IDS.Developer);
    for (const n of [1, 2, 3]) {
      h.clock.advance(1_000);
      await h.request('POST', `${ws.base}/flows/filter`, { key: bot.key, body: {}, headers: via(`10.0.0.${n}`, `client/${n}`) });
    }
    await h.app.keyUse.flush();
    expect((await readBot(bot.id)).api_key).toMatchObject({ last_used_from: '10.0.0.3', last_used_client: 'client/3' });
  });

  it("an old key in its rotation grace records its own use, apart from the new key's", async () => {
    const bot = await botWithRole(h, owner, ws.id, WORKSPACE_ROLE_IDS.Developer);
    const rotated = await h.request('POST', `${bots}/${bot.id}/rotate_api_key`, { key: owner.key, body: { old_key_expires_in_seconds: 3600 } });
    expect(rotated.status, rotated.text).toBe(201);
    const newKey = rotated.body.api_key.key;
    expect((await h.request('POST', `${ws.base}/flows/filter`, { key: bot.key, body: {}, headers: via('10.0.0.50', 'old-worker/1') })).status).toBe(200);
    expect((await h.request('GET', '/api/me/workspaces', { key: newKey, headers: via('10.0.0.60', 'new-worker/2') })).status).toBe(200);
    await h.app.keyUse.flush();
    const keys = (await h.request('GET', `${bots}/${bot.id}/read_bot_api_keys`, { key: owner.key })).body;
    expect(keys.active_key).toMatchObject({ id: rotated.body.api_key.id, last_used_from: '10.0.0.60', last_used_client: 'new-worker/2', last_used_workspace_id: null });
    expect(keys.rotating_keys).toHaveLength(1);
    expect(keys.rotating_keys[0]).toMatchObject({ last_used_from: '10.0.0.50', last_used_client: 'old-worker/1', last_used_workspace_id: ws.id });
  });
});

describe('a user key', () => {
  it("used on a Gatehouse workspace route, shows its use in My API keys with that workspace", async () => {
    const res = await h.request('GET', `${ws.base}/gateway`, { key: owner.key, headers: via('10.1.2.3', 'curl/8.5.0') });
    expect(res.status, res.text).toBe(200);
    await h.app.keyUse.flush();
    const keys = (await h.request('GET', '/api/me/api_keys', { key: owner.key })).body;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ last_used_from: '10.1.2.3', last_used_client: 'curl/8.5.0', last_used_workspace_id: ws.id });
    const one = await h.request('GET', `/api/users/${owner.userId}/api_keys/${keys[0].id}`, { key: owner.key, headers: via('10.1.2.3', 'curl/8.5.0') });
    expect(one.body.last_used_from).toBe('10.1.2.3');
  });

  it("asking about another account's workspace (404) never makes its id the key's last workspace", async () => {
    const other = await h.bootstrap('other-last-use', 'other-last-use@example.com');
    const res = await h.request('GET', `/api/me/workspaces/${ws.id}/scopes`, { key: other.key, headers: via('10.9.9.9', 'probe/1') });
    expect(res.status).toBe(404);
    await h.app.keyUse.flush();
    const [key] = (await h.request('GET', '/api/me/api_keys', { key: other.key })).body;
    expect(key).toMatchObject({ last_used_from: expect.any(String), last_used_workspace_id: null });
  });
});

describe('on the request path', () => {
  it('is a note into memory: a key the cache knows is answered without a promise, and its use noted', async () => {
    const bot = await postBot(h, owner.accountId, owner.key);
    const notes: Array<[string, KeyUseNote]> = [];
    const core = authCore({
      store: h.handle.store,
      cache: h.handle.cache,
      clock: h.clock,
      throttle: keyThrottle({ now: () => Date.now() }),
      sessions: { authenticate: async () => null },
      keyUse: { note: (keyId, note) => void notes.push([keyId, note]), flush: async () => {}, close: async () => {} },
    });
    const presented: Presented = { authorization: `Bearer ${bot.api_key.key}`, sessionToken: () => null, method: 'GET', csrfToken: undefined, address: '10.0.0.4', userAgent: 'prefect/3.9.1' };
    const first = await core.authorize(AUTHENTICATED, presented, {});
    expect(first.ok).toBe(true);
    const second = core.authorize(AUTHENTICATED, presented, {});
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as { ok: boolean }).ok).toBe(true);
    expect(notes.map(([keyId, note]) => [keyId, note.address, note.client, note.workspaceId])).toEqual([
      [bot.api_key.id, '10.0.0.4', 'prefect/3.9.1', null],
      [bot.api_key.id, '10.0.0.4', 'prefect/3.9.1', null],
    ]);
  });
});

describe('what is stored', () => {
  it('keeps a long User-Agent bounded and never a key, even one a client puts in it', async () => {
    const bot = await postBot(h, owner.accountId, owner.key);
    const key: string = bot.api_key.key;
    const res = await h.request('GET', '/api/me/workspaces', { key, headers: via('10.0.0.8', `agent ${key} <script>alert(1)</script>${'x'.repeat(4000)}`) });
    expect(res.status).toBe(200);
    await h.app.keyUse.flush();
    const shown = (await readBot(bot.id)).api_key;
    expect(shown.last_used_client).toHaveLength(200);
    expect(shown.last_used_client.startsWith('agent [key] <script>alert(1)</script>xxx')).toBe(true);
    const row = await h.handle.store.db.selectFrom('api_keys').selectAll().where('id', '=', bot.api_key.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(key.slice(4));
  });

  it('never replaces a later use with an earlier one written by another process', async () => {
    const bot = await postBot(h, owner.accountId, owner.key);
    const other = await h.handle.reopen();
    const use = (at: string, address: string) => new Map([[bot.api_key.id, { at, address, client: 'c', workspaceId: null }]]);
    await writeKeyUses(h.handle.store, use('2030-01-01T00:01:00.000Z', '10.0.0.1'));
    await writeKeyUses(other.store, use('2030-01-01T00:00:30.000Z', '10.0.0.2'));
    expect((await readBot(bot.id)).api_key).toMatchObject({ last_used_at: '2030-01-01T00:01:00.000Z', last_used_from: '10.0.0.1' });
    await writeKeyUses(other.store, use('2030-01-01T00:02:00.000Z', '10.0.0.2'));
    expect((await readBot(bot.id)).api_key).toMatchObject({ last_used_at: '2030-01-01T00:02:00.000Z', last_used_from: '10.0.0.2' });
  });

  it('writes what was noted when the server closes', async () => {
    const h2 = await startHarness();
    try {
      const o = await h2.bootstrap();
      expect((await h2.request('GET', '/api/me/workspaces', { key: o.key, headers: { 'user-agent': 'closing/1' } })).status).toBe(200);
      await h2.app.server.close();
      const row = await h2.handle.store.db.selectFrom('api_keys').select(['last_used_client', 'last_used_from']).where('user_id', '=', o.userId).executeTakeFirstOrThrow();
      expect(row).toEqual({ last_used_client: 'closing/1', last_used_from: '127.0.0.1' });
    } finally {
      await h2.close();
    }
  });
});
