// Service accounts ("bots"): create, read, rename and remove, as Prefect Cloud clients (the
// Terraform provider above all) send and read them. Keys and rotation: service-account-keys.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from './support/harness.js';
import { postBot } from './support/members.js';
import { ACCOUNT_ROLE_IDS } from '../src/authz/permissions.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { UUID, RFC3339_UTC, BOT_KEY, ISSUED_KEY_FIELDS, MASKED_KEY_FIELDS, longestRevealed } from './support/shapes.js';

const BOT_FIELDS = ['account_id', 'account_role_name', 'actor_id', 'api_key', 'created', 'id', 'name', 'updated'];

const h = useHarness();
let accountId: string;
let ownerKey: string;
let bots: string;
let seq = 0;
const uniqueName = (label: string) => `${label}-${++seq}`;

beforeAll(async () => {
  ({ accountId, key: ownerKey } = await h.bootstrap());
  bots = `/api/accounts/${accountId}/bots`;
});

function expectMaskedRead(bot: any, key: string) {
  expect(Object.keys(bot).sort()).toEqual(BOT_FIELDS);
  expect(Object.keys(bot.api_key).sort()).toEqual(MASKED_KEY_FIELDS);
  expect(typeof bot.api_key.masked_key).toBe('string');
  expect(longestRevealed(JSON.stringify(bot), key)).toBeLessThanOrEqual(8);
}

describe('creating a service account', () => {
  it('answers 201 with the bot, its Member role and its first key, shown once and not cached', async () => {
    const name = uniqueName('ci-runner');
    const res = await h.request('POST', `${bots}/`, { key: ownerKey, body: { name, api_key_expiration: null } });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const bot = res.body;
    expect(Object.keys(bot).sort()).toEqual(BOT_FIELDS);
    expect(bot.id).toMatch(UUID);
    expect(bot.actor_id).toMatch(UUID);
    expect(bot.actor_id).not.toBe(bot.id);
    expect(bot.account_id).toBe(accountId);
    expect(bot.name).toBe(name);
    expect(bot.account_role_name).toBe('Member');
    expect(bot.created).toMatch(RFC3339_UTC);
    expect(bot.updated).toMatch(RFC3339_UTC);
    expect(Object.keys(bot.api_key).sort()).toEqual(ISSUED_KEY_FIELDS);
    expect(bot.api_key.id).toMatch(UUID);
    expect(bot.api_key.created).toMatch(RFC3339_UTC);
    expect(bot.api_key.name.startsWith(name)).toBe(true);
    expect(bot.api_key.expiration).toBeNull();
    expect(bot.api_key.key).toMatch(BOT_KEY);
  });

  it('issues a key that authenticates on GET /api/me/workspaces, as `prefect cloud login -k` checks', async () => {
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('login') });
    const res = await h.request('GET', '/api/me/workspaces', { key: bot.api_key.key });
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
  });

  it('returns an expiration as RFC 3339 UTC for the same instant that was sent', async () => {
    const at = new Date(Date.now() + 86_400_000);
    at.setUTCMilliseconds(0);
    const offset = `${new Date(at.getTime() + 2 * 3_600_000).toISOString().slice(0, 19)}+02:00`;
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('expiring'), api_key_expiration: offset });
    expect(bot.api_key.expiration).toMatch(RFC3339_UTC);
    expect(new Date(bot.api_key.expiration).getTime()).toBe(at.getTime());
  });

  it('accepts the Terraform body: only a name, with no api_key_expiration and no role', async () => {
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('terraformacc') });
    expect(bot.account_role_name).toBe('Member');
    expect(bot.api_key.expiration).toBeNull();
    expect(bot.api_key.key).toMatch(BOT_KEY);
  });

  it("accepts the Member role's id", async () => {
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('member'), account_role_id: ACCOUNT_ROLE_IDS.Member });
    expect(bot.account_role_name).toBe('Member');
  });

  it('accepts the collection path with and without its trailing slash', async () => {
    const withSlash = await h.request('POST', `${bots}/`, { key: ownerKey, body: { name: uniqueName('slash') } });
    const without = await h.request('POST', bots, { key: ownerKey, body: { name: uniqueName('noslash') } });
    expect(withSlash.status).toBe(201);
    expect(without.status).toBe(201);
    expect(without.body.api_key.key).toMatch(BOT_KEY);
  });

  it('lets another account use the same name', async () => {
    const name = uniqueName('shared');
    await postBot(h, accountId, ownerKey, { name });
    const other = await h.bootstrap();
    const res = await h.request('POST', `/api/accounts/${other.accountId}/bots/`, { key: other.key, body: { name } });
    expect(res.status).toBe(201);
  });
});

