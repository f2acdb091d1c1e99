// Sign-in with OpenID Connect against a real provider (oidc-provider, run here on 127.0.0.1):
// who gets in (a provider-verified email at a verified domain, or an existing member), with which
// role, and every refusal: wrong audience, replayed or foreign state, unverified email, a domain
// the account has not verified, a user removed at the provider, a user with access elsewhere who
// has not linked; passwords turned off per account; providers, domains and settings over the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../src/authz/permissions.js';
import { startHarness, type Harness } from './support/harness.js';
import { startLocalProvider, type LocalProvider } from './support/oidc-provider.js';
import { addMember } from './support/members.js';
import { COOKIE, PASSWORD, browser, personWithPassword, sessionSetCookie, setFirstPassword, signIn } from './support/people.js';
import { CALLBACK, callback, refusal, startAtProvider, toCallback } from './support/sso-flow.js';

let h: Harness;
let idp: LocalProvider;
let owner: { accountId: string; userId: string; key: string };
let providerId: string;

const api = (path: string) => `/api/accounts/${owner.accountId}${path}`;
let n = 0;
/** A person at the provider, with an email at `domain`. */
function idpUser(domain = 'acme.test', verified = true) {
  const login = `person${++n}`;
  const user = { email: `${login}@${domain}`, email_verified: verified, password: 'provider-password' };
  idp.users.set(login, user);
  return { login, ...user };
}

/** The whole dance up to the callback path (what the provider sends the browser back to). */
async function throughProvider(login: string, query = '') {
  const at = await startAtProvider(h, providerId, query);
  const path = await toCallback(at, await at.submit(login, 'provider-password'));
  return { at, path };
}

beforeAll(async () => {
  h = await startHarness();
  idp = await startLocalProvider([CALLBACK]);
  owner = await h.bootstrap('acme-sso', 'owner@acme.test');
  const created = await h.request('POST', api('/sso/providers'), {
    key: owner.key,
    body: { display_name: 'Acme IdP', issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret },
  });
  expect(created.status, created.text).toBe(201);
  providerId = created.body.id;
  expect((await h.request('PATCH', api('/domains'), { key: owner.key, body: { domain_names: ['acme.test', 'pending.test'] } })).status).toBe(204);
  const domains = await h.request('GET', api('/domains'), { key: owner.key });
  const acme = domains.body.find((d: { name: string }) => d.name === 'acme.test');
  expect((await h.request('POST', api(`/domains/${acme.id}/verify`), { key: owner.key })).status).toBe(200);
});
afterAll(async () => {
  await idp?.close();
  await h?.close();
});

