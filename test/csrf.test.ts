// Cross-site request forgery: a page on another site can make the browser send the session cookie,
// but cannot read the CSRF token nor set a header or a JSON body. So every state-changing request
// made with the cookie must carry this session's X-CSRF-Token, and bodies are JSON only.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../src/authz/permissions.js';
import { startHarness, type Harness } from './support/harness.js';
import { createBot, createWorkspace } from './support/members.js';
import { PASSWORD, browser, personWithPassword, sessionSetCookie, signIn, type Person, type Session } from './support/people.js';

let h: Harness;
let p: Person;
let s: Session;
let targets: Record<string, string>;

const TABLES = [
  'accounts', 'users', 'bots', 'api_keys', 'account_roles', 'account_memberships', 'workspaces', 'workspace_roles',
  'workspace_access', 'audit_events', 'sessions', 'invitations', 'auth_failures', 'setup_tokens',
] as const;

/** The whole database as data, to prove that a refused request changed nothing. */
async function everything() {
  const out: Record<string, unknown[]> = {};
  for (const table of TABLES) out[table] = await h.handle.store.db.selectFrom(table).selectAll().execute();
  return out;
}

const fill = (url: string) => url.replace(/:([A-Za-z_]+)/g, (_, name: string) => targets[name] ?? randomUUID());

