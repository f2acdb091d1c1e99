// Browser sessions: signing in with email and password sets an HttpOnly cookie that authenticates
// like a key; expiry, sign-out, listing and terminating sessions, and password changes end
// sessions at once, on every process serving the same database.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { secondApp, startHarness, type Harness } from './support/harness.js';
import { addMember } from './support/members.js';
import { PASSWORD, browser, dumpPeopleTables, personWithPassword, sessionSetCookie, setFirstPassword, signIn, type Person } from './support/people.js';
import { sha256 } from './support/shapes.js';

const TTL_SECONDS = 12 * 60 * 60;

let h: Harness;
let second: App;
beforeAll(async () => {
  h = await startHarness();
  // A second server process on the same database: no session state may live in one process.
  second = await secondApp(h);
});
afterAll(async () => {
  await second?.server.close();
  await h?.close();
});

async function onSecond(method: string, url: string, headers: Record<string, string>) {
  const res = await second.server.inject({ method: method as never, url, headers });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

describe('signing in', () => {
  it('sets an HttpOnly, SameSite=Lax session cookie for the whole site, not Secure over plain http', async () => {
    const p = await personWithPassword(h);
    const res = await h.request('POST', '/api/auth/login', { body: { email: p.email, password: p.password } });
    expect(res.status).toBe(200);
    const cookie = sessionSetCookie(res)!;
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(cookie.attributes).toMatchObject({ httponly: '', samesite: 'Lax', path: '/' });
    expect(cookie.attributes).not.toHaveProperty('secure');
    expect(Math.abs(Number(cookie.attributes['max-age']) - TTL_SECONDS)).toBeLessThanOrEqual(2);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      user: expect.objectContaining({ id: p.userId, email: p.email }),
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/),
      expires_at: expect.any(String),
    });
    expect(Math.abs(Date.parse(res.body.expires_at) - (h.clock.now().getTime() + TTL_SECONDS * 1000))).toBeLessThan(5000);
    // The cookie's token is for the cookie alone; scripts get only the CSRF token.
    expect(res.text).not.toContain(cookie.value);
    expect(res.body.csrf_token).not.toBe(cookie.value);
  });

  it('marks the cookie Secure when a trusted proxy says the request came over https, and only then', async () => {
    const p = await personWithPassword(h);
    const behindProxy = await createApp({ store: h.handle.store, cache: h.handle.cache, clock: h.clock, trustProxy: 1 });
    try {
      const login = (app: App) =>
        app.server.inject({
          method: 'POST',
          url: '/api/auth/login',
          headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
          payload: JSON.stringify({ email: p.email, password: p.password }),
        });
      const trusted = await login(behindProxy);
      expect(trusted.statusCode).toBe(200);
      expect(sessionSetCookie(trusted)!.attributes).toHaveProperty('secure');
      // Without trustProxy, X-Forwarded-Proto is just a header anyone can send.
      const untrusted = await login(h.app);
      expect(untrusted.statusCode).toBe(200);
      expect(sessionSetCookie(untrusted)!.attributes).not.toHaveProperty('secure');
    } finally {
      await behindProxy.server.close();
    }
  });

  it('answers a wrong password, an unknown email and a user without a password alike: 401 INVALID_LOGIN, no cookie', async () => {
    const p = await personWithPassword(h);
    const keyOnly = await h.bootstrap();
    const attempts = [
      { email: p.email, password: 'not the password' },
      { email: 'nobody-here@example.com', password: PASSWORD },
      { email: (await h.request('GET', '/api/me/', { key: keyOnly.key })).body.email, password: PASSWORD },
    ];
    for (const body of attempts) {
      const res = await h.request('POST', '/api/auth/login', { body });
      expect([res.status, res.body.code, res.body.detail], body.email).toEqual([401, 'INVALID_LOGIN', 'Email or password is incorrect']);
      expect(sessionSetCookie(res)).toBeNull();
    }
  });
});