describe('signing in through the provider', () => {
  it('lets a person with a verified email at a verified domain join with the default role, and signs them in', async () => {
    const set = await h.request('PUT', api('/sso/settings'), { key: owner.key, body: { default_account_role_id: ACCOUNT_ROLE_IDS.Admin } });
    expect(set.status).toBe(200);
    const person = idpUser();
    const again = await throughProvider(person.login, '?return_to=/members');
    const done = await callback(h, again.path, again.at.state);
    expect(done.status, done.text).toBe(303);
    expect(done.headers.location).toBe('/members');
    const cookie = sessionSetCookie(done)!;
    expect(cookie.attributes).toMatchObject({ httponly: '', samesite: 'Lax', path: '/' });
    const session = await h.request('GET', '/api/auth/session', { headers: browser({ token: cookie.value }) });
    expect(session.status).toBe(200);
    expect(session.body.user.email).toBe(person.email);
    const membership = await h.handle.store.db
      .selectFrom('account_memberships')
      .select('account_role_id')
      .where('account_id', '=', owner.accountId)
      .where('user_id', '=', session.body.user.id)
      .executeTakeFirstOrThrow();
    expect(membership.account_role_id).toBe(ACCOUNT_ROLE_IDS.Admin);
    const actions = await h.handle.store.db.selectFrom('audit_events').select(['action', 'details']).where('actor_name', '=', session.body.user.handle).execute();
    expect(actions.map((a) => a.action).sort()).toEqual(['sso.identity_linked', 'sso.member_joined', 'user.signed_in']);
    // The next sign-in finds the linked identity: no second user, no second membership.
    const next = await throughProvider(person.login);
    const second = await callback(h, next.path, next.at.state);
    expect(second.headers.location).toBe('/');
    const users = await h.handle.store.db.selectFrom('users').select('id').where('email', '=', person.email).execute();
    expect(users).toHaveLength(1);
    await h.request('PUT', api('/sso/settings'), { key: owner.key, body: { default_account_role_id: ACCOUNT_ROLE_IDS.Member } });
  });

  it('refuses a replayed state: the second use of a callback signs no one in', async () => {
    const person = idpUser();
    const { at, path } = await throughProvider(person.login);
    const first = await callback(h, path, at.state);
    expect(first.status).toBe(303);
    expect(sessionSetCookie(first)).not.toBeNull();
    const replay = await callback(h, path, at.state);
    expect(refusal(replay).code).toBe('SSO_STATE_INVALID');
    expect(sessionSetCookie(replay)).toBeNull();
  });

  it('refuses a callback that comes back to another browser (no state cookie), and burns the state', async () => {
    const person = idpUser();
    const { at, path } = await throughProvider(person.login);
    expect(refusal(await callback(h, path, null))).toEqual({ code: 'SSO_STATE_INVALID', detail: expect.stringContaining('another browser') });
    expect(refusal(await callback(h, path, at.state)).code).toBe('SSO_STATE_INVALID');
  });

  it('refuses an id token for another audience, even signed by the provider', async () => {
    const person = idpUser();
    const { at, path } = await throughProvider(person.login);
    idp.wrongAudience = true;
    try {
      const res = await callback(h, path, at.state);
      const { code, detail } = refusal(res);
      expect(code).toBe('SSO_TOKEN_REFUSED');
      expect(detail).toMatch(/aud/);
      expect(sessionSetCookie(res)).toBeNull();
    } finally {
      idp.wrongAudience = false;
    }
    expect(await h.handle.store.db.selectFrom('users').select('id').where('email', '=', person.email).executeTakeFirst()).toBeUndefined();
  });

  it('refuses an email the provider has not verified', async () => {
    const person = idpUser('acme.test', false);
    const { at, path } = await throughProvider(person.login);
    const res = await callback(h, path, at.state);
    expect(refusal(res).code).toBe('SSO_EMAIL_UNVERIFIED');
    expect(sessionSetCookie(res)).toBeNull();
    expect(await h.handle.store.db.selectFrom('users').select('id').where('email', '=', person.email).executeTakeFirst()).toBeUndefined();
  });

  it('refuses an email outside the verified domains, and at a listed but unverified one', async () => {
    for (const domain of ['elsewhere.test', 'pending.test']) {
      const person = idpUser(domain);
      const { at, path } = await throughProvider(person.login);
      const { code, detail } = refusal(await callback(h, path, at.state));
      expect(code).toBe('SSO_DOMAIN_NOT_ALLOWED');
      expect(detail).toContain(domain);
      expect(await h.handle.store.db.selectFrom('users').select('id').where('email', '=', person.email).executeTakeFirst()).toBeUndefined();
    }
  });

  it('admits an invited member at any domain: domains decide who may join, not who may sign in', async () => {
    const person = idpUser('contractor.test');
    await addMemberWithEmail(person.email);
    const { at, path } = await throughProvider(person.login);
    const res = await callback(h, path, at.state);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
  });

  it('cannot sign in a user removed at the provider: its login refuses them, and a code issued before removal is refused', async () => {
    const person = idpUser();
    const first = await throughProvider(person.login);
    expect((await callback(h, first.path, first.at.state)).status).toBe(303);

    // Removed between the provider's answer and Gatehouse redeeming the code.
    const pending = await throughProvider(person.login);
    idp.users.delete(person.login);
    const late = refusal(await callback(h, pending.path, pending.at.state));
    expect(late.code).toBe('SSO_TOKEN_REFUSED');
    expect(late.detail).toMatch(/invalid_grant/);

    // Removed before: the provider's login page refuses them; giving up comes back as access_denied.
    const at = await startAtProvider(h, providerId);
    const tried = await at.submit(person.login, 'provider-password');
    expect(tried.status).toBe(401);
    expect(await tried.text()).toContain('Unknown user');
    const path = await toCallback(at, await at.cancel());
    const res = await callback(h, path, at.state);
    const { code, detail } = refusal(res);
    expect(code).toBe('SSO_PROVIDER_REFUSED');
    expect(detail).toContain('access_denied');
    expect(sessionSetCookie(res)).toBeNull();
  });

  it('will not sign in as an existing user with access elsewhere until that user links the provider', async () => {
    // A user of another account whose email the provider asserts: another account's provider must
    // not become a way into that user's other accounts.
    const other = await personWithPassword(h, PASSWORD, 'linker@acme.test');
    idp.users.set('linker', { email: other.email, email_verified: true, password: 'provider-password' });
    const { at, path } = await throughProvider('linker');
    expect(refusal(await callback(h, path, at.state)).code).toBe('SSO_LINK_REQUIRED');

    // Signed in as that user, "Link" starts the same sign-in bound to them.
    const session = await signIn(h, other.email, PASSWORD);
    const linkStart = await h.request('GET', `/api/auth/sso/${providerId}/start?link=1`, { headers: browser(session) });
    expect(linkStart.status).toBe(303);
    expect(String(linkStart.headers.location)).toContain(idp.issuer);
    const linking = await startAtProviderWithSession(session.token);
    const done = await callback(h, linking.path, linking.state);
    expect(done.status, done.text).toBe(303);
    const linked = await h.handle.store.db.selectFrom('sso_identities').select(['user_id', 'subject']).where('provider_id', '=', providerId).where('subject', '=', 'linker').executeTakeFirstOrThrow();
    expect(linked.user_id).toBe(other.userId);
    // From now on the provider signs them in directly.
    const again = await throughProvider('linker');
    expect((await callback(h, again.path, again.at.state)).headers.location).toBe('/');
  });

  it('never returns to another site', async () => {
    const person = idpUser();
    for (const target of ['//evil.example/x', '/\\evil.example', 'https://evil.example/']) {
      const { at, path } = await throughProvider(person.login, `?return_to=${encodeURIComponent(target)}`);
      expect((await callback(h, path, at.state)).headers.location).toBe('/');
    }
  });

  it('answers an unknown or disabled provider by sending the browser back to the sign-in page', async () => {
    const res = await h.request('GET', '/api/auth/sso/00000000-0000-4000-8000-000000000000/start');
    expect(refusal(res).code).toBe('NOT_FOUND');
    expect(refusal(await h.request('GET', '/api/auth/sso/callback')).code).toBe('SSO_STATE_INVALID');
  });
});

