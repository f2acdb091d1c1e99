// SCIM 2.0 provisioning (issue 21, item 3), driven by request sequences shaped like those Okta and
// Microsoft Entra ID send (their published SCIM guides), against the account's SCIM token:
// discovery, Users with filters, PUT and PATCH, deprovisioning that revokes keys and sessions at
// once (on every process), the last-Owner rules, and refusals in SCIM's error shape.
import { describe, expect, it } from 'vitest';
import { secondApp, inject, useHarness, type Harness, type Response } from './support/harness.js';
import { browser, setFirstPassword, signIn } from './support/people.js';

const h = useHarness();
const SCIM_JSON = { 'content-type': 'application/scim+json' };
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface Tenant {
  accountId: string;
  ownerKey: string;
  ownerId: string;
  token: string;
  scim: (method: string, path: string, body?: unknown, token?: string) => Promise<Response>;
}

async function tenant(): Promise<Tenant> {
  const own = await h.bootstrap();
  const made = await h.request('POST', `/api/accounts/${own.accountId}/scim_tokens`, { key: own.key, body: { name: 'Okta' } });
  expect(made.status, made.text).toBe(201);
  const token = made.body.token as string;
  const scim = (method: string, path: string, body?: unknown, t = token) =>
    h.request(method, `/api/accounts/${own.accountId}/scim/v2${path}`, { key: t, body, headers: body === undefined ? {} : SCIM_JSON });
  return { accountId: own.accountId, ownerKey: own.key, ownerId: own.userId, token, scim };
}

const oktaUser = (email: string, externalId: string) => ({
  schemas: [USER],
  userName: email,
  name: { givenName: 'Test', familyName: 'User' },
  emails: [{ primary: true, value: email, type: 'work' }],
  displayName: 'Test User',
  locale: 'en-US',
  externalId,
  groups: [],
  password: '1mz050nq',
  active: true,
});

function expectScimError(res: Response, status: number, code: string, scimType?: string) {
  expect([res.status, res.body?.code], res.text).toEqual([status, code]);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
  expect(res.body).toMatchObject({ schemas: [ERROR], status: String(status), detail: expect.any(String), request_id: expect.any(String) });
  if (scimType) expect(res.body.scimType).toBe(scimType);
}

/** A key and a browser session of a SCIM-provisioned person (the operator sets them a password). */
async function credentialsOf(email: string, userId: string) {
  await setFirstPassword(h, email);
  const session = await signIn(h, email, 'correct horse battery');
  const key = await h.request('POST', `/api/users/${userId}/api_keys`, { headers: browser(session, session.csrf), body: { name: 'laptop' } });
  expect(key.status, key.text).toBe(201);
  return { key: key.body.key as string, session };
}

async function membersOf(t: Tenant): Promise<Array<{ user_id: string; account_role_name: string }>> {
  const res = await h.request('POST', `/api/accounts/${t.accountId}/account_memberships/filter`, { key: t.ownerKey, body: { only_users: true } });
  return res.body;
}

