// A service account's keys: rotation with and without a grace period, the list of current and
// still-rotating keys, and deleting one key. Every "refused" here is the next request after the
// call returned: revocation is immediate (DESIGN.md contract 4).
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { authStatus, freezeClock, useHarness } from './support/harness.js';
import { postBot } from './support/members.js';
import { UUID, RFC3339_UTC, BOT_KEY, ISSUED_KEY_FIELDS, MASKED_KEY_FIELDS } from './support/shapes.js';

const HOUR = 3_600_000;

const h = useHarness();
let accountId: string;
let ownerKey: string;
let bots: string;

beforeAll(async () => {
  ({ accountId, key: ownerKey } = await h.bootstrap());
  bots = `/api/accounts/${accountId}/bots`;
});
afterEach(() => vi.restoreAllMocks());

const rotate = (botId: string, body: unknown, key = ownerKey) =>
  h.request('POST', `${bots}/${botId}/rotate_api_key`, { key, body });

async function rotated(botId: string, body: unknown) {
  const res = await rotate(botId, body);
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const readKeys = (botId: string) => h.request('GET', `${bots}/${botId}/read_bot_api_keys`, { key: ownerKey });

describe('rotating a key', () => {
  it('answers 201 with the same bot and a new key, shown once and not cached', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    const res = await rotate(bot.id, { api_key_expiration: null, old_key_expires_in_seconds: null });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const { api_key: key, ...fields } = res.body;
    const { api_key: oldKey, updated: _u, ...before } = bot;
    expect(fields).toMatchObject(before);
    expect(fields.account_role_name).toBe('Member');
    expect(Object.keys(key).sort()).toEqual(ISSUED_KEY_FIELDS);
    expect(key.id).toMatch(UUID);
    expect(key.id).not.toBe(oldKey.id);
    expect(key.key).toMatch(BOT_KEY);
    expect(key.key).not.toBe(oldKey.key);
    expect(key.name.startsWith(bot.name)).toBe(true);
    expect(key.created).toMatch(RFC3339_UTC);
    expect(key.expiration).toBeNull();
    expect(await authStatus(h, key.key)).toBe(200);
    const read = await h.request('GET', `${bots}/${bot.id}`, { key: ownerKey });
    expect(read.body.api_key.id).toBe(key.id);
  });

  it.each([
    ['omitted', {}],
    ['null', { old_key_expires_in_seconds: null }],
    ['omitted, with only a new expiration', { api_key_expiration: null }],
  ])('refuses the old key on the very next request when old_key_expires_in_seconds is %s', async (_label, body) => {
    const bot = await postBot(h, accountId, ownerKey);
    const next = await rotated(bot.id, body);
    expect(await authStatus(h, bot.api_key.key)).toBe(401);
    expect(await authStatus(h, next.api_key.key)).toBe(200);
    const keys = await readKeys(bot.id);
    expect(keys.body.rotating_keys).toEqual([]);
    expect(keys.body.active_key.id).toBe(next.api_key.id);
  });

  it('treats a rotate request without a body as "delete the old key now"', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    const res = await h.request('POST', `${bots}/${bot.id}/rotate_api_key`, { key: ownerKey });
    expect(res.status, res.text).toBe(201);
    expect(await authStatus(h, bot.api_key.key)).toBe(401);
  });

  it('refuses the old key at once for old_key_expires_in_seconds 0 (Terraform\'s default)', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    const next = await rotated(bot.id, { api_key_expiration: null, old_key_expires_in_seconds: 0 });
    expect(await authStatus(h, bot.api_key.key)).toBe(401);
    expect(await authStatus(h, next.api_key.key)).toBe(200);
    expect((await readKeys(bot.id)).body.rotating_keys).toEqual([]);
  });

  it('keeps the old key working through a 3600-second grace, lists it as rotating, then refuses it', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    const start = h.clock.now().getTime();
    freezeClock(h, start);
    const next = await rotated(bot.id, { api_key_expiration: null, old_key_expires_in_seconds: 3600 });
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
    expect(await authStatus(h, next.api_key.key)).toBe(200);

    const keys = await readKeys(bot.id);
    expect(keys.body.active_key.id).toBe(next.api_key.id);
    expect(keys.body.rotating_keys).toHaveLength(1);
    const old = keys.body.rotating_keys[0];
    expect(old.id).toBe(bot.api_key.id);
    expect(old.expiration).toMatch(RFC3339_UTC);
    expect(new Date(old.expiration).getTime()).toBe(start + HOUR);

    freezeClock(h, start + HOUR - 1);
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
    freezeClock(h, start + HOUR);
    expect(await authStatus(h, bot.api_key.key)).toBe(401);
    expect((await readKeys(bot.id)).body.rotating_keys).toEqual([]);
    expect(await authStatus(h, next.api_key.key)).toBe(200);
  });

  it('refuses the old key after the harness clock moves past the grace', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    await rotated(bot.id, { old_key_expires_in_seconds: 3600 });
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
    h.clock.advance(HOUR + 1000);
    expect(await authStatus(h, bot.api_key.key)).toBe(401);
  });

  it('accepts the 48-hour maximum grace', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    const start = h.clock.now().getTime();
    freezeClock(h, start);
    await rotated(bot.id, { old_key_expires_in_seconds: 172_800 });
    const old = (await readKeys(bot.id)).body.rotating_keys[0];
    expect(new Date(old.expiration).getTime()).toBe(start + 48 * HOUR);
  });

  it.each([172_801, -1, 1.5, '3600', 1e12])('answers 422 for old_key_expires_in_seconds %s and changes nothing', async (grace) => {
    const bot = await postBot(h, accountId, ownerKey);
    const res = await rotate(bot.id, { api_key_expiration: null, old_key_expires_in_seconds: grace });
    expect(res.status).toBe(422);
    expect(res.text).not.toMatch(/pnb_[A-Za-z0-9]{36}/);
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
    expect((await readKeys(bot.id)).body.active_key.id).toBe(bot.api_key.id);
  });

  it('names the 48-hour limit in the 422 for a grace above it', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    const res = await rotate(bot.id, { old_key_expires_in_seconds: 172_801 });
    expect(res.body.code).toBe('GRACE_PERIOD_TOO_LONG');
    expect(res.body.detail).toMatch(/172800/);
  });

  it("never extends the old key beyond its own expiration", async () => {
    const start = h.clock.now().getTime();
    freezeClock(h, start);
    const ownExpiry = new Date(start + 10 * 60_000).toISOString();
    const bot = await postBot(h, accountId, ownerKey, { api_key_expiration: ownExpiry });
    await rotated(bot.id, { old_key_expires_in_seconds: 3600 });
    const old = (await readKeys(bot.id)).body.rotating_keys[0];
    expect(old.expiration).toBe(ownExpiry);
    freezeClock(h, start + 10 * 60_000 - 1);
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
    freezeClock(h, start + 10 * 60_000);
    expect(await authStatus(h, bot.api_key.key)).toBe(401);
  });

  it('gives the new key the requested expiration, as RFC 3339 UTC for the same instant', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    const at = new Date(h.clock.now().getTime() + 24 * HOUR);
    at.setUTCMilliseconds(0);
    const next = await rotated(bot.id, { api_key_expiration: at.toISOString().replace('.000Z', 'Z'), old_key_expires_in_seconds: 0 });
    expect(next.api_key.expiration).toMatch(RFC3339_UTC);
    expect(new Date(next.api_key.expiration).getTime()).toBe(at.getTime());
  });

  it('gives an expiring key a never-expiring successor for api_key_expiration null', async () => {
    const bot = await postBot(h, accountId, ownerKey, { api_key_expiration: new Date(h.clock.now().getTime() + HOUR).toISOString() });
    const next = await rotated(bot.id, { api_key_expiration: null });
    expect(next.api_key.expiration).toBeNull();
    h.clock.advance(365 * 24 * HOUR);
    expect(await authStatus(h, next.api_key.key)).toBe(200);
  });

  it('answers 422 EXPIRATION_IN_PAST for a new expiration in the past and keeps the current key', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    const res = await rotate(bot.id, { api_key_expiration: new Date(h.clock.now().getTime() - 1000).toISOString() });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('EXPIRATION_IN_PAST');
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
    expect((await readKeys(bot.id)).body.active_key.id).toBe(bot.api_key.id);
  });

  it('answers 404 for an unknown service account and for one in another account', async () => {
    expect((await rotate(crypto.randomUUID(), {})).status).toBe(404);
    const other = await h.bootstrap();
    const bot = await postBot(h, accountId, ownerKey);
    const res = await h.request('POST', `/api/accounts/${other.accountId}/bots/${bot.id}/rotate_api_key`, { key: other.key, body: {} });
    expect(res.status).toBe(404);
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
  });

  it('does not let a service account rotate its own key (Members lack update:bot)', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    expect((await rotate(bot.id, {}, bot.api_key.key)).status).toBe(403);
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
  });
});

