// Which changes are notices (issue 19 item 3): each audit action mapped to its event type and queued
// in the change's own transaction; the time-based notices (expiring in 30/7/1 days, expired, grace
// ended) sent once per key whichever process looks; and the mail to the account's Owners.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { secondApp, STORE_KIND, useHarness } from './support/harness.js';
import { addMember, createBot, postBot } from './support/members.js';
import { appsOn, startSmtpCatcher, type SmtpCatcher } from './support/mail.js';
import { createMailer } from '../src/mail/mailer.js';
import { recordEvent } from '../src/domain/audit/service.js';
import { SYSTEM_ACTOR } from '../src/domain/context.js';
import { dueNotice } from '../src/domain/notices/expiry.js';

const DAY = 86_400_000;
const h = useHarness({ noticeDeliveryMs: 0, keyExpiryCheckMs: 0 });
const { appWith, closeAll } = appsOn(() => h);
let smtp: SmtpCatcher;
beforeAll(async () => {
  smtp = await startSmtpCatcher();
});
afterAll(async () => {
  await closeAll();
  await smtp.close();
});
afterEach(async () => {
  smtp.mails.length = 0;
  await h.handle.store.db.updateTable('notice_deliveries').set({ status: 'skipped' }).where('status', '=', 'pending').execute();
});

const inDays = (days: number) => new Date(h.clock.now().getTime() + days * DAY).toISOString();
/** The notices queued for the account (one row per event: the Owners' mail), oldest first. */
async function queued(accountId: string) {
  const rows = await h.handle.store.db
    .selectFrom('notice_deliveries')
    .select(['event_type', 'payload'])
    .where('account_id', '=', accountId)
    .where('endpoint_id', 'is', null)
    .orderBy('created')
    .execute();
  return rows.map((r) => ({ type: r.event_type, data: JSON.parse(r.payload).data }));
}

