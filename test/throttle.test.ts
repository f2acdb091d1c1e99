// Sign-in throttling: 5 failures for one email, or 20 from one address, within 15 minutes block
// further sign-ins for that email or address until the window ends (429 with Retry-After), even
// with the right password. Keys are never throttled by it.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from './support/harness.js';
import { personWithPassword, sessionSetCookie, type Person } from './support/people.js';

const WINDOW_MS = 15 * 60 * 1000;

const h = useHarness();

let lastOctet = 0;
/** A client address no other test uses, so counters per address never mix between tests. */
const freshAddress = () => `10.0.${++lastOctet}.9`;

/** One sign-in from `address` (an in-process request: fastify inject sets the remote address). */
async function attempt(email: string, password: string, address: string) {
  const res = await h.app.server.inject({
    method: 'POST',
    url: '/api/auth/login',
    remoteAddress: address,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ email, password }),
  });
  return { status: res.statusCode, body: JSON.parse(res.body), retryAfter: res.headers['retry-after'], cookie: sessionSetCookie(res) };
}

async function failTimes(n: number, email: (i: number) => string, address: string) {
  for (let i = 0; i < n; i++) {
    const res = await attempt(email(i), 'not the password', address);
    expect([res.status, res.body.code], `failure ${i + 1}`).toEqual([401, 'INVALID_LOGIN']);
  }
}

function expectThrottled(res: Awaited<ReturnType<typeof attempt>>, maxSeconds = WINDOW_MS / 1000) {
  expect([res.status, res.body.code]).toEqual([429, 'RATE_LIMITED']);
  expect(res.retryAfter).toMatch(/^\d+$/);
  expect(Number(res.retryAfter)).toBeGreaterThan(0);
  expect(Number(res.retryAfter)).toBeLessThanOrEqual(maxSeconds);
  expect(res.cookie).toBeNull();
}

describe('failures for one email', () => {
  let p: Person;
  beforeAll(async () => {
    p = await personWithPassword(h);
  });

  it('block the 6th attempt with 429 and Retry-After, even with the right password, until the window ends', async () => {
    const address = freshAddress();
    await failTimes(5, () => p.email, address);
    const blocked = await attempt(p.email, p.password, address);
    expectThrottled(blocked);
    // From another address as well: the email is what is being guessed.
    expectThrottled(await attempt(p.email, p.password, freshAddress()));

    h.clock.advance(5 * 60 * 1000);
    const later = await attempt(p.email, p.password, address);
    expectThrottled(later, 10 * 60);

    h.clock.advance(10 * 60 * 1000);
    const after = await attempt(p.email, p.password, address);
    expect(after.status).toBe(200);
    expect(after.cookie).not.toBeNull();
  });

  it('leave other emails alone, from the same address', async () => {
    const address = freshAddress();
    const victim = await personWithPassword(h);
    const bystander = await personWithPassword(h);
    await failTimes(5, () => victim.email, address);
    expectThrottled(await attempt(victim.email, victim.password, address));
    expect((await attempt(bystander.email, bystander.password, address)).status).toBe(200);
  });

  it('count together whatever the case and surrounding spaces of the email', async () => {
    const victim = await personWithPassword(h);
    const forms = [victim.email, victim.email.toUpperCase(), ` ${victim.email}`, `${victim.email} `, victim.email.replace(/^./, (c) => c.toUpperCase())];
    await failTimes(5, (i) => forms[i], freshAddress());
    expectThrottled(await attempt(victim.email, victim.password, freshAddress()));
  });

  it('are forgotten after a successful sign-in', async () => {
    const person = await personWithPassword(h);
    const address = freshAddress();
    await failTimes(4, () => person.email, address);
    expect((await attempt(person.email, person.password, address)).status).toBe(200);
    await failTimes(4, () => person.email, address);
    expect((await attempt(person.email, person.password, address)).status).toBe(200);
  });

  it('cannot be raced: of many concurrent guesses, at most 5 are checked', async () => {
    const person = await personWithPassword(h);
    const address = freshAddress();
    const results = await Promise.all(Array.from({ length: 12 }, () => attempt(person.email, 'not the password', address)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expectThrottled(await attempt(person.email, person.password, address));
  });
});

describe('failures from one address', () => {
  it('block that address after 20, for every email, and no other address; successes do not count', async () => {
    const address = freshAddress();
    const p = await personWithPassword(h);
    const guess = (i: number) => `guess-${i}-${randomBytes(2).toString('hex')}@example.com`;
    await failTimes(19, guess, address);
    // An office behind one address keeps signing in while it stays under the limit.
    expect((await attempt(p.email, p.password, address)).status).toBe(200);
    expect((await attempt(p.email, p.password, address)).status).toBe(200);
    await failTimes(1, guess, address);
    expectThrottled(await attempt(p.email, p.password, address));
    const elsewhere = await attempt(p.email, p.password, freshAddress());
    expect(elsewhere.status).toBe(200);
  });

  it('never stop a valid key sent from that address', async () => {
    const address = freshAddress();
    const p = await personWithPassword(h);
    await failTimes(20, (i) => `guess-${i}-${randomBytes(2).toString('hex')}@example.com`, address);
    expectThrottled(await attempt(p.email, p.password, address));
    const read = await h.app.server.inject({ method: 'GET', url: '/api/me/', remoteAddress: address, headers: { authorization: `Bearer ${p.key}` } });
    expect(read.statusCode).toBe(200);
    const write = await h.app.server.inject({
      method: 'POST',
      url: `/api/accounts/${p.accountId}/bots/`,
      remoteAddress: address,
      headers: { authorization: `Bearer ${p.key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'from-throttled-address' }),
    });
    expect(write.statusCode).toBe(201);
  });
});