describe('refusing to create a service account', () => {
  it('answers 409 SERVICE_ACCOUNT_NAME_TAKEN for a name already used in the account', async () => {
    const name = uniqueName('dup');
    await postBot(h, accountId, ownerKey, { name });
    const res = await h.request('POST', `${bots}/`, { key: ownerKey, body: { name } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('SERVICE_ACCOUNT_NAME_TAKEN');
    expect(typeof res.body.detail).toBe('string');
    expect(res.body.request_id).toEqual(expect.any(String));
  });

  it('answers 422 for an expiration in the past and creates nothing', async () => {
    const name = uniqueName('past');
    const res = await h.request('POST', `${bots}/`, {
      key: ownerKey,
      body: { name, api_key_expiration: new Date(Date.now() - 60_000).toISOString() },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('EXPIRATION_IN_PAST');
    const list = await h.request('POST', `${bots}/filter`, { key: ownerKey, body: { service_accounts: { name: { any_: [name] } } } });
    expect(list.body).toEqual([]);
  });

  it('answers 422 for an expiration that is not an RFC 3339 date-time', async () => {
    for (const bad of ['tomorrow', '2030-01-01', '2030-13-01T00:00:00Z', 12345]) {
      const res = await h.request('POST', `${bots}/`, { key: ownerKey, body: { name: uniqueName('bad-date'), api_key_expiration: bad } });
      expect(res.status, String(bad)).toBe(422);
    }
  });

  it.each(['Admin', 'Owner'] as const)('answers 422 naming Member when asked for the %s account role', async (role) => {
    const name = uniqueName(`as-${role}`);
    const res = await h.request('POST', `${bots}/`, { key: ownerKey, body: { name, account_role_id: ACCOUNT_ROLE_IDS[role] } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('SERVICE_ACCOUNT_ROLE_FIXED');
    expect(res.body.detail).toMatch(/Member/);
    const list = await h.request('POST', `${bots}/filter`, { key: ownerKey, body: { service_accounts: { name: { any_: [name] } } } });
    expect(list.body).toEqual([]);
  });

  it('answers 422 for an empty name or an unknown field', async () => {
    for (const body of [{ name: '' }, {}, { name: uniqueName('x'), handle: 'x' }]) {
      const res = await h.request('POST', `${bots}/`, { key: ownerKey, body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  });

  it('does not let a service account key create service accounts (it is only a Member)', async () => {
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('member-key') });
    const res = await h.request('POST', `${bots}/`, { key: bot.api_key.key, body: { name: uniqueName('by-bot') } });
    expect(res.status).toBe(403);
  });

  it("answers 404 to another account's Owner, as for an account that does not exist", async () => {
    const other = await h.bootstrap();
    const res = await h.request('POST', `${bots}/`, { key: other.key, body: { name: uniqueName('intruder') } });
    expect(res.status).toBe(404);
  });
});

describe('look-alike service account names (pentest issue 14)', () => {
  it.each([
    ['a zero-width space', 'ci\u200bdeploy', 'U+200B'],
    ['a right-to-left override', 'ci-\u202eyolped', 'U+202E'],
    ['a no-break space', 'ci\u00a0deploy', 'U+00A0'],
    ['Latin mixed with Cyrillic', 'ci-d\u0435ploy', 'mixes Latin and Cyrillic letters'],
  ])('refuses a name with %s with 422 CONFUSABLE_NAME, on create and on rename', async (_what, name, reason) => {
    const res = await h.request('POST', `${bots}/`, { key: ownerKey, body: { name } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'CONFUSABLE_NAME', detail: expect.stringContaining(reason) });
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('plain') });
    const renamed = await h.request('PATCH', `${bots}/${bot.id}`, { key: ownerKey, body: { name } });
    expect(renamed.status).toBe(422);
    expect(renamed.body.code).toBe('CONFUSABLE_NAME');
  });

  it('accepts names in one script, with emoji', async () => {
    for (const name of [uniqueName('деплой'), uniqueName('👩‍💻 ci')]) expect((await h.request('POST', `${bots}/`, { key: ownerKey, body: { name } })).status).toBe(201);
  });
});

describe('reading service accounts', () => {
  // A fresh account, so its list holds exactly what this block created.
  let readAccount: string;
  let readOwnerKey: string;
  let bot: any;
  let key: string;
  const names = ['alpha', 'bravo', 'charlie'];
  beforeAll(async () => {
    ({ accountId: readAccount, key: readOwnerKey } = await h.bootstrap());
    for (const name of names) {
      const res = await h.request('POST', `/api/accounts/${readAccount}/bots/`, { key: readOwnerKey, body: { name } });
      if (name === 'bravo') bot = res.body;
    }
    key = bot.api_key.key;
  });
  const filter = (options: { body?: unknown; rawBody?: string; headers?: Record<string, string> }) =>
    h.request('POST', `/api/accounts/${readAccount}/bots/filter`, { key: readOwnerKey, ...options });

  it('GET shows the bot with a masked key and never the key', async () => {
    const res = await h.request('GET', `/api/accounts/${readAccount}/bots/${bot.id}`, { key: readOwnerKey });
    expect(res.status).toBe(200);
    expectMaskedRead(res.body, key);
    const { api_key: issued, ...fields } = bot;
    expect(res.body).toMatchObject(fields);
    expect(res.body.api_key).toMatchObject({ id: issued.id, created: issued.created, name: issued.name, expiration: null });
    expect(res.text).not.toContain(key);
  });

  it('filter with any_: null lists every bot, masked', async () => {
    const res = await filter({ body: { service_accounts: { name: { any_: null } } } });
    expect(res.status).toBe(200);
    expect(res.body.map((b: any) => b.name)).toEqual(names);
    for (const b of res.body) expectMaskedRead(b, key);
    expect(res.text).not.toMatch(/pnb_[A-Za-z0-9]{36}/);
    expect(res.text).not.toContain('"key"');
  });

  it('filter with any_: [name] finds exactly that bot, as Terraform imports by name', async () => {
    const res = await filter({ body: { service_accounts: { name: { any_: ['bravo'] } } } });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    expect(res.body[0].id).toBe(bot.id);
    expectMaskedRead(res.body[0], key);
  });

  it('filter with an empty body, {} or null lists every bot', async () => {
    const json = { 'content-type': 'application/json' };
    for (const options of [{}, { body: {} }, { rawBody: '', headers: json }, { rawBody: 'null', headers: json }]) {
      const res = await filter(options);
      expect(res.status, JSON.stringify(options)).toBe(200);
      expect(res.body.map((b: any) => b.name)).toEqual(names);
    }
  });

  it('filter pages with limit and offset', async () => {
    const first = await filter({ body: { limit: 2, offset: 0 } });
    const second = await filter({ body: { limit: 2, offset: 2 } });
    expect(first.body.map((b: any) => b.name)).toEqual(['alpha', 'bravo']);
    expect(second.body.map((b: any) => b.name)).toEqual(['charlie']);
    expect((await filter({ body: { limit: 201 } })).status).toBe(422);
  });

  it('lets a Member (the bot itself) read the service accounts, masked', async () => {
    const res = await h.request('POST', `/api/accounts/${readAccount}/bots/filter`, { key, body: {} });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(key);
  });

  it('answers 404 for an unknown id and for a bot of another account', async () => {
    expect((await h.request('GET', `/api/accounts/${readAccount}/bots/${crypto.randomUUID()}`, { key: readOwnerKey })).status).toBe(404);
    // The bot exists, but under another account id in the path.
    expect((await h.request('GET', `${bots}/${bot.id}`, { key: ownerKey })).status).toBe(404);
    expect((await h.request('GET', `/api/accounts/${readAccount}/bots/${bot.id}`, { key: ownerKey })).status).toBe(404);
  });
});

describe('renaming a service account', () => {
  it('answers 204 and keeps the same key', async () => {
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('before') });
    const name = uniqueName('after');
    const res = await h.request('PATCH', `${bots}/${bot.id}`, { key: ownerKey, body: { name } });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    const read = await h.request('GET', `${bots}/${bot.id}`, { key: ownerKey });
    expect(read.body.name).toBe(name);
    expect(read.body.api_key.id).toBe(bot.api_key.id);
    expect(read.body.account_role_name).toBe('Member');
    expect((await h.request('GET', '/api/me/workspaces', { key: bot.api_key.key })).status).toBe(200);
  });

  it('accepts Terraform\'s PATCH: the unchanged name, and the Member role id', async () => {
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('same') });
    expect((await h.request('PATCH', `${bots}/${bot.id}`, { key: ownerKey, body: { name: bot.name } })).status).toBe(204);
    const res = await h.request('PATCH', `${bots}/${bot.id}`, { key: ownerKey, body: { name: bot.name, account_role_id: ACCOUNT_ROLE_IDS.Member } });
    expect(res.status).toBe(204);
  });

  it('answers 409 SERVICE_ACCOUNT_NAME_TAKEN for a name another bot has, and keeps the old name', async () => {
    const taken = await postBot(h, accountId, ownerKey, { name: uniqueName('taken') });
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('mover') });
    const res = await h.request('PATCH', `${bots}/${bot.id}`, { key: ownerKey, body: { name: taken.name } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('SERVICE_ACCOUNT_NAME_TAKEN');
    expect((await h.request('GET', `${bots}/${bot.id}`, { key: ownerKey })).body.name).toBe(bot.name);
  });

  it.each(['Admin', 'Owner'] as const)('answers 422 naming Member for account_role_id %s, and the bot stays Member', async (role) => {
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName(`promote-${role}`) });
    const res = await h.request('PATCH', `${bots}/${bot.id}`, { key: ownerKey, body: { account_role_id: ACCOUNT_ROLE_IDS[role] } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('SERVICE_ACCOUNT_ROLE_FIXED');
    expect(res.body.detail).toMatch(/Member/);
    // The bot's key must still hold Member's permissions only.
    const perms = await h.request('GET', `/api/me/accounts/${accountId}/permissions`, { key: bot.api_key.key });
    expect(perms.body).not.toContain('create:bot');
  });

  it('answers 404 for an unknown service account', async () => {
    const res = await h.request('PATCH', `${bots}/${crypto.randomUUID()}`, { key: ownerKey, body: { name: uniqueName('ghost') } });
    expect(res.status).toBe(404);
  });
});

describe('removing a service account', () => {
  it('answers 204 and takes its keys, workspace access and membership with it, with one audit event', async () => {
    const ws = await h.request('POST', `/api/accounts/${accountId}/workspaces/`, { key: ownerKey, body: { name: uniqueName('ws'), handle: uniqueName('ws') } });
    expect(ws.status).toBe(201);
    const wsBase = `/api/accounts/${accountId}/workspaces/${ws.body.id}`;
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('doomed') });
    const grant = await h.request('POST', `${wsBase}/bot_access/`, { key: ownerKey, body: { bot_id: bot.id, workspace_role_id: WORKSPACE_ROLE_IDS.Developer } });
    expect(grant.status).toBe(200);
    const rotated = await h.request('POST', `${bots}/${bot.id}/rotate_api_key`, { key: ownerKey, body: { old_key_expires_in_seconds: 3600 } });
    expect(rotated.status).toBe(201);
    const keys = [bot.api_key.key, rotated.body.api_key.key];
    for (const k of keys) expect((await h.request('GET', `${wsBase}`, { key: k })).status).toBe(200);

    const res = await h.request('DELETE', `${bots}/${bot.id}`, { key: ownerKey });
    expect(res.status).toBe(204);

    for (const k of keys) {
      const refused = await h.request('GET', '/api/me/workspaces', { key: k });
      expect(refused.status).toBe(401);
      expect(refused.body.detail).toBe('Invalid authentication credentials');
    }
    expect((await h.request('GET', `${bots}/${bot.id}`, { key: ownerKey })).status).toBe(404);
    const access = await h.request('POST', `${wsBase}/bot_access/filter`, { key: ownerKey, body: {} });
    expect(access.body.filter((a: any) => a.bot_id === bot.id)).toEqual([]);
    expect((await h.request('GET', `${wsBase}/bot_access/${grant.body[0].id}`, { key: ownerKey })).status).toBe(404);
    const members = await h.request('POST', `/api/accounts/${accountId}/account_memberships/filter`, { key: ownerKey, body: {} });
    expect(members.status).toBe(200);
    expect(members.body.filter((m: any) => m.bot_id === bot.id || m.actor_id === bot.actor_id)).toEqual([]);
    const audit = await h.request('POST', `/api/accounts/${accountId}/audit_events/filter`, {
      key: ownerKey,
      body: { audit_events: { action: { any_: ['service_account.deleted'] } } },
    });
    const events = audit.body.filter((e: any) => e.target_id === bot.id);
    expect(events).toHaveLength(1);
    expect(events[0].request_id).toBe(res.headers['x-request-id']);
  });

  it('answers 404 when removing it a second time', async () => {
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('twice') });
    expect((await h.request('DELETE', `${bots}/${bot.id}`, { key: ownerKey })).status).toBe(204);
    expect((await h.request('DELETE', `${bots}/${bot.id}`, { key: ownerKey })).status).toBe(404);
  });

  it('frees the name for a new service account', async () => {
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('reuse') });
    await h.request('DELETE', `${bots}/${bot.id}`, { key: ownerKey });
    const again = await postBot(h, accountId, ownerKey, { name: bot.name });
    expect(again.id).not.toBe(bot.id);
  });

  it('does not let the service account remove itself (Members lack delete:bot)', async () => {
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('self-delete') });
    expect((await h.request('DELETE', `${bots}/${bot.id}`, { key: bot.api_key.key })).status).toBe(403);
  });
});

describe('keeping the key out of storage', () => {
  it('stores only a digest: no row of any table contains a created or rotated key', async () => {
    const bot = await postBot(h, accountId, ownerKey, { name: uniqueName('secret') });
    const rotated = await h.request('POST', `${bots}/${bot.id}/rotate_api_key`, { key: ownerKey, body: { old_key_expires_in_seconds: 60 } });
    const keys = [bot.api_key.key, rotated.body.api_key.key];
    const db = h.handle.store.db;
    const tables = ['api_keys', 'audit_events', 'bots', 'account_memberships'] as const;
    for (const table of tables) {
      const dump = JSON.stringify(await db.selectFrom(table).selectAll().execute());
      for (const k of keys) {
        expect(dump, table).not.toContain(k);
        expect(longestRevealed(dump, k), table).toBeLessThanOrEqual(8);
      }
    }
  });
});