describe('SCIM tokens', () => {
  it('are shown once at creation, listed masked with the base URL, and never stored or audited in plain text', async () => {
    const t = await tenant();
    expect(t.token).toMatch(/^scim_[0-9A-Za-z]{40}$/);
    const list = await h.request('GET', `/api/accounts/${t.accountId}/scim_tokens`, { key: t.ownerKey });
    expect(list.status).toBe(200);
    expect(list.body.base_url).toMatch(new RegExp(`/api/accounts/${t.accountId}/scim/v2$`));
    expect(list.body.tokens).toEqual([expect.objectContaining({ name: 'Okta', masked_token: `${t.token.slice(0, 9)}********`, last_used_at: null })]);
    expect(list.text).not.toContain(t.token);
    await t.scim('GET', '/ServiceProviderConfig');
    const used = await h.request('GET', `/api/accounts/${t.accountId}/scim_tokens`, { key: t.ownerKey });
    expect(used.body.tokens[0].last_used_at).toEqual(expect.any(String));
    const db = h.handle.store.db;
    const stored = JSON.stringify([await db.selectFrom('scim_tokens').selectAll().execute(), await db.selectFrom('audit_events').selectAll().execute()]);
    expect(stored).not.toContain(t.token.slice(5));
    expect(stored).toContain('scim_token.created');
  });

  it('answers a created token with Cache-Control: no-store', async () => {
    const own = await h.bootstrap();
    const made = await h.request('POST', `/api/accounts/${own.accountId}/scim_tokens`, { key: own.key, body: { name: 'Entra ID' } });
    expect(made.status).toBe(201);
    expect(made.headers['cache-control']).toBe('no-store');
  });

  it('refuses a missing, wrong, malformed or revoked token, an API key, and a token of another account with 401 in the SCIM error shape', async () => {
    const a = await tenant();
    const b = await tenant();
    expect((await a.scim('GET', '/Users')).status).toBe(200);
    for (const token of ['', `scim_${'A'.repeat(40)}`, 'scim_short', a.ownerKey, b.token]) {
      const res = await a.scim('GET', '/Users', undefined, token);
      expectScimError(res, 401, 'SCIM_TOKEN_INVALID');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="SCIM"');
    }
    // B's token cannot reach A's users by id either.
    const created = await a.scim('POST', '/Users', oktaUser(`cross-${Date.now()}@example.com`, 'x1'));
    expectScimError(await b.scim('GET', `/Users/${created.body.id}`), 404, 'NOT_FOUND');
    const tokenId = (await h.request('GET', `/api/accounts/${a.accountId}/scim_tokens`, { key: a.ownerKey })).body.tokens[0].id;
    const revoked = await h.request('DELETE', `/api/accounts/${a.accountId}/scim_tokens/${tokenId}`, { key: a.ownerKey });
    expect(revoked.status).toBe(204);
    expectScimError(await a.scim('GET', '/Users'), 401, 'SCIM_TOKEN_INVALID');
    expectScimError(await a.scim('POST', '/Users', oktaUser('after-revoke@example.com', 'x2')), 401, 'SCIM_TOKEN_INVALID');
  });
});

