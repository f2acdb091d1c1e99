// Invitations: Owners and Admins invite an email with an account role; the one-time link (id +
// code) is shown once, expires after 7 days, can be revoked, and is accepted once — by a new person
// who sets a password, or by the existing user with that email, signed in.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../src/authz/permissions.js';
import { startHarness, type Harness } from './support/harness.js';
import { addMember, createBot } from './support/members.js';
import { PASSWORD, browser, personWithPassword, sessionSetCookie, signIn, type Person } from './support/people.js';
import { sha256 } from './support/shapes.js';

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;
const { Owner, Admin, Member } = ACCOUNT_ROLE_IDS;

let h: Harness;
let owner: Person;
let A: string;
beforeAll(async () => {
  h = await startHarness();
  owner = await personWithPassword(h);
  A = owner.accountId;
});
afterAll(async () => {
  await h?.close();
});

const newEmail = () => `invitee-${randomBytes(4).toString('hex')}@example.com`;

interface Link {
  id: string;
  code: string;
  body: Record<string, unknown>;
}

async function invite(email: string, role: string = Member, key = owner.key): Promise<Link> {
  const res = await h.request('POST', `/api/accounts/${A}/invitations/`, { key, body: { email, account_role_id: role } });
  expect(res.status, res.text).toBe(201);
  const url = new URL(res.body.accept_url);
  return { id: res.body.id, code: new URLSearchParams(url.hash.slice(1)).get('invite_code')!, body: res.body };
}

const acceptUrl = (link: Pick<Link, 'id' | 'code'>) => `/api/invitations/${link.id}/accept?invite_code=${encodeURIComponent(link.code)}`;
const previewUrl = (link: Pick<Link, 'id' | 'code'>) => `/api/invitations/${link.id}?invite_code=${encodeURIComponent(link.code)}`;

async function listed(id: string) {
  const res = await h.request('POST', `/api/accounts/${A}/invitations/filter`, { key: owner.key, body: {} });
  expect(res.status).toBe(200);
  return res.body.find((i: { id: string }) => i.id === id);
}

async function roleIn(accountId: string, headers: Record<string, string>) {
  const res = await h.request('GET', '/api/me/accounts', { headers });
  return res.body.find((a: { account_id: string }) => a.account_id === accountId)?.account_role_name ?? null;
}

describe('creating an invitation', () => {
  it('answers 201 with the one-time link, which no read shows again', async () => {
    const email = newEmail();
    const res = await h.request('POST', `/api/accounts/${A}/invitations/`, { key: owner.key, body: { email, account_role_id: Admin } });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      id: expect.any(String),
      created: expect.any(String),
      updated: expect.any(String),
      email,
      account_id: A,
      account_role_id: Admin,
      account_role_name: 'Admin',
      status: 'PENDING',
      expiration: expect.any(String),
      accept_url: expect.stringMatching(new RegExp(`^https?://[^/]+/invitations/${res.body.id}/accept#invite_code=[A-Za-z0-9_%-]{40,}$`)),
      mailed: false,
    });
    expect(Math.abs(Date.parse(res.body.expiration) - (h.clock.now().getTime() + WEEK_MS))).toBeLessThan(5000);
    const code = new URLSearchParams(new URL(res.body.accept_url).hash.slice(1)).get('invite_code')!;

    const filter = await h.request('POST', `/api/accounts/${A}/invitations/filter`, { key: owner.key, body: {} });
    const one = await h.request('GET', `/api/accounts/${A}/invitations/${res.body.id}`, { key: owner.key });
    expect(one.status).toBe(200);
    const { accept_url: _url, mailed: _mailed, ...withoutLink } = res.body;
    expect(one.body).toEqual(withoutLink);
    expect(filter.body).toContainEqual(withoutLink);
    for (const text of [filter.text, one.text]) {
      expect(text).not.toContain(code);
      expect(text).not.toContain('accept_url');
    }
    const row = await h.handle.store.db.selectFrom('invitations').selectAll().where('id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(row.code_hash).toBe(sha256(code));
    expect(JSON.stringify(row)).not.toContain(code);
  });

  it('is for Owners and Admins: a Member or service account gets 403, a stranger 404', async () => {
    const admin = await addMember(h, A, 'Admin');
    const member = await addMember(h, A, 'Member');
    const bot = await createBot(h, A, owner.key);
    const stranger = await h.bootstrap();
    const cases: Array<[string, string, number, string | null]> = [
      ['admin', admin.key, 201, null],
      ['member', member.key, 403, 'FORBIDDEN'],
      ['bot', bot.key, 403, 'FORBIDDEN'],
      ['stranger', stranger.key, 404, 'NOT_FOUND'],
    ];
    for (const [who, key, status, code] of cases) {
      const res = await h.request('POST', `/api/accounts/${A}/invitations/`, { key, body: { email: newEmail(), account_role_id: Member } });
      expect([res.status, res.body.code ?? null], who).toEqual([status, code]);
      if (status !== 201) expect(res.text).not.toContain('invite_code');
    }
  });

  it('lets only an Owner invite an Owner (Admin: 403 OWNER_ONLY)', async () => {
    const admin = await addMember(h, A, 'Admin');
    const res = await h.request('POST', `/api/accounts/${A}/invitations/`, { key: admin.key, body: { email: newEmail(), account_role_id: Owner } });
    expect([res.status, res.body.code]).toEqual([403, 'OWNER_ONLY']);
    expect((await invite(newEmail(), Owner)).body.account_role_name).toBe('Owner');
  });

  it("refuses an existing member's email (409 ALREADY_MEMBER) and an unknown role (422)", async () => {
    const member = await addMember(h, A, 'Member');
    const dup = await h.request('POST', `/api/accounts/${A}/invitations/`, { key: owner.key, body: { email: member.email, account_role_id: Admin } });
    expect([dup.status, dup.body.code]).toEqual([409, 'ALREADY_MEMBER']);
    const role = await h.request('POST', `/api/accounts/${A}/invitations/`, { key: owner.key, body: { email: newEmail(), account_role_id: '00000000-0000-4000-8000-00000000abcd' } });
    expect([role.status, role.body.code]).toEqual([422, 'UNKNOWN_ACCOUNT_ROLE']);
  });
});