describe('at most one old key in grace (pentest issue 14)', () => {
  it('ends the grace of the older key at once when a rotation starts a new one: 17 graced rotations leave 2 live keys', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    const issued: string[] = [bot.api_key.key];
    for (let i = 0; i < 17; i++) issued.push((await rotated(bot.id, { old_key_expires_in_seconds: 172_800 })).api_key.key);
    const live: string[] = [];
    for (const key of issued) if ((await authStatus(h, key)) === 200) live.push(key);
    expect(live).toEqual(issued.slice(-2));
    const keys = (await readKeys(bot.id)).body;
    expect(keys.rotating_keys).toHaveLength(1);
    const rows = await h.handle.store.db.selectFrom('api_keys').select('id').where('bot_id', '=', bot.id).execute();
    expect(rows).toHaveLength(2);
  });

  it('ends an earlier grace also when the new rotation has none, and names the ended keys in the audit event', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    const second = await rotated(bot.id, { old_key_expires_in_seconds: 3600 });
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
    const third = await rotated(bot.id, { old_key_expires_in_seconds: null });
    expect(await authStatus(h, bot.api_key.key)).toBe(401);
    expect(await authStatus(h, second.api_key.key)).toBe(401);
    expect(await authStatus(h, third.api_key.key)).toBe(200);
    expect((await readKeys(bot.id)).body.rotating_keys).toEqual([]);
    const event = await h.handle.store.db
      .selectFrom('audit_events')
      .select('details')
      .where('target_id', '=', bot.id)
      .where('action', '=', 'service_account.api_key_rotated')
      .orderBy('occurred', 'desc')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(event.details)).toMatchObject({ old_api_key_id: second.api_key.id, ended_grace_api_key_ids: [bot.api_key.id] });
  });
});