describe('an Okta-shaped provisioning sequence', () => {
  it('finds nobody, creates the person as a Member, finds them, replaces them, deactivates (keys and sessions revoked at once), reactivates and deletes them', async () => {
    const t = await tenant();
    const email = `okta-${Date.now()}@example.com`;
    const filter = `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}&startIndex=1&count=100`;
    const none = await t.scim('GET', filter);
    expect(none.status).toBe(200);
    expect(none.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(none.body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

    const created = await t.scim('POST', '/Users', oktaUser(email, '00ujl29u0le5T6Aj10h7'));
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({
      schemas: [USER],
      userName: email,
      externalId: '00ujl29u0le5T6Aj10h7',
      name: { givenName: 'Test', familyName: 'User' },
      displayName: 'Test User',
      emails: [{ value: email, type: 'work', primary: true }],
      active: true,
      meta: { resourceType: 'User', location: expect.stringMatching(new RegExp(`/api/accounts/${t.accountId}/scim/v2/Users/${id}$`)) },
    });
    expect(created.headers.location).toBe(created.body.meta.location);
    expect(created.text).not.toContain('1mz050nq');
    expect((await membersOf(t)).find((m) => m.user_id === id)?.account_role_name).toBe('Member');

    const found = await t.scim('GET', filter);
    expect([found.body.totalResults, found.body.Resources[0]?.id]).toEqual([1, id]);
    expect((await t.scim('GET', `/Users/${id}`)).body.userName).toBe(email);

    const put = await t.scim('PUT', `/Users/${id}`, { ...oktaUser(email, '00ujl29u0le5T6Aj10h7'), id, name: { givenName: 'Tess', familyName: 'User' } });
    expect([put.status, put.body.name.givenName, put.body.displayName]).toEqual([200, 'Tess', 'Tess User']);

    // The person works with a key and a browser session...
    const { key, session } = await credentialsOf(email, id);
    expect((await h.request('GET', `/api/accounts/${t.accountId}`, { key })).status).toBe(200);
    expect((await h.request('GET', '/api/auth/session', { headers: browser(session) })).status).toBe(200);
    // ...until Okta deactivates them (a path-less replace): the very next request is refused.
    const off = await t.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    expect([off.status, off.body.active], off.text).toEqual([200, false]);
    expect((await h.request('GET', '/api/me/', { key })).status).toBe(401);
    expect((await h.request('GET', '/api/auth/session', { headers: browser(session) })).status).toBe(401);
    expect((await membersOf(t)).some((m) => m.user_id === id)).toBe(false);
    // Still readable by the provider, inactive.
    const again = await t.scim('GET', filter);
    expect([again.body.totalResults, again.body.Resources[0].active]).toEqual([1, false]);
    const events = await h.request('POST', `/api/accounts/${t.accountId}/audit_events/filter`, { key: t.ownerKey, body: {} });
    const deprovisioned = events.body.find((e: { action: string }) => e.action === 'scim.user_deprovisioned');
    expect(deprovisioned).toMatchObject({ target_id: id, actor_type: 'system', details: { keys_revoked: 1, sessions_ended: 1 } });
    expect(deprovisioned.actor_name).toContain('SCIM token "Okta"');

    const on = await t.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: true } }] });
    expect([on.status, on.body.active]).toEqual([200, true]);
    expect((await membersOf(t)).find((m) => m.user_id === id)?.account_role_name).toBe('Member');

    expect((await t.scim('DELETE', `/Users/${id}`)).status).toBe(204);
    expectScimError(await t.scim('GET', `/Users/${id}`), 404, 'NOT_FOUND');
    expect((await t.scim('GET', filter)).body.totalResults).toBe(0);
    expect((await membersOf(t)).some((m) => m.user_id === id)).toBe(false);
  });

  it('answers a second POST of the same userName or externalId with 409 uniqueness', async () => {
    const t = await tenant();
    const email = `dup-${Date.now()}@example.com`;
    expect((await t.scim('POST', '/Users', oktaUser(email, 'ext-1'))).status).toBe(201);
    expectScimError(await t.scim('POST', '/Users', oktaUser(email.toUpperCase(), 'ext-2')), 409, 'SCIM_UNIQUENESS', 'uniqueness');
    expectScimError(await t.scim('POST', '/Users', oktaUser(`other-${email}`, 'ext-1')), 409, 'SCIM_UNIQUENESS', 'uniqueness');
  });
});

describe('an Entra ID-shaped provisioning sequence', () => {
  it('matches by a userName that is not an email, updates with value paths, and deprovisions on Replace active "False"', async () => {
    const t = await tenant();
    const upn = `Test_User_${Date.now()}`;
    const email = `${upn.toLowerCase()}@testuser.com`;
    const missing = await t.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${upn}"`)}`);
    expect(missing.body.totalResults).toBe(0);
    // Entra ID sends its bodies as application/scim+json; charset=utf-8.
    const created = await h.request('POST', `/api/accounts/${t.accountId}/scim/v2/Users?aadOptscim062020`, { key: t.token, headers: { 'content-type': 'application/scim+json; charset=utf-8' }, body: {
      schemas: [USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      userName: upn,
      active: true,
      emails: [{ primary: true, type: 'work', value: email }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
    } });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    expect(created.body).toMatchObject({ userName: upn, emails: [{ value: email, type: 'work', primary: true }] });
    const byName = await t.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${upn.toLowerCase()}"`)}`);
    expect(byName.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
    const byExternal = await t.scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"')}`);
    expect(byExternal.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);

    const patched = await t.scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: `updated-${email}` },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
        { op: 'Add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'Data' },
      ],
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ userName: upn, emails: [{ value: `updated-${email}` }], name: { familyName: 'updatedFamilyName' } });

    const { key } = await credentialsOf(`updated-${email}`, id);
    expect((await h.request('GET', `/api/accounts/${t.accountId}`, { key })).status).toBe(200);
    const off = await t.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect([off.status, off.body.active], off.text).toEqual([200, false]);
    expect((await h.request('GET', '/api/me/', { key })).status).toBe(401);

    expectScimError(await t.scim('GET', '/Users/5171a35d82074e068ce2'), 404, 'NOT_FOUND');
    expect((await t.scim('DELETE', `/Users/${id}`)).status).toBe(204);
  });
});

