// First-run setup in a browser: while no account exists, a one-time token (printed by
// `gatehouse start` as a link) lets one person create the first account and its Owner with a
// password, and signs them in. Afterwards setup is closed for good.
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';
import { browser, sessionSetCookie, signIn } from './support/people.js';
import { sha256 } from './support/shapes.js';

const DAY_MS = 24 * 60 * 60 * 1000;

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** A fresh, empty Gatehouse and a setup token for it. */
async function empty(): Promise<string> {
  h = await startHarness();
  const token = await h.app.services.setup.issueToken();
  expect(token).toEqual(expect.any(String));
  return token!;
}

const form = (token: string, overrides: Record<string, unknown> = {}) => ({
  token,
  account_name: 'Acme Data',
  account_handle: 'acme',
  email: 'ada@example.com',
  password: 'first owner passphrase',
  first_name: 'Ada',
  last_name: 'Lovelace',
  ...overrides,
});

async function nothingCreated() {
  expect((await h.request('GET', '/api/setup')).body).toEqual({ needed: true });
  expect(await h.handle.store.db.selectFrom('users').select('id').execute()).toEqual([]);
}

describe('first-run setup', () => {
  it('is needed on an empty store and no longer once an account exists', async () => {
    h = await startHarness();
    const res = await h.request('GET', '/api/setup');
    expect([res.status, res.body]).toEqual([200, { needed: true }]);
    await h.bootstrap();
    expect((await h.request('GET', '/api/setup')).body).toEqual({ needed: false });
    expect(await h.app.services.setup.issueToken()).toBeNull();
  });

  it('creates the account and its Owner, signs them in, and the password works afterwards', async () => {
    const token = await empty();
    const res = await h.request('POST', '/api/setup', { body: form(token) });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      account_id: expect.any(String),
      user_id: expect.any(String),
      csrf_token: expect.any(String),
      expires_at: expect.any(String),
    });
    const cookie = sessionSetCookie(res)!;
    expect(cookie.attributes).toMatchObject({ httponly: '', samesite: 'Lax', path: '/' });
    expect(res.text).not.toContain(cookie.value);
    expect(res.headers['cache-control']).toBe('no-store');

    const session = { token: cookie.value };
    const accounts = await h.request('GET', '/api/me/accounts', { headers: browser(session) });
    expect(accounts.body.map((a: Record<string, string>) => [a.account_id, a.account_handle, a.account_name, a.account_role_name])).toEqual([
      [res.body.account_id, 'acme', 'Acme Data', 'Owner'],
    ]);
    const me = await h.request('GET', '/api/me/', { headers: browser(session) });
    expect(me.body).toMatchObject({ id: res.body.user_id, email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace' });
    // The Owner acts with the session and its CSRF token; no API key was made on their behalf.
    const bot = await h.request('POST', `/api/accounts/${res.body.account_id}/bots/`, { headers: browser(session, res.body.csrf_token), body: { name: 'first-bot' } });
    expect(bot.status).toBe(201);
    expect((await h.request('GET', '/api/me/api_keys', { headers: browser(session) })).body).toEqual([]);

    const again = await signIn(h, 'ada@example.com', 'first owner passphrase');
    expect(again.res.body.user.id).toBe(res.body.user_id);
    expect((await h.request('GET', '/api/setup')).body).toEqual({ needed: false });
  });

  it('keeps the token only as a digest, and forgets it once used', async () => {
    const token = await empty();
    const stored = await h.handle.store.db.selectFrom('setup_tokens').selectAll().execute();
    expect(stored.map((t) => t.token_hash)).toEqual([sha256(token)]);
    expect(JSON.stringify(stored)).not.toContain(token);
    expect((await h.request('POST', '/api/setup', { body: form(token) })).status).toBe(201);
    expect(await h.handle.store.db.selectFrom('setup_tokens').selectAll().execute()).toEqual([]);
    const user = await h.handle.store.db.selectFrom('users').select('password_hash').executeTakeFirstOrThrow();
    expect(user.password_hash).toMatch(/^\$argon2id\$/);
    const audit = JSON.stringify(await h.handle.store.db.selectFrom('audit_events').selectAll().execute());
    expect(audit).toContain('account.created');
    expect([audit.includes(token), audit.includes('first owner passphrase')]).toEqual([false, false]);
  });

  it('refuses a wrong token with 403 SETUP_TOKEN_INVALID and creates nothing', async () => {
    const token = await empty();
    for (const wrong of ['not-the-token', token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'), token.toUpperCase()]) {
      const res = await h.request('POST', '/api/setup', { body: form(wrong) });
      expect([res.status, res.body.code], wrong).toEqual([403, 'SETUP_TOKEN_INVALID']);
      expect(sessionSetCookie(res)).toBeNull();
    }
    await nothingCreated();
  });

  it('refuses a token once 24 hours have passed; a newly issued one works', async () => {
    const token = await empty();
    h.clock.advance(DAY_MS + 1000);
    const res = await h.request('POST', '/api/setup', { body: form(token) });
    expect([res.status, res.body.code]).toEqual([403, 'SETUP_TOKEN_INVALID']);
    await nothingCreated();
    const fresh = await h.app.services.setup.issueToken();
    expect((await h.request('POST', '/api/setup', { body: form(fresh!) })).status).toBe(201);
  });

  it('refuses a short password with 422 and leaves the token usable', async () => {
    const token = await empty();
    const res = await h.request('POST', '/api/setup', { body: form(token, { password: 'short' }) });
    expect([res.status, res.body.code]).toEqual([422, 'PASSWORD_TOO_SHORT']);
    await nothingCreated();
    expect((await h.request('POST', '/api/setup', { body: form(token) })).status).toBe(201);
  });

  it('validates the form before anything else (422 with the field)', async () => {
    const token = await empty();
    const res = await h.request('POST', '/api/setup', { body: form(token, { email: 'not-an-email' }) });
    expect(res.status).toBe(422);
    expect(res.body.detail[0].loc).toEqual(['body', 'email']);
    await nothingCreated();
  });

  it('is closed after success: a second setup is 409 SETUP_DONE, with the used token or any other', async () => {
    const token = await empty();
    expect((await h.request('POST', '/api/setup', { body: form(token) })).status).toBe(201);
    for (const body of [form(token, { account_handle: 'second', email: 'eve@example.com' }), form('anything', { account_handle: 'third' })]) {
      const res = await h.request('POST', '/api/setup', { body });
      expect([res.status, res.body.code]).toEqual([409, 'SETUP_DONE']);
      expect(sessionSetCookie(res)).toBeNull();
    }
    expect(await h.handle.store.db.selectFrom('accounts').select('handle').execute()).toEqual([{ handle: 'acme' }]);
  });

  it('lets only one of several concurrent setups with the same token through', async () => {
    const token = await empty();
    const results = await Promise.all(
      ['one', 'two', 'three'].map((name) => h.request('POST', '/api/setup', { body: form(token, { account_handle: name, email: `${name}@example.com` }) })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    for (const res of results.filter((r) => r.status !== 201)) expect(['SETUP_DONE', 'SETUP_TOKEN_INVALID']).toContain(res.body.code);
    expect(await h.handle.store.db.selectFrom('accounts').select('id').execute()).toHaveLength(1);
    expect(await h.handle.store.db.selectFrom('users').select('id').execute()).toHaveLength(1);
  });
});
