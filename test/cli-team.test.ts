// `gatehouse team ls | add | rm | add-member | rm-member | grant | revoke` (issue 21, item 2), run as a
// user runs them against a Gatehouse on 127.0.0.1; the member's scopes follow each change.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_WORKSPACE_ROLES } from '../src/authz/workspace-roles.js';
import { gatehouseAt } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { addMember, createBot, createWorkspace, type Member } from './support/members.js';

let h: Harness;
let url: string;
let owner: { accountId: string; userId: string; key: string };
let workspaceId: string;
let person: Member;
const homes: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  await h.app.server.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(h.app.server.server.address() as AddressInfo).port}`;
  owner = await h.bootstrap('tm');
  workspaceId = (await createWorkspace(h, owner.accountId, owner.key, 'production')).id;
  person = await addMember(h, owner.accountId, 'Member', 'bob@example.com');
});

afterAll(async () => {
  await h?.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

async function loggedIn(key: string): Promise<string> {
  const home = join(mkdtempSync(join(tmpdir(), 'gatehouse-team-')), 'gh');
  homes.push(join(home, '..'));
  const run = await gatehouseAt(home, ['login', '--key', key, '--url', url, '--workspace', 'tm/production']);
  expect(run.code, run.stderr).toBe(0);
  return home;
}

const scopes = (key: string) => h.request('GET', `/api/me/workspaces/${workspaceId}/scopes`, { key });
const scopesOf = (name: string) => [...BUILTIN_WORKSPACE_ROLES.find((r) => r.name === name)!.scopes].sort();

describe('gatehouse team', () => {
  it('creates a team, adds a user and a service account, grants it a role, lists, revokes, removes members and deletes it', async () => {
    const home = await loggedIn(owner.key);
    const bot = await createBot(h, owner.accountId, owner.key, 'ci-runner');
    const empty = await gatehouseAt(home, ['team', 'ls']);
    expect([empty.code, empty.stderr.trim()]).toEqual([0, 'Account tm has no teams.']);

    const add = await gatehouseAt(home, ['team', 'add', 'data-platform', '--description', 'Runs the data platform']);
    expect([add.code, add.stdout.trim()], add.stderr).toEqual([0, 'Created team "data-platform" in account tm.']);
    const dup = await gatehouseAt(home, ['team', 'add', 'data-platform']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('A team with this name already exists in this account');

    const user = await gatehouseAt(home, ['team', 'add-member', 'data-platform', '--user', 'BOB@example.com']);
    expect([user.code, user.stdout.trim()], user.stderr).toEqual([0, 'User bob@example.com is a member of team "data-platform".']);
    const sa = await gatehouseAt(home, ['team', 'add-member', 'data-platform', '--service-account', 'ci-runner']);
    expect([sa.code, sa.stdout.trim()], sa.stderr).toEqual([0, 'Service account "ci-runner" is a member of team "data-platform".']);
    const both = await gatehouseAt(home, ['team', 'add-member', 'data-platform']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give one of --user EMAIL or --service-account NAME_OR_ID');
    expect((await scopes(person.key)).status).toBe(404);

    const grant = await gatehouseAt(home, ['team', 'grant', 'data-platform', '--role', 'Developer']);
    expect([grant.code, grant.stdout.trim()], grant.stderr).toEqual([0, 'Team "data-platform" has workspace role Developer on tm/production.']);
    expect((await scopes(person.key)).body).toEqual(scopesOf('Developer'));
    expect((await scopes(bot.key)).body).toEqual(scopesOf('Developer'));

    const ls = await gatehouseAt(home, ['team', 'ls']);
    expect(ls.stdout).toMatch(/^data-platform\s+bob@example.com, ci-runner\s+production:Developer\s+Runs the data platform$/m);
    const json = JSON.parse((await gatehouseAt(home, ['team', 'ls', '--json'])).stdout);
    expect(json).toEqual([expect.objectContaining({ name: 'data-platform', description: 'Runs the data platform' })]);

    const out = await gatehouseAt(home, ['team', 'rm-member', 'data-platform', '--user', 'bob@example.com']);
    expect([out.code, out.stdout.trim()], out.stderr).toEqual([0, 'Removed user bob@example.com from team "data-platform".']);
    expect((await scopes(person.key)).status).toBe(404);
    expect((await scopes(bot.key)).status).toBe(200);
    const again = await gatehouseAt(home, ['team', 'rm-member', 'data-platform', '--user', 'bob@example.com']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('user bob@example.com is not a member of team "data-platform"; nothing to remove');

    const revoke = await gatehouseAt(home, ['team', 'revoke', 'data-platform', '--workspace', 'tm/production']);
    expect([revoke.code, revoke.stdout.trim()], revoke.stderr).toEqual([0, 'Revoked the role Developer of team "data-platform" on tm/production.']);
    expect((await scopes(bot.key)).status).toBe(404);

    const refused = await gatehouseAt(home, ['team', 'rm', 'data-platform']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --yes to delete team "data-platform"');
    const rm = await gatehouseAt(home, ['team', 'rm', 'data-platform', '--yes']);
    expect([rm.code, rm.stdout.trim()], rm.stderr).toEqual([0, 'Deleted team "data-platform".']);
    const gone = await gatehouseAt(home, ['team', 'rm', 'data-platform', '--yes']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no team named "data-platform" in account tm; gatehouse team ls lists them');
  });

  it('lets a Member reach a workspace through a team only (login works), list the teams, and not change them', async () => {
    const teams = `/api/accounts/${owner.accountId}/teams`;
    const team = await h.request('POST', teams, { key: owner.key, body: { name: 'viewers' } });
    await h.request('PUT', `${teams}/${team.body.id}/members`, { key: owner.key, body: { members: [{ member_id: person.userId, member_type: 'user' }] } });
    const viewer = BUILTIN_WORKSPACE_ROLES.find((r) => r.name === 'Viewer')!.id;
    await h.request('PUT', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/team_access/`, { key: owner.key, body: [{ team_id: team.body.id, workspace_role_id: viewer }] });
    const home = await loggedIn(person.key);
    const ls = await gatehouseAt(home, ['team', 'ls']);
    expect(ls.code, ls.stderr).toBe(0);
    const add = await gatehouseAt(home, ['team', 'add', 'members-team']);
    expect(add.code).toBe(1);
    expect(add.stderr).toContain("The profile's key may not do this");
  });
});