describe('filters', () => {
  it('evaluate eq, co, sw, pr, and, or, not and value paths the way identity providers write them', async () => {
    const t = await tenant();
    const stamp = Date.now();
    const ids: Record<string, string> = {};
    for (const [name, given] of [['ada', 'Ada'], ['alan', 'Alan'], ['grace', 'Grace']] as const) {
      const res = await t.scim('POST', '/Users', { ...oktaUser(`${name}-${stamp}@corp.example`, `ext-${name}-${stamp}`), name: { givenName: given, familyName: 'X' } });
      ids[name] = res.body.id;
    }
    const query = async (filter: string) => {
      const res = await t.scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect(res.status, `${filter}: ${res.text}`).toBe(200);
      return (res.body.Resources as { id: string }[]).map((r) => r.id).filter((id) => Object.values(ids).includes(id)).sort();
    };
    const sorted = (...names: string[]) => names.map((n) => ids[n]).sort();
    expect(await query(`userName eq "ADA-${stamp}@corp.example"`)).toEqual(sorted('ada'));
    expect(await query(`emails[type eq "work"].value eq "alan-${stamp}@corp.example"`)).toEqual(sorted('alan'));
    expect(await query(`externalId eq "ext-grace-${stamp}"`)).toEqual(sorted('grace'));
    expect(await query(`externalId eq "EXT-GRACE-${stamp}"`)).toEqual([]);
    expect(await query(`displayName eq "Ada X"`)).toEqual(sorted('ada'));
    expect(await query(`userName sw "a" and userName co "${stamp}"`)).toEqual(sorted('ada', 'alan'));
    expect(await query(`userName eq "ada-${stamp}@corp.example" or name.givenName eq "Grace"`)).toEqual(sorted('ada', 'grace'));
    expect(await query(`externalId pr and not (userName sw "a")`)).toEqual(sorted('grace'));
    expect(await query(`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alan-${stamp}@corp.example"`)).toEqual(sorted('alan'));
    expect(await query(`active eq true and userName co "${stamp}"`)).toEqual(sorted('ada', 'alan', 'grace'));
  });

  it('pages with startIndex and count', async () => {
    const t = await tenant();
    for (let i = 0; i < 3; i++) await t.scim('POST', '/Users', oktaUser(`page-${i}-${Date.now()}@example.com`, `p${i}`));
    const page = await t.scim('GET', '/Users?startIndex=2&count=2');
    // The Owner and three provisioned people.
    expect([page.body.totalResults, page.body.startIndex, page.body.itemsPerPage]).toEqual([4, 2, 2]);
    const counted = await t.scim('GET', '/Users?count=0');
    expect([counted.body.totalResults, counted.body.Resources]).toEqual([4, []]);
  });

  it('refuses a malformed filter or an attribute it cannot filter on with 400 invalidFilter', async () => {
    const t = await tenant();
    for (const filter of ['userName eq', 'userName eq "a" and', '(userName eq "a"', 'userName xx "a"', 'password eq "x"', 'emails[type eq "work"', '"a" eq userName']) {
      expectScimError(await t.scim('GET', `/Users?filter=${encodeURIComponent(filter)}`), 400, 'SCIM_INVALID_FILTER', 'invalidFilter');
    }
    expectScimError(await t.scim('GET', '/Users?count=ten'), 400, 'SCIM_INVALID_VALUE', 'invalidValue');
  });
});

