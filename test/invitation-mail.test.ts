// Invitation mail: the one-time link is always in the create response; when SMTP is configured it
// is also mailed to the invited email, and a mail failure never fails the invitation nor leaks the
// link's code into the logs.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../src/authz/permissions.js';
import { loadConfig } from '../src/config.js';
import type { App } from '../src/app.js';
import { createMailer } from '../src/mail/mailer.js';
import { startHarness, type Harness } from './support/harness.js';
import { appsOn, startSmtpCatcher, type ReceivedMail, type SmtpCatcher } from './support/mail.js';
import { closedPort } from './support/ports.js';

let h: Harness;
let accountId: string;
let key: string;
let smtp: SmtpCatcher;
let smtpPort: number;
let received: ReceivedMail[];
const { appWith, closeAll } = appsOn(() => h);

beforeAll(async () => {
  h = await startHarness();
  ({ accountId, key } = await h.bootstrap());
  smtp = await startSmtpCatcher();
  smtpPort = smtp.port;
  received = smtp.mails;
});

afterAll(async () => {
  await closeAll();
  await smtp?.close();
  await h?.close();
});

async function invite(app: App, email: string) {
  const res = await app.server.inject({
    method: 'POST',
    url: `/api/accounts/${accountId}/invitations/`,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ email, account_role_id: ACCOUNT_ROLE_IDS.Member }),
  });
  const body = JSON.parse(res.body);
  const code = res.statusCode === 201 ? new URLSearchParams(new URL(body.accept_url).hash.slice(1)).get('invite_code')! : '';
  return { status: res.statusCode, body, code, text: res.body };
}

const newEmail = () => `invitee-${randomBytes(4).toString('hex')}@example.com`;

/** Quoted-printable soft line breaks would split the link; undo them before searching. */
const unfold = (data: string) => data.replace(/=\r?\n/g, '').replace(/=3D/g, '=');

describe('invitation mail', () => {
  it('mails the accept link to the invited email and answers mailed: true', async () => {
    const { app, logs } = await appWith(createMailer({ url: `smtp://127.0.0.1:${smtpPort}`, from: 'Gatehouse <gatehouse@test.local>' }));
    const email = newEmail();
    const before = received.length;
    const res = await invite(app, email);
    expect(res.status, res.text).toBe(201);
    expect(res.body.mailed).toBe(true);
    expect(res.body.accept_url).toContain(res.code);

    const mails = received.slice(before);
    expect(mails).toHaveLength(1);
    expect(mails[0].to).toEqual([email]);
    expect(mails[0].from).toBe('gatehouse@test.local');
    const data = unfold(mails[0].data);
    expect(data).toContain(res.body.accept_url);
    expect(data).toMatch(/Member/);
    expect(logs()).not.toContain(res.code);
  });

  it('answers mailed: false and still shows the link when no SMTP server is configured', async () => {
    const { app, logs } = await appWith(null);
    const before = received.length;
    const res = await invite(app, newEmail());
    expect(res.status, res.text).toBe(201);
    expect(res.body.mailed).toBe(false);
    expect(res.code.length).toBeGreaterThan(10);
    expect(received.length).toBe(before);
    expect(logs()).not.toContain(res.code);
  });

  it('creates the invitation with mailed: false, quickly and without logging the code, when the mail server is down', async () => {
    const { app, logs } = await appWith(createMailer({ url: `smtp://someone:s3cret-pw@127.0.0.1:${await closedPort()}`, from: 'gatehouse@test.local' }));
    const started = Date.now();
    const res = await invite(app, newEmail());
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(res.status, res.text).toBe(201);
    expect(res.body.mailed).toBe(false);

    // The invitation exists and its link works: the failure was the mail's alone.
    const preview = await h.request('GET', `/api/invitations/${res.body.id}?invite_code=${encodeURIComponent(res.code)}`);
    expect(preview.status).toBe(200);
    expect(preview.body.status).toBe('PENDING');

    const text = logs();
    expect(text).toContain('invitation mail not sent');
    expect(text).not.toContain(res.code);
    expect(text).not.toContain('s3cret-pw');
  }, 20_000);

  it('shows the link in the create response only, also when it was mailed', async () => {
    const { app } = await appWith(createMailer({ url: `smtp://127.0.0.1:${smtpPort}`, from: 'gatehouse@test.local' }));
    const res = await invite(app, newEmail());
    expect(res.status).toBe(201);
    const read = await h.request('GET', `/api/accounts/${accountId}/invitations/${res.body.id}`, { key });
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(res.code);
    expect(read.body).not.toHaveProperty('accept_url');
  });
});

describe('SMTP configuration', () => {
  it('accepts smtp:// and smtps:// URLs and defaults the sender', () => {
    const result = loadConfig({}, { GATEHOUSE_SMTP_URL: 'smtps://user:pw@mail.example.com:465' });
    expect(result.ok && result.config.smtpUrl).toBe('smtps://user:pw@mail.example.com:465');
    expect(result.ok && result.config.smtpFrom).toBe('Gatehouse <gatehouse@localhost>');
    const none = loadConfig({}, {});
    expect(none.ok && none.config.smtpUrl).toBeUndefined();
  });

  it('rejects a non-SMTP URL without printing its password', () => {
    const result = loadConfig({}, { GATEHOUSE_SMTP_URL: 'http://user:hunter2-secret@mail.example.com' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('GATEHOUSE_SMTP_URL');
    expect(result.error).not.toContain('hunter2-secret');
  });

  it('rejects a sender that is not an address or carries a line break', () => {
    for (const from of ['not an address', 'Gatehouse <a@b.c>\r\nBcc: x@y.z']) {
      const result = loadConfig({}, { GATEHOUSE_SMTP_FROM: from });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toContain('GATEHOUSE_SMTP_FROM');
    }
    const ok = loadConfig({}, { GATEHOUSE_SMTP_FROM: 'ops@example.com' });
    expect(ok.ok && ok.config.smtpFrom).toBe('ops@example.com');
  });
});