describe('changes that are notices', () => {
  it('queues rotated, service account removed and IP allowlist changed (list and enforcement), and nothing for other changes', async () => {
    const owner = await h.bootstrap();
    const bot = await createBot(h, owner.accountId, owner.key, 'deployer');
    expect((await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`, { key: owner.key, body: { api_key_expiration: null, old_key_expires_in_seconds: 60 } })).status).toBe(201);
    await h.request('PATCH', `/api/accounts/${owner.accountId}/bots/${bot.id}`, { key: owner.key, body: { name: 'deployer-2' } });
    expect((await h.request('DELETE', `/api/accounts/${owner.accountId}/bots/${bot.id}`, { key: owner.key })).status).toBe(204);
    const entries = [{ ip_network: '127.0.0.1', enabled: true, description: 'tests' }];
    expect((await h.request('PUT', `/api/accounts/${owner.accountId}/ip_allowlist`, { key: owner.key, body: { entries } })).status).toBe(200);
    expect((await h.request('PATCH', `/api/accounts/${owner.accountId}/settings`, { key: owner.key, body: { enforce_ip_allowlist: true } })).status).toBe(204);
    expect((await h.request('PATCH', `/api/accounts/${owner.accountId}`, { key: owner.key, body: { name: 'Renamed' } })).status).toBe(204);
    const notices = await queued(owner.accountId);
    expect(notices.map((n) => n.type)).toEqual(['api_key.rotated', 'service_account.removed', 'ip_allowlist.changed', 'ip_allowlist.changed']);
    expect(notices[0]!.data).toMatchObject({ action: 'service_account.api_key_rotated', target_id: bot.id, details: { name: 'deployer', old_key_expires_in_seconds: 60 } });
    expect(notices[1]!.data).toMatchObject({ action: 'service_account.deleted', details: { name: 'deployer-2' } });
    expect(notices[3]!.data).toMatchObject({ action: 'account.updated', details: { enforce_ip_allowlist: { before: false, after: true } } });
    expect(JSON.stringify(notices)).not.toContain('pnb_');
  });

  it('queues a key disabled for dormancy, and then sends no "expired" for it', async () => {
    const owner = await h.bootstrap();
    const bot = await postBot(h, owner.accountId, owner.key, { name: 'idle', api_key_expiration: inDays(20) });
    await h.request('PUT', `/api/accounts/${owner.accountId}/key_policy`, { key: owner.key, body: { disable_keys_unused_days: 2 } });
    h.clock.advance(3 * DAY);
    const disabled = await h.app.services.keyPolicies.disableDormantKeys();
    expect(disabled.map((d) => d.service_account_id)).toContain(bot.id);
    h.clock.advance(60_000);
    const sent = await h.app.services.noticeExpiry.run();
    expect(sent.filter((s) => s.api_key_id === bot.api_key.id)).toEqual([]);
    const notices = await queued(owner.accountId);
    expect(notices.map((n) => n.type)).toEqual(['api_key.disabled_dormant']);
    expect(notices[0]!.data.details).toMatchObject({ name: 'idle', reason: 'dormant', disable_keys_unused_days: 2 });
  });

  it('queues a key reported leaked (audit action api_key.leak_reported)', async () => {
    const owner = await h.bootstrap();
    const bot = await postBot(h, owner.accountId, owner.key, { name: 'leaky' });
    await h.handle.store.db.transaction().execute((tx) =>
      recordEvent(tx, { actor: SYSTEM_ACTOR, requestId: null, now: h.clock.now() }, {
        action: 'api_key.leak_reported',
        accountId: owner.accountId,
        targetType: 'service_account',
        targetId: bot.id,
        details: { name: 'leaky', api_key_id: bot.api_key.id, url: 'https://github.com/o/r/blob/x/.env', source: 'github', disabled: true },
      }),
    );
    const notices = await queued(owner.accountId);
    expect(notices.map((n) => n.type)).toEqual(['api_key.leak_reported']);
    expect(notices[0]!.data.details).toMatchObject({ url: 'https://github.com/o/r/blob/x/.env', disabled: true });
    // Disabled by the report: its "expired" is marked as said.
    const marks = await h.handle.store.db.selectFrom('api_key_notices').select('notice').where('api_key_id', '=', bot.api_key.id).execute();
    expect(marks).toEqual([{ notice: 'expired' }]);
  });
});

describe('time-based notices', () => {
  it('picks the smallest threshold a key is within and has lived past', () => {
    const now = new Date('2026-01-10T00:00:00Z');
    const key = (createdDaysAgo: number, expiresInDays: number, active = 1) => ({ created: new Date(now.getTime() - createdDaysAgo * DAY).toISOString(), expiration: new Date(now.getTime() + expiresInDays * DAY).toISOString(), is_active: active });
    expect(dueNotice(key(100, 40), now)).toBeNull();
    expect(dueNotice(key(100, 29), now)).toEqual({ notice: 'expiring_30', days: 30 });
    expect(dueNotice(key(100, 6.5), now)).toEqual({ notice: 'expiring_7', days: 7 });
    expect(dueNotice(key(100, 0.5), now)).toEqual({ notice: 'expiring_1', days: 1 });
    expect(dueNotice(key(1, 5), now)).toBeNull(); // made to last 6 days: not "expiring in 7" at birth
    expect(dueNotice(key(1, 0.5), now)).toEqual({ notice: 'expiring_1', days: 1 });
    expect(dueNotice(key(100, -0.1), now)).toEqual({ notice: 'expired' });
    expect(dueNotice(key(100, -0.1, 0), now)).toEqual({ notice: 'grace_ended' });
    expect(dueNotice(key(100, 3, 0), now)).toBeNull(); // an old key in its grace: only its end is a notice
    expect(dueNotice(key(100, -8), now)).toBeNull(); // ended long before: not announced
  });

  it('sends expiring in 30, 7 and 1 days and expired once each per key, once across processes', async () => {
    const owner = await h.bootstrap();
    const bot = await postBot(h, owner.accountId, owner.key, { name: 'nightly', api_key_expiration: inDays(40) });
    const second = await secondApp(h, { noticeDeliveryMs: 0, keyExpiryCheckMs: 0 });
    const mine = async () => {
      // Both at once on PostgreSQL; one after the other on SQLite (one process's two connections
      // would wait on each other's write lock inside the one event loop).
      const [a, b] = STORE_KIND === 'postgres'
        ? await Promise.all([h.app.services.noticeExpiry.run(), second.services.noticeExpiry.run()])
        : [await h.app.services.noticeExpiry.run(), await second.services.noticeExpiry.run()];
      return [...a, ...b].filter((n) => n.api_key_id === bot.api_key.id).map((n) => n.notice);
    };
    try {
      expect(await mine()).toEqual([]);
      h.clock.advance(11 * DAY); // 29 days left
      expect(await mine()).toEqual(['expiring_30']);
      expect(await mine()).toEqual([]);
      h.clock.advance(23 * DAY); // 6 days left
      expect(await mine()).toEqual(['expiring_7']);
      h.clock.advance(5.5 * DAY); // half a day left
      expect(await mine()).toEqual(['expiring_1']);
      h.clock.advance(DAY);
      expect(await mine()).toEqual(['expired']);
      expect(await mine()).toEqual([]);
    } finally {
      await second.server.close();
    }
    const notices = await queued(owner.accountId);
    expect(notices.map((n) => [n.type, n.data.details.days ?? null])).toEqual([
      ['api_key.expiring', 30],
      ['api_key.expiring', 7],
      ['api_key.expiring', 1],
      ['api_key.expired', null],
    ]);
    expect(notices[0]!.data).toMatchObject({ action: 'service_account.api_key_expiring', actor: { type: 'system' }, target_id: bot.id, details: { name: 'nightly', api_key_id: bot.api_key.id, expiration: bot.api_key.expiration } });
  });

  it('sends grace ended when an old key rotated out with a grace stops working, and none for a grace of 0', async () => {
    const owner = await h.bootstrap();
    const bot = await postBot(h, owner.accountId, owner.key, { name: 'rotating' });
    const url = `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`;
    expect((await h.request('POST', url, { key: owner.key, body: { api_key_expiration: null, old_key_expires_in_seconds: 3600 } })).status).toBe(201);
    const zero = await postBot(h, owner.accountId, owner.key, { name: 'rotating-now' });
    expect((await h.request('POST', `/api/accounts/${owner.accountId}/bots/${zero.id}/rotate_api_key`, { key: owner.key, body: { api_key_expiration: null, old_key_expires_in_seconds: 0 } })).status).toBe(201);
    h.clock.advance(2 * 3_600_000);
    const sent = await h.app.services.noticeExpiry.run();
    expect(sent.filter((s) => s.api_key_id === bot.api_key.id || s.api_key_id === zero.api_key.id)).toEqual([{ api_key_id: bot.api_key.id, notice: 'grace_ended' }]);
    expect((await queued(owner.accountId)).map((n) => n.type)).toEqual(['api_key.rotated', 'api_key.rotated', 'api_key.grace_ended']);
  });
});

describe('mail to the Owners', () => {
  it("mails each of the account's Owners (not Admins) when SMTP is configured, and skips the mail without it", async () => {
    const owner = await h.bootstrap(undefined, `owner-${Date.now()}@example.com`);
    const coOwner = await addMember(h, owner.accountId, 'Owner');
    await addMember(h, owner.accountId, 'Admin');
    const bot = await createBot(h, owner.accountId, owner.key, 'etl');
    await h.request('DELETE', `/api/accounts/${owner.accountId}/bots/${bot.id}`, { key: owner.key });
    const { app } = await appWith(createMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'Gatehouse <gatehouse@test.local>' }));
    const results = await app.notices.deliverDue();
    expect(results.filter((r) => r.delivered)).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
    const owners = (await h.handle.store.db.selectFrom('users').select('email').where('id', 'in', [owner.userId, coOwner.userId]).execute()).map((u) => u.email).sort();
    expect(smtp.mails[0]!.to.sort()).toEqual(owners);
    expect(smtp.mails[0]!.data).toContain('The service account "etl" was removed');
    expect(smtp.mails[0]!.data).toContain('service_account.removed');

    const other = await h.bootstrap();
    const gone = await createBot(h, other.accountId, other.key);
    await h.request('DELETE', `/api/accounts/${other.accountId}/bots/${gone.id}`, { key: other.key });
    const { app: noMail } = await appWith(null);
    const skipped = await noMail.notices.deliverDue();
    expect(skipped).toEqual([{ delivery_id: expect.any(String), delivered: false, status_code: null, error: 'skipped', duration_ms: 0 }]);
    const row = await h.handle.store.db.selectFrom('notice_deliveries').select('status').where('account_id', '=', other.accountId).executeTakeFirstOrThrow();
    expect(row.status).toBe('skipped');
  });
});
