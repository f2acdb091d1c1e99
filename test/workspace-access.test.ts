// Workspace access for users and service accounts: the upsert Terraform sends (one object or an
// array, answered 200 with an array), reads, removal, and that removal cuts a key off at once.
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from './support/harness.js';
import { addMember, createBot, createWorkspace, grant, type Bot, type Member } from './support/members.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { UUID } from './support/shapes.js';

const h = useHarness();
let owner: { accountId: string; userId: string; key: string };
let member: Member;
let member2: Member;
let bot: Bot;
let bot2: Bot;
let ws: any;

beforeAll(async () => {
  owner = await h.bootstrap();
  member = await addMember(h, owner.accountId, 'Member');
  member2 = await addMember(h, owner.accountId, 'Member');
  bot = await createBot(h, owner.accountId, owner.key);
  bot2 = await createBot(h, owner.accountId, owner.key);
  ws = await createWorkspace(h, owner.accountId, owner.key);
});

const url = (kind: 'user_access' | 'bot_access', workspaceId = ws.id, accountId = owner.accountId) =>
  `/api/accounts/${accountId}/workspaces/${workspaceId}/${kind}`;

describe('user_access', () => {
  it('upserts one object and answers 200 with an array of the full grant', async () => {
    const res = await h.request('POST', `${url('user_access')}/`, {
      key: owner.key,
      body: { user_id: member.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer },
    });
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toEqual({
      id: expect.stringMatching(UUID),
      created: expect.any(String),
      updated: expect.any(String),
      workspace_id: ws.id,
      workspace_role_id: WORKSPACE_ROLE_IDS.Viewer,
      actor_id: member.actorId,
      user_id: member.userId,
      first_name: expect.any(String),
      last_name: expect.any(String),
      email: member.email,
      handle: expect.any(String),
    });
  });

  it('upserts an array (as Terraform sends it) and changing the role keeps the same id', async () => {
    const first = await h.request('POST', `${url('user_access')}/`, {
      key: owner.key,
      body: [{ user_id: member2.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Developer }],
    });
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(1);
    const again = await h.request('POST', `${url('user_access')}/`, {
      key: owner.key,
      body: [{ user_id: member2.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Runner }],
    });
    expect(again.status).toBe(200);
    expect(again.body[0].id).toBe(first.body[0].id);
    expect(again.body[0].workspace_role_id).toBe(WORKSPACE_ROLE_IDS.Runner);
    const read = await h.request('GET', `${url('user_access')}/${first.body[0].id}`, { key: owner.key });
    expect(read.status).toBe(200);
    expect(read.body.workspace_role_id).toBe(WORKSPACE_ROLE_IDS.Runner);
  });

  it('refuses a user who is not a member of the account with 422', async () => {
    const outsider = await h.bootstrap();
    const res = await h.request('POST', `${url('user_access')}/`, {
      key: owner.key,
      body: { user_id: outsider.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('UNKNOWN_USER');
  });

  it('lists grants with filter, including the creator', async () => {
    const res = await h.request('POST', `${url('user_access')}/filter`, { key: owner.key, body: {} });
    expect(res.status).toBe(200);
    const users = res.body.map((a: { user_id: string }) => a.user_id);
    expect(users).toEqual(expect.arrayContaining([owner.userId, member.userId, member2.userId]));
    const empty = await h.request('POST', `${url('user_access')}/filter`, { key: owner.key, headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(200);
    expect(empty.body).toHaveLength(res.body.length);
  });

  it('refuses a Viewer (no manage_workspace_users) with 403', async () => {
    const res = await h.request('POST', `${url('user_access')}/`, {
      key: member.key,
      body: { user_id: member.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Owner },
    });
    expect(res.status).toBe(403);
    const read = await h.request('POST', `${url('user_access')}/filter`, { key: owner.key, body: {} });
    expect(read.body.find((a: { user_id: string }) => a.user_id === member.userId).workspace_role_id).toBe(WORKSPACE_ROLE_IDS.Viewer);
  });

  it('deletes with 204, then the grant is 404 and the user loses the workspace', async () => {
    const m = await addMember(h, owner.accountId, 'Member');
    const access = await grant(h, owner.accountId, ws.id, owner.key, { userId: m.userId }, WORKSPACE_ROLE_IDS.Viewer);
    expect((await h.request('GET', `/api/accounts/${owner.accountId}/workspaces/${ws.id}`, { key: m.key })).status).toBe(200);
    const res = await h.request('DELETE', `${url('user_access')}/${access.id}`, { key: owner.key });
    expect(res.status).toBe(204);
    expect((await h.request('GET', `${url('user_access')}/${access.id}`, { key: owner.key })).status).toBe(404);
    expect((await h.request('DELETE', `${url('user_access')}/${access.id}`, { key: owner.key })).status).toBe(404);
    expect((await h.request('GET', `/api/accounts/${owner.accountId}/workspaces/${ws.id}`, { key: m.key })).status).toBe(404);
  });
});

describe('bot_access', () => {
  it('upserts one object and an array, each answered 200 with an array', async () => {
    const one = await h.request('POST', `${url('bot_access')}/`, {
      key: owner.key,
      body: { bot_id: bot.id, workspace_role_id: WORKSPACE_ROLE_IDS.Developer },
    });
    expect(one.status).toBe(200);
    expect(one.body).toEqual([
      {
        id: expect.stringMatching(UUID),
        created: expect.any(String),
        updated: expect.any(String),
        workspace_id: ws.id,
        workspace_role_id: WORKSPACE_ROLE_IDS.Developer,
        actor_id: bot.actorId,
        bot_id: bot.id,
        bot_name: bot.name,
      },
    ]);
    const many = await h.request('POST', `${url('bot_access')}/`, {
      key: owner.key,
      body: [
        { bot_id: bot.id, workspace_role_id: WORKSPACE_ROLE_IDS.Runner },
        { bot_id: bot2.id, workspace_role_id: WORKSPACE_ROLE_IDS.Worker },
      ],
    });
    expect(many.status).toBe(200);
    expect(many.body.map((a: { bot_id: string }) => a.bot_id)).toEqual([bot.id, bot2.id]);
    expect(many.body[0].id).toBe(one.body[0].id);
    expect(many.body[0].workspace_role_id).toBe(WORKSPACE_ROLE_IDS.Runner);
  });

  it('reads one grant by id, and a user grant is 404 under bot_access', async () => {
    const [access] = (await h.request('POST', `${url('bot_access')}/filter`, { key: owner.key, body: {} })).body;
    const res = await h.request('GET', `${url('bot_access')}/${access.id}`, { key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: access.id, workspace_id: ws.id, bot_id: access.bot_id });
    const userGrant = (await h.request('POST', `${url('user_access')}/filter`, { key: owner.key, body: {} })).body[0];
    expect((await h.request('GET', `${url('bot_access')}/${userGrant.id}`, { key: owner.key })).status).toBe(404);
    expect((await h.request('DELETE', `${url('bot_access')}/${userGrant.id}`, { key: owner.key })).status).toBe(404);
  });

  it('refuses a service account of another account with 422', async () => {
    const stranger = await h.bootstrap();
    const theirBot = await createBot(h, stranger.accountId, stranger.key);
    const res = await h.request('POST', `${url('bot_access')}/`, {
      key: owner.key,
      body: { bot_id: theirBot.id, workspace_role_id: WORKSPACE_ROLE_IDS.Worker },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('UNKNOWN_SERVICE_ACCOUNT');
    expect((await h.request('GET', '/api/me/workspaces', { key: theirBot.key })).body).toEqual([]);
  });

  it('refuses a custom role of another account with 422, and writes nothing from a partly bad array', async () => {
    const stranger = await h.bootstrap();
    const role = await h.request('POST', `/api/accounts/${stranger.accountId}/workspace_roles/`, { key: stranger.key, body: { name: 'Foreign', scopes: ['see_flows'] } });
    const fresh = await createBot(h, owner.accountId, owner.key);
    const res = await h.request('POST', `${url('bot_access')}/`, {
      key: owner.key,
      body: [
        { bot_id: fresh.id, workspace_role_id: WORKSPACE_ROLE_IDS.Worker },
        { bot_id: fresh.id, workspace_role_id: role.body.id },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('UNKNOWN_WORKSPACE_ROLE');
    const list = await h.request('POST', `${url('bot_access')}/filter`, { key: owner.key, body: {} });
    expect(list.body.map((a: { bot_id: string }) => a.bot_id)).not.toContain(fresh.id);
  });

  it('refuses an empty array with 422', async () => {
    const res = await h.request('POST', `${url('bot_access')}/`, { key: owner.key, body: [] });
    expect(res.status).toBe(422);
  });

  it('cuts the service account off at once when its grant is deleted', async () => {
    const worker = await createBot(h, owner.accountId, owner.key);
    const space = await createWorkspace(h, owner.accountId, owner.key);
    const access = await grant(h, owner.accountId, space.id, owner.key, { botId: worker.id }, WORKSPACE_ROLE_IDS.Worker);
    expect((await h.request('GET', '/api/me/workspaces', { key: worker.key })).body.map((w: { workspace_id: string }) => w.workspace_id)).toEqual([space.id]);
    expect((await h.request('GET', `/api/me/workspaces/${space.id}/scopes`, { key: worker.key })).status).toBe(200);

    const res = await h.request('DELETE', `${url('bot_access', space.id)}/${access.id}`, { key: owner.key });
    expect(res.status).toBe(204);
    expect((await h.request('GET', `${url('bot_access', space.id)}/${access.id}`, { key: owner.key })).status).toBe(404);
    expect((await h.request('GET', '/api/me/workspaces', { key: worker.key })).body).toEqual([]);
    const scopes = await h.request('GET', `/api/me/workspaces/${space.id}/scopes`, { key: worker.key });
    expect(scopes.status).toBe(404);
    expect((await h.request('GET', `/api/accounts/${owner.accountId}/workspaces/${space.id}`, { key: worker.key })).status).toBe(404);
  });
});

describe('across workspaces and accounts', () => {
  it("answers 404 for a grant id read through another workspace's path", async () => {
    const other = await createWorkspace(h, owner.accountId, owner.key);
    const [access] = (await h.request('POST', `${url('user_access')}/filter`, { key: owner.key, body: {} })).body;
    expect((await h.request('GET', `${url('user_access', other.id)}/${access.id}`, { key: owner.key })).status).toBe(404);
    expect((await h.request('DELETE', `${url('user_access', other.id)}/${access.id}`, { key: owner.key })).status).toBe(404);
    expect((await h.request('GET', `${url('user_access')}/${access.id}`, { key: owner.key })).status).toBe(200);
  });

  it('answers 404 to an Owner of another account on every access route', async () => {
    const stranger = await h.bootstrap();
    const [access] = (await h.request('POST', `${url('bot_access')}/filter`, { key: owner.key, body: {} })).body;
    for (const accountId of [owner.accountId, stranger.accountId]) {
      const u = url('bot_access', ws.id, accountId);
      expect((await h.request('POST', `${u}/filter`, { key: stranger.key, body: {} })).status).toBe(404);
      expect((await h.request('GET', `${u}/${access.id}`, { key: stranger.key })).status).toBe(404);
      expect((await h.request('DELETE', `${u}/${access.id}`, { key: stranger.key })).status).toBe(404);
      expect((await h.request('POST', `${u}/`, { key: stranger.key, body: { bot_id: bot.id, workspace_role_id: WORKSPACE_ROLE_IDS.Owner } })).status).toBe(404);
    }
    expect((await h.request('GET', `${url('bot_access')}/${access.id}`, { key: owner.key })).status).toBe(200);
  });
});
