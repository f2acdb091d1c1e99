// IP allowlists (issue 19, item 5): Prefect Cloud's routes for reading and replacing an account's
// list and asking whether one's own address is on it; the account setting that enforces it; the
// refusal of a change that would lock its caller out; and enforcement for keys and sessions on
// the routes that act in the account. Addresses here are the socket's (inject's remoteAddress);
// test/ip-allowlist-network.test.ts uses real other source addresses.
import { describe, expect, it } from 'vitest';
import { secondApp, useHarness, type Harness } from './support/harness.js';
import { addMember, createBot } from './support/members.js';
import { browser, personWithPassword, signIn } from './support/people.js';

const ADMIN_AT = '198.51.100.10';
const WORKER_AT = '203.0.113.20';
const ELSEWHERE = '192.0.2.99';

/** One request from `address` (the socket's, as no proxy is trusted). */
async function from(h: Harness, address: string, method: string, url: string, options: { key?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await h.app.server.inject({ method: method as never, url, headers, remoteAddress: address, payload: options.body === undefined ? undefined : JSON.stringify(options.body) });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

const entry = (ip_network: string, description: string | null = null, enabled = true) => ({ ip_network, description, enabled });

describe('the IP allowlist routes', () => {
  const h = useHarness();

  it('reads an empty list, and replaces it with canonical networks, IPv4 and IPv6', async () => {
    const { accountId, key } = await h.bootstrap();
    const base = `/api/accounts/${accountId}/ip_allowlist`;
    expect((await h.request('GET', base, { key })).body).toEqual({ entries: [] });
    const put = await h.request('PUT', base, {
      key,
      body: { entries: [entry('10.0.0.1', 'office'), entry('10.1.0.0/16', null, false), { ip_network: '2001:DB8:0:0::/32', enabled: true, last_seen: null }] },
    });
    expect(put.status).toBe(200);
    const expected = {
      entries: [
        { ip_network: '10.0.0.1/32', description: 'office', enabled: true, last_seen: null },
        { ip_network: '10.1.0.0/16', description: null, enabled: false, last_seen: null },
        { ip_network: '2001:db8::/32', description: null, enabled: true, last_seen: null },
      ],
    };
    expect(put.body).toEqual(expected);
    expect((await h.request('GET', `${base}/`, { key })).body).toEqual(expected);
    const audit = await h.request('POST', `/api/accounts/${accountId}/audit_events/filter`, { key, body: {} });
    const events = audit.body.filter((e: any) => e.action === 'ip_allowlist.updated');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      request_id: put.headers['x-request-id'],
      target_type: 'account',
      target_id: accountId,
      details: { before: [], after: ['10.0.0.1/32', '10.1.0.0/16 (disabled)', '2001:db8::/32'] },
    });
  });

  it('refuses what is not an IP network with 422, saying which entry and why', async () => {
    const { accountId, key } = await h.bootstrap();
    const base = `/api/accounts/${accountId}/ip_allowlist`;
    const cases: [string, string][] = [
      ['not-an-ip', 'entries[0].ip_network: "not-an-ip" is not an IP address or CIDR network'],
      ['10.0.0.1/8', 'entries[0].ip_network: "10.0.0.1/8" has host bits set: write the network\'s first address, such as 10.0.0.0/8'],
      ['10.0.0.0/33', 'entries[0].ip_network: "10.0.0.0/33": an IPv4 prefix length is at most 32'],
    ];
    for (const [network, detail] of cases) {
      const res = await h.request('PUT', base, { key, body: { entries: [entry(network)] } });
      expect(res.status, network).toBe(422);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.detail).toContain(detail);
    }
    const twice = await h.request('PUT', base, { key, body: { entries: [entry('10.0.0.1'), entry('10.0.0.1/32')] } });
    expect(twice.status).toBe(422);
    expect(twice.body.detail).toBe('entries[1].ip_network: 10.0.0.1/32 is on the list twice; send each network once');
    expect((await h.request('GET', base, { key })).body).toEqual({ entries: [] });
  });

  it('serves the account settings Prefect\'s CLI reads and patches', async () => {
    const { accountId, key } = await h.bootstrap();
    const settings = await h.request('GET', `/api/accounts/${accountId}/settings`, { key });
    expect(settings.status).toBe(200);
    expect(settings.body).toMatchObject({ enforce_ip_allowlist: false, allow_public_workspaces: false });
    expect((await h.request('PATCH', `/api/accounts/${accountId}/settings`, { key, body: { enforce_ip_allowlist: true } })).status).toBe(204);
    expect((await h.request('GET', `/api/accounts/${accountId}/settings/`, { key })).body.enforce_ip_allowlist).toBe(true);
    const unknown = await h.request('PATCH', `/api/accounts/${accountId}/settings`, { key, body: { no_such_setting: true } });
    expect(unknown.status).toBe(422);
  });

  it('is Owner/Admin work: a Member gets 403, a stranger 404', async () => {
    const { accountId } = await h.bootstrap();
    const member = await addMember(h, accountId, 'Member');
    const stranger = await h.bootstrap();
    const base = `/api/accounts/${accountId}/ip_allowlist`;
    expect((await h.request('GET', base, { key: member.key })).status).toBe(403);
    expect((await h.request('PUT', base, { key: member.key, body: { entries: [] } })).status).toBe(403);
    expect((await h.request('GET', base, { key: stranger.key })).status).toBe(404);
  });
});

