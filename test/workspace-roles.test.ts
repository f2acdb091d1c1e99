// Workspace roles: the five built-ins shared by every account, an account's custom roles with
// expanded scopes and an optional built-in parent, and the rules that keep grants meaningful.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';
import { addMember, createWorkspace, grant } from './support/members.js';
import { BUILTIN_WORKSPACE_ROLES, WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';

let h: Harness;
let owner: { accountId: string; userId: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  owner = await h.bootstrap();
});
afterAll(async () => h?.close());

const base = (accountId = owner.accountId) => `/api/accounts/${accountId}/workspace_roles`;
const sorted = (xs: string[]) => [...xs].sort();

async function createRole(body: Record<string, unknown>, accountId = owner.accountId, key = owner.key) {
  return h.request('POST', `${base(accountId)}/`, { key, body: { description: null, scopes: [], inherited_role_id: null, ...body } });
}

describe('listing', () => {
  it('returns the five built-ins with account_id null, plus the account\'s own roles only', async () => {
    const stranger = await h.bootstrap();
    await createRole({ name: 'Stranger Role' }, stranger.accountId, stranger.key);
    const mine = await createRole({ name: 'Listed Role', scopes: ['see_flows'] });
    expect(mine.status).toBe(201);

    const res = await h.request('POST', `${base()}/filter`, { key: owner.key, body: {} });
    expect(res.status).toBe(200);
    const builtins = res.body.filter((r: { account_id: string | null }) => r.account_id === null);
    expect(sorted(builtins.map((r: { name: string }) => r.name))).toEqual(['Developer', 'Owner', 'Runner', 'Viewer', 'Worker']);
    for (const r of builtins) {
      expect(r.id).toBe(WORKSPACE_ROLE_IDS[r.name as keyof typeof WORKSPACE_ROLE_IDS]);
      expect(r.inherited_role_id).toBeNull();
      expect(typeof r.created).toBe('string');
      expect(typeof r.updated).toBe('string');
    }
    const custom = res.body.filter((r: { account_id: string | null }) => r.account_id !== null);
    expect(custom.map((r: { name: string }) => r.name)).toEqual(['Listed Role']);
    expect(custom[0].account_id).toBe(owner.accountId);
  });

  it('resolves a built-in by name with any_, as Terraform does', async () => {
    const res = await h.request('POST', `${base()}/filter`, { key: owner.key, body: { workspace_roles: { name: { any_: ['Worker'] } } } });
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({ id: WORKSPACE_ROLE_IDS.Worker, name: 'Worker', account_id: null });
    const all = await h.request('POST', `${base()}/filter`, { key: owner.key, body: { workspace_roles: { name: { any_: null } } } });
    expect(all.body.length).toBeGreaterThanOrEqual(5);
  });

  it('lets a Member list roles but not create one', async () => {
    const m = await addMember(h, owner.accountId, 'Member');
    expect((await h.request('POST', `${base()}/filter`, { key: m.key, body: {} })).status).toBe(200);
    const res = await createRole({ name: 'By Member' }, owner.accountId, m.key);
    expect(res.status).toBe(403);
  });
});