beforeAll(async () => {
  h = await startHarness();
  p = await personWithPassword(h);
  const ws = await createWorkspace(h, p.accountId, p.key);
  const bot = await createBot(h, p.accountId, p.key);
  const userKey = await h.request('POST', `/api/users/${p.userId}/api_keys`, { key: p.key, body: { name: 'spare' } });
  const invitation = await h.request('POST', `/api/accounts/${p.accountId}/invitations/`, {
    key: p.key,
    body: { email: 'invitee@example.com', account_role_id: ACCOUNT_ROLE_IDS.Member },
  });
  s = await signIn(h, p.email, p.password);
  const other = await signIn(h, p.email, p.password, { 'user-agent': 'other' });
  const sessions = await h.request('GET', '/api/me/sessions', { key: p.key });
  targets = {
    account_id: p.accountId,
    workspace_id: ws.id,
    bot_id: bot.id,
    user_id: p.userId,
    api_key_id: userKey.body.id,
    invitation_id: invitation.body.id,
    session_id: sessions.body.find((x: { user_agent: string }) => x.user_agent === 'other').id,
    account_membership_id: randomUUID(),
  };
  expect((await h.request('GET', '/api/me/', { headers: browser(other) })).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

/** Every route that changes something and needs a caller: the ones CSRF must guard. */
// SCIM endpoints take no cookie at all (only the account's SCIM token: test/scim.test.ts).
const guarded = () => h.app.routes.filter((r) => r.method !== 'GET' && r.requirement.kind !== 'public' && r.requirement.kind !== 'scim');

describe('a state-changing request with a session cookie', () => {
  it('is refused with 403 CSRF_FAILED on every route when the token is missing, wrong or another session’s, and changes nothing', async () => {
    const other = await signIn(h, p.email, p.password);
    const stranger = await personWithPassword(h);
    const strangers = await signIn(h, stranger.email, stranger.password);
    const before = await everything();
    const tokens: Array<[string, string | null]> = [
      ['missing', null],
      ['wrong', 'x'.repeat(s.csrf.length)],
      ['empty', ''],
      ["another session's of the same user", other.csrf],
      ["another user's", strangers.csrf],
    ];
    const routes = guarded();
    expect(routes.length).toBeGreaterThanOrEqual(30);
    const problems: string[] = [];
    for (const route of routes) {
      for (const [what, token] of tokens) {
        const headers = browser(s, token);
        if (token === '') headers['x-csrf-token'] = '';
        const res = await h.request(route.method, fill(route.url), { headers, body: {} });
        if (res.status !== 403 || res.body?.code !== 'CSRF_FAILED') problems.push(`${route.method} ${route.url} with ${what} token: ${res.status} ${res.text.slice(0, 80)}`);
      }
    }
    expect(problems).toEqual([]);
    expect(await everything()).toEqual(before);
  });

  it('is refused even when the body and target would otherwise succeed', async () => {
    const before = await everything();
    const a = `/api/accounts/${p.accountId}`;
    const requests: Array<[string, string, unknown]> = [
      ['POST', `${a}/bots/`, { name: 'forged' }],
      ['DELETE', `${a}/bots/${targets.bot_id}`, undefined],
      ['PATCH', a, { name: 'Forged name' }],
      ['POST', `${a}/invitations/`, { email: 'attacker@example.com', account_role_id: ACCOUNT_ROLE_IDS.Admin }],
      ['POST', `${a}/invitations/${targets.invitation_id}/revoke`, undefined],
      ['DELETE', `/api/users/${p.userId}/api_keys/${targets.api_key_id}`, undefined],
      ['POST', '/api/me/password', { current_password: p.password, new_password: 'chosen by the attacker' }],
      ['POST', `/api/me/sessions/${targets.session_id}/terminate`, undefined],
      ['POST', '/api/auth/logout', undefined],
    ];
    for (const [method, url, body] of requests) {
      const res = await h.request(method, url, { headers: browser(s), body });
      expect([res.status, res.body.code], `${method} ${url}`).toEqual([403, 'CSRF_FAILED']);
    }
    expect(await everything()).toEqual(before);
    // The same requests with the token do go through, so the refusals above were CSRF's doing.
    const ok = await h.request('POST', `${a}/bots/`, { headers: browser(s, s.csrf), body: { name: 'made-with-token' } });
    expect(ok.status).toBe(201);
    const patched = await h.request('PATCH', a, { headers: browser(s, s.csrf), body: { link: 'https://example.com/ok' } });
    expect(patched.status).toBe(204);
  });

  it('guards accepting an invitation as the signed-in user too', async () => {
    const invited = await personWithPassword(h);
    const created = await h.request('POST', `/api/accounts/${p.accountId}/invitations/`, {
      key: p.key,
      body: { email: invited.email, account_role_id: ACCOUNT_ROLE_IDS.Member },
    });
    const code = new URLSearchParams(new URL(created.body.accept_url).hash.slice(1)).get('invite_code')!;
    const session = await signIn(h, invited.email, invited.password);
    const url = `/api/invitations/${created.body.id}/accept?invite_code=${encodeURIComponent(code)}`;
    const forged = await h.request('POST', url, { headers: browser(session), body: {} });
    expect([forged.status, forged.body.code]).toEqual([403, 'CSRF_FAILED']);
    const read = await h.request('GET', `/api/accounts/${p.accountId}/invitations/${created.body.id}`, { key: p.key });
    expect(read.body.status).toBe('PENDING');
    expect((await h.request('POST', url, { headers: browser(session, session.csrf), body: {} })).status).toBe(200);
  });
});

describe('a safe request with a session cookie', () => {
  it('needs no CSRF token', async () => {
    for (const url of ['/api/me/', '/api/me/accounts', `/api/accounts/${p.accountId}`, `/api/accounts/${p.accountId}/bots/${targets.bot_id}`, '/api/auth/session']) {
      const res = await h.request('GET', url, { headers: browser(s) });
      expect(res.status, url).toBe(200);
    }
    expect((await h.request('HEAD', '/api/me/', { headers: browser(s) })).status).toBe(200);
  });
});

describe('a cross-site style form post', () => {
  const FORMS: Array<[string, string]> = [
    ['application/x-www-form-urlencoded', 'email=a%40example.com&password=x'],
    ['text/plain', '{"email":"a@example.com","password":"x"}'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na\r\n--x--\r\n'],
  ];

  it('cannot sign anyone in, set up or accept an invitation: 415 and nothing changed', async () => {
    const created = await h.request('POST', `/api/accounts/${p.accountId}/invitations/`, {
      key: p.key,
      body: { email: `form-${randomUUID()}@example.com`, account_role_id: ACCOUNT_ROLE_IDS.Member },
    });
    const code = new URLSearchParams(new URL(created.body.accept_url).hash.slice(1)).get('invite_code')!;
    const before = await everything();
    for (const [type, payload] of FORMS) {
      const login = await h.request('POST', '/api/auth/login', { rawBody: payload.replace('a%40example.com', encodeURIComponent(p.email)), headers: { 'content-type': type } });
      expect([login.status, login.body.code], type).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
      expect(sessionSetCookie(login)).toBeNull();
      const setup = await h.request('POST', '/api/setup', { rawBody: payload, headers: { 'content-type': type } });
      expect(setup.status, type).toBe(415);
      const accept = await h.request('POST', `/api/invitations/${created.body.id}/accept?invite_code=${encodeURIComponent(code)}`, {
        rawBody: `password=${PASSWORD}`,
        headers: { 'content-type': type },
      });
      expect([accept.status, accept.body.code], type).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    }
    expect(await everything()).toEqual(before);
  });

  it('is refused on a signed-in route: 403 without the token (as a cross-site page sends it), 415 even with it', async () => {
    const before = await everything();
    const url = `/api/accounts/${p.accountId}/bots/`;
    for (const [type] of FORMS) {
      const forged = await h.request('POST', url, { rawBody: 'name=forged', headers: { ...browser(s), 'content-type': type } });
      expect([forged.status, forged.body.code], type).toEqual([403, 'CSRF_FAILED']);
      const withToken = await h.request('POST', url, { rawBody: 'name=forged', headers: { ...browser(s, s.csrf), 'content-type': type } });
      expect([withToken.status, withToken.body.code], type).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    }
    expect(await everything()).toEqual(before);
  });
});
