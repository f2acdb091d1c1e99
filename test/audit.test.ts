// Audit events: each mutation leaves exactly one event naming who did what to which object, with
// the request id the caller saw; the filter route reads them newest first; no key is ever in one.
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness, type Response } from './support/harness.js';
import { addMember, createBot, createWorkspace, type Member } from './support/members.js';
import { ACCOUNT_ROLE_IDS } from '../src/authz/permissions.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';

const h = useHarness();

const auditUrl = (accountId: string) => `/api/accounts/${accountId}/audit_events/filter`;

async function actorIdOf(key: string): Promise<string> {
  return (await h.request('GET', '/api/me/', { key })).body.actor_id;
}

/** Every event of the account carrying the request id the response was answered under. */
async function eventsFor(accountId: string, key: string, res: Response) {
  const requestId = res.headers['x-request-id'];
  expect(typeof requestId).toBe('string');
  const all = await h.request('POST', auditUrl(accountId), { key, body: { limit: 200 } });
  expect(all.status).toBe(200);
  return all.body.filter((e: { request_id: string | null }) => e.request_id === requestId);
}

describe('one event per mutation', () => {
  let owner: { accountId: string; userId: string; key: string };
  let ownerActor: string;
  let member: Member;

  beforeAll(async () => {
    owner = await h.bootstrap();
    ownerActor = await actorIdOf(owner.key);
    member = await addMember(h, owner.accountId, 'Member');
  });

  /** Runs one mutation and checks its single event; returns the response for later steps. */
  async function expectOneEvent(
    req: () => Promise<Response>,
    status: number,
    expected: { action: string; target_type: string; target_id?: (res: Response) => string; workspace_id?: string | null },
  ): Promise<Response> {
    const res = await req();
    expect(res.status, res.text).toBe(status);
    const events = await eventsFor(owner.accountId, owner.key, res);
    expect(events, expected.action).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({
      account_id: owner.accountId,
      actor_id: ownerActor,
      actor_type: 'user',
      action: expected.action,
      target_type: expected.target_type,
      request_id: res.headers['x-request-id'],
    });
    expect(typeof event.actor_name).toBe('string');
    expect(typeof event.occurred).toBe('string');
    if (expected.target_id) expect(event.target_id).toBe(expected.target_id(res));
    if (expected.workspace_id !== undefined) expect(event.workspace_id).toBe(expected.workspace_id);
    return res;
  }

  it('records account, workspace, role, access and membership changes', async () => {
    const A = owner.accountId;
    const key = owner.key;
    await expectOneEvent(() => h.request('PATCH', `/api/accounts/${A}`, { key, body: { name: 'Audited' } }), 204, {
      action: 'account.updated', target_type: 'account', target_id: () => A,
    });
    const bot = await expectOneEvent(() => h.request('POST', `/api/accounts/${A}/bots/`, { key, body: { name: 'audited-bot' } }), 201, {
      action: 'service_account.created', target_type: 'service_account', target_id: (r) => r.body.id,
    });
    const ws = await expectOneEvent(() => h.request('POST', `/api/accounts/${A}/workspaces/`, { key, body: { name: 'aud', handle: 'aud' } }), 201, {
      action: 'workspace.created', target_type: 'workspace', target_id: (r) => r.body.id,
    });
    const W = ws.body.id;
    const wsUrl = `/api/accounts/${A}/workspaces/${W}`;
    await expectOneEvent(() => h.request('PATCH', wsUrl, { key, body: { description: 'x' } }), 204, {
      action: 'workspace.updated', target_type: 'workspace', target_id: () => W, workspace_id: W,
    });
    const role = await expectOneEvent(() => h.request('POST', `/api/accounts/${A}/workspace_roles/`, { key, body: { name: 'Aud', scopes: ['see_flows'] } }), 201, {
      action: 'workspace_role.created', target_type: 'workspace_role', target_id: (r) => r.body.id,
    });
    const R = role.body.id;
    await expectOneEvent(() => h.request('PATCH', `/api/accounts/${A}/workspace_roles/${R}`, { key, body: { description: 'd' } }), 204, {
      action: 'workspace_role.updated', target_type: 'workspace_role', target_id: () => R,
    });
    const ua = await expectOneEvent(
      () => h.request('POST', `${wsUrl}/user_access/`, { key, body: { user_id: member.userId, workspace_role_id: R } }),
      200,
      { action: 'workspace_user_access.granted', target_type: 'workspace_user_access', target_id: (r) => r.body[0].id, workspace_id: W },
    );
    const ba = await expectOneEvent(
      () => h.request('POST', `${wsUrl}/bot_access/`, { key, body: { bot_id: bot.body.id, workspace_role_id: WORKSPACE_ROLE_IDS.Worker } }),
      200,
      { action: 'workspace_bot_access.granted', target_type: 'workspace_bot_access', target_id: (r) => r.body[0].id, workspace_id: W },
    );
    await expectOneEvent(() => h.request('DELETE', `${wsUrl}/bot_access/${ba.body[0].id}`, { key }), 204, {
      action: 'workspace_bot_access.revoked', target_type: 'workspace_bot_access', target_id: () => ba.body[0].id, workspace_id: W,
    });
    await expectOneEvent(() => h.request('DELETE', `${wsUrl}/user_access/${ua.body[0].id}`, { key }), 204, {
      action: 'workspace_user_access.revoked', target_type: 'workspace_user_access', target_id: () => ua.body[0].id, workspace_id: W,
    });
    await expectOneEvent(() => h.request('DELETE', `/api/accounts/${A}/workspace_roles/${R}`, { key }), 204, {
      action: 'workspace_role.deleted', target_type: 'workspace_role', target_id: () => R,
    });
    const M = member.membershipId;
    await expectOneEvent(
      () => h.request('PATCH', `/api/accounts/${A}/account_memberships/${M}`, { key, body: { account_role_id: ACCOUNT_ROLE_IDS.Admin } }),
      204,
      { action: 'account_membership.role_changed', target_type: 'account_membership', target_id: () => M },
    );
    await expectOneEvent(() => h.request('DELETE', `/api/accounts/${A}/account_memberships/${M}`, { key }), 204, {
      action: 'account_membership.removed', target_type: 'account_membership', target_id: () => M,
    });
    await expectOneEvent(() => h.request('DELETE', wsUrl, { key }), 204, {
      action: 'workspace.deleted', target_type: 'workspace', target_id: () => W, workspace_id: W,
    });
  });

  it("keeps the caller's X-Request-Id and records it", async () => {
    const res = await h.request('PATCH', `/api/accounts/${owner.accountId}`, {
      key: owner.key,
      body: { location: 'Oslo' },
      headers: { 'x-request-id': 'trace-4711' },
    });
    expect(res.status).toBe(204);
    expect(res.headers['x-request-id']).toBe('trace-4711');
    const events = await eventsFor(owner.accountId, owner.key, res);
    expect(events.map((e: { action: string }) => e.action)).toEqual(['account.updated']);
  });

  it('records one event per grant of an array upsert, all under its request id', async () => {
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const b1 = await createBot(h, owner.accountId, owner.key);
    const b2 = await createBot(h, owner.accountId, owner.key);
    const res = await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/${ws.id}/bot_access/`, {
      key: owner.key,
      body: [
        { bot_id: b1.id, workspace_role_id: WORKSPACE_ROLE_IDS.Worker },
        { bot_id: b2.id, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer },
      ],
    });
    expect(res.status).toBe(200);
    const events = await eventsFor(owner.accountId, owner.key, res);
    expect(events.map((e: { target_id: string }) => e.target_id).sort()).toEqual(res.body.map((a: { id: string }) => a.id).sort());
  });

  it('records nothing for a refused or failed mutation', async () => {
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const clash = await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/`, { key: owner.key, body: { name: 'other', handle: ws.handle } });
    expect(clash.status).toBe(409);
    expect(await eventsFor(owner.accountId, owner.key, clash)).toEqual([]);
    const m = await addMember(h, owner.accountId, 'Member');
    const forbidden = await h.request('PATCH', `/api/accounts/${owner.accountId}`, { key: m.key, body: { name: 'no' } });
    expect(forbidden.status).toBe(403);
    expect(await eventsFor(owner.accountId, owner.key, forbidden)).toEqual([]);
    const lastOwner = await h.request('DELETE', `/api/accounts/${owner.accountId}/account_memberships/${(await h.request('GET', '/api/me/accounts', { key: owner.key })).body.find((a: { account_id: string }) => a.account_id === owner.accountId).account_membership_id}`, { key: owner.key });
    expect(lastOwner.status).toBe(409);
    expect(await eventsFor(owner.accountId, owner.key, lastOwner)).toEqual([]);
  });
});

