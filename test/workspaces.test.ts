// Workspaces: create (the creator becomes its Owner), list and read only what the caller can reach,
// update and delete by workspace scope, and another account's workspace is always 404.
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from './support/harness.js';
import { addMember, createBot, createWorkspace, grant, type Member } from './support/members.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { UUID, RFC3339 } from './support/shapes.js';

const h = useHarness();
let owner: { accountId: string; userId: string; key: string };
let member: Member;

beforeAll(async () => {
  owner = await h.bootstrap();
  member = await addMember(h, owner.accountId, 'Member');
});

const wsBase = (accountId: string) => `/api/accounts/${accountId}/workspaces`;

describe('creating a workspace', () => {
  it('answers 201 with the workspace, description "" when sent as null', async () => {
    const res = await h.request('POST', `${wsBase(owner.accountId)}/`, {
      key: owner.key,
      body: { name: 'Null Desc', handle: 'null-desc', description: null },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      created: expect.stringMatching(RFC3339),
      updated: expect.stringMatching(RFC3339),
      account_id: owner.accountId,
      name: 'Null Desc',
      handle: 'null-desc',
      description: '',
      default_workspace_role_id: null,
      is_public: false,
    });
    const read = await h.request('GET', `${wsBase(owner.accountId)}/${res.body.id}`, { key: owner.key });
    expect(read.body.description).toBe('');
  });

  it('answers description "" when it is absent, and keeps a given one', async () => {
    const absent = await h.request('POST', `${wsBase(owner.accountId)}/`, { key: owner.key, body: { name: 'No Desc', handle: 'no-desc' } });
    expect(absent.status).toBe(201);
    expect(absent.body.description).toBe('');
    const given = await h.request('POST', `${wsBase(owner.accountId)}/`, { key: owner.key, body: { name: 'Desc', handle: 'desc', description: 'hello' } });
    expect(given.body.description).toBe('hello');
  });

  it('gives the creating user Owner workspace access', async () => {
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const res = await h.request('POST', `${wsBase(owner.accountId)}/${ws.id}/user_access/filter`, { key: owner.key, body: {} });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({ user_id: owner.userId, workspace_id: ws.id, workspace_role_id: WORKSPACE_ROLE_IDS.Owner });
  });

  it('gives a creating service account Owner bot access (domain service: a bot holds no create:workspace over HTTP)', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    const refused = await h.request('POST', `${wsBase(owner.accountId)}/`, { key: bot.key, body: { name: 'by-bot', handle: 'by-bot' } });
    expect(refused.status).toBe(403);
    const actor = { type: 'bot' as const, id: bot.id, actorId: bot.actorId, name: bot.name, accountId: owner.accountId, apiKeyId: null };
    const created = await h.app.services.workspaces.create({ actor, requestId: null, now: h.clock.now() }, owner.accountId, { name: 'by-bot', handle: 'by-bot' });
    if (!created.ok) throw new Error(created.code);
    const res = await h.request('POST', `${wsBase(owner.accountId)}/${created.value.id}/bot_access/filter`, { key: owner.key, body: {} });
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({ bot_id: bot.id, bot_name: bot.name, workspace_role_id: WORKSPACE_ROLE_IDS.Owner });
    expect((await h.request('GET', `${wsBase(owner.accountId)}/${created.value.id}`, { key: bot.key })).status).toBe(200);
  });

  it('refuses a duplicate handle or name in the same account with 409', async () => {
    await createWorkspace(h, owner.accountId, owner.key, 'dup-handle');
    const handle = await h.request('POST', `${wsBase(owner.accountId)}/`, { key: owner.key, body: { name: 'other name', handle: 'dup-handle' } });
    expect(handle.status).toBe(409);
    expect(handle.body.code).toBe('WORKSPACE_HANDLE_TAKEN');
    const name = await h.request('POST', `${wsBase(owner.accountId)}/`, { key: owner.key, body: { name: 'dup-handle', handle: 'fresh-handle' } });
    expect(name.status).toBe(409);
    expect(name.body.code).toBe('WORKSPACE_NAME_TAKEN');
  });

  it('allows the same handle in another account', async () => {
    const other = await h.bootstrap();
    await createWorkspace(h, owner.accountId, owner.key, 'shared-handle');
    const res = await h.request('POST', `${wsBase(other.accountId)}/`, { key: other.key, body: { name: 'shared-handle', handle: 'shared-handle' } });
    expect(res.status).toBe(201);
  });

  it('refuses a Member with 403', async () => {
    const res = await h.request('POST', `${wsBase(owner.accountId)}/`, { key: member.key, body: { name: 'm', handle: 'm' } });
    expect(res.status).toBe(403);
  });
});