describe('creating', () => {
  it('reads back exactly the leaf scopes it was given (sorted set equality)', async () => {
    const res = await createRole({ name: 'Leaf', description: 'leaf scopes', scopes: ['see_blocks', 'see_artifacts'] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Leaf', description: 'leaf scopes', account_id: owner.accountId, inherited_role_id: null });
    expect(sorted(res.body.scopes)).toEqual(['see_artifacts', 'see_blocks']);
    const read = await h.request('GET', `${base()}/${res.body.id}`, { key: owner.key });
    expect(read.status).toBe(200);
    expect(sorted(read.body.scopes)).toEqual(['see_artifacts', 'see_blocks']);
    expect(read.body.description).toBe('leaf scopes');
    expect(Array.isArray(read.body.permissions)).toBe(true);
  });

  it('answers description "" when sent as null', async () => {
    const res = await createRole({ name: 'No Description' });
    expect(res.body.description).toBe('');
  });

  it('expands manage_blocks to the scopes it includes', async () => {
    const res = await createRole({ name: 'Blocks', scopes: ['manage_blocks'] });
    expect(sorted(res.body.scopes)).toEqual(['manage_blocks', 'see_blocks', 'see_secret_blocks']);
  });

  it('refuses an unknown scope with 422 naming it', async () => {
    const res = await createRole({ name: 'Typo', scopes: ['see_blocks', 'see_blokcs'] });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('UNKNOWN_SCOPE');
    expect(res.body.detail).toContain('see_blokcs');
  });

  it('refuses an inherited role that is not built-in with 422', async () => {
    const custom = await createRole({ name: 'Parent Candidate' });
    const res = await createRole({ name: 'Child', inherited_role_id: custom.body.id });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('INHERITED_ROLE_NOT_BUILTIN');
    const unknown = await createRole({ name: 'Child', inherited_role_id: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(422);
  });

  it('refuses a name the account already uses with 409', async () => {
    expect((await createRole({ name: 'Twice' })).status).toBe(201);
    const res = await createRole({ name: 'Twice' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('WORKSPACE_ROLE_NAME_TAKEN');
  });

  it('refuses a built-in name such as "Owner" with 409', async () => {
    for (const name of ['Owner', 'worker']) {
      const res = await createRole({ name });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('WORKSPACE_ROLE_NAME_TAKEN');
    }
  });
});

describe('look-alike names (pentest issue 14)', () => {
  it.each([
    ['\u041ewner', 'Owner', 'a Cyrillic О'],
    ['Vi\u0435wer', 'Viewer', 'a Cyrillic е'],
    ['W\u03bfrker', 'Worker', 'a Greek ο'],
    ['Dev\u200beloper', 'Developer', 'a zero-width space'],
    ['R U N N E R', 'Runner', 'spaces'],
    ['Vlewer', 'Viewer', 'an l for the i'],
  ])('refuses "%s", which passes for the built-in "%s" (%s), with 409 naming it', async (name, builtin) => {
    const res = await createRole({ name });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'WORKSPACE_ROLE_NAME_TAKEN', detail: `"${name}" looks like the built-in workspace role "${builtin}"; choose a name that cannot be taken for it` });
  });

  it("refuses a look-alike of the account's own role, on create and on rename, with 409", async () => {
    expect((await createRole({ name: 'Deployers' })).status).toBe(201);
    const created = await createRole({ name: 'Dep1oyers' });
    expect(created.status).toBe(409);
    expect(created.body.detail).toContain('looks like the existing workspace role "Deployers"');
    const other = await createRole({ name: 'Auditors' });
    const renamed = await h.request('PATCH', `${base()}/${other.body.id}`, { key: owner.key, body: { name: 'DEPLOYERS' } });
    expect(renamed.status).toBe(409);
    expect(renamed.body.code).toBe('WORKSPACE_ROLE_NAME_TAKEN');
    // Renaming a role to a look-alike of its own name is no clash with itself.
    expect((await h.request('PATCH', `${base()}/${other.body.id}`, { key: owner.key, body: { name: 'AUDITORS' } })).status).toBe(204);
  });

  it('refuses a name mixing scripts with 422 CONFUSABLE_NAME, and accepts one script', async () => {
    const mixed = await createRole({ name: 'Rel\u0435ase managers' });
    expect(mixed.status).toBe(422);
    expect(mixed.body).toMatchObject({ code: 'CONFUSABLE_NAME', detail: expect.stringContaining('mixes Latin and Cyrillic letters') });
    expect((await createRole({ name: 'Релиз' })).status).toBe(201);
  });
});

describe('effective scopes of a custom role', () => {
  it("include the inherited role's scopes for whoever holds it", async () => {
    const role = await createRole({ name: 'Viewer Plus Secrets', scopes: ['see_secret_blocks'], inherited_role_id: WORKSPACE_ROLE_IDS.Viewer });
    expect(role.status).toBe(201);
    expect(role.body.inherited_role_id).toBe(WORKSPACE_ROLE_IDS.Viewer);
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const m = await addMember(h, owner.accountId, 'Member');
    await grant(h, owner.accountId, ws.id, owner.key, { userId: m.userId }, role.body.id);

    const res = await h.request('GET', `/api/me/workspaces/${ws.id}/scopes`, { key: m.key });
    expect(res.status).toBe(200);
    const viewer = BUILTIN_WORKSPACE_ROLES.find((r) => r.name === 'Viewer')!.scopes;
    expect(sorted(res.body)).toEqual(sorted([...new Set([...viewer, 'see_secret_blocks'])]));
    expect(res.body).not.toContain('manage_blocks');
  });

  it('change for every holder as soon as the role is updated', async () => {
    const role = await createRole({ name: 'Shrinking', scopes: ['write_workspace_settings'] });
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const m = await addMember(h, owner.accountId, 'Member');
    await grant(h, owner.accountId, ws.id, owner.key, { userId: m.userId }, role.body.id);
    const wsUrl = `/api/accounts/${owner.accountId}/workspaces/${ws.id}`;
    expect((await h.request('PATCH', wsUrl, { key: m.key, body: { description: 'allowed' } })).status).toBe(204);

    expect((await h.request('PATCH', `${base()}/${role.body.id}`, { key: owner.key, body: { scopes: ['see_flows'] } })).status).toBe(204);
    expect((await h.request('PATCH', wsUrl, { key: m.key, body: { description: 'refused' } })).status).toBe(403);
    expect((await h.request('GET', `/api/me/workspaces/${ws.id}/scopes`, { key: m.key })).body).toEqual(['see_flows']);
  });
});

describe('updating and deleting', () => {
  it('updates a custom role with 204 and the new fields read back', async () => {
    const role = await createRole({ name: 'To Update', scopes: ['see_blocks'] });
    const body = { name: 'Updated', description: 'now more', scopes: ['see_workers', 'see_variables', 'see_work_queues'], inherited_role_id: null };
    const res = await h.request('PATCH', `${base()}/${role.body.id}`, { key: owner.key, body });
    expect(res.status).toBe(204);
    const read = await h.request('GET', `${base()}/${role.body.id}`, { key: owner.key });
    expect(read.body).toMatchObject({ name: 'Updated', description: 'now more', inherited_role_id: null });
    expect(sorted(read.body.scopes)).toEqual(['see_variables', 'see_work_queues', 'see_workers']);
  });

  it('refuses to rename a custom role to a taken or built-in name with 409', async () => {
    await createRole({ name: 'Taken Name' });
    const role = await createRole({ name: 'Renamer' });
    for (const name of ['Taken Name', 'Developer']) {
      const res = await h.request('PATCH', `${base()}/${role.body.id}`, { key: owner.key, body: { name } });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('WORKSPACE_ROLE_NAME_TAKEN');
    }
  });

  it('refuses to change or delete a built-in role with 422', async () => {
    const patch = await h.request('PATCH', `${base()}/${WORKSPACE_ROLE_IDS.Viewer}`, { key: owner.key, body: { scopes: ['manage_blocks'] } });
    expect(patch.status).toBe(422);
    expect(patch.body.code).toBe('BUILTIN_ROLE_READ_ONLY');
    const del = await h.request('DELETE', `${base()}/${WORKSPACE_ROLE_IDS.Viewer}`, { key: owner.key });
    expect(del.status).toBe(422);
    expect(del.body.code).toBe('BUILTIN_ROLE_READ_ONLY');
    const read = await h.request('GET', `${base()}/${WORKSPACE_ROLE_IDS.Viewer}`, { key: owner.key });
    expect(read.body.scopes).not.toContain('manage_blocks');
  });

  it('refuses to delete a role still granted with 409, and deletes it with 204 once unused', async () => {
    const role = await createRole({ name: 'In Use', scopes: ['see_flows'] });
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const m = await addMember(h, owner.accountId, 'Member');
    const access = await grant(h, owner.accountId, ws.id, owner.key, { userId: m.userId }, role.body.id);
    const refused = await h.request('DELETE', `${base()}/${role.body.id}`, { key: owner.key });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('WORKSPACE_ROLE_IN_USE');

    expect((await h.request('DELETE', `/api/accounts/${owner.accountId}/workspaces/${ws.id}/user_access/${access.id}`, { key: owner.key })).status).toBe(204);
    const res = await h.request('DELETE', `${base()}/${role.body.id}`, { key: owner.key });
    expect(res.status).toBe(204);
    expect((await h.request('GET', `${base()}/${role.body.id}`, { key: owner.key })).status).toBe(404);
  });

  it('refuses to delete a role that is a workspace default with 409', async () => {
    const role = await createRole({ name: 'Default Role' });
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const set = await h.request('PATCH', `/api/accounts/${owner.accountId}/workspaces/${ws.id}`, { key: owner.key, body: { default_workspace_role_id: role.body.id } });
    expect(set.status).toBe(204);
    const res = await h.request('DELETE', `${base()}/${role.body.id}`, { key: owner.key });
    expect(res.status).toBe(409);
  });
});

describe("another account's custom role", () => {
  it('is 404 to read, change or delete, and 422 as a workspace default', async () => {
    const stranger = await h.bootstrap();
    const theirs = await createRole({ name: 'Theirs' }, stranger.accountId, stranger.key);
    expect((await h.request('GET', `${base()}/${theirs.body.id}`, { key: owner.key })).status).toBe(404);
    expect((await h.request('PATCH', `${base()}/${theirs.body.id}`, { key: owner.key, body: { name: 'Mine now' } })).status).toBe(404);
    expect((await h.request('DELETE', `${base()}/${theirs.body.id}`, { key: owner.key })).status).toBe(404);
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const res = await h.request('PATCH', `/api/accounts/${owner.accountId}/workspaces/${ws.id}`, { key: owner.key, body: { default_workspace_role_id: theirs.body.id } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('UNKNOWN_WORKSPACE_ROLE');
    expect((await h.request('GET', `${base(stranger.accountId)}/${theirs.body.id}`, { key: stranger.key })).body.name).toBe('Theirs');
  });
});
