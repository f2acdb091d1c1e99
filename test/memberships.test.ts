// Account memberships: users and service accounts listed together; role changes and removal with
// the rules that an account keeps an Owner, only an Owner touches Owner, and a bot stays a Member.
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from './support/harness.js';
import { addMember, createBot, createWorkspace, grant, type Bot } from './support/members.js';
import { ACCOUNT_ROLE_IDS } from '../src/authz/permissions.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';

const h = useHarness();

const base = (accountId: string) => `/api/accounts/${accountId}/account_memberships`;

async function membershipOf(accountId: string, key: string, actorId: string) {
  const res = await h.request('POST', `${base(accountId)}/filter`, { key, body: {} });
  return res.body.find((m: { actor_id: string }) => m.actor_id === actorId);
}

describe('listing members', () => {
  let owner: { accountId: string; userId: string; key: string };
  let memberEmail: string;
  let bot: Bot;

  beforeAll(async () => {
    owner = await h.bootstrap();
    memberEmail = (await addMember(h, owner.accountId, 'Member')).email;
    bot = await createBot(h, owner.accountId, owner.key);
  });

  it('lists users and service accounts with the fields Terraform reads', async () => {
    const res = await h.request('POST', `${base(owner.accountId)}/filter`, { key: owner.key, body: {} });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(3);
    const self = res.body.find((m: { user_id: string | null }) => m.user_id === owner.userId);
    for (const field of ['id', 'actor_id', 'user_id', 'first_name', 'last_name', 'handle', 'email', 'account_role_name', 'account_role_id', 'last_login', 'active']) {
      expect(self).toHaveProperty(field);
    }
    expect(self).toMatchObject({ account_role_name: 'Owner', account_role_id: ACCOUNT_ROLE_IDS.Owner, active: true });
    expect(typeof self.email).toBe('string');
    expect(typeof self.handle).toBe('string');
  });

  it('shows a service account with user_id null and the Member role', async () => {
    const res = await h.request('POST', `${base(owner.accountId)}/filter`, { key: owner.key, body: {} });
    const row = res.body.find((m: { actor_id: string }) => m.actor_id === bot.actorId);
    expect(row).toBeDefined();
    expect(row.user_id).toBeNull();
    expect(row.bot_id).toBe(bot.id);
    expect(row.account_role_name).toBe('Member');
    expect(row.account_role_id).toBe(ACCOUNT_ROLE_IDS.Member);
    expect(row.handle).toBe(bot.name);
  });

  it('filters by email with any_', async () => {
    const res = await h.request('POST', `${base(owner.accountId)}/filter`, {
      key: owner.key,
      body: { account_memberships: { email: { any_: [memberEmail] } } },
    });
    expect(res.status).toBe(200);
    expect(res.body.map((m: { email: string }) => m.email)).toEqual([memberEmail]);
    const none = await h.request('POST', `${base(owner.accountId)}/filter`, {
      key: owner.key,
      body: { account_memberships: { email: { any_: ['nobody@example.com'] } } },
    });
    expect(none.body).toEqual([]);
  });

  it('narrows to service accounts with only_bots and to people with only_users', async () => {
    const bots = await h.request('POST', `${base(owner.accountId)}/filter`, { key: owner.key, body: { only_bots: true } });
    expect(bots.body.map((m: { bot_id: string }) => m.bot_id)).toEqual([bot.id]);
    const users = await h.request('POST', `${base(owner.accountId)}/filter`, { key: owner.key, body: { only_users: true } });
    expect(users.body).toHaveLength(2);
    for (const m of users.body) expect(m.user_id).not.toBeNull();
  });

  it('reads one membership by id', async () => {
    const row = await membershipOf(owner.accountId, owner.key, bot.actorId);
    const res = await h.request('GET', `${base(owner.accountId)}/${row.id}`, { key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: row.id, account_id: owner.accountId, actor_id: bot.actorId, user_id: null });
  });

  it("answers 404 for another account's membership id", async () => {
    const stranger = await h.bootstrap();
    const row = await membershipOf(owner.accountId, owner.key, bot.actorId);
    const res = await h.request('GET', `${base(stranger.accountId)}/${row.id}`, { key: stranger.key });
    expect(res.status).toBe(404);
    const direct = await h.request('GET', `${base(owner.accountId)}/${row.id}`, { key: stranger.key });
    expect(direct.status).toBe(404);
  });
});