describe('deprovisioning', () => {
  it('is refused with 409 and a reason for the account\'s last Owner, and for the last Owner of a workspace', async () => {
    const t = await tenant();
    const off = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] };
    const owner = await t.scim('PATCH', `/Users/${t.ownerId}`, off);
    expectScimError(owner, 409, 'LAST_OWNER');
    expect(owner.body.detail).toMatch(/only Owner of this account.*make someone else Owner/);
    expectScimError(await t.scim('DELETE', `/Users/${t.ownerId}`), 409, 'LAST_OWNER');
    expect((await h.request('GET', '/api/me/', { key: t.ownerKey })).status).toBe(200);

    // A Member who is the only Owner of a workspace.
    const member = await t.scim('POST', '/Users', oktaUser(`wsowner-${Date.now()}@example.com`, 'w1'));
    const ws = await h.request('POST', `/api/accounts/${t.accountId}/workspaces/`, { key: t.ownerKey, body: { name: 'Solo', handle: `solo-${Date.now()}` } });
    const grants = await h.request('POST', `/api/accounts/${t.accountId}/workspaces/${ws.body.id}/user_access/`, { key: t.ownerKey, body: { user_id: member.body.id, workspace_role_id: 'b0000000-0000-4000-8000-000000000001' } });
    expect(grants.status, grants.text).toBe(200);
    // The workspace's creator steps down, leaving the provisioned person its only Owner.
    const access = await h.request('POST', `/api/accounts/${t.accountId}/workspaces/${ws.body.id}/user_access/filter`, { key: t.ownerKey, body: {} });
    const creators = access.body.filter((a: { user_id: string }) => a.user_id === t.ownerId);
    for (const grant of creators) expect((await h.request('DELETE', `/api/accounts/${t.accountId}/workspaces/${ws.body.id}/user_access/${grant.id}`, { key: t.ownerKey })).status).toBe(204);
    const refused = await t.scim('PATCH', `/Users/${member.body.id}`, off);
    expectScimError(refused, 409, 'LAST_WORKSPACE_OWNER');
    expect(refused.body.detail).toContain('only Owner of the workspace');
    expect((await t.scim('GET', `/Users/${member.body.id}`)).body.active).toBe(true);
  });

  it('takes a person who also belongs to another account out of this one only: their key keeps working there', async () => {
    const a = await tenant();
    const b = await h.bootstrap();
    const email = `two-accounts-${Date.now()}@example.com`;
    const created = await a.scim('POST', '/Users', oktaUser(email, 'two'));
    const { key } = await credentialsOf(email, created.body.id);
    const invite = await h.request('POST', `/api/accounts/${b.accountId}/invitations/`, { key: b.key, body: { email, account_role_id: 'a0000000-0000-4000-8000-000000000003' } });
    expect(invite.status, invite.text).toBe(201);
    const code = new URLSearchParams(new URL(invite.body.accept_url).hash.slice(1)).get('invite_code')!;
    const accepted = await h.request('POST', `/api/invitations/${invite.body.id}/accept?invite_code=${encodeURIComponent(code)}`, { key });
    expect(accepted.status, accepted.text).toBeLessThan(300);
    expect((await h.request('GET', `/api/accounts/${b.accountId}`, { key })).status).toBe(200);

    const off = await a.scim('PATCH', `/Users/${created.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect(off.status).toBe(200);
    expect((await h.request('GET', `/api/accounts/${a.accountId}`, { key })).status).toBe(404);
    expect((await h.request('GET', `/api/accounts/${b.accountId}`, { key })).status).toBe(200);
    // Nor may A's identity provider rename a person B also knows.
    const renamed = await a.scim('PUT', `/Users/${created.body.id}`, { ...oktaUser(`renamed-${email}`, 'two'), active: false });
    expectScimError(renamed, 400, 'SCIM_MUTABILITY', 'mutability');
  });

  it('is in force on every process at once: another process that just accepted the key refuses it', async () => {
    const t = await tenant();
    const email = `procs-${Date.now()}@example.com`;
    const created = await t.scim('POST', '/Users', oktaUser(email, 'procs'));
    const { key } = await credentialsOf(email, created.body.id);
    const other = await secondApp(h);
    try {
      expect((await inject(other, 'GET', `/api/accounts/${t.accountId}`, { key })).status).toBe(200);
      expect((await inject(other, 'GET', `/api/accounts/${t.accountId}`, { key })).status).toBe(200);
      const off = await t.scim('PATCH', `/Users/${created.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
      expect(off.status).toBe(200);
      expect((await inject(other, 'GET', `/api/accounts/${t.accountId}`, { key })).status).toBe(401);
    } finally {
      await other.server.close();
    }
  });
});