describe('passwords turned off for an account', () => {
  it('is refused while the account has no enabled provider', async () => {
    const other = await h.bootstrap();
    const res = await h.request('PUT', `/api/accounts/${other.accountId}/sso/settings`, { key: other.key, body: { passwords_disabled: true } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('SSO_PROVIDER_REQUIRED');
  });

  it("refuses members' password sign-in naming the account, while its Owner keeps a password (bypass:sso)", async () => {
    const member = await addMember(h, owner.accountId, 'Admin');
    await setFirstPassword(h, member.email);
    await setFirstPassword(h, 'owner@acme.test');
    expect((await h.request('POST', '/api/auth/login', { body: { email: member.email, password: PASSWORD } })).status).toBe(200);
    const off = await h.request('PUT', api('/sso/settings'), { key: owner.key, body: { passwords_disabled: true } });
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ account_id: owner.accountId, default_account_role_id: ACCOUNT_ROLE_IDS.Member, passwords_disabled: true });
    try {
      const refused = await h.request('POST', '/api/auth/login', { body: { email: member.email, password: PASSWORD } });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('PASSWORD_SIGN_IN_DISABLED');
      expect(refused.body.detail).toContain('acme-sso');
      expect(sessionSetCookie(refused)).toBeNull();
      // A wrong password is still just wrong: the refusal tells a guesser nothing.
      const wrong = await h.request('POST', '/api/auth/login', { body: { email: member.email, password: 'not the password' } });
      expect(wrong.status).toBe(401);
      expect(wrong.body.code).toBe('INVALID_LOGIN');
      const ownerLogin = await h.request('POST', '/api/auth/login', { body: { email: 'owner@acme.test', password: PASSWORD } });
      expect(ownerLogin.status).toBe(200);
    } finally {
      await h.request('PUT', api('/sso/settings'), { key: owner.key, body: { passwords_disabled: false } });
    }
    expect((await h.request('POST', '/api/auth/login', { body: { email: member.email, password: PASSWORD } })).status).toBe(200);
  });
});

