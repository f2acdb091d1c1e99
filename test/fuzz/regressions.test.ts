// The failures the fuzz suites found, each pinned as the exact request that showed it, so that a
// fix stays fixed whatever seed the fuzz runs with.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type Response } from '../support/harness.js';
import { problems } from './oracle.js';
import { BODY_LIMIT } from './settings.js';

let h: Harness;
let owner: { accountId: string; userId: string; key: string };

beforeAll(async () => {
  // keyFailureLimit: undefined is the production default (the harness otherwise turns the throttle off).
  h = await startHarness({ bodyLimit: BODY_LIMIT, keyFailureLimit: undefined });
  owner = await h.bootstrap();
});

afterAll(async () => {
  await h?.close();
});

/** The answer is one of `statuses` in the error envelope, without a leak. */
function expectError(res: Response, ...statuses: number[]): void {
  expect(problems({ status: res.status, headers: res.headers, body: res.text }, new Set(statuses)), res.text.slice(0, 300)).toEqual([]);
}

const json = { 'content-type': 'application/json' };

describe('URLs the router refuses', () => {
  it('answers a path parameter longer than 200 characters with 400 or 404 in the error envelope, not a bare 414', async () => {
    const res = await h.request('GET', `/api/users/${'a'.repeat(300)}`, { key: owner.key });
    expectError(res, 400, 404);
    expect(res.text).not.toContain('a'.repeat(300));
  });

  it('answers broken percent-encoding in the path with 400 in the error envelope, without echoing the path', async () => {
    for (const segment of ['%ZZ', '%ED%A0%80', '%C0%AF']) {
      const res = await h.request('GET', `/api/accounts/${segment}/bots/filter-me`, { key: owner.key });
      expectError(res, 400);
      expect(res.text).not.toContain(segment);
    }
  });
});

describe('deeply nested bodies', () => {
  it('refuses a NUL under 20,000 levels of arrays with 422, naming a bounded path', async () => {
    const body = `${'['.repeat(20_000)}"\\u0000"${']'.repeat(20_000)}`;
    const res = await h.request('POST', '/api/auth/login', { rawBody: body, headers: json });
    expectError(res, 422);
    expect(res.text.length).toBeLessThan(2_000);
  });

  it('refuses user settings nested 5,000 deep with 422 instead of failing to store them', async () => {
    const body = `{"settings":{"a":${'['.repeat(5_000)}1${']'.repeat(5_000)}}}`;
    const res = await h.request('PATCH', `/api/users/${owner.userId}`, { key: owner.key, rawBody: body, headers: json });
    expectError(res, 422);
    // Refused by the JSON parser's depth limit (src/http/json.ts) before the settings check.
    expect(JSON.stringify(res.body.detail)).toMatch(/nests? .*levels/);
  });

  // Before the fix such settings were stored, and in the fuzz run a later GET /api/me/ overflowed
  // the response serializer's stack on them: a 500 on every read of the user from then on.
  it('refuses user settings nested 2,000 deep, which a read of the user may fail to serialize', async () => {
    const body = `{"settings":{"a":${'['.repeat(2_000)}1${']'.repeat(2_000)}}}`;
    const res = await h.request('PATCH', `/api/users/${owner.userId}`, { key: owner.key, rawBody: body, headers: json });
    expectError(res, 422);
    expect((await h.request('GET', '/api/me/', { key: owner.key })).status).toBe(200);
  });

  it('still stores settings nested 32 deep and reads them back', async () => {
    let settings: unknown = 'leaf';
    for (let i = 0; i < 31; i++) settings = { a: settings };
    const res = await h.request('PATCH', `/api/users/${owner.userId}`, { key: owner.key, body: { settings } });
    expect(res.status).toBe(204);
    const me = await h.request('GET', '/api/me/', { key: owner.key });
    expect(me.status).toBe(200);
    expect(me.body.settings).toEqual(settings);
  });
});

describe('dates JavaScript cannot hold', () => {
  it('refuses a leap second in the audit filter with 422, not a 500', async () => {
    const res = await h.request('POST', `/api/accounts/${owner.accountId}/audit_events/filter`, {
      key: owner.key,
      body: { audit_events: { occurred: { before_: '2030-12-31T23:59:60+00:00' } } },
    });
    expectError(res, 422);
  });

  it('refuses a leap second as a key expiration with 422', async () => {
    const res = await h.request('POST', `/api/users/${owner.userId}/api_keys`, { key: owner.key, body: { name: 'leap', expiration: '2030-12-31T23:59:60Z' } });
    expectError(res, 422);
  });
});

describe('forward-auth under a flood of bad keys', () => {
  it('answers 401, never the throttle 429 that nginx auth_request would turn into a 500', async () => {
    const headers = { 'x-original-method': 'GET', 'x-original-uri': `/api/accounts/${owner.accountId}/workspaces/${owner.accountId}/flows/filter` };
    const statuses = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const res = await h.request('GET', '/api/gateway/authorize', { key: `pnu_${String(i).padStart(36, '0')}`, headers });
      statuses.add(res.status);
    }
    expect([...statuses]).toEqual([401]);
    // Everywhere else the same flood is throttled with 429, and the Owner's key still works.
    expect((await h.request('GET', '/api/me/', { key: `pnu_${'9'.repeat(36)}` })).status).toBe(429);
    expect((await h.request('GET', '/api/me/', { key: owner.key })).status).toBe(200);
  });
});