describe('filtering events', () => {
  let owner: { accountId: string; userId: string; key: string };
  let admin: Member;
  let adminActor: string;
  const stamps: string[] = [];

  beforeAll(async () => {
    owner = await h.bootstrap();
    admin = await addMember(h, owner.accountId, 'Admin');
    adminActor = await actorIdOf(admin.key);
    // Three events a second apart: owner, admin, owner.
    for (const [key, handle] of [[owner.key, 'f-one'], [admin.key, 'f-two'], [owner.key, 'f-three']] as const) {
      h.clock.advance(1000);
      stamps.push(h.clock.now().toISOString());
      await createWorkspace(h, owner.accountId, key, handle);
    }
    h.clock.advance(1000);
    await h.request('PATCH', `/api/accounts/${owner.accountId}`, { key: owner.key, body: { location: 'Rome' } });
  });

  const filter = (body: unknown, key = owner.key) => h.request('POST', auditUrl(owner.accountId), { key, body });

  it('lists newest first, with the wire fields', async () => {
    const res = await filter({});
    expect(res.status).toBe(200);
    expect(res.body[0].action).toBe('account.updated');
    const times = res.body.map((e: { occurred: string }) => e.occurred);
    expect(times).toEqual([...times].sort().reverse());
    expect(Object.keys(res.body[0]).sort()).toEqual(
      ['account_id', 'action', 'actor_id', 'actor_name', 'actor_type', 'details', 'id', 'occurred', 'request_id', 'target_id', 'target_type', 'workspace_id'],
    );
    // The bootstrap that created the account is the oldest event, by the system.
    expect(res.body.at(-1)).toMatchObject({ action: 'account.created', actor_type: 'system', actor_id: null });
  });

  it('pages with limit and offset', async () => {
    const all = (await filter({})).body;
    const page = await filter({ limit: 2, offset: 1 });
    expect(page.body.map((e: { id: string }) => e.id)).toEqual(all.slice(1, 3).map((e: { id: string }) => e.id));
  });

  it('filters by action any_', async () => {
    const res = await filter({ audit_events: { action: { any_: ['workspace.created'] } } });
    expect(res.body.map((e: { details: { handle: string } }) => e.details.handle)).toEqual(['f-three', 'f-two', 'f-one']);
    const both = await filter({ audit_events: { action: { any_: ['workspace.created', 'account.updated'] } } });
    expect(both.body).toHaveLength(4);
  });

  it('matches nothing for an empty any_ list, as every other filter route does', async () => {
    expect((await filter({ audit_events: { action: { any_: [] } } })).body).toEqual([]);
    expect((await filter({ audit_events: { actor_id: { any_: [] } } })).body).toEqual([]);
    expect((await filter({ audit_events: { action: { any_: null } } })).body.length).toBeGreaterThan(0);
  });

  it('filters by actor_id any_', async () => {
    const res = await filter({ audit_events: { actor_id: { any_: [adminActor] } } });
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({ actor_id: adminActor, action: 'workspace.created', details: { handle: 'f-two' } });
  });

  it('filters by occurred after_ (inclusive) and before_ (exclusive)', async () => {
    const res = await filter({ audit_events: { action: { any_: ['workspace.created'] }, occurred: { after_: stamps[1], before_: stamps[2] } } });
    expect(res.body.map((e: { details: { handle: string } }) => e.details.handle)).toEqual(['f-two']);
    const after = await filter({ audit_events: { occurred: { after_: stamps[2] } } });
    expect(after.body.map((e: { action: string }) => e.action)).toEqual(['account.updated', 'workspace.created']);
  });

  it('refuses a Member with 403 and an outsider with 404', async () => {
    const m = await addMember(h, owner.accountId, 'Member');
    const res = await filter({}, m.key);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
    const stranger = await h.bootstrap();
    expect((await filter({}, stranger.key)).status).toBe(404);
  });
});