describe('reading the keys of a service account', () => {
  it('shows the active key and the one key still in its grace, masked', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    h.clock.advance(1000);
    const second = await rotated(bot.id, { old_key_expires_in_seconds: 3600 });
    h.clock.advance(1000);
    const third = await rotated(bot.id, { old_key_expires_in_seconds: 7200 });
    const res = await readKeys(bot.id);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['active_key', 'rotating_keys']);
    expect(res.body.active_key.id).toBe(third.api_key.id);
    expect(res.body.rotating_keys.map((k: any) => k.id)).toEqual([second.api_key.id]);
    for (const k of [res.body.active_key, ...res.body.rotating_keys]) {
      expect(Object.keys(k).sort()).toEqual(MASKED_KEY_FIELDS);
      expect(k.masked_key).toEqual(expect.any(String));
    }
    for (const issued of [bot, second, third]) {
      expect(res.text).not.toContain(issued.api_key.key);
      expect(res.text).not.toContain(issued.api_key.key.slice(0, 9));
    }
    expect(res.text).not.toContain('"key"');
  });

  it('answers 404 for an unknown service account', async () => {
    expect((await readKeys(crypto.randomUUID())).status).toBe(404);
  });
});

describe('deleting one key', () => {
  const del = (botId: string, keyId: string, key = ownerKey) =>
    h.request('DELETE', `${bots}/${botId}/delete_bot_api_key/${keyId}`, { key });

  it('answers 204 for a rotating key, which stops working at once and leaves the list', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    const next = await rotated(bot.id, { old_key_expires_in_seconds: 3600 });
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
    const res = await del(bot.id, bot.api_key.id);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await authStatus(h, bot.api_key.key)).toBe(401);
    expect(await authStatus(h, next.api_key.key)).toBe(200);
    expect((await readKeys(bot.id)).body.rotating_keys).toEqual([]);
  });

  it('answers 204 for the active key, which stops working; a rotation issues a new one', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    expect((await del(bot.id, bot.api_key.id)).status).toBe(204);
    expect(await authStatus(h, bot.api_key.key)).toBe(401);
    expect((await readKeys(bot.id)).body).toEqual({ active_key: null, rotating_keys: [] });
    expect((await h.request('GET', `${bots}/${bot.id}`, { key: ownerKey })).body.api_key).toBeNull();
    const next = await rotated(bot.id, {});
    expect(await authStatus(h, next.api_key.key)).toBe(200);
  });

  it('answers 404 for an unknown key id and for a key of another service account, which keeps working', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    const other = await postBot(h, accountId, ownerKey);
    expect((await del(bot.id, crypto.randomUUID())).status).toBe(404);
    const res = await del(bot.id, other.api_key.id);
    expect(res.status).toBe(404);
    expect(await authStatus(h, other.api_key.key)).toBe(200);
  });

  it('answers 404 for a second delete of the same key', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    await rotated(bot.id, { old_key_expires_in_seconds: 60 });
    expect((await del(bot.id, bot.api_key.id)).status).toBe(204);
    expect((await del(bot.id, bot.api_key.id)).status).toBe(404);
  });

  it('does not let a service account delete keys (Members lack update:bot)', async () => {
    const bot = await postBot(h, accountId, ownerKey);
    await rotated(bot.id, { old_key_expires_in_seconds: 60 });
    expect((await del(bot.id, bot.api_key.id, bot.api_key.key)).status).toBe(403);
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
  });
});