describe('bad requests', () => {
  it('answer 4xx in the SCIM error shape, never 500', async () => {
    const t = await tenant();
    const id = (await t.scim('POST', '/Users', oktaUser(`bad-${Date.now()}@example.com`, 'bad'))).body.id;
    const raw = (method: string, path: string, body: string, type = 'application/scim+json') =>
      h.request(method, `/api/accounts/${t.accountId}/scim/v2${path}`, { key: t.token, rawBody: body, headers: { 'content-type': type } });
    expectScimError(await raw('POST', '/Users', '{"userName": '), 400, 'INVALID_JSON', 'invalidSyntax');
    expectScimError(await raw('POST', '/Users', 'userName=x', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectScimError(await t.scim('POST', '/Users', [1, 2]), 400, 'SCIM_INVALID_VALUE', 'invalidValue');
    expectScimError(await t.scim('POST', '/Users', { schemas: [USER] }), 400, 'SCIM_INVALID_VALUE', 'invalidValue');
    expectScimError(await t.scim('POST', '/Users', { userName: 'not an email' }), 400, 'SCIM_INVALID_VALUE', 'invalidValue');
    expectScimError(await t.scim('POST', '/Users', { userName: 'a@b.example', active: 'maybe' }), 400, 'SCIM_INVALID_VALUE', 'invalidValue');
    expectScimError(await t.scim('POST', '/Users', { userName: 'a@b.example', name: 'Ada' }), 400, 'SCIM_INVALID_VALUE', 'invalidValue');
    expectScimError(await t.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP] }), 400, 'SCIM_INVALID_SYNTAX', 'invalidSyntax');
    expectScimError(await t.scim('PATCH', `/Users/${id}`, { Operations: [{ op: 'move', path: 'active' }] }), 400, 'SCIM_INVALID_SYNTAX', 'invalidSyntax');
    expectScimError(await t.scim('PATCH', `/Users/${id}`, { Operations: [{ op: 'remove' }] }), 400, 'SCIM_NO_TARGET', 'noTarget');
    expectScimError(await t.scim('PATCH', `/Users/${id}`, { Operations: [{ op: 'replace', path: 'emails[type eq', value: 'x' }] }), 400, 'SCIM_INVALID_PATH', 'invalidPath');
    expectScimError(await t.scim('PATCH', `/Users/${id}`, { Operations: [{ op: 'replace', path: 'active', value: 'perhaps' }] }), 400, 'SCIM_INVALID_VALUE', 'invalidValue');
    expectScimError(await t.scim('PATCH', `/Users/${id}`, { Operations: [{ op: 'replace', path: 'userName', value: 42 }] }), 400, 'SCIM_INVALID_VALUE', 'invalidValue');
    expectScimError(await t.scim('PUT', '/Users/%F0%9F%9A%80', oktaUser('x@y.example', 'z')), 404, 'NOT_FOUND');
    const odd = [null, 0, 'x', {}, [], { Operations: 'x' }, { Operations: [null] }, { Operations: [{ op: 'add', path: 'members', value: [{ value: {} }] }] }, { userName: 'é@ü.example'.repeat(40) }, { userName: 'a@b.example', externalId: {} }];
    for (const body of odd) {
      for (const [method, path] of [['POST', '/Users'], ['PUT', `/Users/${id}`], ['PATCH', `/Users/${id}`]] as const) {
        const res = await t.scim(method, path, body);
        expect(res.status, `${method} ${JSON.stringify(body)}: ${res.text}`).toBeGreaterThanOrEqual(200);
        expect(res.status, `${method} ${JSON.stringify(body)}: ${res.text}`).toBeLessThan(500);
      }
    }
    expect((await t.scim('GET', `/Users/${id}`)).status).toBe(200);
  });

  it('serves the discovery documents', async () => {
    const t = await tenant();
    const config = await t.scim('GET', '/ServiceProviderConfig');
    expect(config.body).toMatchObject({ patch: { supported: true }, filter: { supported: true, maxResults: 200 }, bulk: { supported: false }, authenticationSchemes: [{ type: 'oauthbearertoken' }] });
    const types = await t.scim('GET', '/ResourceTypes');
    expect(types.body.Resources.map((r: { endpoint: string }) => r.endpoint)).toEqual(['/Users', '/Groups']);
    const schemas = await t.scim('GET', '/Schemas');
    expect(schemas.body.Resources.map((r: { id: string }) => r.id)).toEqual([USER, 'urn:ietf:params:scim:schemas:core:2.0:Group']);
  });
});