describe('secrets', () => {
  it('no event holds a pnu_ or pnb_ key issued in this test', async () => {
    const owner = await h.bootstrap();
    const m = await addMember(h, owner.accountId, 'Member');
    const keys = [owner.key, m.key];
    const bot = await createBot(h, owner.accountId, owner.key);
    keys.push(bot.key);
    const rotated = await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`, {
      key: owner.key,
      body: { api_key_expiration: null, old_key_expires_in_seconds: 60 },
    });
    expect(rotated.status).toBe(201);
    keys.push(rotated.body.api_key.key);
    const userKey = await h.request('POST', `/api/users/${owner.userId}/api_keys`, { key: owner.key, body: { name: 'ci' } });
    expect(userKey.status).toBe(201);
    keys.push(userKey.body.key);
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/${ws.id}/bot_access/`, {
      key: owner.key,
      body: { bot_id: bot.id, workspace_role_id: WORKSPACE_ROLE_IDS.Worker },
    });
    await h.request('DELETE', `/api/accounts/${owner.accountId}/bots/${bot.id}`, { key: owner.key });
    for (const k of keys) expect(k).toMatch(/^pn[ub]_[A-Za-z0-9]{36}$/);

    const api = JSON.stringify((await h.request('POST', auditUrl(owner.accountId), { key: owner.key, body: {} })).body);
    // Events without an account (user keys) are only in the table, so read every row there too.
    const rows = JSON.stringify(await h.handle.store.db.selectFrom('audit_events').selectAll().execute());
    expect(rows).toContain('user_api_key.created');
    for (const k of keys) {
      const secretPart = k.slice(4);
      for (const text of [api, rows]) {
        expect(text).not.toContain(k);
        expect(text).not.toContain(secretPart);
      }
    }
  });
});