describe('the invitation link', () => {
  it('previews with its code; a wrong code, another id or no code shows nothing', async () => {
    const email = newEmail();
    const link = await invite(email, Admin);
    const res = await h.request('GET', previewUrl(link));
    expect(res.status).toBe(200);
    const account = await h.request('GET', `/api/accounts/${A}`, { key: owner.key });
    expect(res.body).toEqual({ id: link.id, email, account_name: account.body.name, account_role_name: 'Admin', expiration: link.body.expiration, status: 'PENDING', user_exists: false });
    const other = await invite(newEmail());
    for (const url of [previewUrl({ id: link.id, code: 'wrong-code' }), previewUrl({ id: link.id, code: other.code }), previewUrl({ id: other.id, code: link.code })]) {
      const wrong = await h.request('GET', url);
      expect([wrong.status, wrong.body.code], url).toEqual([404, 'NOT_FOUND']);
      expect(wrong.text).not.toContain(email);
    }
    expect((await h.request('GET', `/api/invitations/${link.id}`)).status).toBe(422);
  });

  it('lets a new person join with a password: 200, signed in, a member with the invited role', async () => {
    const email = newEmail();
    const link = await invite(email, Admin);
    const res = await h.request('POST', acceptUrl(link), { body: { password: PASSWORD, first_name: 'Grace', last_name: 'Hopper' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ account_id: A, user_id: expect.any(String), csrf_token: expect.any(String), expires_at: expect.any(String) });
    const cookie = sessionSetCookie(res)!;
    expect(cookie.attributes).toMatchObject({ httponly: '', samesite: 'Lax', path: '/' });
    expect(res.text).not.toContain(cookie.value);
    const session = browser({ token: cookie.value });
    const me = await h.request('GET', '/api/me/', { headers: session });
    expect(me.body).toMatchObject({ id: res.body.user_id, email, first_name: 'Grace', last_name: 'Hopper' });
    expect(await roleIn(A, session)).toBe('Admin');
    const again = await signIn(h, email, PASSWORD);
    expect(again.res.body.user.id).toBe(res.body.user_id);
    expect((await listed(link.id)).status).toBe('ACCEPTED');
  });

  it('is accepted once: a second accept is 409 INVITATION_USED', async () => {
    const link = await invite(newEmail());
    expect((await h.request('POST', acceptUrl(link), { body: { password: PASSWORD } })).status).toBe(200);
    const again = await h.request('POST', acceptUrl(link), { body: { password: 'another passphrase' } });
    expect([again.status, again.body.code]).toEqual([409, 'INVITATION_USED']);
    expect(sessionSetCookie(again)).toBeNull();
  });

  it('needs a password of 10 or more characters from a new person (422), and stays pending', async () => {
    const link = await invite(newEmail());
    for (const body of [{}, { password: 'short' }, null]) {
      const res = await h.request('POST', acceptUrl(link), { body });
      expect([res.status, res.body.code], JSON.stringify(body)).toEqual([422, 'PASSWORD_TOO_SHORT']);
    }
    expect((await listed(link.id)).status).toBe('PENDING');
  });

  it('refuses a wrong code with 404 and changes nothing', async () => {
    const email = newEmail();
    const link = await invite(email);
    const res = await h.request('POST', acceptUrl({ id: link.id, code: 'guessed' }), { body: { password: PASSWORD } });
    expect([res.status, res.body.code]).toEqual([404, 'NOT_FOUND']);
    expect((await listed(link.id)).status).toBe('PENDING');
    expect(await h.handle.store.db.selectFrom('users').select('id').where('email', '=', email).execute()).toEqual([]);
  });

  it('expires after 7 days: 410 INVITATION_EXPIRED, status EXPIRED', async () => {
    const link = await invite(newEmail());
    h.clock.advance(WEEK_MS - 60_000);
    expect((await h.request('GET', previewUrl(link))).body.status).toBe('PENDING');
    h.clock.advance(61_000);
    const res = await h.request('POST', acceptUrl(link), { body: { password: PASSWORD } });
    expect([res.status, res.body.code]).toEqual([410, 'INVITATION_EXPIRED']);
    expect((await listed(link.id)).status).toBe('EXPIRED');
    expect((await h.request('GET', previewUrl(link))).body.status).toBe('EXPIRED');
  });

  it('stops working once revoked: 409 on accept, REVOKED in the list, and cannot be revoked twice', async () => {
    const link = await invite(newEmail());
    const revoked = await h.request('POST', `/api/accounts/${A}/invitations/${link.id}/revoke`, { key: owner.key });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: link.id, status: 'REVOKED' });
    expect(revoked.body).not.toHaveProperty('accept_url');
    const res = await h.request('POST', acceptUrl(link), { body: { password: PASSWORD } });
    expect([res.status, res.body.code]).toEqual([409, 'INVITATION_USED']);
    expect((await listed(link.id)).status).toBe('REVOKED');
    const twice = await h.request('POST', `/api/accounts/${A}/invitations/${link.id}/revoke`, { key: owner.key });
    expect([twice.status, twice.body.code]).toEqual([409, 'INVITATION_USED']);
  });
});