describe('providers over the API', () => {
  it('never reads the client secret back, and keeps it sealed in the store', async () => {
    const list = await h.request('GET', api('/sso/providers'), { key: owner.key });
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      {
        id: providerId,
        created: expect.any(String),
        updated: expect.any(String),
        account_id: owner.accountId,
        display_name: 'Acme IdP',
        issuer: idp.issuer,
        client_id: idp.clientId,
        has_client_secret: true,
        enabled: true,
      },
    ]);
    expect(list.text).not.toContain(idp.clientSecret);
    const rows = JSON.stringify(await h.handle.store.db.selectFrom('sso_providers').selectAll().execute());
    expect(rows).not.toContain(idp.clientSecret);
    const audit = JSON.stringify(await h.handle.store.db.selectFrom('audit_events').selectAll().execute());
    expect(audit).not.toContain(idp.clientSecret);
  });

  it('checks a provider by reading its discovery document', async () => {
    const ok = await h.request('POST', api(`/sso/providers/${providerId}/check`), { key: owner.key });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true, detail: expect.stringContaining('/auth'), authorization_endpoint: `${idp.issuer}/auth` });
    const broken = await h.request('POST', api('/sso/providers'), { key: owner.key, body: { display_name: 'Gone', issuer: 'http://127.0.0.1:9/', client_id: 'x' } });
    const check = await h.request('POST', api(`/sso/providers/${broken.body.id}/check`), { key: owner.key });
    expect(check.status).toBe(200);
    expect(check.body.ok).toBe(false);
    expect((await h.request('DELETE', api(`/sso/providers/${broken.body.id}`), { key: owner.key })).status).toBe(204);
  });

  it('refuses an issuer that is not https (http only on loopback)', async () => {
    const res = await h.request('POST', api('/sso/providers'), { key: owner.key, body: { display_name: 'Plain', issuer: 'http://idp.example.com', client_id: 'x' } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('SSO_ISSUER_INVALID');
  });

  it('stops offering and accepting a disabled provider', async () => {
    const person = idpUser();
    const { at, path } = await throughProvider(person.login);
    expect((await h.request('PATCH', api(`/sso/providers/${providerId}`), { key: owner.key, body: { enabled: false } })).status).toBe(204);
    try {
      expect(refusal(await callback(h, path, at.state)).code).toBe('NOT_FOUND');
      expect((await h.request('GET', '/api/auth/sso/discover?account=acme-sso')).body).toEqual([]);
    } finally {
      await h.request('PATCH', api(`/sso/providers/${providerId}`), { key: owner.key, body: { enabled: true } });
    }
    expect((await h.request('GET', '/api/auth/sso/discover?account=acme-sso')).body).toEqual([
      { provider_id: providerId, display_name: 'Acme IdP', account_handle: 'acme-sso', account_name: 'Account acme-sso' },
    ]);
    expect((await h.request('GET', '/api/auth/sso/discover?email=someone@acme.test')).body).toHaveLength(1);
    expect((await h.request('GET', '/api/auth/sso/discover?email=someone@pending.test')).body).toEqual([]);
  });
});