describe('my_access and lock-out protection', () => {
  const h = useHarness();

  it('says whether the caller\'s own address is on the list', async () => {
    const { accountId, key } = await h.bootstrap();
    const myAccess = `/api/accounts/${accountId}/ip_allowlist/my_access`;
    expect((await from(h, ADMIN_AT, 'GET', myAccess, { key })).body).toEqual({ allowed: true, detail: `The IP allowlist is empty, so it restricts nothing; your address is ${ADMIN_AT}` });
    await from(h, ADMIN_AT, 'PUT', `/api/accounts/${accountId}/ip_allowlist`, { key, body: { entries: [entry('198.51.100.0/24')] } });
    expect((await from(h, ADMIN_AT, 'GET', myAccess, { key })).body).toEqual({ allowed: true, detail: `Your address ${ADMIN_AT} is on the IP allowlist` });
    const outside = await from(h, ELSEWHERE, 'GET', myAccess, { key });
    expect(outside.status).toBe(200);
    expect(outside.body).toEqual({
      allowed: false,
      detail: `Your address ${ELSEWHERE} is not on the IP allowlist's enabled entries, so enforcing this list would lock you out: add ${ELSEWHERE} (or a network holding it) first`,
    });
  });

  it('refuses to enforce a list that does not hold the caller, by PATCH of settings or of the account', async () => {
    const { accountId, key } = await h.bootstrap();
    await from(h, ADMIN_AT, 'PUT', `/api/accounts/${accountId}/ip_allowlist`, { key, body: { entries: [entry(WORKER_AT), entry(ADMIN_AT, 'me', false)] } });
    for (const [url, body] of [
      [`/api/accounts/${accountId}/settings`, { enforce_ip_allowlist: true }],
      [`/api/accounts/${accountId}`, { settings: { enforce_ip_allowlist: true } }],
    ] as const) {
      const res = await from(h, ADMIN_AT, 'PATCH', url, { key, body });
      expect(res.status, url).toBe(422);
      expect(res.body).toMatchObject({ code: 'IP_ALLOWLIST_LOCKOUT', detail: expect.stringContaining(`Your address ${ADMIN_AT} is not on the IP allowlist's enabled entries`) });
    }
    expect((await from(h, ADMIN_AT, 'GET', `/api/accounts/${accountId}/settings`, { key })).body.enforce_ip_allowlist).toBe(false);
    expect((await from(h, WORKER_AT, 'PATCH', `/api/accounts/${accountId}/settings`, { key, body: { enforce_ip_allowlist: true } })).status).toBe(204);
  });

  it('refuses, while enforced, a list that drops or disables the caller\'s own entry', async () => {
    const { accountId, key } = await h.bootstrap();
    const base = `/api/accounts/${accountId}/ip_allowlist`;
    await from(h, ADMIN_AT, 'PUT', base, { key, body: { entries: [entry(ADMIN_AT), entry(WORKER_AT)] } });
    expect((await from(h, ADMIN_AT, 'PATCH', `/api/accounts/${accountId}/settings`, { key, body: { enforce_ip_allowlist: true } })).status).toBe(204);
    for (const entries of [[entry(WORKER_AT)], [entry(ADMIN_AT, null, false), entry(WORKER_AT)]]) {
      const res = await from(h, ADMIN_AT, 'PUT', base, { key, body: { entries } });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'IP_ALLOWLIST_LOCKOUT' });
      expect(res.body.detail).toBe(
        `Your address ${ADMIN_AT} is not on this list's enabled entries, and the account enforces its IP allowlist: saving it would lock you out. Keep ${ADMIN_AT} (or a network holding it) on the list and enabled`,
      );
    }
    expect((await from(h, ADMIN_AT, 'GET', base, { key })).body.entries.map((e: any) => e.ip_network)).toEqual([`${ADMIN_AT}/32`, `${WORKER_AT}/32`]);
  });
});

