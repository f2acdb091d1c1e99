// Repeated requests with invalid keys from one address are answered 429 with Retry-After, before
// any store lookup, without locking out other addresses or keys that already worked from it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';

const LIMIT = 5;
let h: Harness;
let owner: { accountId: string; key: string };
let other: { key: string };

beforeAll(async () => {
  h = await startHarness({ keyFailureLimit: LIMIT });
  owner = await h.bootstrap();
  other = await h.bootstrap();
});
afterAll(() => h.close());

const me = async (key: string, address: string) => {
  const res = await h.app.server.inject({ method: 'GET', url: '/api/me/', headers: { authorization: `Bearer ${key}` }, remoteAddress: address });
  return { status: res.statusCode, retryAfter: res.headers['retry-after'], body: res.json() as { code?: string; detail?: string } };
};
const BAD = 'pnu_000000000000000000000000000000000000';

describe('failed key authentications per address', () => {
  it('answers 429 with Retry-After once an address passes the limit, then lets it try again after the window', async () => {
    const address = '10.0.0.1';
    for (let i = 0; i < LIMIT; i++) expect((await me(BAD, address)).status).toBe(401);
    const refused = await me(BAD, address);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('RATE_LIMITED');
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    // A valid key never seen from this address waits too: the address is what is throttled.
    expect((await me(other.key, address)).status).toBe(429);
    h.clock.advance(61_000);
    expect((await me(other.key, address)).status).toBe(200);
  });

  it('keeps serving keys that already worked from the address, and other addresses', async () => {
    const address = '10.0.0.2';
    expect((await me(owner.key, address)).status).toBe(200);
    for (let i = 0; i < LIMIT + 3; i++) await me(BAD, address);
    expect((await me(BAD, address)).status).toBe(429);
    expect((await me(owner.key, address)).status).toBe(200);
    expect((await me(other.key, '10.0.0.3')).status).toBe(200);
    expect((await me(BAD, '10.0.0.3')).status).toBe(401);
  });

  it('never lets a throttled address learn whether a key is valid by timing or status', async () => {
    const address = '10.0.0.4';
    for (let i = 0; i < LIMIT; i++) await me(BAD, address);
    const valid = await me(other.key, address);
    const invalid = await me(BAD, address);
    expect([valid.status, invalid.status]).toEqual([429, 429]);
  });
});