describe('an invitation for someone who already has a user', () => {
  let invited: Person;
  let link: Link;
  beforeAll(async () => {
    invited = await personWithPassword(h);
    link = await invite(invited.email, Admin);
  });

  it('cannot be accepted without signing in (409 SIGN_IN_FIRST), not even by choosing a password', async () => {
    expect((await h.request('GET', previewUrl(link))).body.user_exists).toBe(true);
    const before = await h.handle.store.db.selectFrom('users').select('password_hash').where('id', '=', invited.userId).executeTakeFirstOrThrow();
    for (const body of [{}, { password: 'taken over passphrase' }]) {
      const res = await h.request('POST', acceptUrl(link), { body });
      expect([res.status, res.body.code]).toEqual([409, 'SIGN_IN_FIRST']);
      expect(sessionSetCookie(res)).toBeNull();
    }
    expect(await h.handle.store.db.selectFrom('users').select('password_hash').where('id', '=', invited.userId).executeTakeFirstOrThrow()).toEqual(before);
    expect((await h.request('POST', '/api/auth/login', { body: { email: invited.email, password: 'taken over passphrase' } })).status).toBe(401);
  });

  it('cannot be accepted by another signed-in user (409)', async () => {
    const other = await personWithPassword(h);
    const s = await signIn(h, other.email, other.password);
    const res = await h.request('POST', acceptUrl(link), { headers: browser(s, s.csrf), body: {} });
    expect([res.status, res.body.code]).toEqual([409, 'SIGN_IN_FIRST']);
    expect(await roleIn(A, browser(s))).toBeNull();
    expect((await listed(link.id)).status).toBe('PENDING');
  });

  it('is accepted by that user, signed in, with the CSRF token: 200 and a membership with the role', async () => {
    const s = await signIn(h, invited.email, invited.password);
    expect(await roleIn(A, browser(s))).toBeNull();
    const res = await h.request('POST', acceptUrl(link), { headers: browser(s, s.csrf), body: {} });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ account_id: A, user_id: invited.userId });
    expect(await roleIn(A, browser(s))).toBe('Admin');
    // The password stays as it was.
    await signIn(h, invited.email, invited.password);
  });
});