describe('listing and reading', () => {
  let account: { accountId: string; key: string };
  let a: any;
  let b: any;

  beforeAll(async () => {
    account = await h.bootstrap();
    a = await createWorkspace(h, account.accountId, account.key, 'alpha');
    b = await createWorkspace(h, account.accountId, account.key, 'beta');
  });

  const filter = (body: unknown, key = account.key) => h.request('POST', `${wsBase(account.accountId)}/filter`, { key, body });

  it('filters by handle with any_, and any_ null or an empty body lists all', async () => {
    const one = await filter({ workspaces: { handle: { any_: ['beta'] } } });
    expect(one.status).toBe(200);
    expect(one.body.map((w: { id: string }) => w.id)).toEqual([b.id]);
    const all = await filter({ workspaces: { handle: { any_: null } } });
    expect(all.body.map((w: { id: string }) => w.id).sort()).toEqual([a.id, b.id].sort());
    const empty = await h.request('POST', `${wsBase(account.accountId)}/filter`, { key: account.key, headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(200);
    expect(empty.body).toHaveLength(2);
    expect((await filter({})).body).toHaveLength(2);
  });

  it('pages with limit and offset', async () => {
    const first = await filter({ limit: 1, offset: 0 });
    const second = await filter({ limit: 1, offset: 1 });
    expect(first.body).toHaveLength(1);
    expect(second.body).toHaveLength(1);
    expect(first.body[0].id).not.toBe(second.body[0].id);
  });

  it('shows a Member without access an empty list and 404 on read', async () => {
    const m = await addMember(h, account.accountId, 'Member');
    const list = await filter({}, m.key);
    expect(list.status).toBe(200);
    expect(list.body).toEqual([]);
    const read = await h.request('GET', `${wsBase(account.accountId)}/${a.id}`, { key: m.key });
    expect(read.status).toBe(404);
    expect(read.body.code).toBe('NOT_FOUND');
  });

  it('shows a Member with Viewer access that workspace only', async () => {
    const m = await addMember(h, account.accountId, 'Member');
    await grant(h, account.accountId, a.id, account.key, { userId: m.userId }, WORKSPACE_ROLE_IDS.Viewer);
    const list = await filter({}, m.key);
    expect(list.body.map((w: { id: string }) => w.id)).toEqual([a.id]);
    expect((await h.request('GET', `${wsBase(account.accountId)}/${a.id}`, { key: m.key })).status).toBe(200);
    expect((await h.request('GET', `${wsBase(account.accountId)}/${b.id}`, { key: m.key })).status).toBe(404);
  });

  it('shows an Admin every workspace without an access row', async () => {
    const admin = await addMember(h, account.accountId, 'Admin');
    expect((await filter({}, admin.key)).body).toHaveLength(2);
    expect((await h.request('GET', `${wsBase(account.accountId)}/${b.id}`, { key: admin.key })).status).toBe(200);
  });
});

describe('updating and deleting', () => {
  it('updates with the Terraform body (204) and the change reads back', async () => {
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const body = { name: 'Renamed', handle: `renamed-${ws.handle}`, description: 'new text', default_workspace_role_id: null };
    const res = await h.request('PATCH', `${wsBase(owner.accountId)}/${ws.id}`, { key: owner.key, body });
    expect(res.status).toBe(204);
    const read = await h.request('GET', `${wsBase(owner.accountId)}/${ws.id}`, { key: owner.key });
    expect(read.body).toMatchObject(body);
    const role = await h.request('PATCH', `${wsBase(owner.accountId)}/${ws.id}`, { key: owner.key, body: { default_workspace_role_id: WORKSPACE_ROLE_IDS.Viewer } });
    expect(role.status).toBe(204);
    expect((await h.request('GET', `${wsBase(owner.accountId)}/${ws.id}`, { key: owner.key })).body.default_workspace_role_id).toBe(WORKSPACE_ROLE_IDS.Viewer);
    const nulled = await h.request('PATCH', `${wsBase(owner.accountId)}/${ws.id}`, { key: owner.key, body: { ...body, description: null } });
    expect(nulled.status).toBe(204);
    const after = (await h.request('GET', `${wsBase(owner.accountId)}/${ws.id}`, { key: owner.key })).body;
    expect(after.description).toBe('');
    expect(after.default_workspace_role_id).toBeNull();
  });

  it('refuses a handle another workspace of the account has with 409', async () => {
    const one = await createWorkspace(h, owner.accountId, owner.key);
    const two = await createWorkspace(h, owner.accountId, owner.key);
    const res = await h.request('PATCH', `${wsBase(owner.accountId)}/${two.id}`, { key: owner.key, body: { handle: one.handle } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('WORKSPACE_HANDLE_TAKEN');
  });

  it('refuses a Viewer (no write_workspace_settings) with 403 on update and delete', async () => {
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    await grant(h, owner.accountId, ws.id, owner.key, { userId: member.userId }, WORKSPACE_ROLE_IDS.Viewer);
    const patch = await h.request('PATCH', `${wsBase(owner.accountId)}/${ws.id}`, { key: member.key, body: { name: 'Hijacked' } });
    expect(patch.status).toBe(403);
    expect(patch.body.code).toBe('FORBIDDEN');
    expect(patch.body.detail).toContain('write_workspace_settings');
    const del = await h.request('DELETE', `${wsBase(owner.accountId)}/${ws.id}`, { key: member.key });
    expect(del.status).toBe(403);
    expect((await h.request('GET', `${wsBase(owner.accountId)}/${ws.id}`, { key: owner.key })).body.name).toBe(ws.name);
  });

  it('deletes with 204, removes every access row, and the workspace is then 404', async () => {
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const bot = await createBot(h, owner.accountId, owner.key);
    await grant(h, owner.accountId, ws.id, owner.key, { userId: member.userId }, WORKSPACE_ROLE_IDS.Developer);
    await grant(h, owner.accountId, ws.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Worker);
    const url = `${wsBase(owner.accountId)}/${ws.id}`;
    const res = await h.request('DELETE', url, { key: owner.key });
    expect(res.status).toBe(204);
    const rows = await h.handle.store.db.selectFrom('workspace_access').select('id').where('workspace_id', '=', ws.id).execute();
    expect(rows).toEqual([]);
    expect((await h.request('GET', url, { key: owner.key })).status).toBe(404);
    expect((await h.request('GET', url, { key: bot.key })).status).toBe(404);
    expect((await h.request('DELETE', url, { key: owner.key })).status).toBe(404);
  });
});

describe("another account's workspace", () => {
  it('is 404 for an Owner of a different account, whichever account the path names', async () => {
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const stranger = await h.bootstrap();
    for (const accountId of [owner.accountId, stranger.accountId]) {
      const url = `${wsBase(accountId)}/${ws.id}`;
      expect((await h.request('GET', url, { key: stranger.key })).status).toBe(404);
      expect((await h.request('PATCH', url, { key: stranger.key, body: { name: 'x' } })).status).toBe(404);
      expect((await h.request('DELETE', url, { key: stranger.key })).status).toBe(404);
    }
    const list = await h.request('POST', `${wsBase(stranger.accountId)}/filter`, { key: stranger.key, body: {} });
    expect(list.body.map((w: { id: string }) => w.id)).not.toContain(ws.id);
    expect((await h.request('GET', `${wsBase(owner.accountId)}/${ws.id}`, { key: owner.key })).body.name).toBe(ws.name);
  });
});