describe('a session cookie', () => {
  let p: Person;
  beforeAll(async () => {
    p = await personWithPassword(h);
  });

  it('authenticates GET routes and tells the page who is signed in', async () => {
    const s = await signIn(h, p.email, p.password);
    const me = await h.request('GET', '/api/me/', { headers: browser(s) });
    expect([me.status, me.body.id]).toEqual([200, p.userId]);
    const accounts = await h.request('GET', '/api/me/accounts', { headers: browser(s) });
    expect(accounts.body.map((a: { account_id: string; account_role_name: string }) => [a.account_id, a.account_role_name])).toEqual([[p.accountId, 'Owner']]);
    const state = await h.request('GET', '/api/auth/session', { headers: browser(s) });
    expect(state.status).toBe(200);
    expect(state.body).toEqual({ user: expect.objectContaining({ id: p.userId, email: p.email }), csrf_token: s.csrf, expires_at: s.res.body.expires_at });
    expect(state.text).not.toContain(s.token);
  });

  it("never lets an API key give a user without a password their first one (a leaked key must not become a sign-in)", async () => {
    const member = await addMember(h, p.accountId, 'Member');
    const res = await h.request('POST', '/api/me/password', { key: member.key, body: { new_password: PASSWORD } });
    expect([res.status, res.body.code]).toEqual([403, 'NO_PASSWORD_YET']);
    expect(res.body.detail).toContain('gatehouse set-password');
    expect((await h.request('POST', '/api/auth/login', { body: { email: member.email, password: PASSWORD } })).status).toBe(401);
  });

  it('is authorized exactly like the user: a Member signed in is refused what a Member key is refused', async () => {
    const member = await addMember(h, p.accountId, 'Member');
    await setFirstPassword(h, member.email);
    const s = await signIn(h, member.email, PASSWORD);
    const create = await h.request('POST', `/api/accounts/${p.accountId}/bots/`, { headers: browser(s, s.csrf), body: { name: 'by-member' } });
    expect([create.status, create.body.code]).toEqual([403, 'FORBIDDEN']);
    const stranger = await h.request('GET', `/api/accounts/${member.ownAccountId}`, { headers: browser(await signIn(h, p.email, p.password)) });
    expect([stranger.status, stranger.body.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('stops working once the session has expired, and not a moment before', async () => {
    const local = await startHarness();
    try {
      const person = await personWithPassword(local);
      const s = await signIn(local, person.email, person.password);
      local.clock.advance(TTL_SECONDS * 1000 - 60_000);
      expect((await local.request('GET', '/api/me/', { headers: browser(s) })).status).toBe(200);
      local.clock.advance(61_000);
      for (const url of ['/api/me/', '/api/auth/session']) {
        const res = await local.request('GET', url, { headers: browser(s) });
        expect([res.status, res.body.code], url).toEqual([401, 'UNAUTHENTICATED']);
      }
      expect((await local.request('GET', '/api/me/sessions', { key: person.key })).body).toEqual([]);
    } finally {
      await local.close();
    }
  });

  it('signs out with 204, clears the cookie, and is refused at once on every process', async () => {
    const s = await signIn(h, p.email, p.password);
    expect((await onSecond('GET', '/api/me/', browser(s))).status).toBe(200);
    const out = await h.request('POST', '/api/auth/logout', { headers: browser(s, s.csrf) });
    expect(out.status).toBe(204);
    const cleared = sessionSetCookie(out)!;
    expect(cleared.value).toBe('');
    expect(cleared.attributes['max-age'] === '0' || Date.parse(cleared.attributes.expires) <= Date.now()).toBe(true);
    expect((await h.request('GET', '/api/me/', { headers: browser(s) })).status).toBe(401);
    expect((await onSecond('GET', '/api/me/', browser(s))).status).toBe(401);
    expect((await h.request('POST', '/api/auth/logout', { headers: browser(s, s.csrf) })).status).toBe(401);
  });

  it('tells a key holder that /api/auth/session and logout are for browser sessions', async () => {
    for (const [method, url] of [['GET', '/api/auth/session'], ['POST', '/api/auth/logout']]) {
      const res = await h.request(method, url, { key: p.key });
      expect([res.status, res.body.code], url).toEqual([401, 'SESSION_REQUIRED']);
    }
  });
});

describe("the caller's sessions", () => {
  it('lists active sessions with the wire fields, marking only the current one', async () => {
    const p = await personWithPassword(h);
    const first = await signIn(h, p.email, p.password, { 'user-agent': 'first-browser' });
    const current = await signIn(h, p.email, p.password, { 'user-agent': 'second-browser' });
    for (const [method, url] of [['GET', '/api/me/sessions'], ['POST', '/api/me/sessions/filter']]) {
      const res = await h.request(method, url, { headers: browser(current, current.csrf), body: method === 'POST' ? {} : undefined });
      expect(res.status, url).toBe(200);
      expect(res.body).toHaveLength(2);
      const byAgent = Object.fromEntries(res.body.map((s: { user_agent: string }) => [s.user_agent, s]));
      expect(byAgent['second-browser']).toEqual({
        id: expect.any(String),
        created: expect.any(String),
        updated: expect.any(String),
        user_id: p.userId,
        ip_address: '127.0.0.1',
        location: null,
        user_agent: 'second-browser',
        expires_at: Math.floor(Date.parse(current.res.body.expires_at) / 1000),
        restricted: false,
        current: true,
      });
      expect(byAgent['first-browser'].current).toBe(false);
      expect(res.text).not.toContain(first.token);
      expect(res.text).not.toContain(current.token);
    }
    // With a key there is no current session, but the user's sessions are the same.
    const viaKey = await h.request('GET', '/api/me/sessions', { key: p.key });
    expect(viaKey.body.map((s: { current: boolean }) => s.current)).toEqual([false, false]);
  });

  it("terminates another of one's own sessions: its cookie is refused at once, everywhere", async () => {
    const p = await personWithPassword(h);
    const other = await signIn(h, p.email, p.password, { 'user-agent': 'lost-laptop' });
    const current = await signIn(h, p.email, p.password);
    const list = await h.request('GET', '/api/me/sessions', { headers: browser(current) });
    const target = list.body.find((s: { user_agent: string }) => s.user_agent === 'lost-laptop').id;
    const res = await h.request('POST', `/api/me/sessions/${target}/terminate`, { headers: browser(current, current.csrf) });
    expect(res.status).toBe(204);
    expect((await h.request('GET', '/api/me/', { headers: browser(other) })).status).toBe(401);
    expect((await onSecond('GET', '/api/me/', browser(other))).status).toBe(401);
    expect((await h.request('GET', '/api/me/', { headers: browser(current) })).status).toBe(200);
    const again = await h.request('POST', `/api/me/sessions/${target}/terminate`, { headers: browser(current, current.csrf) });
    expect([again.status, again.body.code]).toEqual([404, 'NOT_FOUND']);
  });

  it("answers 404 to terminating another user's session, which keeps working", async () => {
    const victim = await personWithPassword(h);
    const victimSession = await signIn(h, victim.email, victim.password);
    const [victimId] = (await h.request('GET', '/api/me/sessions', { headers: browser(victimSession) })).body.map((s: { id: string }) => s.id);
    const attacker = await personWithPassword(h);
    const s = await signIn(h, attacker.email, attacker.password);
    for (const options of [{ headers: browser(s, s.csrf) }, { key: attacker.key }]) {
      const res = await h.request('POST', `/api/me/sessions/${victimId}/terminate`, options);
      expect([res.status, res.body.code]).toEqual([404, 'NOT_FOUND']);
    }
    expect((await h.request('GET', '/api/me/', { headers: browser(victimSession) })).status).toBe(200);
  });
});

describe('changing the password', () => {
  it('keeps this session, ends every other one at once, and the new password signs in', async () => {
    const p = await personWithPassword(h);
    const elsewhere = await signIn(h, p.email, p.password);
    const here = await signIn(h, p.email, p.password);
    const res = await h.request('POST', '/api/me/password', { headers: browser(here, here.csrf), body: { current_password: p.password, new_password: 'a brand new passphrase' } });
    expect(res.status).toBe(204);
    expect((await h.request('GET', '/api/me/', { headers: browser(elsewhere) })).status).toBe(401);
    expect((await onSecond('GET', '/api/me/', browser(elsewhere))).status).toBe(401);
    expect((await h.request('GET', '/api/me/', { headers: browser(here) })).status).toBe(200);
    expect((await h.request('POST', '/api/auth/login', { body: { email: p.email, password: p.password } })).status).toBe(401);
    await signIn(h, p.email, 'a brand new passphrase');
  });

  it('refuses a wrong or missing current password (403) and a short new one (422), changing nothing', async () => {
    const p = await personWithPassword(h);
    const s = await signIn(h, p.email, p.password);
    const cases: Array<[unknown, number, string]> = [
      [{ current_password: 'not the password', new_password: 'another passphrase' }, 403, 'WRONG_PASSWORD'],
      [{ new_password: 'another passphrase' }, 403, 'WRONG_PASSWORD'],
      [{ current_password: p.password, new_password: 'short' }, 422, 'PASSWORD_TOO_SHORT'],
    ];
    const before = await h.handle.store.db.selectFrom('users').select('password_hash').where('id', '=', p.userId).executeTakeFirstOrThrow();
    for (const [body, status, code] of cases) {
      const res = await h.request('POST', '/api/me/password', { headers: browser(s, s.csrf), body });
      expect([res.status, res.body.code], JSON.stringify(body)).toEqual([status, code]);
    }
    const after = await h.handle.store.db.selectFrom('users').select('password_hash').where('id', '=', p.userId).executeTakeFirstOrThrow();
    expect(after).toEqual(before);
    expect((await h.request('GET', '/api/me/', { headers: browser(s) })).status).toBe(200);
  });

  it('answers 429 with Retry-After after 5 wrong current passwords, even to the right one, for that user only', async () => {
    const p = await personWithPassword(h);
    const other = await personWithPassword(h);
    const s = await signIn(h, p.email, p.password);
    const change = (session: typeof s, current: string) =>
      h.request('POST', '/api/me/password', { headers: browser(session, session.csrf), body: { current_password: current, new_password: 'a brand new passphrase' } });
    for (let i = 0; i < 5; i++) expect((await change(s, `wrong guess ${i}`)).status).toBe(403);
    const limited = await change(s, p.password);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const unchanged = await h.handle.store.db.selectFrom('users').select('password_hash').where('id', '=', p.userId).executeTakeFirstOrThrow();
    expect(await signIn(h, p.email, p.password)).toBeTruthy();
    const otherSession = await signIn(h, other.email, other.password);
    expect((await change(otherSession, other.password)).status).toBe(204);
    h.clock.advance(15 * 60 * 1000);
    expect((await change(s, p.password)).status).toBe(204);
    const changed = await h.handle.store.db.selectFrom('users').select('password_hash').where('id', '=', p.userId).executeTakeFirstOrThrow();
    expect(changed).not.toEqual(unchanged);
  });
});

describe('keys and cookies together', () => {
  it('lets a Bearer key do everything without a CSRF token, even with a cookie beside it', async () => {
    const p = await personWithPassword(h);
    const s = await signIn(h, p.email, p.password);
    const plain = await h.request('POST', `/api/accounts/${p.accountId}/bots/`, { key: p.key, body: { name: 'key-made' } });
    expect(plain.status).toBe(201);
    const withCookie = await h.request('POST', `/api/accounts/${p.accountId}/bots/`, { key: p.key, headers: browser(s), body: { name: 'key-made-too' } });
    expect(withCookie.status).toBe(201);
  });

  it('never rescues a bad Authorization header with a valid cookie', async () => {
    const p = await personWithPassword(h);
    const s = await signIn(h, p.email, p.password);
    const broken = p.key.slice(0, -1) + (p.key.endsWith('a') ? 'b' : 'a');
    for (const authorization of [`Bearer ${broken}`, 'Bearer ', 'Basic dXNlcjpwYXNz', `Bearer ${p.key} extra`]) {
      const res = await h.request('GET', '/api/me/', { headers: { ...browser(s), authorization } });
      expect([res.status, res.body.code], authorization).toEqual([401, 'UNAUTHENTICATED']);
    }
  });
});

describe('secrets of people', () => {
  it('keeps session tokens and passwords out of the database, the log at trace level, audit rows and responses', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logged = await createApp({ store: h.handle.store, cache: h.handle.cache, clock: h.clock, logger: pino({ level: 'trace' }, sink) });
    const responses: string[] = [];
    const send = async (method: string, url: string, headers: Record<string, string>, body?: unknown) => {
      const res = await logged.server.inject({ method: method as never, url, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });
      responses.push(res.body, JSON.stringify(res.headers).replace(/gatehouse_session=[^;"]*/g, ''));
      return res;
    };
    try {
      const p = await personWithPassword(h, 'first secret passphrase');
      const login = await send('POST', '/api/auth/login', {}, { email: p.email, password: p.password });
      const token = sessionSetCookie(login)!.value;
      const csrf = JSON.parse(login.body).csrf_token as string;
      const cookie = browser({ token }, csrf);
      await send('POST', '/api/auth/login', {}, { email: p.email, password: 'wrong secret passphrase' });
      await send('GET', '/api/auth/session', cookie);
      await send('GET', '/api/me/sessions', cookie);
      await send('POST', '/api/me/password', cookie, { current_password: p.password, new_password: 'second secret passphrase' });
      await send('POST', '/api/me/password', cookie, { current_password: 'wrong secret passphrase', new_password: 'third secret passphrase' });
      await send('POST', '/api/auth/logout', cookie);

      const secrets = [token, 'first secret passphrase', 'second secret passphrase', 'wrong secret passphrase', 'third secret passphrase'];
      const log = lines.join('');
      expect(log).toContain('/api/auth/login');
      const dump = await dumpPeopleTables(h);
      const audit = JSON.stringify(await h.handle.store.db.selectFrom('audit_events').selectAll().execute());
      expect(audit).toContain('user.signed_in');
      for (const [where, text] of [['log', log], ['database', dump], ['audit', audit], ['responses', responses.join('\n')]] as const) {
        expect(secrets.filter((secret) => text.includes(secret)), where).toEqual([]);
      }
      // The CSRF token is handed to the page in bodies, but is stored and logged nowhere.
      expect([log.includes(csrf), dump.includes(csrf)]).toEqual([false, false]);
      const user = await h.handle.store.db.selectFrom('users').select('password_hash').where('id', '=', p.userId).executeTakeFirstOrThrow();
      expect(user.password_hash).toMatch(/^\$argon2id\$/);
      const row = await h.handle.store.db.selectFrom('sessions').select('token_hash').where('user_id', '=', p.userId).executeTakeFirst();
      // Logged out: the session row is gone; a live one stores only the digest.
      expect(row).toBeUndefined();
      const live = await signIn(h, p.email, 'second secret passphrase');
      const stored = await h.handle.store.db.selectFrom('sessions').select('token_hash').where('user_id', '=', p.userId).executeTakeFirstOrThrow();
      expect(stored.token_hash).toBe(sha256(live.token));
    } finally {
      await logged.server.close();
    }
  });
});
