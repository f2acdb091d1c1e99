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