describe('changing roles', () => {
  it("changes a user's role with 204 and the new role reads back", async () => {
    const owner = await h.bootstrap();
    const m = await addMember(h, owner.accountId, 'Member');
    const res = await h.request('PATCH', `${base(owner.accountId)}/${m.membershipId}`, {
      key: owner.key,
      body: { account_role_id: ACCOUNT_ROLE_IDS.Admin },
    });
    expect(res.status).toBe(204);
    const read = await h.request('GET', `${base(owner.accountId)}/${m.membershipId}`, { key: owner.key });
    expect(read.body).toMatchObject({ account_role_id: ACCOUNT_ROLE_IDS.Admin, account_role_name: 'Admin' });
    // The new role takes effect at once: an Admin may create workspaces.
    const ws = await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/`, { key: m.key, body: { name: 'by-admin', handle: 'by-admin' } });
    expect(ws.status).toBe(201);
  });

  it("refuses to change a service account's role with 422", async () => {
    const owner = await h.bootstrap();
    const bot = await createBot(h, owner.accountId, owner.key);
    const row = await membershipOf(owner.accountId, owner.key, bot.actorId);
    for (const role of [ACCOUNT_ROLE_IDS.Admin, ACCOUNT_ROLE_IDS.Owner]) {
      const res = await h.request('PATCH', `${base(owner.accountId)}/${row.id}`, { key: owner.key, body: { account_role_id: role } });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('SERVICE_ACCOUNT_ROLE_FIXED');
    }
    expect((await membershipOf(owner.accountId, owner.key, bot.actorId)).account_role_name).toBe('Member');
  });

  it('refuses an unknown role id with 422', async () => {
    const owner = await h.bootstrap();
    const m = await addMember(h, owner.accountId, 'Member');
    const res = await h.request('PATCH', `${base(owner.accountId)}/${m.membershipId}`, {
      key: owner.key,
      body: { account_role_id: '00000000-0000-4000-8000-000000000000' },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('UNKNOWN_ACCOUNT_ROLE');
  });

  it('refuses to demote the last Owner with 409 LAST_OWNER', async () => {
    const owner = await h.bootstrap();
    const self = await membershipOf(owner.accountId, owner.key, (await h.request('GET', '/api/me/', { key: owner.key })).body.actor_id);
    const res = await h.request('PATCH', `${base(owner.accountId)}/${self.id}`, { key: owner.key, body: { account_role_id: ACCOUNT_ROLE_IDS.Admin } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('LAST_OWNER');
  });

  it('lets an Owner demote another Owner while one remains', async () => {
    const owner = await h.bootstrap();
    const second = await addMember(h, owner.accountId, 'Owner');
    const res = await h.request('PATCH', `${base(owner.accountId)}/${second.membershipId}`, { key: owner.key, body: { account_role_id: ACCOUNT_ROLE_IDS.Member } });
    expect(res.status).toBe(204);
  });

  it('keeps one Owner when two Owners demote each other at the same time', async () => {
    const owner = await h.bootstrap();
    const me = (await h.request('GET', '/api/me/', { key: owner.key })).body;
    const ownerRow = await membershipOf(owner.accountId, owner.key, me.actor_id);
    const second = await addMember(h, owner.accountId, 'Owner');
    const [a, b] = await Promise.all([
      h.request('PATCH', `${base(owner.accountId)}/${second.membershipId}`, { key: owner.key, body: { account_role_id: ACCOUNT_ROLE_IDS.Member } }),
      h.request('PATCH', `${base(owner.accountId)}/${ownerRow.id}`, { key: second.key, body: { account_role_id: ACCOUNT_ROLE_IDS.Member } }),
    ]);
    // Whoever goes second is no longer an Owner by then, so may not touch the Owner role.
    expect([a.status, b.status].sort()).toEqual([204, 403]);
    const owners = await h.handle.store.db
      .selectFrom('account_memberships')
      .select('id')
      .where('account_id', '=', owner.accountId)
      .where('account_role_id', '=', ACCOUNT_ROLE_IDS.Owner)
      .execute();
    expect(owners).toHaveLength(1);
  });

  it('lets an Admin change Members and Admins but not grant or take away Owner (403 OWNER_ONLY)', async () => {
    const owner = await h.bootstrap();
    const admin = await addMember(h, owner.accountId, 'Admin');
    const m = await addMember(h, owner.accountId, 'Member');
    const ownerRow = await membershipOf(owner.accountId, owner.key, (await h.request('GET', '/api/me/', { key: owner.key })).body.actor_id);

    const promote = await h.request('PATCH', `${base(owner.accountId)}/${m.membershipId}`, { key: admin.key, body: { account_role_id: ACCOUNT_ROLE_IDS.Admin } });
    expect(promote.status).toBe(204);

    const toOwner = await h.request('PATCH', `${base(owner.accountId)}/${m.membershipId}`, { key: admin.key, body: { account_role_id: ACCOUNT_ROLE_IDS.Owner } });
    expect(toOwner.status).toBe(403);
    expect(toOwner.body.code).toBe('OWNER_ONLY');
    const selfToOwner = await h.request('PATCH', `${base(owner.accountId)}/${admin.membershipId}`, { key: admin.key, body: { account_role_id: ACCOUNT_ROLE_IDS.Owner } });
    expect(selfToOwner.status).toBe(403);
    expect(selfToOwner.body.code).toBe('OWNER_ONLY');

    const demoteOwner = await h.request('PATCH', `${base(owner.accountId)}/${ownerRow.id}`, { key: admin.key, body: { account_role_id: ACCOUNT_ROLE_IDS.Member } });
    expect(demoteOwner.status).toBe(403);
    expect(demoteOwner.body.code).toBe('OWNER_ONLY');
    const removeOwner = await h.request('DELETE', `${base(owner.accountId)}/${ownerRow.id}`, { key: admin.key });
    expect(removeOwner.status).toBe(403);
    expect(removeOwner.body.code).toBe('OWNER_ONLY');

    expect((await membershipOf(owner.accountId, owner.key, ownerRow.actor_id)).account_role_name).toBe('Owner');
    expect((await h.request('GET', `${base(owner.accountId)}/${m.membershipId}`, { key: owner.key })).body.account_role_name).toBe('Admin');
  });

  it('refuses a Member with 403', async () => {
    const owner = await h.bootstrap();
    const m = await addMember(h, owner.accountId, 'Member');
    const other = await addMember(h, owner.accountId, 'Member');
    const res = await h.request('PATCH', `${base(owner.accountId)}/${other.membershipId}`, { key: m.key, body: { account_role_id: ACCOUNT_ROLE_IDS.Admin } });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
    const del = await h.request('DELETE', `${base(owner.accountId)}/${other.membershipId}`, { key: m.key });
    expect(del.status).toBe(403);
  });
});

describe('removing members', () => {
  it("refuses to remove a service account's membership with 422", async () => {
    const owner = await h.bootstrap();
    const bot = await createBot(h, owner.accountId, owner.key);
    const row = await membershipOf(owner.accountId, owner.key, bot.actorId);
    const res = await h.request('DELETE', `${base(owner.accountId)}/${row.id}`, { key: owner.key });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('SERVICE_ACCOUNT_MEMBERSHIP');
    expect(await membershipOf(owner.accountId, owner.key, bot.actorId)).toBeDefined();
  });

  it('refuses to remove the last Owner with 409 LAST_OWNER', async () => {
    const owner = await h.bootstrap();
    const me = (await h.request('GET', '/api/me/', { key: owner.key })).body;
    const self = await membershipOf(owner.accountId, owner.key, me.actor_id);
    const res = await h.request('DELETE', `${base(owner.accountId)}/${self.id}`, { key: owner.key });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('LAST_OWNER');
  });

  it('removes a user with 204 together with their workspace access in that account only', async () => {
    const owner = await h.bootstrap();
    const m = await addMember(h, owner.accountId, 'Member');
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    await grant(h, owner.accountId, ws.id, owner.key, { userId: m.userId }, WORKSPACE_ROLE_IDS.Viewer);
    // Their own account's workspace, where their access must survive.
    const ownWs = await createWorkspace(h, m.ownAccountId, m.key);
    const wsUrl = `/api/accounts/${owner.accountId}/workspaces/${ws.id}`;
    expect((await h.request('GET', wsUrl, { key: m.key })).status).toBe(200);

    const res = await h.request('DELETE', `${base(owner.accountId)}/${m.membershipId}`, { key: owner.key });
    expect(res.status).toBe(204);

    expect((await h.request('GET', `${base(owner.accountId)}/${m.membershipId}`, { key: owner.key })).status).toBe(404);
    const access = await h.request('POST', `${wsUrl}/user_access/filter`, { key: owner.key, body: {} });
    expect(access.body.map((a: { user_id: string }) => a.user_id)).not.toContain(m.userId);
    const rows = await h.handle.store.db.selectFrom('workspace_access').select(['workspace_id']).where('actor_id', '=', m.actorId).execute();
    expect(rows.map((r) => r.workspace_id)).toEqual([ownWs.id]);
    const gone = await h.request('GET', wsUrl, { key: m.key });
    expect(gone.status).toBe(404);
    expect((await h.request('GET', `/api/accounts/${m.ownAccountId}/workspaces/${ownWs.id}`, { key: m.key })).status).toBe(200);
  });

  it('leaves no grant behind when a grant to the user races their removal', async () => {
    const owner = await h.bootstrap();
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    // Without the lock this left an orphaned grant on PostgreSQL in most rounds.
    for (let round = 0; round < 10; round++) {
      const m = await addMember(h, owner.accountId, 'Member');
      const [granted, removed] = await Promise.all([
        h.request('POST', `/api/accounts/${owner.accountId}/workspaces/${ws.id}/user_access/`, {
          key: owner.key,
          body: { user_id: m.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer },
        }),
        h.request('DELETE', `${base(owner.accountId)}/${m.membershipId}`, { key: owner.key }),
      ]);
      expect(removed.status).toBe(204);
      expect([200, 422]).toContain(granted.status);
      const rows = await h.handle.store.db.selectFrom('workspace_access').select('id').where('actor_id', '=', m.actorId).execute();
      expect(rows, `round ${round}`).toEqual([]);
    }
  });

  it('lets an Owner remove another Owner while one remains', async () => {
    const owner = await h.bootstrap();
    const second = await addMember(h, owner.accountId, 'Owner');
    const res = await h.request('DELETE', `${base(owner.accountId)}/${second.membershipId}`, { key: owner.key });
    expect(res.status).toBe(204);
    expect((await h.request('GET', `/api/accounts/${owner.accountId}`, { key: second.key })).status).toBe(404);
  });
});
