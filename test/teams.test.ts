// Teams (docs/teams.md): Prefect Cloud's wire for teams, their members and their workspace grants;
// a member's scopes in a workspace are the union of their own grant's and their teams'; and every
// team change is in force in every process once its call returns (contract 4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { BUILTIN_WORKSPACE_ROLES, WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { expandScopes } from '../src/authz/scopes.js';
import { inject, secondApp, useHarness } from './support/harness.js';
import { addMember, createBot, createWorkspace, grant, type Member } from './support/members.js';

const h = useHarness();
let accountId: string;
let ownerKey: string;
let teams: string;
let other: App;
let seq = 0;

beforeAll(async () => {
  ({ accountId, key: ownerKey } = await h.bootstrap());
  teams = `/api/accounts/${accountId}/teams`;
  other = await secondApp(h);
});
afterAll(async () => {
  await other?.server.close();
});

const scopesOf = (name: string) => [...BUILTIN_WORKSPACE_ROLES.find((r) => r.name === name)!.scopes].sort();

async function newTeam(name = `team-${++seq}`) {
  const res = await h.request('POST', teams, { key: ownerKey, body: { name, description: null } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function addToTeam(teamId: string, members: Array<{ member_id: string; member_type: string }>) {
  const res = await h.request('PUT', `${teams}/${teamId}/members`, { key: ownerKey, body: { members } });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function grantTeam(workspaceId: string, teamId: string, roleId: string) {
  const res = await h.request('PUT', `/api/accounts/${accountId}/workspaces/${workspaceId}/team_access/`, { key: ownerKey, body: [{ team_id: teamId, workspace_role_id: roleId }] });
  expect(res.status, res.text).toBe(200);
  return res.body[0];
}

describe('the teams wire (as Prefect Cloud and its Terraform provider use it)', () => {
  it('creates a team without a trailing slash, with description null read back as ""', async () => {
    const res = await h.request('POST', teams, { key: ownerKey, body: { name: 'platform', description: null } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      created: expect.any(String),
      updated: expect.any(String),
      account_id: accountId,
      name: 'platform',
      description: '',
      workos_directory_group_id: null,
      memberships: [],
      workspaces: [],
    });
    const read = await h.request('GET', `${teams}/${res.body.id}`, { key: ownerKey });
    expect([read.status, read.body]).toEqual([200, res.body]);
  });

  it('refuses a second team of the same name with 409 TEAM_NAME_TAKEN, also on rename', async () => {
    const first = await newTeam();
    const second = await newTeam();
    const dup = await h.request('POST', `${teams}/`, { key: ownerKey, body: { name: first.name } });
    expect([dup.status, dup.body.code]).toEqual([409, 'TEAM_NAME_TAKEN']);
    const renamed = await h.request('PUT', `${teams}/${second.id}`, { key: ownerKey, body: { name: first.name } });
    expect([renamed.status, renamed.body.code]).toEqual([409, 'TEAM_NAME_TAKEN']);
  });

  it('renames with PUT and answers 200 with the team; filters by name; deletes with 204, then 404', async () => {
    const team = await newTeam();
    const put = await h.request('PUT', `${teams}/${team.id}`, { key: ownerKey, body: { name: `${team.name}-renamed`, description: 'The data team' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: team.id, name: `${team.name}-renamed`, description: 'The data team' });
    const found = await h.request('POST', `${teams}/filter`, { key: ownerKey, body: { teams: { name: { any_: [`${team.name}-renamed`] } }, limit: 200, offset: 0 } });
    expect([found.status, found.body.map((t: { id: string }) => t.id)]).toEqual([200, [team.id]]);
    const all = await h.request('POST', `${teams}/filter`, { key: ownerKey, body: { teams: { name: { any_: null } } } });
    expect(all.body.map((t: { id: string }) => t.id)).toContain(team.id);
    expect((await h.request('DELETE', `${teams}/${team.id}`, { key: ownerKey })).status).toBe(204);
    const gone = await h.request('GET', `${teams}/${team.id}`, { key: ownerKey });
    expect([gone.status, gone.body.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('adds users and service accounts by their ids, lists them by actor id, removes them by actor id', async () => {
    const team = await newTeam();
    const person = await addMember(h, accountId, 'Member');
    const bot = await createBot(h, accountId, ownerKey);
    await addToTeam(team.id, [{ member_id: person.userId, member_type: 'user' }, { member_id: bot.id, member_type: 'service_account' }]);
    // Adding again changes nothing (Terraform's update sends the same member).
    const again = await addToTeam(team.id, [{ member_id: person.userId, member_type: 'user' }]);
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect([...again.memberships].sort(byId)).toEqual([
      { id: person.actorId, member_id: person.userId, type: 'user', handle: expect.any(String), name: expect.any(String), email: person.email },
      { id: bot.actorId, member_id: bot.id, type: 'service_account', handle: bot.name, name: bot.name, email: null },
    ].sort(byId));
    expect((await h.request('DELETE', `${teams}/${team.id}/members/${person.actorId}`, { key: ownerKey })).status).toBe(204);
    const twice = await h.request('DELETE', `${teams}/${team.id}/members/${person.actorId}`, { key: ownerKey });
    expect([twice.status, twice.body.code]).toEqual([404, 'NOT_FOUND']);
    const read = await h.request('GET', `${teams}/${team.id}`, { key: ownerKey });
    expect(read.body.memberships.map((m: { id: string }) => m.id)).toEqual([bot.actorId]);
  });

  it('refuses a member who is not in the account (422) and changes nothing', async () => {
    const team = await newTeam();
    const stranger = await h.bootstrap();
    const res = await h.request('PUT', `${teams}/${team.id}/members`, { key: ownerKey, body: { members: [{ member_id: stranger.userId, member_type: 'user' }] } });
    expect([res.status, res.body.code]).toEqual([422, 'UNKNOWN_USER']);
    const bad = await h.request('PUT', `${teams}/${team.id}/members`, { key: ownerKey, body: { members: [{ member_id: stranger.userId, member_type: 'robot' }] } });
    expect([bad.status, bad.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect((await h.request('GET', `${teams}/${team.id}`, { key: ownerKey })).body.memberships).toEqual([]);
  });

  it('grants a team a workspace role with PUT team_access/ (200, an array), lists it with an empty filter body, changes and removes it by team id', async () => {
    const ws = await createWorkspace(h, accountId, ownerKey);
    const base = `/api/accounts/${accountId}/workspaces/${ws.id}/team_access`;
    const team = await newTeam();
    const granted = await grantTeam(ws.id, team.id, WORKSPACE_ROLE_IDS.Viewer);
    expect(granted).toEqual({
      id: expect.any(String), created: expect.any(String), updated: expect.any(String),
      workspace_id: ws.id, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer, team_id: team.id, team_name: team.name,
    });
    // Terraform's read sends no body at all.
    const listed = await inject(h.app, 'POST', `${base}/filter`, { key: ownerKey });
    expect([listed.status, listed.body]).toEqual([200, [granted]]);
    const changed = await grantTeam(ws.id, team.id, WORKSPACE_ROLE_IDS.Runner);
    expect([changed.id, changed.workspace_role_id]).toEqual([granted.id, WORKSPACE_ROLE_IDS.Runner]);
    const read = await h.request('GET', `${teams}/${team.id}`, { key: ownerKey });
    expect(read.body.workspaces).toEqual([{ workspace_id: ws.id, workspace_handle: ws.handle, workspace_role_id: WORKSPACE_ROLE_IDS.Runner, workspace_role_name: 'Runner' }]);
    expect((await h.request('DELETE', `${base}/${team.id}`, { key: ownerKey })).status).toBe(204);
    expect((await h.request('POST', `${base}/filter`, { key: ownerKey, body: {} })).body).toEqual([]);
    const twice = await h.request('DELETE', `${base}/${team.id}`, { key: ownerKey });
    expect([twice.status, twice.body.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('refuses a grant to an unknown team (422 UNKNOWN_TEAM) and keeps a role a team holds from being deleted (409)', async () => {
    const ws = await createWorkspace(h, accountId, ownerKey);
    const res = await h.request('PUT', `/api/accounts/${accountId}/workspaces/${ws.id}/team_access/`, { key: ownerKey, body: { team_id: crypto.randomUUID(), workspace_role_id: WORKSPACE_ROLE_IDS.Viewer } });
    expect([res.status, res.body.code]).toEqual([422, 'UNKNOWN_TEAM']);
    const role = await h.request('POST', `/api/accounts/${accountId}/workspace_roles/`, { key: ownerKey, body: { name: `team-role-${++seq}`, scopes: ['see_flows'] } });
    const team = await newTeam();
    await grantTeam(ws.id, team.id, role.body.id);
    const del = await h.request('DELETE', `/api/accounts/${accountId}/workspace_roles/${role.body.id}`, { key: ownerKey });
    expect([del.status, del.body.code]).toEqual([409, 'WORKSPACE_ROLE_IN_USE']);
  });

  it('writes one audit event per change', async () => {
    const ws = await createWorkspace(h, accountId, ownerKey);
    const person = await addMember(h, accountId, 'Member');
    const team = await newTeam();
    await addToTeam(team.id, [{ member_id: person.userId, member_type: 'user' }]);
    await grantTeam(ws.id, team.id, WORKSPACE_ROLE_IDS.Viewer);
    await h.request('DELETE', `/api/accounts/${accountId}/workspaces/${ws.id}/team_access/${team.id}`, { key: ownerKey });
    await h.request('DELETE', `${teams}/${team.id}/members/${person.actorId}`, { key: ownerKey });
    await h.request('DELETE', `${teams}/${team.id}`, { key: ownerKey });
    const rows = await h.handle.store.db.selectFrom('audit_events').select('action').where('target_id', 'in', [team.id]).orderBy('occurred').execute();
    expect(rows.map((r) => r.action).sort()).toEqual(['team.created', 'team.deleted', 'team.member_added', 'team.member_removed'].sort());
    const access = await h.handle.store.db.selectFrom('audit_events').select('action').where('workspace_id', '=', ws.id).where('action', 'like', 'workspace_team_access.%').execute();
    expect(access.map((r) => r.action).sort()).toEqual(['workspace_team_access.granted', 'workspace_team_access.revoked']);
  });
});

describe("a member's scopes: the union of their own grant and their teams' grants", () => {
  it('adds a team grant to an own grant, and gives a member with no own grant the team grant alone', async () => {
    const ws = await createWorkspace(h, accountId, ownerKey);
    const withOwn = await addMember(h, accountId, 'Member');
    const teamOnly = await addMember(h, accountId, 'Member');
    await grant(h, accountId, ws.id, ownerKey, { userId: withOwn.userId }, WORKSPACE_ROLE_IDS.Worker);
    const team = await newTeam();
    await addToTeam(team.id, [{ member_id: withOwn.userId, member_type: 'user' }, { member_id: teamOnly.userId, member_type: 'user' }]);
    const scopes = `/api/me/workspaces/${ws.id}/scopes`;
    expect((await h.request('GET', scopes, { key: teamOnly.key })).status).toBe(404);
    await grantTeam(ws.id, team.id, WORKSPACE_ROLE_IDS.Runner);
    const union = expandScopes([...scopesOf('Worker'), ...scopesOf('Runner')]).sort();
    expect(union).not.toEqual(scopesOf('Worker'));
    expect((await h.request('GET', scopes, { key: withOwn.key })).body).toEqual(union);
    expect((await h.request('GET', scopes, { key: teamOnly.key })).body).toEqual(scopesOf('Runner'));
    // The workspace is listed and reachable for the team-only member, and allows what Runner allows.
    const mine = await h.request('GET', '/api/me/workspaces', { key: teamOnly.key });
    expect(mine.body.map((w: { workspace_id: string }) => w.workspace_id)).toContain(ws.id);
    const listed = await h.request('POST', `/api/accounts/${accountId}/workspaces/filter`, { key: teamOnly.key, body: {} });
    expect(listed.body.map((w: { id: string }) => w.id)).toEqual([ws.id]);
    expect((await h.request('GET', `/api/accounts/${accountId}/workspaces/${ws.id}`, { key: teamOnly.key })).status).toBe(200);
    // Runner and Worker cannot see who has access; a Developer team grant can.
    const users = `/api/accounts/${accountId}/workspaces/${ws.id}/user_access/filter`;
    expect((await h.request('POST', users, { key: withOwn.key, body: {} })).status).toBe(403);
    const devTeam = await newTeam();
    await addToTeam(devTeam.id, [{ member_id: withOwn.userId, member_type: 'user' }]);
    await grantTeam(ws.id, devTeam.id, WORKSPACE_ROLE_IDS.Developer);
    expect((await h.request('POST', users, { key: withOwn.key, body: {} })).status).toBe(200);
  });

  it("gives a service account in a team the team's scopes", async () => {
    const ws = await createWorkspace(h, accountId, ownerKey);
    const bot = await createBot(h, accountId, ownerKey);
    const team = await newTeam();
    await addToTeam(team.id, [{ member_id: bot.id, member_type: 'service_account' }]);
    await grantTeam(ws.id, team.id, WORKSPACE_ROLE_IDS.Developer);
    const res = await h.request('GET', `/api/me/workspaces/${ws.id}/scopes`, { key: bot.key });
    expect([res.status, res.body]).toEqual([200, scopesOf('Developer')]);
  });
});

describe('team changes are in force in every process once the call returns', () => {
  type Revoke = 'remove member' | 'revoke team access' | 'delete team' | 'lower team role' | 'remove from account' | 'delete workspace';
  const cases: Revoke[] = ['remove member', 'revoke team access', 'delete team', 'lower team role', 'remove from account', 'delete workspace'];

  async function setUp(): Promise<{ person: Member; team: { id: string }; ws: { id: string } }> {
    const ws = await createWorkspace(h, accountId, ownerKey);
    const person = await addMember(h, accountId, 'Member');
    const team = await newTeam();
    await addToTeam(team.id, [{ member_id: person.userId, member_type: 'user' }]);
    await grantTeam(ws.id, team.id, WORKSPACE_ROLE_IDS.Developer);
    return { person, team, ws };
  }

  for (const revoke of cases) {
    it(`refuses the member's next request, in this process and another, after: ${revoke}`, async () => {
      const { person, team, ws } = await setUp();
      const scopes = `/api/me/workspaces/${ws.id}/scopes`;
      const read = `/api/accounts/${accountId}/workspaces/${ws.id}`;
      // Both processes have the grant cached.
      for (const app of [h.app, other, h.app, other]) {
        expect((await inject(app, 'GET', scopes, { key: person.key })).status, revoke).toBe(200);
        expect((await inject(app, 'GET', read, { key: person.key })).status, revoke).toBe(200);
      }
      const call = async (method: string, url: string, body?: unknown) => {
        const res = await h.request(method, url, { key: ownerKey, body });
        expect(res.status, `${revoke}: ${res.text}`).toBeLessThan(300);
      };
      if (revoke === 'remove member') await call('DELETE', `${teams}/${team.id}/members/${person.actorId}`);
      if (revoke === 'revoke team access') await call('DELETE', `${read}/team_access/${team.id}`);
      if (revoke === 'delete team') await call('DELETE', `${teams}/${team.id}`);
      if (revoke === 'lower team role') await grantTeam(ws.id, team.id, WORKSPACE_ROLE_IDS.Viewer);
      if (revoke === 'remove from account') await call('DELETE', `/api/accounts/${accountId}/account_memberships/${person.membershipId}`);
      if (revoke === 'delete workspace') await call('DELETE', read);
      // In this process and the other one, at once.
      for (const app of [other, h.app]) {
        const after = await inject(app, 'GET', scopes, { key: person.key });
        if (revoke === 'lower team role') {
          expect([after.status, after.body], revoke).toEqual([200, scopesOf('Viewer')]);
          // Developer sees who has access; Viewer does not.
          const users = await inject(app, 'POST', `${read}/user_access/filter`, { key: person.key, body: {} });
          expect(users.status, revoke).toBe(403);
        } else {
          expect([after.status, after.body.code], revoke).toEqual([404, 'NOT_FOUND']);
          expect((await inject(app, 'GET', read, { key: person.key })).status, revoke).toBe(404);
        }
      }
      if (revoke === 'remove from account') {
        const rows = await h.handle.store.db.selectFrom('team_members').select('actor_id').where('actor_id', '=', person.actorId).execute();
        expect(rows).toEqual([]);
      }
    });
  }
});