describe('Groups (teams)', () => {
  const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

  it('follow an Okta group push: create, rename, add and remove members by value path, delete; a member leaving loses the team\'s workspace access at once', async () => {
    const t = await tenant();
    const stamp = Date.now();
    const ada = (await t.scim('POST', '/Users', oktaUser(`g-ada-${stamp}@example.com`, `ga${stamp}`))).body;
    const alan = (await t.scim('POST', '/Users', oktaUser(`g-alan-${stamp}@example.com`, `gl${stamp}`))).body;
    const none = await t.scim('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "Engineering ${stamp}"`)}`);
    expect(none.body.totalResults).toBe(0);
    const created = await t.scim('POST', '/Groups', { schemas: [GROUP], displayName: `Engineering ${stamp}`, members: [] });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    expect(created.body).toMatchObject({ schemas: [GROUP], displayName: `Engineering ${stamp}`, members: [], meta: { resourceType: 'Group' } });
    // It is a Gatehouse team.
    const team = await h.request('GET', `/api/accounts/${t.accountId}/teams/${id}`, { key: t.ownerKey });
    expect([team.status, team.body.name]).toEqual([200, `Engineering ${stamp}`]);

    const renamed = await t.scim('PATCH', `/Groups/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { id, displayName: `Eng ${stamp}` } }] });
    expect([renamed.status, renamed.body.displayName], renamed.text).toEqual([200, `Eng ${stamp}`]);
    const added = await t.scim('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: ada.id, display: ada.userName }, { value: alan.id, display: alan.userName }] }],
    });
    expect(added.status, added.text).toBe(200);
    expect(added.body.members.map((m: { value: string }) => m.value).sort()).toEqual([ada.id, alan.id].sort());

    // The team holds a workspace; Ada reaches it through the team alone.
    const ws = await h.request('POST', `/api/accounts/${t.accountId}/workspaces/`, { key: t.ownerKey, body: { name: `W ${stamp}`, handle: `w-${stamp}` } });
    const grant = await h.request('PUT', `/api/accounts/${t.accountId}/workspaces/${ws.body.id}/team_access/`, { key: t.ownerKey, body: [{ team_id: id, workspace_role_id: 'b0000000-0000-4000-8000-000000000004' }] });
    expect(grant.status, grant.text).toBeLessThan(300);
    const { key } = await credentialsOf(ada.userName, ada.id);
    expect((await h.request('GET', `/api/accounts/${t.accountId}/workspaces/${ws.body.id}`, { key })).status).toBe(200);

    const removed = await t.scim('PATCH', `/Groups/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${ada.id}"]` }] });
    expect(removed.body.members.map((m: { value: string }) => m.value), removed.text).toEqual([alan.id]);
    expect((await h.request('GET', `/api/accounts/${t.accountId}/workspaces/${ws.body.id}`, { key })).status).toBe(404);

    const listed = await t.scim('GET', '/Groups?startIndex=1&count=100&excludedAttributes=members');
    expect(listed.body.Resources.find((g: { id: string }) => g.id === id)).not.toHaveProperty('members');
    expect((await t.scim('DELETE', `/Groups/${id}`)).status).toBe(204);
    expectScimError(await t.scim('GET', `/Groups/${id}`), 404, 'NOT_FOUND');
    expect((await h.request('GET', `/api/accounts/${t.accountId}/teams/${id}`, { key: t.ownerKey })).status).toBe(404);
  });

  it("follow Entra ID's group provisioning: externalId, Add and Remove members as value lists, filters by id and members", async () => {
    const t = await tenant();
    const stamp = Date.now();
    const user = (await t.scim('POST', '/Users', oktaUser(`e-${stamp}@example.com`, `e${stamp}`))).body;
    const created = await t.scim('POST', '/Groups', {
      schemas: [GROUP, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group'],
      externalId: `8aa1a0c0-c4c3-4bc0-b4a5-${stamp}`,
      displayName: `Entra ${stamp}`,
      meta: { resourceType: 'Group' },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    const byExternal = await t.scim('GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-${stamp}"`)}`);
    expect(byExternal.body.Resources.map((g: { id: string }) => g.id)).toEqual([id]);
    const add = await t.scim('PATCH', `/Groups/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ $ref: null, value: user.id }] }] });
    expect(add.status, add.text).toBe(200);
    const member = await t.scim('GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`id eq "${id}" and members[value eq "${user.id}"]`)}`);
    expect(member.body.totalResults).toBe(1);
    const remove = await t.scim('PATCH', `/Groups/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: user.id }] }] });
    expect([remove.status, remove.body.members]).toEqual([200, []]);
    expect((await t.scim('GET', `/Groups?filter=${encodeURIComponent(`id eq "${id}" and members[value eq "${user.id}"]`)}`)).body.totalResults).toBe(0);
    // PUT replaces name and members.
    const put = await t.scim('PUT', `/Groups/${id}`, { schemas: [GROUP], displayName: `Entra renamed ${stamp}`, externalId: `x-${stamp}`, members: [{ value: user.id }] });
    expect([put.status, put.body.displayName, put.body.externalId, put.body.members.length], put.text).toEqual([200, `Entra renamed ${stamp}`, `x-${stamp}`, 1]);
  });

  it('refuses a member who is not a person of the account, a taken displayName and a bad body, in the SCIM error shape', async () => {
    const t = await tenant();
    const other = await tenant();
    const stranger = (await other.scim('POST', '/Users', oktaUser(`stranger-${Date.now()}@example.com`, 's'))).body;
    const name = `G ${Date.now()}`;
    expectScimError(await t.scim('POST', '/Groups', { displayName: name, members: [{ value: stranger.id }] }), 400, 'SCIM_INVALID_VALUE', 'invalidValue');
    // Refused whole: no team was left behind.
    expect((await t.scim('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}`)).body.totalResults).toBe(0);
    expect((await t.scim('POST', '/Groups', { displayName: name })).status).toBe(201);
    expectScimError(await t.scim('POST', '/Groups', { displayName: name }), 409, 'SCIM_UNIQUENESS', 'uniqueness');
    expectScimError(await t.scim('POST', '/Groups', { members: [] }), 400, 'SCIM_INVALID_VALUE', 'invalidValue');
    expectScimError(await t.scim('GET', `/Groups?filter=${encodeURIComponent('members[value eq')}`), 400, 'SCIM_INVALID_FILTER', 'invalidFilter');
    // Another account's token sees none of this account's groups.
    const mine = (await t.scim('GET', '/Groups')).body.Resources[0].id;
    expectScimError(await other.scim('GET', `/Groups/${mine}`), 404, 'NOT_FOUND');
    expectScimError(await other.scim('DELETE', `/Groups/${mine}`), 404, 'NOT_FOUND');
  });
});
