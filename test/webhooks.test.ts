// Account webhooks (issue 19 item 3): endpoints set by Owners/Admins with a signing secret shown
// once, Standard Webhooks signatures, retries with backoff, the delivery log, the test send, leases
// across processes, and a receiver that hangs never slowing authentication.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authStatus, secondApp, useHarness } from './support/harness.js';
import { addMember, createBot } from './support/members.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';
import { memoryLogger } from './support/mail.js';
import { createApp } from '../src/app.js';

const h = useHarness({ noticeDeliveryMs: 0, keyExpiryCheckMs: 0, webhookTimeoutMs: 1_000, webhookRetryBaseMs: 60_000, webhookMaxAttempts: 3 });
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(() => receiver.close());
afterEach(async () => {
  receiver.answer = 204;
  receiver.received.length = 0;
  // Leave nothing due for the next test.
  await h.handle.store.db.updateTable('notice_deliveries').set({ status: 'skipped' }).where('status', '=', 'pending').execute();
});

const hooks = (accountId: string) => `/api/accounts/${accountId}/webhooks`;
async function addWebhook(owner: { accountId: string; key: string }, body: Record<string, unknown> = {}) {
  const res = await h.request('POST', hooks(owner.accountId), { key: owner.key, body: { url: receiver.url, ...body } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; secret: string };
}
const rotate = (owner: { accountId: string; key: string }, botId: string, grace: number | null = null) =>
  h.request('POST', `/api/accounts/${owner.accountId}/bots/${botId}/rotate_api_key`, { key: owner.key, body: { api_key_expiration: null, old_key_expires_in_seconds: grace } });

/** The Standard Webhooks verification, written from the specification (not from Gatehouse's code). */
function verifyStandardWebhook(secret: string, headers: Record<string, unknown>, body: string): boolean {
  const id = String(headers['webhook-id']);
  const timestamp = String(headers['webhook-timestamp']);
  const key = Buffer.from(secret.split('_')[1]!, 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return String(headers['webhook-signature'])
    .split(' ')
    .some((part) => {
      const [version, signature] = part.split(',');
      const given = Buffer.from(signature ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

describe('endpoints', () => {
  it('creates one with its secret shown once (no-store), lists and reads it without the secret, and keeps the secret sealed', async () => {
    const owner = await h.bootstrap();
    const res = await h.request('POST', hooks(owner.accountId), { key: owner.key, body: { url: receiver.url, description: 'ops', event_types: ['api_key.rotated'] } });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      id: expect.any(String),
      account_id: owner.accountId,
      url: receiver.url,
      description: 'ops',
      enabled: true,
      event_types: ['api_key.rotated'],
      created: expect.any(String),
      updated: expect.any(String),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{32}$/),
    });
    const { secret, ...shown } = res.body;
    expect((await h.request('GET', hooks(owner.accountId), { key: owner.key })).body).toEqual([shown]);
    expect((await h.request('GET', `${hooks(owner.accountId)}/${shown.id}`, { key: owner.key })).body).toEqual(shown);
    const row = await h.handle.store.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', shown.id).executeTakeFirstOrThrow();
    expect(row.secret_sealed).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(secret.slice(6));
    const audit = await h.handle.store.db.selectFrom('audit_events').select(['action', 'details']).where('target_id', '=', shown.id).execute();
    expect(audit.map((a) => a.action)).toEqual(['webhook.created']);
    expect(JSON.stringify(audit)).not.toContain(secret.slice(6));
  });

  it('defaults to every notice, changes fields with PATCH (200 with the endpoint) and removes with DELETE (204, then 404)', async () => {
    const owner = await h.bootstrap();
    const created = await addWebhook(owner);
    const url = `${hooks(owner.accountId)}/${created.id}`;
    expect((await h.request('GET', url, { key: owner.key })).body.event_types).toEqual([
      'api_key.expiring', 'api_key.expired', 'api_key.rotated', 'api_key.grace_ended', 'service_account.removed', 'api_key.disabled_dormant', 'api_key.leak_reported', 'ip_allowlist.changed',
    ]);
    const patched = await h.request('PATCH', url, { key: owner.key, body: { enabled: false, description: null, event_types: ['ip_allowlist.changed'] } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: false, description: null, event_types: ['ip_allowlist.changed'], url: receiver.url });
    expect(patched.body.secret).toBeUndefined();
    expect((await h.request('DELETE', url, { key: owner.key })).status).toBe(204);
    const gone = await h.request('GET', url, { key: owner.key });
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('NOT_FOUND');
  });

  it('refuses a URL that is not http(s) or carries credentials with 422 WEBHOOK_URL_INVALID, and an unknown event type with 422', async () => {
    const owner = await h.bootstrap();
    for (const url of ['ftp://127.0.0.1/x', 'file:///etc/passwd', 'not a url', 'http://user:pw@127.0.0.1/x']) {
      const res = await h.request('POST', hooks(owner.accountId), { key: owner.key, body: { url } });
      expect(res.status, url).toBe(422);
      expect(res.body.code).toBe('WEBHOOK_URL_INVALID');
      expect(res.text).not.toContain('pw@');
    }
    const bad = await h.request('POST', hooks(owner.accountId), { key: owner.key, body: { url: receiver.url, event_types: ['key.stolen'] } });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect((await h.request('GET', hooks(owner.accountId), { key: owner.key })).body).toEqual([]);
  });

  it('lets an Admin manage them, refuses a Member with 403, and answers 404 for another account', async () => {
    const owner = await h.bootstrap();
    const admin = await addMember(h, owner.accountId, 'Admin');
    const member = await addMember(h, owner.accountId, 'Member');
    const created = await h.request('POST', hooks(owner.accountId), { key: admin.key, body: { url: receiver.url } });
    expect(created.status).toBe(201);
    for (const [method, url] of [['GET', hooks(owner.accountId)], ['POST', hooks(owner.accountId)], ['DELETE', `${hooks(owner.accountId)}/${created.body.id}`]] as const) {
      const res = await h.request(method, url, { key: member.key, body: method === 'POST' ? { url: receiver.url } : undefined });
      expect(res.status, `${method} ${url}`).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
    }
    const other = await h.bootstrap();
    const res = await h.request('GET', `${hooks(other.accountId)}/${created.body.id}`, { key: other.key });
    expect(res.status).toBe(404);
    const cross = await h.request('PATCH', `${hooks(other.accountId)}/${created.body.id}`, { key: other.key, body: { enabled: false } });
    expect(cross.status).toBe(404);
  });

  it('never writes the secret to the log', async () => {
    const { logger, text } = memoryLogger();
    const app = await createApp({ ...(await h.handle.reopen()), clock: h.clock, logger, noticeDeliveryMs: 0, keyExpiryCheckMs: 0 });
    try {
      const owner = await h.bootstrap();
      const res = await app.server.inject({ method: 'POST', url: hooks(owner.accountId), headers: { authorization: `Bearer ${owner.key}`, 'content-type': 'application/json' }, payload: JSON.stringify({ url: receiver.url }) });
      expect(res.statusCode).toBe(201);
      const secret = JSON.parse(res.body).secret as string;
      expect(text()).not.toContain(secret.slice(6));
      expect(text()).toContain('webhooks');
    } finally {
      await app.server.close();
    }
  });
});

describe('delivery', () => {
  it('signs each notice per Standard Webhooks (id, timestamp, v1 HMAC-SHA256 of id.timestamp.body) and sends the event as JSON', async () => {
    const owner = await h.bootstrap();
    const { secret } = await addWebhook(owner);
    const bot = await createBot(h, owner.accountId, owner.key, 'ci-runner');
    expect((await rotate(owner, bot.id)).status).toBe(201);
    const tried = await h.app.notices.deliverDue();
    expect(tried.filter((t) => t.delivered)).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['webhook-id']).toBe(tried.find((t) => t.delivered)!.delivery_id);
    expect(Math.abs(Number(got!.headers['webhook-timestamp']) - h.clock.now().getTime() / 1000)).toBeLessThan(5);
    expect(got!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(verifyStandardWebhook(secret, got!.headers, got!.body)).toBe(true);
    expect(verifyStandardWebhook(secret, got!.headers, got!.body.replace('ci-runner', 'ci-runnex'))).toBe(false);
    expect(got!.json).toMatchObject({
      type: 'api_key.rotated',
      timestamp: expect.any(String),
      data: { account_id: owner.accountId, action: 'service_account.api_key_rotated', target_type: 'service_account', target_id: bot.id, details: { name: 'ci-runner' } },
    });
    expect(got!.body).not.toContain('pnb_');
  });

  it('sends only the event types an endpoint subscribes to, nothing to a disabled one, and nothing for a change that rolled back', async () => {
    const owner = await h.bootstrap();
    await addWebhook(owner, { event_types: ['ip_allowlist.changed'] });
    await addWebhook(owner, { enabled: false });
    const bot = await createBot(h, owner.accountId, owner.key);
    expect((await rotate(owner, bot.id)).status).toBe(201);
    await h.request('PUT', `/api/accounts/${owner.accountId}/key_policy`, { key: owner.key, body: { allow_never_expire: false } });
    expect((await rotate(owner, bot.id)).status).toBe(422); // refused by the policy: rolled back
    const queued = await h.handle.store.db.selectFrom('notice_deliveries').select(['event_type', 'endpoint_id']).where('account_id', '=', owner.accountId).execute();
    // One rotation: no endpoint takes it (one is not subscribed, one is disabled); the Owners' mail row only.
    expect(queued).toEqual([{ event_type: 'api_key.rotated', endpoint_id: null }]);
    await h.app.notices.deliverDue();
    expect(receiver.received).toHaveLength(0);
  });

  it('retries a failing receiver with exponential backoff, gives up after the last attempt, and logs every attempt', async () => {
    const owner = await h.bootstrap();
    const hook = await addWebhook(owner);
    receiver.answer = 500;
    const bot = await createBot(h, owner.accountId, owner.key);
    await rotate(owner, bot.id);
    const first = (await h.app.notices.deliverDue()).filter((t) => t.status_code !== null);
    expect(first).toEqual([{ delivery_id: expect.any(String), delivered: false, status_code: 500, error: 'The receiver answered 500', duration_ms: expect.any(Number) }]);
    const row = () => h.handle.store.db.selectFrom('notice_deliveries').selectAll().where('id', '=', first[0]!.delivery_id).executeTakeFirstOrThrow();
    const afterFirst = await row();
    expect(afterFirst).toMatchObject({ status: 'pending', lease_until: null });
    expect(Number(afterFirst.attempts)).toBe(1);
    const wait1 = Date.parse(afterFirst.next_attempt_at) - h.clock.now().getTime();
    expect(wait1).toBeGreaterThan(55_000);
    expect(wait1).toBeLessThanOrEqual(60_000);
    // Not due yet: nothing is sent.
    expect(await h.app.notices.deliverDue()).toEqual([]);
    h.clock.advance(60_000);
    await h.app.notices.deliverDue();
    const afterSecond = await row();
    const wait2 = Date.parse(afterSecond.next_attempt_at) - h.clock.now().getTime();
    expect(wait2).toBeGreaterThan(115_000); // doubled
    expect(wait2).toBeLessThanOrEqual(120_000);
    h.clock.advance(120_000);
    receiver.answer = 'hang';
    await h.app.notices.deliverDue();
    expect(await row()).toMatchObject({ status: 'failed', attempts: 3 });
    h.clock.advance(3_600_000);
    expect(await h.app.notices.deliverDue()).toEqual([]);
    const log = await h.request('GET', `${hooks(owner.accountId)}/${hook.id}/attempts`, { key: owner.key });
    expect(log.status).toBe(200);
    expect(log.body.map((a: any) => [a.event_type, a.status_code, a.error, a.delivery_status])).toEqual([
      ['api_key.rotated', null, 'No answer within 1 s', 'failed'],
      ['api_key.rotated', 500, 'The receiver answered 500', 'failed'],
      ['api_key.rotated', 500, 'The receiver answered 500', 'failed'],
    ]);
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1); // one message id across retries
  });

  it('does not follow a redirect (the operator network rules decide where Gatehouse may connect)', async () => {
    const owner = await h.bootstrap();
    const hook = await addWebhook(owner);
    receiver.answer = 302;
    const res = await h.request('POST', `${hooks(owner.accountId)}/${hook.id}/test`, { key: owner.key });
    expect(res.body).toMatchObject({ delivered: false, status_code: 302, error: 'The receiver answered 302 (redirects are not followed)' });
  });

  it('sends a test on demand and answers how it went; a receiver that is down is reported', async () => {
    const owner = await h.bootstrap();
    const hook = await addWebhook(owner, { enabled: false });
    const res = await h.request('POST', `${hooks(owner.accountId)}/${hook.id}/test`, { key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ delivery_id: expect.any(String), delivered: true, status_code: 204, error: null, duration_ms: expect.any(Number) });
    expect(receiver.received.map((r) => r.json.type)).toEqual(['webhook.test']);
    expect(verifyStandardWebhook(hook.secret, receiver.received[0]!.headers, receiver.received[0]!.body)).toBe(true);

    const down = await startWebhookReceiver();
    await down.close();
    const other = await h.request('POST', hooks(owner.accountId), { key: owner.key, body: { url: down.url } });
    const failed = await h.request('POST', `${hooks(owner.accountId)}/${other.body.id}/test`, { key: owner.key });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ delivered: false, status_code: null, error: 'Could not reach the receiver: ECONNREFUSED' });
    const log = await h.request('GET', `${hooks(owner.accountId)}/${other.body.id}/attempts`, { key: owner.key });
    expect(log.body).toEqual([
      { id: expect.any(String), delivery_id: failed.body.delivery_id, event_type: 'webhook.test', attempted_at: expect.any(String), status_code: null, error: 'Could not reach the receiver: ECONNREFUSED', duration_ms: expect.any(Number), delivery_status: 'pending' },
    ]);
    const audit = await h.request('POST', `/api/accounts/${owner.accountId}/audit_events/filter`, { key: owner.key, body: { audit_events: { action: { any_: ['webhook.test_sent'] } } } });
    expect(audit.body).toHaveLength(2);
  });

  it('hands each delivery to one process when several run the worker at once (lease)', async () => {
    const owner = await h.bootstrap();
    await addWebhook(owner);
    const bot = await createBot(h, owner.accountId, owner.key);
    for (let i = 0; i < 5; i += 1) await rotate(owner, bot.id);
    const second = await secondApp(h, { noticeDeliveryMs: 0, keyExpiryCheckMs: 0 });
    try {
      const [a, b] = await Promise.all([h.app.notices.deliverDue(), second.notices.deliverDue()]);
      // Each delivery was tried by one of the two, never by both.
      const tried = [...a, ...b].map((t) => t.delivery_id);
      expect(new Set(tried).size).toBe(tried.length);
      const attempts = [...a, ...b];
      // A loaded machine may leave one for a later round (a claim that lost the write lock, an
      // attempt past the 1 s timeout, then backed off by 30 s or more): move time past the backoff
      // and run both again until all five have arrived.
      for (let round = 0; round < 5 && new Set(receiver.received.map((r) => r.headers['webhook-id'])).size < 5; round += 1) {
        h.clock.advance(10 * 60_000);
        for (const tried of await Promise.all([h.app.notices.deliverDue(), second.notices.deliverDue()])) attempts.push(...tried);
      }
      // Five deliveries, all received; a second copy only of one whose first attempt the sender
      // timed out on (at least once, by design), never of one another process had claimed.
      const ids = receiver.received.map((r) => r.headers['webhook-id'] as string);
      expect(new Set(ids).size).toBe(5);
      const timedOut = new Set(attempts.filter((t) => t.error?.startsWith('No answer')).map((t) => t.delivery_id));
      for (const id of new Set(ids)) if (ids.filter((x) => x === id).length > 1) expect(timedOut.has(id), `delivery ${id} received twice`).toBe(true);
    } finally {
      await second.server.close();
    }
  });

  it('a receiver that hangs never slows key authentication: requests complete while the delivery waits', async () => {
    const owner = await h.bootstrap();
    await addWebhook(owner);
    const bot = await createBot(h, owner.accountId, owner.key);
    receiver.answer = 'hang';
    await rotate(owner, bot.id);
    const sending = h.app.notices.deliverDue();
    await expect.poll(() => receiver.received.length).toBe(1); // the receiver holds the request now
    const times: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const started = performance.now();
      expect(await authStatus(h, owner.key)).toBe(200);
      times.push(performance.now() - started);
    }
    times.sort((x, y) => x - y);
    expect(times[10]!).toBeLessThan(100); // median
    const [result] = (await sending).filter((t) => t.status_code !== null || t.error?.startsWith('No answer'));
    expect(result).toMatchObject({ delivered: false, error: 'No answer within 1 s' });
  });
});
