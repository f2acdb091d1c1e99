// Pentest issue 14, finding 6: a new email counts only once its owner proves they receive mail
// there. PATCH /api/users/{id} records it as pending and mails a one-time code (its digest
// stored, 24 h); the code coming back makes it the email. Until then no invitation matches it,
// so a member cannot squat another person's address. Terraform's PATCH with the unchanged email
// stays a silent 204, with or without a mail server.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../src/authz/permissions.js';
import { createMailer, type Mailer } from '../src/mail/mailer.js';
import type { App } from '../src/app.js';
import { startHarness, type Harness } from './support/harness.js';
import { appsOn, memoryLogger, startSmtpCatcher, type ReceivedMail, type SmtpCatcher } from './support/mail.js';
import { addMember, type Member } from './support/members.js';
import { personWithPassword, type Person } from './support/people.js';
import { sha256 } from './support/shapes.js';
import { closedPort } from './support/ports.js';

const DAY_MS = 24 * 60 * 60 * 1000;

let h: Harness;
let owner: Person;
let smtp: SmtpCatcher;
let mails: ReceivedMail[];
let logLines: string[];
const { appWith, closeAll } = appsOn(() => h);

const mailerFor = (port: number): Mailer => createMailer({ url: `smtp://127.0.0.1:${port}`, from: 'gatehouse@test.local' })!;

beforeAll(async () => {
  smtp = await startSmtpCatcher();
  mails = smtp.mails;
  const log = memoryLogger();
  logLines = log.lines;
  h = await startHarness({ mailer: mailerFor(smtp.port), logger: log.logger });
  owner = await personWithPassword(h);
});

afterAll(async () => {
  await closeAll();
  await smtp?.close();
  await h?.close();
});

const newEmail = (what = 'new') => `${what}-${randomBytes(4).toString('hex')}@example.com`;

/** Quoted-printable soft line breaks would split the link; undo them before searching. */
const unfold = (data: string) => data.replace(/=\r?\n/g, '').replace(/=3D/g, '=');

/** The code of the last verification mail to `email`. */
function mailedCode(email: string): string {
  const mail = [...mails].reverse().find((m) => m.to.includes(email));
  if (!mail) throw new Error(`no mail to ${email}`);
  const match = /\/verify-email#code=([A-Za-z0-9_-]+)/.exec(unfold(mail.data));
  if (!match) throw new Error('no verification link in the mail');
  return match[1];
}