describe('domains (Terraform prefect_account.domain_names)', () => {
  it('sets the list exactly, keeps verification of kept names, and refuses a non-domain', async () => {
    const other = await h.bootstrap();
    const url = `/api/accounts/${other.accountId}/domains`;
    expect((await h.request('PATCH', url, { key: other.key, body: { domain_names: ['Beta.Test', 'gamma.test'] } })).status).toBe(204);
    let list = await h.request('GET', url, { key: other.key });
    expect(list.body.map((d: { name: string; verified: boolean }) => [d.name, d.verified])).toEqual([
      ['beta.test', false],
      ['gamma.test', false],
    ]);
    expect(list.body[0]).toEqual({ id: expect.any(String), created: expect.any(String), updated: expect.any(String), account_id: other.accountId, name: 'beta.test', verified: false, verified_at: null, verified_by: null });
    const verified = await h.request('POST', `${url}/${list.body[0].id}/verify`, { key: other.key });
    expect(verified.body).toMatchObject({ name: 'beta.test', verified: true, verified_by: 'owner' });
    expect((await h.request('PATCH', url, { key: other.key, body: { domain_names: ['beta.test'] } })).status).toBe(204);
    list = await h.request('GET', url, { key: other.key });
    expect(list.body).toEqual([expect.objectContaining({ name: 'beta.test', verified: true })]);
    const bad = await h.request('PATCH', url, { key: other.key, body: { domain_names: ['not a domain'] } });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('DOMAIN_INVALID');
  });

  it('lets one account only verify a domain', async () => {
    const other = await h.bootstrap();
    const url = `/api/accounts/${other.accountId}/domains`;
    await h.request('PATCH', url, { key: other.key, body: { domain_names: ['acme.test'] } });
    const [row] = (await h.request('GET', url, { key: other.key })).body;
    const res = await h.request('POST', `${url}/${row.id}/verify`, { key: other.key });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('DOMAIN_VERIFIED_ELSEWHERE');
  });

  it('is verified when an Owner signs in through the provider with a verified email there', async () => {
    await h.request('PATCH', api('/domains'), { key: owner.key, body: { domain_names: ['acme.test', 'pending.test', 'proved.test'] } });
    // The Owner's identity at the provider carries an email at proved.test; linked while signed in.
    idp.users.set('the-owner', { email: 'owner@proved.test', email_verified: true, password: 'provider-password' });
    await setFirstPassword(h, 'owner@acme.test');
    const session = await signIn(h, 'owner@acme.test', PASSWORD);
    const linking = await startAtProviderWithSession(session.token, 'the-owner');
    expect((await callback(h, linking.path, linking.state)).status).toBe(303);
    const domains = (await h.request('GET', api('/domains'), { key: owner.key })).body;
    expect(domains.find((d: { name: string }) => d.name === 'proved.test')).toMatchObject({ verified: true, verified_by: 'sign_in' });
    expect(domains.find((d: { name: string }) => d.name === 'pending.test')).toMatchObject({ verified: false });
  });
});

/** The link flow: /start?link=1 with the session cookie, then the provider's login as `login`. */
async function startAtProviderWithSession(token: string, login = 'linker') {
  const start = await h.request('GET', `/api/auth/sso/${providerId}/start?link=1`, { headers: { cookie: `${COOKIE}=${token}` } });
  expect(start.status).toBe(303);
  const line = ([] as string[]).concat(start.headers['set-cookie'] as string[] | string).find((c) => c.startsWith('gatehouse_sso_state='))!;
  const state = decodeURIComponent(line.split(';')[0].split('=')[1]);
  const at = await startAtProviderFrom(String(start.headers.location));
  const path = await toCallback(at, await at.submit(login, 'provider-password'));
  return { state, path };
}

async function startAtProviderFrom(location: string) {
  // Reuses the flow helper's provider half by faking the Gatehouse half.
  const fake = { request: async () => ({ status: 303, headers: { location, 'set-cookie': ['gatehouse_sso_state=x'] }, body: undefined, text: '' }) } as unknown as Harness;
  return startAtProvider(fake, providerId);
}

async function addMemberWithEmail(email: string) {
  const { randomUUID } = await import('node:crypto');
  const db = h.handle.store.db;
  const now = h.clock.now().toISOString();
  const userId = randomUUID();
  const actorId = randomUUID();
  await db
    .insertInto('users')
    .values({ id: userId, actor_id: actorId, handle: email.split('@')[0], email, first_name: '', last_name: '', location: null, title: null, image_location: null, settings: '{}', last_login: null, password_hash: null, created: now, updated: now })
    .execute();
  await db
    .insertInto('account_memberships')
    .values({ id: randomUUID(), account_id: owner.accountId, actor_id: actorId, user_id: userId, bot_id: null, account_role_id: ACCOUNT_ROLE_IDS.Member, created: now, updated: now })
    .execute();
}