describe('accepting concurrently', () => {
  it('lets exactly one of several accepts of one invitation through', async () => {
    const email = newEmail();
    const link = await invite(email);
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => h.request('POST', acceptUrl(link), { body: { password: `${PASSWORD} ${i}` } })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.code).toBe('INVITATION_USED');
    const users = await h.handle.store.db.selectFrom('users').select('id').where('email', '=', email).execute();
    expect(users).toHaveLength(1);
    const memberships = await h.handle.store.db.selectFrom('account_memberships').select('id').where('account_id', '=', A).where('user_id', '=', users[0].id).execute();
    expect(memberships).toHaveLength(1);
  });

  it('never hands one person a session for a user another person just created with the same email', async () => {
    // Two accounts invite the same new email; both links are opened at once with different passwords.
    const email = newEmail();
    const other = await personWithPassword(h);
    const first = await invite(email);
    const created = await h.request('POST', `/api/accounts/${other.accountId}/invitations/`, { key: other.key, body: { email, account_role_id: Member } });
    const second = { id: created.body.id, code: new URLSearchParams(new URL(created.body.accept_url).hash.slice(1)).get('invite_code')! };
    const results = await Promise.all([
      h.request('POST', acceptUrl(first), { body: { password: 'password of the first' } }),
      h.request('POST', acceptUrl(second), { body: { password: 'password of the second' } }),
    ]);
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    const loser = results.find((r) => r.status !== 200)!;
    // SIGN_IN_FIRST when the winner's user is seen, CONCURRENT_CHANGE when both inserts collide.
    expect(loser.status).toBe(409);
    expect(['SIGN_IN_FIRST', 'CONCURRENT_CHANGE']).toContain(loser.body.code);
    expect(sessionSetCookie(loser)).toBeNull();
    // The winner's password is the one that signs in.
    const password = winners[0] === results[0] ? 'password of the first' : 'password of the second';
    expect((await h.request('POST', '/api/auth/login', { body: { email, password } })).status).toBe(200);
  });
});

describe('the audit trail', () => {
  it('records creating, revoking and accepting, never with the code or link', async () => {
    const kept = await invite(newEmail());
    const dropped = await invite(newEmail());
    await h.request('POST', `/api/accounts/${A}/invitations/${dropped.id}/revoke`, { key: owner.key });
    const accepted = await h.request('POST', acceptUrl(kept), { body: { password: PASSWORD } });
    expect(accepted.status).toBe(200);
    const res = await h.request('POST', `/api/accounts/${A}/audit_events/filter`, {
      key: owner.key,
      body: { audit_events: { action: { any_: ['invitation.created', 'invitation.revoked', 'invitation.accepted'] } } },
    });
    expect(res.status).toBe(200);
    const about = (id: string) => res.body.filter((e: { target_id: string }) => e.target_id === id).map((e: { action: string }) => e.action).sort();
    expect(about(kept.id)).toEqual(['invitation.accepted', 'invitation.created']);
    expect(about(dropped.id)).toEqual(['invitation.created', 'invitation.revoked']);
    const acceptEvent = res.body.find((e: { action: string; target_id: string }) => e.action === 'invitation.accepted' && e.target_id === kept.id);
    expect(acceptEvent.actor_id).toBe((await h.request('GET', '/api/me/', { headers: browser({ token: sessionSetCookie(accepted)!.value }) })).body.actor_id);
    const rows = JSON.stringify(await h.handle.store.db.selectFrom('audit_events').selectAll().execute());
    for (const code of [kept.code, dropped.code]) {
      expect(res.text).not.toContain(code);
      expect(rows).not.toContain(code);
    }
    expect(rows).not.toContain(PASSWORD);
  });
});
