// `/api/me/...` for user and service-account keys: what `prefect cloud login -k` and the key-check
// commands in Prefect's docs read.
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from './support/harness.js';
import { addMember, createBot, createWorkspace, grant, type Bot, type Member } from './support/members.js';
import { BUILTIN_ACCOUNT_ROLES } from '../src/authz/permissions.js';
import { BUILTIN_WORKSPACE_ROLES, WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';

const MY_WORKSPACE_FIELDS = ['account_id', 'account_name', 'account_handle', 'workspace_id', 'workspace_name', 'workspace_description', 'workspace_handle'];

const h = useHarness();
let owner: { accountId: string; userId: string; key: string };
let admin: Member;
let member: Member;
let bot: Bot;
let shared: any;
let unshared: any;
let byAdmin: any;

beforeAll(async () => {
  owner = await h.bootstrap();
  admin = await addMember(h, owner.accountId, 'Admin');
  member = await addMember(h, owner.accountId, 'Member');
  bot = await createBot(h, owner.accountId, owner.key);
  shared = await createWorkspace(h, owner.accountId, owner.key, 'shared');
  unshared = await createWorkspace(h, owner.accountId, owner.key, 'unshared');
  // The account Owner has no access row here, yet reaches it as an account Owner.
  byAdmin = await createWorkspace(h, owner.accountId, admin.key, 'by-admin');
  await grant(h, owner.accountId, shared.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Worker);
});

describe('GET /api/me/', () => {
  it("answers a user key with the user's profile", async () => {
    const res = await h.request('GET', '/api/me/', { key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(owner.userId);
    for (const field of ['id', 'handle', 'first_name', 'last_name', 'email', 'location', 'personal_account_id', 'settings']) {
      expect(res.body).toHaveProperty(field);
    }
    expect(res.body.email).toMatch(/@example\.com$/);
    expect(typeof res.body.settings).toBe('object');
    expect((await h.request('GET', '/api/me', { key: owner.key })).status).toBe(200);
  });

  it('answers a service-account key with 200 and the service account\'s name as handle', async () => {
    const res = await h.request('GET', '/api/me/', { key: bot.key });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(bot.id);
    expect(res.body.actor_id).toBe(bot.actorId);
    expect(res.body.handle).toBe(bot.name);
  });

  it('answers 401 without a key or with a malformed one', async () => {
    expect((await h.request('GET', '/api/me/')).status).toBe(401);
    const bad = await h.request('GET', '/api/me/', { key: 'pnu_notarealkey' });
    expect(bad.status).toBe(401);
    expect(bad.body.detail).toBe('Invalid authentication credentials');
  });
});

describe('GET /api/me/workspaces', () => {
  const ids = (body: { workspace_id: string }[]) => body.map((w) => w.workspace_id).sort();

  it('lists every workspace of the accounts an Owner or Admin administers, each with all 7 string fields', async () => {
    for (const key of [owner.key, admin.key]) {
      const res = await h.request('GET', '/api/me/workspaces', { key });
      expect(res.status).toBe(200);
      const inAccount = res.body.filter((w: { account_id: string }) => w.account_id === owner.accountId);
      expect(ids(inAccount)).toEqual([shared.id, unshared.id, byAdmin.id].sort());
      for (const w of res.body) {
        expect(Object.keys(w).sort()).toEqual([...MY_WORKSPACE_FIELDS].sort());
        for (const field of MY_WORKSPACE_FIELDS) expect(typeof w[field]).toBe('string');
      }
    }
    const one = (await h.request('GET', '/api/me/workspaces', { key: owner.key })).body.find((w: { workspace_id: string }) => w.workspace_id === shared.id);
    expect(one).toMatchObject({ account_id: owner.accountId, workspace_name: 'shared', workspace_handle: 'shared', workspace_description: '' });
  });

  it('lists only the workspaces shared with a service account', async () => {
    const res = await h.request('GET', '/api/me/workspaces', { key: bot.key });
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual([shared.id]);
    for (const field of MY_WORKSPACE_FIELDS) expect(typeof res.body[0][field]).toBe('string');
  });

  it('lists nothing in the account for a Member without access', async () => {
    const res = await h.request('GET', '/api/me/workspaces', { key: member.key });
    expect(res.body.filter((w: { account_id: string }) => w.account_id === owner.accountId)).toEqual([]);
  });

  it('answers 401 to an invalid key, as prefect cloud login expects', async () => {
    expect((await h.request('GET', '/api/me/workspaces', { key: 'pnb_000000000000000000000000000000000000' })).status).toBe(401);
  });
});

describe('GET /api/me/accounts', () => {
  it('lists the caller\'s accounts with their role and every plan field', async () => {
    const res = await h.request('GET', '/api/me/accounts', { key: member.key });
    expect(res.status).toBe(200);
    const row = res.body.find((a: { account_id: string }) => a.account_id === owner.accountId);
    expect(row).toEqual({
      account_membership_id: member.membershipId,
      account_id: owner.accountId,
      account_name: expect.any(String),
      account_role_name: 'Member',
      account_handle: expect.any(String),
      account_plan_type: expect.any(String),
      account_plan_tier: expect.any(String),
      account_plan_features: expect.any(Array),
      self_serve: expect.any(Boolean),
      annual_billing: expect.any(Boolean),
      annual_self_serve_enabled: expect.any(Boolean),
    });
    // The member's own bootstrap account, where they are Owner.
    expect(res.body.find((a: { account_id: string }) => a.account_id === member.ownAccountId).account_role_name).toBe('Owner');
    expect(res.body).toHaveLength(2);
  });

  it('lists a service account\'s one account with the Member role', async () => {
    const res = await h.request('GET', '/api/me/accounts', { key: bot.key });
    expect(res.body.map((a: { account_id: string; account_role_name: string }) => [a.account_id, a.account_role_name])).toEqual([[owner.accountId, 'Member']]);
  });
});

describe('GET /api/me/accounts/{id}/permissions', () => {
  it("answers a Member's permissions, exactly the Member role's", async () => {
    const res = await h.request('GET', `/api/me/accounts/${owner.accountId}/permissions`, { key: member.key });
    expect(res.status).toBe(200);
    const expected = BUILTIN_ACCOUNT_ROLES.find((r) => r.name === 'Member')!.permissions;
    expect([...res.body].sort()).toEqual([...expected].sort());
    expect(res.body).not.toContain('create:workspace');
  });

  it('answers 404 for an account the caller is not a member of', async () => {
    const stranger = await h.bootstrap();
    const res = await h.request('GET', `/api/me/accounts/${stranger.accountId}/permissions`, { key: member.key });
    expect(res.status).toBe(404);
  });
});

describe('GET /api/me/workspaces/{id}/scopes', () => {
  it('gives a Worker service account see_work_pools and not see_secret_blocks', async () => {
    const res = await h.request('GET', `/api/me/workspaces/${shared.id}/scopes`, { key: bot.key });
    expect(res.status).toBe(200);
    expect(res.body).toContain('see_work_pools');
    expect(res.body).not.toContain('see_secret_blocks');
    const worker = BUILTIN_WORKSPACE_ROLES.find((r) => r.name === 'Worker')!.scopes;
    expect([...res.body].sort()).toEqual([...worker].sort());
  });

  it('answers 404 for a workspace not shared with the caller, and for one of another account', async () => {
    expect((await h.request('GET', `/api/me/workspaces/${unshared.id}/scopes`, { key: bot.key })).status).toBe(404);
    const stranger = await h.bootstrap();
    expect((await h.request('GET', `/api/me/workspaces/${shared.id}/scopes`, { key: stranger.key })).status).toBe(404);
  });

  it('gives an account Admin every scope in every workspace of the account', async () => {
    const res = await h.request('GET', `/api/me/workspaces/${unshared.id}/scopes`, { key: admin.key });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(61);
  });
});
