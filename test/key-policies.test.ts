// Account key policies (issue 19, item 2): set and read by Owners/Admins, enforced at create and
// rotate with 422 KEY_POLICY_VIOLATION, existing breakers listed and left alone, and the dormancy
// rule disabling an unused key (audited) so that the API and the gateway refuse it.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { authStatus, secondApp, useHarness } from './support/harness.js';
import { addMember, botWithRole, postBot, workspaceWithUpstream } from './support/members.js';
import { startFakePrefect, type FakePrefect } from './support/fake-prefect.js';

const DAY = 86_400_000;
const h = useHarness();
let fake: FakePrefect;

beforeAll(async () => {
  fake = await startFakePrefect();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => vi.restoreAllMocks());

const policyUrl = (accountId: string) => `/api/accounts/${accountId}/key_policy`;
const setPolicy = (owner: { accountId: string; key: string }, body: unknown) => h.request('PUT', policyUrl(owner.accountId), { key: owner.key, body });
const inDays = (days: number) => new Date(h.clock.now().getTime() + days * DAY).toISOString();
const minuteUtc = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

async function ownerWithPolicy(body: Record<string, unknown>) {
  const owner = await h.bootstrap();
  const res = await setPolicy(owner, body);
  expect(res.status, res.text).toBe(200);
  return owner;
}

describe('reading and setting the policy', () => {
  it('reads the default (no limits) before any is set', async () => {
    const owner = await h.bootstrap();
    const res = await h.request('GET', policyUrl(owner.accountId), { key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      account_id: owner.accountId,
      max_key_lifetime_days: null,
      allow_never_expire: true,
      max_rotation_grace_seconds: null,
      disable_keys_unused_days: null,
      leaked_key_action: 'disable',
      updated: null,
    });
  });

  it('sets the fields sent, keeps the absent ones, lifts a limit with null, and records one audit event each time', async () => {
    const owner = await h.bootstrap();
    const first = await setPolicy(owner, { max_key_lifetime_days: 90, allow_never_expire: false, max_rotation_grace_seconds: 3600, disable_keys_unused_days: 30 });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ max_key_lifetime_days: 90, allow_never_expire: false, max_rotation_grace_seconds: 3600, disable_keys_unused_days: 30 });
    const second = await setPolicy(owner, { max_rotation_grace_seconds: null });
    expect(second.body).toMatchObject({ max_key_lifetime_days: 90, allow_never_expire: false, max_rotation_grace_seconds: null, disable_keys_unused_days: 30 });
    const read = await h.request('GET', policyUrl(owner.accountId), { key: owner.key });
    expect(read.body).toEqual(second.body);
    expect(read.body.updated).toEqual(expect.any(String));
    const audit = await h.request('POST', `/api/accounts/${owner.accountId}/audit_events/filter`, {
      key: owner.key,
      body: { audit_events: { action: { any_: ['account.key_policy_updated'] } } },
    });
    expect(audit.body).toHaveLength(2);
    expect(audit.body.map((e: { details: { max_rotation_grace_seconds: number | null } }) => e.details.max_rotation_grace_seconds).sort()).toEqual([3600, null]);
  });

  it('lets an Admin set it, and refuses a Member with 403 without changing it', async () => {
    const owner = await h.bootstrap();
    const admin = await addMember(h, owner.accountId, 'Admin');
    const member = await addMember(h, owner.accountId, 'Member');
    expect((await h.request('PUT', policyUrl(owner.accountId), { key: admin.key, body: { max_key_lifetime_days: 30 } })).status).toBe(200);
    const refused = await h.request('PUT', policyUrl(owner.accountId), { key: member.key, body: { max_key_lifetime_days: 1 } });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    expect((await h.request('GET', policyUrl(owner.accountId), { key: member.key })).body.max_key_lifetime_days).toBe(30);
  });

  it('refuses a service account key (a Member) and out-of-range values', async () => {
    const owner = await h.bootstrap();
    const bot = await postBot(h, owner.accountId, owner.key);
    expect((await h.request('PUT', policyUrl(owner.accountId), { key: bot.api_key.key, body: { max_key_lifetime_days: 1 } })).status).toBe(403);
    for (const body of [{ max_key_lifetime_days: 0 }, { max_rotation_grace_seconds: 172_801 }, { disable_keys_unused_days: -1 }, { allow_never_expire: null }, { other: 1 }]) {
      const res = await setPolicy(owner, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('enforced when a key is issued', () => {
  it('refuses a create whose expiration is beyond the longest lifetime, naming the limit and the latest date', async () => {
    const owner = await ownerWithPolicy({ max_key_lifetime_days: 90 });
    const now = h.clock.now().getTime();
    vi.spyOn(h.clock, 'now').mockImplementation(() => new Date(now));
    const res = await h.request('POST', `/api/accounts/${owner.accountId}/bots/`, { key: owner.key, body: { name: 'too-long', api_key_expiration: inDays(91) } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('KEY_POLICY_VIOLATION');
    expect(res.body.detail).toBe(`This account's key policy allows keys of at most 90 days; choose an expiration no later than ${minuteUtc(new Date(now + 90 * DAY))}`);
    const listed = await h.request('POST', `/api/accounts/${owner.accountId}/bots/filter`, { key: owner.key, body: {} });
    expect(listed.body).toEqual([]);
    await postBot(h, owner.accountId, owner.key, { api_key_expiration: inDays(90) });
  });

  it('refuses a key that never expires when Never Expire is not allowed, at create and rotate', async () => {
    const owner = await ownerWithPolicy({ allow_never_expire: false });
    for (const body of [{ name: 'never-a' }, { name: 'never-b', api_key_expiration: null }]) {
      const res = await h.request('POST', `/api/accounts/${owner.accountId}/bots/`, { key: owner.key, body });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'KEY_POLICY_VIOLATION', detail: "This account's key policy does not allow keys that never expire; choose an expiration date" });
    }
    const bot = await postBot(h, owner.accountId, owner.key, { api_key_expiration: inDays(10) });
    const rotate = await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`, { key: owner.key, body: { api_key_expiration: null } });
    expect(rotate.status).toBe(422);
    expect(rotate.body.code).toBe('KEY_POLICY_VIOLATION');
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
  });

  it('refuses a rotation to a key beyond the longest lifetime', async () => {
    const owner = await h.bootstrap();
    const bot = await postBot(h, owner.accountId, owner.key);
    await setPolicy(owner, { max_key_lifetime_days: 7 });
    const res = await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`, { key: owner.key, body: { api_key_expiration: inDays(8) } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('KEY_POLICY_VIOLATION');
    expect(res.body.detail).toContain('at most 7 days');
    // Never Expire is allowed, but a key that never expires is longer than 7 days.
    const never = await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`, { key: owner.key, body: { api_key_expiration: null } });
    expect(never.status).toBe(422);
    expect(never.body.detail).toMatch(/^This account's key policy does not allow keys that never expire; choose an expiration no later than \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
    const ok = await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`, { key: owner.key, body: { api_key_expiration: inDays(7) } });
    expect(ok.status, ok.text).toBe(201);
  });

  it('refuses a rotation grace longer than the policy allows, and leaves the old key as it was', async () => {
    const owner = await ownerWithPolicy({ max_rotation_grace_seconds: 600 });
    const bot = await postBot(h, owner.accountId, owner.key);
    const res = await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`, { key: owner.key, body: { old_key_expires_in_seconds: 601 } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      code: 'KEY_POLICY_VIOLATION',
      detail: "This account's key policy allows a rotation grace of at most 600 seconds; send old_key_expires_in_seconds from 0 to 600, or null to delete the old key now",
    });
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
    const ok = await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`, { key: owner.key, body: { old_key_expires_in_seconds: 600 } });
    expect(ok.status, ok.text).toBe(201);
  });
});

describe('existing keys that break a new policy', () => {
  it('are listed with the rules they break, and keep working unchanged', async () => {
    const owner = await h.bootstrap();
    const never = await postBot(h, owner.accountId, owner.key, { name: 'never' });
    const long = await postBot(h, owner.accountId, owner.key, { name: 'long', api_key_expiration: inDays(365) });
    await postBot(h, owner.accountId, owner.key, { name: 'short', api_key_expiration: inDays(10) });
    await setPolicy(owner, { max_key_lifetime_days: 90, allow_never_expire: false });
    const res = await h.request('GET', `${policyUrl(owner.accountId)}/breaches`, { key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body.map((b: { service_account_name: string; rules: string[] }) => [b.service_account_name, b.rules])).toEqual([
      ['never', ['allow_never_expire', 'max_key_lifetime_days']],
      ['long', ['max_key_lifetime_days']],
    ]);
    expect(res.body[0]).toEqual({
      service_account_id: never.id,
      service_account_name: 'never',
      api_key_id: never.api_key.id,
      masked_key: expect.stringMatching(/^pnb_/),
      created: never.api_key.created,
      expiration: null,
      is_active: true,
      last_activity: never.api_key.created,
      rules: ['allow_never_expire', 'max_key_lifetime_days'],
    });
    expect(res.text).not.toContain(never.api_key.key);
    expect(await authStatus(h, never.api_key.key)).toBe(200);
    expect(await authStatus(h, long.api_key.key)).toBe(200);
    expect((await h.request('GET', `/api/accounts/${owner.accountId}/bots/${long.id}`, { key: owner.key })).body.api_key.expiration).toBe(long.api_key.expiration);
  });
});

describe('the dormancy rule', () => {
  it('disables a key unused for N days (not before), writes an audit event, and the API and gateway refuse it', async () => {
    const owner = await h.bootstrap();
    const ws = await workspaceWithUpstream(h, owner, fake.url);
    const bot = await botWithRole(h, owner, ws.id, WORKSPACE_ROLE_IDS.Developer, 'dormant');
    const busy = await postBot(h, owner.accountId, owner.key, { name: 'other' });
    await setPolicy(owner, { disable_keys_unused_days: 30 });
    expect((await h.request('POST', `${ws.base}/flows/filter`, { key: bot.key, body: {} })).status).toBe(200);

    h.clock.advance(29 * DAY);
    expect(await h.app.services.keyPolicies.disableDormantKeys()).toEqual([]);
    expect(await authStatus(h, bot.key)).toBe(200);
    // A key issued later (rotated) is younger: only the other one is due.
    await h.request('POST', `/api/accounts/${owner.accountId}/bots/${busy.id}/rotate_api_key`, { key: owner.key, body: {} });
    const breaches = await h.request('GET', `${policyUrl(owner.accountId)}/breaches`, { key: owner.key });
    expect(breaches.body).toEqual([]);

    h.clock.advance(DAY);
    const listed = await h.request('GET', `${policyUrl(owner.accountId)}/breaches`, { key: owner.key });
    expect(listed.body.map((b: { service_account_id: string; rules: string[] }) => [b.service_account_id, b.rules])).toEqual([[bot.id, ['disable_keys_unused_days']]]);
    const disabled = await h.app.services.keyPolicies.disableDormantKeys();
    expect(disabled).toEqual([{ account_id: owner.accountId, service_account_id: bot.id, api_key_id: expect.any(String), last_activity: expect.any(String) }]);
    expect(await authStatus(h, bot.key)).toBe(401);
    const gateway = await h.request('POST', `${ws.base}/flows/filter`, { key: bot.key, body: {} });
    expect(gateway.status).toBe(401);
    expect(gateway.body.code).toBe('UNAUTHENTICATED');

    // Idempotent: a second run (another process) finds nothing to do and writes nothing.
    expect(await h.app.services.keyPolicies.disableDormantKeys()).toEqual([]);
    const audit = await h.request('POST', `/api/accounts/${owner.accountId}/audit_events/filter`, {
      key: owner.key,
      body: { audit_events: { action: { any_: ['service_account.api_key_disabled'] } } },
    });
    expect(audit.body).toHaveLength(1);
    expect(audit.body[0]).toMatchObject({
      actor_type: 'system',
      target_type: 'service_account',
      target_id: bot.id,
      details: { name: 'dormant', api_key_id: disabled[0].api_key_id, reason: 'dormant', disable_keys_unused_days: 30, previous_expiration: null },
    });
    expect(JSON.stringify(audit.body)).not.toContain(bot.key);
    // A rotation issues a working key again.
    const rotated = await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`, { key: owner.key, body: {} });
    expect(await authStatus(h, rotated.body.api_key.key)).toBe(200);
  });

  it("counts from a key's last use, not its creation", async () => {
    const owner = await h.bootstrap();
    const bot = await postBot(h, owner.accountId, owner.key, { name: 'used' });
    await setPolicy(owner, { disable_keys_unused_days: 30 });
    h.clock.advance(20 * DAY);
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
    await h.app.keyUse.flush();
    h.clock.advance(11 * DAY); // 31 days old, used 11 days ago: kept (other tests' accounts may have keys due)
    const mine = async () => (await h.app.services.keyPolicies.disableDormantKeys()).filter((d) => d.account_id === owner.accountId);
    expect(await mine()).toEqual([]);
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
    await h.app.keyUse.flush();
    h.clock.advance(31 * DAY); // unused for 31 days since: disabled
    expect((await mine()).map((d) => d.service_account_id)).toEqual([bot.id]);
    expect(await authStatus(h, bot.api_key.key)).toBe(401);
  });

  it('leaves accounts without the rule alone', async () => {
    const owner = await h.bootstrap();
    const bot = await postBot(h, owner.accountId, owner.key);
    h.clock.advance(400 * DAY);
    await h.app.services.keyPolicies.disableDormantKeys();
    expect(await authStatus(h, bot.api_key.key)).toBe(200);
  });

  it('runs on its own in the server at the configured interval', async () => {
    const owner = await h.bootstrap();
    const bot = await postBot(h, owner.accountId, owner.key);
    await setPolicy(owner, { disable_keys_unused_days: 1 });
    h.clock.advance(DAY + 1000);
    const app = await secondApp(h, { keyDormancyCheckMs: 20, logger: false });
    try {
      await vi.waitFor(async () => expect(await authStatus(h, bot.api_key.key)).toBe(401), { timeout: 5_000, interval: 50 });
    } finally {
      await app.server.close();
    }
  });
});

describe("the account's auth_expiration_seconds", () => {
  it('is refused with 422 when set, since Gatehouse would not apply it; null still passes', async () => {
    const owner = await h.bootstrap();
    const res = await h.request('PATCH', `/api/accounts/${owner.accountId}`, { key: owner.key, body: { auth_expiration_seconds: 3600 } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('AUTH_EXPIRATION_NOT_APPLIED');
    expect(res.body.detail).toContain('GATEHOUSE_SESSION_TTL_SECONDS');
    const cleared = await h.request('PATCH', `/api/accounts/${owner.accountId}`, { key: owner.key, body: { name: 'Still fine', auth_expiration_seconds: null } });
    expect(cleared.status).toBe(204);
    expect((await h.request('GET', `/api/accounts/${owner.accountId}`, { key: owner.key })).body.auth_expiration_seconds).toBeNull();
  });
});