describe('enforcement', () => {
  const h = useHarness();

  /** An account enforcing [ADMIN_AT, WORKER_AT], with a service account whose key works from WORKER_AT. */
  async function enforcing() {
    const owner = await h.bootstrap();
    const bot = await createBot(h, owner.accountId, owner.key);
    await from(h, ADMIN_AT, 'PUT', `/api/accounts/${owner.accountId}/ip_allowlist`, { key: owner.key, body: { entries: [entry(ADMIN_AT), entry(WORKER_AT, 'workers')] } });
    expect((await from(h, ADMIN_AT, 'PATCH', `/api/accounts/${owner.accountId}/settings`, { key: owner.key, body: { enforce_ip_allowlist: true } })).status).toBe(204);
    return { owner, bot };
  }

  it('refuses a key from an address off the list with 403 IP_NOT_ALLOWED naming the address', async () => {
    const { owner, bot } = await enforcing();
    const url = `/api/accounts/${owner.accountId}/bots/${bot.id}`;
    expect((await from(h, WORKER_AT, 'GET', url, { key: bot.key })).status).toBe(200);
    const refused = await from(h, ELSEWHERE, 'GET', url, { key: bot.key });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 'IP_NOT_ALLOWED',
      detail: `Your address ${ELSEWHERE} is not on this account's IP allowlist: connect from an allowed network, or ask an account Owner or Admin to add it (\`prefect cloud ip-allowlist add ${ELSEWHERE}\` or \`gatehouse ip-allowlist add ${ELSEWHERE}\`)`,
    });
    // The account's own routes, the allowlist's too; an IPv4 client on an IPv6 socket is the same address.
    expect((await from(h, ELSEWHERE, 'GET', `/api/accounts/${owner.accountId}/ip_allowlist`, { key: owner.key })).status).toBe(403);
    expect((await from(h, `::ffff:${ADMIN_AT}`, 'GET', `/api/accounts/${owner.accountId}/ip_allowlist`, { key: owner.key })).status).toBe(200);
  });

  it('refuses a browser session from an address off the list', async () => {
    const person = await personWithPassword(h);
    await from(h, ADMIN_AT, 'PUT', `/api/accounts/${person.accountId}/ip_allowlist`, { key: person.key, body: { entries: [entry(ADMIN_AT)] } });
    await from(h, ADMIN_AT, 'PATCH', `/api/accounts/${person.accountId}/settings`, { key: person.key, body: { enforce_ip_allowlist: true } });
    const session = await signIn(h, person.email, person.password);
    const inside = await from(h, ADMIN_AT, 'GET', `/api/accounts/${person.accountId}`, { headers: browser(session) });
    expect(inside.status).toBe(200);
    const outside = await from(h, ELSEWHERE, 'GET', `/api/accounts/${person.accountId}`, { headers: browser(session) });
    expect(outside.status).toBe(403);
    expect(outside.body.code).toBe('IP_NOT_ALLOWED');
    // Who one is is not the account's business: /api/me answers anywhere.
    expect((await from(h, ELSEWHERE, 'GET', '/api/me/', { headers: browser(session) })).status).toBe(200);
  });

  it('answers a stranger off the list 404, as for an account that does not exist', async () => {
    const { owner } = await enforcing();
    const stranger = await h.bootstrap();
    const res = await from(h, ELSEWHERE, 'GET', `/api/accounts/${owner.accountId}`, { key: stranger.key });
    expect(res.status).toBe(404);
  });

  it('takes effect at once, in this process and in another on the same database', async () => {
    const { owner, bot } = await enforcing();
    const url = `/api/accounts/${owner.accountId}/bots/${bot.id}`;
    const other = await secondApp(h);
    try {
      const viaOther = async (address: string) => (await other.server.inject({ method: 'GET', url, remoteAddress: address, headers: { authorization: `Bearer ${bot.key}` } })).statusCode;
      // Both processes have the list cached as allowing WORKER_AT.
      expect((await from(h, WORKER_AT, 'GET', url, { key: bot.key })).status).toBe(200);
      expect(await viaOther(WORKER_AT)).toBe(200);
      await from(h, ADMIN_AT, 'PUT', `/api/accounts/${owner.accountId}/ip_allowlist`, { key: owner.key, body: { entries: [entry(ADMIN_AT), entry(WORKER_AT, 'workers', false)] } });
      expect((await from(h, WORKER_AT, 'GET', url, { key: bot.key })).status).toBe(403);
      expect(await viaOther(WORKER_AT)).toBe(403);
      // Turning enforcement off lets everyone in again, everywhere.
      await from(h, ADMIN_AT, 'PATCH', `/api/accounts/${owner.accountId}/settings`, { key: owner.key, body: { enforce_ip_allowlist: false } });
      expect((await from(h, ELSEWHERE, 'GET', url, { key: bot.key })).status).toBe(200);
      expect(await viaOther(ELSEWHERE)).toBe(200);
    } finally {
      await other.server.close();
    }
  });

  it('restricts nothing while the list is empty, even when enforced', async () => {
    const { accountId, key } = await h.bootstrap();
    expect((await from(h, ADMIN_AT, 'PATCH', `/api/accounts/${accountId}/settings`, { key, body: { enforce_ip_allowlist: true } })).status).toBe(204);
    expect((await from(h, ELSEWHERE, 'GET', `/api/accounts/${accountId}`, { key })).status).toBe(200);
  });
});
