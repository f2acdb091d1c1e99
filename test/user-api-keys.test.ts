// A user's own API keys (`pnu_`): issued once, read masked, deleted with immediate effect, and
// invisible to everyone but the user (another user's id, or any service-account key, is a 404).
import { beforeAll, describe, expect, it } from 'vitest';
import { authStatus, useHarness } from './support/harness.js';
import { UUID, RFC3339_UTC, USER_KEY, ISSUED_KEY_FIELDS, MASKED_KEY_FIELDS, longestRevealed } from './support/shapes.js';

const h = useHarness();
let me: { accountId: string; userId: string; key: string };
let seq = 0;

beforeAll(async () => {
  me = await h.bootstrap();
});

const keysPath = (userId: string) => `/api/users/${userId}/api_keys`;

async function createKey(body: Record<string, unknown> = {}, who = me) {
  const res = await h.request('POST', keysPath(who.userId), { key: who.key, body: { name: `laptop-${++seq}`, ...body } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

describe('creating a user API key', () => {
  it('answers 201 with id, created, name, expiration and the pnu_ key, not cached', async () => {
    const res = await h.request('POST', keysPath(me.userId), { key: me.key, body: { name: 'ci' } });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(res.body).sort()).toEqual(ISSUED_KEY_FIELDS);
    expect(res.body.id).toMatch(UUID);
    expect(res.body.created).toMatch(RFC3339_UTC);
    expect(res.body.name).toBe('ci');
    expect(res.body.expiration).toBeNull();
    expect(res.body.key).toMatch(USER_KEY);
    expect(await authStatus(h, res.body.key)).toBe(200);
  });

  it('keeps an expiration sent with an offset as the same instant in UTC', async () => {
    const at = new Date(h.clock.now().getTime() + 86_400_000);
    at.setUTCMilliseconds(0);
    const sent = `${new Date(at.getTime() - 5 * 3_600_000).toISOString().slice(0, 19)}-05:00`;
    const key = await createKey({ expiration: sent });
    expect(key.expiration).toMatch(RFC3339_UTC);
    expect(new Date(key.expiration).getTime()).toBe(at.getTime());
  });

  it('accepts the path with a trailing slash too', async () => {
    const res = await h.request('POST', `${keysPath(me.userId)}/`, { key: me.key, body: { name: 'slash' } });
    expect(res.status).toBe(201);
  });

  it('answers 422 for an expiration in the past, a bad date or no name', async () => {
    const past = await h.request('POST', keysPath(me.userId), {
      key: me.key,
      body: { name: 'old', expiration: new Date(h.clock.now().getTime() - 1000).toISOString() },
    });
    expect(past.status).toBe(422);
    expect(past.body.code).toBe('EXPIRATION_IN_PAST');
    for (const body of [{ name: 'x', expiration: 'soon' }, {}, { name: '' }]) {
      expect((await h.request('POST', keysPath(me.userId), { key: me.key, body })).status, JSON.stringify(body)).toBe(422);
    }
  });
});

describe('reading user API keys', () => {
  it('lists them masked, never showing a key', async () => {
    const created = await createKey();
    const res = await h.request('GET', keysPath(me.userId), { key: me.key });
    expect(res.status).toBe(200);
    const row = res.body.find((k: any) => k.id === created.id);
    expect(row).toEqual({ id: created.id, created: created.created, name: created.name, expiration: null, masked_key: expect.any(String), last_used_at: null, last_used_from: null, last_used_client: null, last_used_workspace_id: null, leak_reported_at: null, leak_url: null, leak_source: null });
    for (const k of res.body) expect(Object.keys(k).sort()).toEqual(MASKED_KEY_FIELDS);
    for (const k of [created.key, me.key]) expect(longestRevealed(res.text, k)).toBeLessThanOrEqual(8);
  });

  it('filters the list by ?name=', async () => {
    const created = await createKey();
    const res = await h.request('GET', `${keysPath(me.userId)}?name=${encodeURIComponent(created.name)}`, { key: me.key });
    expect(res.body.map((k: any) => k.id)).toEqual([created.id]);
  });

  it('reads one key masked', async () => {
    const created = await createKey();
    const res = await h.request('GET', `${keysPath(me.userId)}/${created.id}`, { key: me.key });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(MASKED_KEY_FIELDS);
    expect(res.body.id).toBe(created.id);
    expect(longestRevealed(res.text, created.key)).toBeLessThanOrEqual(8);
  });

  it('lists the same keys under /api/me/api_keys', async () => {
    const created = await createKey();
    const res = await h.request('GET', '/api/me/api_keys', { key: me.key });
    expect(res.status).toBe(200);
    expect(res.body.map((k: any) => k.id)).toContain(created.id);
    expect(res.text).not.toContain(created.key);
  });
});

describe('deleting a user API key', () => {
  it('answers 204; the key is refused on the very next request and is gone from reads', async () => {
    const created = await createKey();
    expect(await authStatus(h, created.key)).toBe(200);
    const res = await h.request('DELETE', `${keysPath(me.userId)}/${created.id}`, { key: me.key });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    const refused = await h.request('GET', '/api/me/workspaces', { key: created.key });
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toBe('Invalid authentication credentials');
    expect((await h.request('GET', `${keysPath(me.userId)}/${created.id}`, { key: me.key })).status).toBe(404);
    expect((await h.request('DELETE', `${keysPath(me.userId)}/${created.id}`, { key: me.key })).status).toBe(404);
  });

  it('lets a key delete itself, and then it is refused', async () => {
    const created = await createKey();
    const res = await h.request('DELETE', `${keysPath(me.userId)}/${created.id}`, { key: created.key });
    expect(res.status).toBe(204);
    expect(await authStatus(h, created.key)).toBe(401);
  });

  it('refuses a user key once its expiration passes', async () => {
    const created = await createKey({ expiration: new Date(h.clock.now().getTime() + 60_000).toISOString() });
    expect(await authStatus(h, created.key)).toBe(200);
    h.clock.advance(60_000);
    expect(await authStatus(h, created.key)).toBe(401);
  });
});

describe("another user's keys", () => {
  let other: { accountId: string; userId: string; key: string };
  let othersKey: any;
  beforeAll(async () => {
    other = await h.bootstrap();
    othersKey = await createKey({}, other);
  });

  it.each([
    ['POST', ''],
    ['GET', ''],
    ['GET', '/KEY'],
    ['DELETE', '/KEY'],
  ])('answer 404 to %s …/api_keys%s with another user id', async (method, suffix) => {
    const url = `${keysPath(other.userId)}${suffix.replace('KEY', othersKey.id)}`;
    const res = await h.request(method, url, { key: me.key, body: method === 'POST' ? { name: 'stolen' } : undefined });
    expect(res.status).toBe(404);
    expect(res.text).not.toContain(othersKey.key);
    expect(await authStatus(h, othersKey.key)).toBe(200);
  });

  it('answer 404 when named under my own user id', async () => {
    expect((await h.request('GET', `${keysPath(me.userId)}/${othersKey.id}`, { key: me.key })).status).toBe(404);
    expect((await h.request('DELETE', `${keysPath(me.userId)}/${othersKey.id}`, { key: me.key })).status).toBe(404);
    expect(await authStatus(h, othersKey.key)).toBe(200);
  });

  it('answer 404 for a user id that does not exist', async () => {
    expect((await h.request('GET', keysPath(crypto.randomUUID()), { key: me.key })).status).toBe(404);
  });
});

describe('service-account keys on user routes', () => {
  it('answer 404: a bot is not a user, not even under its own id', async () => {
    const bot = await h.request('POST', `/api/accounts/${me.accountId}/bots/`, { key: me.key, body: { name: `bot-${++seq}` } });
    expect(bot.status).toBe(201);
    const botKey = bot.body.api_key.key;
    for (const userId of [bot.body.id, bot.body.actor_id, me.userId]) {
      for (const [method, body] of [['GET', undefined], ['POST', { name: 'x' }]] as const) {
        const res = await h.request(method, keysPath(userId), { key: botKey, body });
        expect(res.status, `${method} ${userId}`).toBe(404);
      }
    }
    const mine = await h.request('GET', '/api/me/api_keys', { key: botKey });
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual([]);
  });
});
