// GATEHOUSE_TRUST_PROXY: which reverse proxies Gatehouse believes about the client. A client's own
// X-Forwarded-For entries (nginx's $proxy_add_x_forwarded_for keeps them) must never choose the
// address that the throttles count and that sessions record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseTrustProxy } from '../src/config.js';
import { startHarness, type Harness } from './support/harness.js';
import { personWithPassword } from './support/people.js';
import { rawUpgrade } from './support/raw-upgrade.js';

describe('GATEHOUSE_TRUST_PROXY', () => {
  it('is off when unset, empty, false or 0', () => {
    for (const given of [undefined, '', 'false', 'FALSE', '0']) expect(parseTrustProxy(given), String(given)).toEqual({ ok: true, value: false });
  });

  it('takes a hop count', () => {
    expect(loadConfig({}, { GATEHOUSE_TRUST_PROXY: '1' })).toMatchObject({ ok: true, config: { trustProxy: 1 } });
    expect(parseTrustProxy('2')).toEqual({ ok: true, value: 2 });
  });

  it('takes proxy addresses, CIDRs and the named ranges', () => {
    expect(parseTrustProxy('10.0.0.0/8, 127.0.0.1,::1,fd00::/8')).toEqual({ ok: true, value: ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8'] });
    expect(parseTrustProxy('loopback,uniquelocal')).toEqual({ ok: true, value: ['loopback', 'uniquelocal'] });
  });

  it('refuses true, saying what to set instead', () => {
    const result = loadConfig({}, { GATEHOUSE_TRUST_PROXY: 'true' });
    expect(result.ok).toBe(false);
    const error = (result as { error: string }).error;
    expect(error).toMatch(/^Invalid GATEHOUSE_TRUST_PROXY "true": true is refused: it would believe every X-Forwarded-For hop/);
    expect(error).toContain('the number of reverse proxies in front of Gatehouse (1 for one nginx or Traefik)');
    expect(error).toContain('e.g. 127.0.0.1');
  });

  it('refuses malformed addresses and unlikely hop counts', () => {
    for (const given of ['10.0.0.0/33', 'nginx', '1.2.3', '10.0.0.1/8/8', '::1/129', '11', 'yes']) {
      const result = parseTrustProxy(given);
      expect(result.ok, given).toBe(false);
      expect((result as { error: string }).error, given).toMatch(/^Invalid GATEHOUSE_TRUST_PROXY/);
    }
  });
});

describe('behind one proxy (GATEHOUSE_TRUST_PROXY=1)', () => {
  const LIMIT = 3;
  const PROXY = '10.9.0.2';
  const CLIENT = '198.51.100.7';
  let h: Harness;

  beforeAll(async () => {
    const loaded = loadConfig({}, { GATEHOUSE_TRUST_PROXY: '1' });
    if (!loaded.ok) throw new Error(loaded.error);
    h = await startHarness({ trustProxy: loaded.config.trustProxy, keyFailureLimit: LIMIT });
  });
  afterAll(() => h.close());

  // What nginx sends with `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`: the
  // client's own header, then the address nginx saw.
  const viaProxy = (forged: string) => ({ 'x-forwarded-for': `${forged}, ${CLIENT}` });

  it('throttles failed keys by the address the proxy saw, whatever the client put before it', async () => {
    const BAD = 'pnu_000000000000000000000000000000000000';
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      const res = await h.app.server.inject({
        method: 'GET',
        url: '/api/me/',
        remoteAddress: PROXY,
        headers: { authorization: `Bearer ${BAD}`, ...viaProxy(`203.0.113.${i}`) },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it('records the address the proxy saw on the session, not the forged one', async () => {
    const p = await personWithPassword(h);
    const login = await h.app.server.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: PROXY,
      headers: { 'content-type': 'application/json', ...viaProxy('203.0.113.99') },
      payload: JSON.stringify({ email: p.email, password: p.password }),
    });
    expect(login.statusCode).toBe(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const sessions = await h.app.server.inject({ method: 'GET', url: '/api/me/sessions', headers: { cookie } });
    expect(sessions.statusCode).toBe(200);
    expect((sessions.json() as { ip_address: string }[]).map((s) => s.ip_address)).toEqual([CLIENT]);
  });

  it('believes no X-Forwarded-For from a client that reaches Gatehouse directly when the proxies are named', async () => {
    const named = await startHarness({ trustProxy: [PROXY], keyFailureLimit: LIMIT });
    try {
      const ip = async (remoteAddress: string) => {
        const p = await personWithPassword(named);
        const login = await named.app.server.inject({
          method: 'POST',
          url: '/api/auth/login',
          remoteAddress,
          headers: { 'content-type': 'application/json', ...viaProxy('203.0.113.99') },
          payload: JSON.stringify({ email: p.email, password: p.password }),
        });
        const cookie = String(login.headers['set-cookie']).split(';')[0]!;
        const sessions = await named.app.server.inject({ method: 'GET', url: '/api/me/sessions', headers: { cookie } });
        return (sessions.json() as { ip_address: string }[])[0]!.ip_address;
      };
      expect(await ip(PROXY)).toBe(CLIENT);
      expect(await ip('192.0.2.50')).toBe('192.0.2.50');
    } finally {
      await named.close();
    }
  });
});

describe('websocket upgrades behind one proxy (GATEHOUSE_TRUST_PROXY=1)', () => {
  const LIMIT = 3;
  const BAD = 'pnu_000000000000000000000000000000000000';
  let h: Harness;
  let port: number;

  beforeAll(async () => {
    h = await startHarness({ trustProxy: 1, keyFailureLimit: LIMIT });
    port = Number(new URL(await h.app.server.listen({ host: '127.0.0.1', port: 0 })).port);
  });
  afterAll(() => h.close());

  it('are throttled by the address the proxy saw, the same address as HTTP requests, whatever the client put before it', async () => {
    const path = `/api/accounts/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/workspaces/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/events/out`;
    const statuses: number[] = [];
    // The failures are spent over HTTP; the upgrade that follows comes from the same client with a
    // new forged entry, through the proxy (this test's own connection from 127.0.0.1).
    for (let i = 0; i < LIMIT; i++) {
      const res = await h.app.server.inject({ method: 'GET', url: '/api/me/', remoteAddress: '127.0.0.1', headers: { authorization: `Bearer ${BAD}`, 'x-forwarded-for': `203.0.113.${i}, 198.51.100.7` } });
      statuses.push(res.statusCode);
    }
    const upgrade = await rawUpgrade(port, path, { authorization: `Bearer ${BAD}`, 'x-forwarded-for': '6.6.6.6, 198.51.100.7' });
    statuses.push(upgrade.status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    // Another client behind the same proxy is not throttled.
    expect((await rawUpgrade(port, path, { authorization: `Bearer ${BAD}`, 'x-forwarded-for': '198.51.100.8' })).status).toBe(401);
  });
});