/** PATCH /api/users/{id} as that user, on the harness's app or on `app`. */
async function patch(who: { userId: string; key: string }, body: unknown, app?: App): Promise<{ status: number; body: any; text: string }> {
  if (!app) return h.request('PATCH', `/api/users/${who.userId}`, { key: who.key, body });
  const res = await app.server.inject({ method: 'PATCH', url: `/api/users/${who.userId}`, headers: { authorization: `Bearer ${who.key}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, text: res.body };
}
const confirm = (who: { userId: string; key: string }, code: string) =>
  h.request('POST', `/api/users/${who.userId}/email_change/confirm`, { key: who.key, body: { code } });
const emailOf = async (who: { userId: string; key: string }) => (await h.request('GET', `/api/users/${who.userId}`, { key: who.key })).body.email;

async function auditRows(userId: string) {
  return h.handle.store.db.selectFrom('audit_events').selectAll().where('target_id', '=', userId).orderBy('occurred').execute();
}

describe('a new email waits for its code', () => {
  let m: Member;
  beforeAll(async () => {
    m = await addMember(h, owner.accountId, 'Member');
  });

  it('answers 204 but keeps the old email, shows the pending one, and mails a one-time link to the new address', async () => {
    const target = newEmail();
    const res = await patch(m, { email: target, first_name: 'Grace' });
    expect(res.status, res.text).toBe(204);
    const user = await h.request('GET', `/api/users/${m.userId}`, { key: m.key });
    expect(user.body.email).toBe(m.email);
    expect(user.body.first_name).toBe('Grace');
    const pending = await h.request('GET', `/api/users/${m.userId}/email_change`, { key: m.key });
    expect(pending.status).toBe(200);
    expect(pending.body).toEqual({ pending_email: target, expiration: expect.any(String) });
    expect(Math.abs(Date.parse(pending.body.expiration) - (h.clock.now().getTime() + DAY_MS))).toBeLessThan(5000);

    const code = mailedCode(target);
    expect(code.length).toBeGreaterThanOrEqual(40);
    const row = await h.handle.store.db.selectFrom('email_changes').selectAll().where('user_id', '=', m.userId).executeTakeFirstOrThrow();
    expect(row.code_hash).toBe(sha256(code));
    expect(JSON.stringify(row)).not.toContain(code);
  });

  it('makes it the email once the mailed code comes back; the code works once, and is in no audit row or log', async () => {
    const target = newEmail();
    expect((await patch(m, { email: target })).status).toBe(204);
    const code = mailedCode(target);
    const res = await confirm(m, code);
    expect(res.status, res.text).toBe(204);
    expect(await emailOf(m)).toBe(target);
    expect((await h.request('GET', `/api/users/${m.userId}/email_change`, { key: m.key })).body).toEqual({ pending_email: null, expiration: null });

    const again = await confirm(m, code);
    expect(again.status).toBe(422);
    expect(again.body.code).toBe('EMAIL_CODE_INVALID');

    const events = await auditRows(m.userId);
    const requested = events.filter((e) => e.action === 'user.email_change_requested').at(-1)!;
    expect(JSON.parse(requested.details)).toEqual({ changed: [], pending_email: target, expiration: expect.any(String) });
    const changed = events.filter((e) => e.action === 'user.email_changed').at(-1)!;
    expect(JSON.parse(changed.details)).toEqual({ from: expect.any(String), to: target });
    expect(changed.actor_id).toBe(m.actorId);
    const everything = JSON.stringify(await h.handle.store.db.selectFrom('audit_events').selectAll().execute());
    expect(everything).not.toContain(code);
    expect(everything).not.toContain(sha256(code));
    expect(logLines.join('')).not.toContain(code);
    m = { ...m, email: target };
  });

  it('refuses a wrong code with 422 EMAIL_CODE_INVALID and changes nothing', async () => {
    const target = newEmail();
    expect((await patch(m, { email: target })).status).toBe(204);
    const res = await confirm(m, 'not-the-code');
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'EMAIL_CODE_INVALID', detail: expect.stringContaining('latest verification mail') });
    expect(await emailOf(m)).toBe(m.email);
    expect((await h.request('GET', `/api/users/${m.userId}/email_change`, { key: m.key })).body.pending_email).toBe(target);
  });

  it('accepts only the latest code when the email is changed again', async () => {
    const first = newEmail();
    const second = newEmail();
    expect((await patch(m, { email: first })).status).toBe(204);
    const firstCode = mailedCode(first);
    expect((await patch(m, { email: second })).status).toBe(204);
    expect((await confirm(m, firstCode)).body.code).toBe('EMAIL_CODE_INVALID');
    expect((await confirm(m, mailedCode(second))).status).toBe(204);
    expect(await emailOf(m)).toBe(second);
    m = { ...m, email: second };
  });

  it('refuses a code after 24 hours with 410 EMAIL_CODE_EXPIRED', async () => {
    const target = newEmail();
    expect((await patch(m, { email: target })).status).toBe(204);
    const code = mailedCode(target);
    h.clock.advance(DAY_MS + 1000);
    const res = await confirm(m, code);
    expect(res.status).toBe(410);
    expect(res.body.code).toBe('EMAIL_CODE_EXPIRED');
    expect(await emailOf(m)).toBe(m.email);
    expect((await h.request('GET', `/api/users/${m.userId}/email_change`, { key: m.key })).body).toEqual({ pending_email: null, expiration: null });
  });

  it("is the user's own: another user (even their account Owner) gets 404", async () => {
    const res = await h.request('PATCH', `/api/users/${m.userId}`, { key: owner.key, body: { email: newEmail() } });
    expect(res.status).toBe(404);
    expect((await h.request('POST', `/api/users/${m.userId}/email_change/confirm`, { key: owner.key, body: { code: 'x' } })).status).toBe(404);
  });
});

describe('the squat (finding 6): a member takes the address someone else was invited at', () => {
  it("does not apply it, the invitation does not accept the squatter, and the invitee's acceptance wins", async () => {
    const squatter = await addMember(h, owner.accountId, 'Member');
    const invited = newEmail('invitee');
    const inv = await h.request('POST', `/api/accounts/${owner.accountId}/invitations/`, { key: owner.key, body: { email: invited, account_role_id: ACCOUNT_ROLE_IDS.Admin } });
    expect(inv.status, inv.text).toBe(201);
    const link = new URL(inv.body.accept_url);
    // The link carries its code after '#'; the API takes it as ?invite_code= (Prefect Cloud's wire format).
    const code = new URLSearchParams(link.hash.slice(1)).get('invite_code')!;
    const acceptUrl = `${link.pathname.replace('/invitations/', '/api/invitations/')}?invite_code=${encodeURIComponent(code)}`;

    expect((await patch(squatter, { email: invited })).status).toBe(204);
    expect(await emailOf(squatter)).toBe(squatter.email);

    const preview = await h.request('GET', acceptUrl.replace('/accept', ''));
    expect(preview.body.user_exists).toBe(false);
    const stolen = await h.request('POST', acceptUrl, { key: squatter.key, body: {} });
    expect(stolen.status).toBe(409);
    expect(stolen.body).toMatchObject({ code: 'EMAIL_NOT_VERIFIED' });
    const role = await h.handle.store.db.selectFrom('account_memberships').select('account_role_id').where('id', '=', squatter.membershipId).executeTakeFirstOrThrow();
    expect(role.account_role_id).toBe(ACCOUNT_ROLE_IDS.Member);

    // The real invitee accepts; the squatter's code (had they got it) can no longer take the address.
    const accepted = await h.request('POST', acceptUrl, { body: { password: 'a long enough password' } });
    expect(accepted.status, accepted.text).toBe(200);
    const taken = await confirm(squatter, mailedCode(invited));
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('USER_EMAIL_TAKEN');
    expect(await emailOf(squatter)).toBe(squatter.email);
  });
});

describe('Terraform resends every field', () => {
  it('answers 204 to a PATCH with the unchanged email (any case), mails nothing, records no pending email', async () => {
    const m = await addMember(h, owner.accountId, 'Member');
    const before = mails.length;
    const body = {
      handle: `tf-${randomBytes(3).toString('hex')}`,
      first_name: 'Ada',
      last_name: 'Lovelace',
      email: m.email.toUpperCase(),
      location: null,
      title: null,
      image_location: null,
      settings: {},
      last_login: null,
    };
    expect((await patch(m, body)).status).toBe(204);
    expect(mails.length).toBe(before);
    expect((await h.request('GET', `/api/users/${m.userId}/email_change`, { key: m.key })).body.pending_email).toBeNull();
    const user = await h.request('GET', `/api/users/${m.userId}`, { key: m.key });
    expect(user.body).toMatchObject({ email: m.email, handle: body.handle, first_name: 'Ada' });
    const last = (await auditRows(m.userId)).at(-1)!;
    expect(last.action).toBe('user.updated');
  });

  it('does the same on a Gatehouse without a mail server', async () => {
    const { app } = await appWith(null);
    const m = await addMember(h, owner.accountId, 'Member');
    const res = await patch(m, { email: m.email, first_name: 'Ada' }, app);
    expect(res.status).toBe(204);
  });
});

describe('without a working mail server', () => {
  it('refuses a new email with 409 EMAIL_VERIFICATION_UNAVAILABLE, telling the operator what to set, and changes nothing', async () => {
    const { app } = await appWith(null);
    const m = await addMember(h, owner.accountId, 'Member');
    const res = await patch(m, { email: newEmail(), first_name: 'Changed' }, app);
    expect(res.status).toBe(409);
    const body = res.body;
    expect(body.code).toBe('EMAIL_VERIFICATION_UNAVAILABLE');
    expect(body.detail).toContain('GATEHOUSE_SMTP_URL');
    const user = await h.request('GET', `/api/users/${m.userId}`, { key: m.key });
    expect(user.body).toMatchObject({ email: m.email, first_name: '' });
  });

  it('answers 502 EMAIL_VERIFICATION_NOT_SENT when the mail cannot be sent, and keeps no pending email', async () => {
    const { app, logs } = await appWith(mailerFor(await closedPort()));
    const m = await addMember(h, owner.accountId, 'Member');
    const res = await patch(m, { email: newEmail() }, app);
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('EMAIL_VERIFICATION_NOT_SENT');
    expect(await emailOf(m)).toBe(m.email);
    expect(await h.handle.store.db.selectFrom('email_changes').select('user_id').where('user_id', '=', m.userId).executeTakeFirst()).toBeUndefined();
    expect(logs()).toContain('email verification mail not sent');
    // Both events of one request carry its one timestamp: their order in the table is not theirs.
    const actions = (await auditRows(m.userId)).map((e) => e.action);
    expect([...actions].sort()).toEqual(['user.email_change_cancelled', 'user.email_change_requested']);
  }, 20_000);
});
