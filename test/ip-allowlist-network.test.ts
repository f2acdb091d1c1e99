// IP allowlists against real other addresses, not headers: Linux routes all of 127.0.0.0/8 to the
// loopback interface, so a client that binds its socket to 127.0.0.2 reaches Gatehouse on
// 127.0.0.1 from another address. With an allowlist of 127.0.0.1/32 enforced, every door refuses
// it by its socket address: the API, the gateway's HTTP proxy, forward-auth and websockets. An
// X-Forwarded-For naming an allowed address is believed only from a configured trusted proxy.
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebsocketGateway, type WebsocketGateway } from './support/websocket-gateway.js';
import { addMember } from './support/members.js';
import { browser, PASSWORD, setFirstPassword, signIn } from './support/people.js';

const ALLOWED = '127.0.0.1';
const OTHER = '127.0.0.2';

interface Answer {
  status: number;
  body: any;
  headers: Record<string, unknown>;
}

/** One HTTP request to the gateway from the source address `from`. */
function send(port: number, from: string, method: string, path: string, options: { key?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: ALLOWED, port, method, path, headers, localAddress: from }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Opens a gateway websocket from `from`: the socket once open, or the handshake's refusal status. */
function openSocket(url: string, key: string, from: string): Promise<{ socket: WebSocket } | { status: number }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${key}` }, localAddress: from });
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    socket.once('error', () => resolve({ status: 0 }));
  });
}

/** A gateway listening on 127.0.0.1 whose account enforces an allowlist of 127.0.0.1/32. */
async function enforcingGateway(options: Parameters<typeof startWebsocketGateway>[0] = {}): Promise<WebsocketGateway> {
  const gateway = await startWebsocketGateway(options);
  const { port, owner } = gateway;
  const put = await send(port, ALLOWED, 'PUT', `/api/accounts/${owner.accountId}/ip_allowlist`, {
    key: owner.key,
    body: { entries: [{ ip_network: `${ALLOWED}/32`, description: 'this host', enabled: true }] },
  });
  expect(put.status).toBe(200);
  // From the other address, turning enforcement on would lock its caller out.
  const lockout = await send(port, OTHER, 'PATCH', `/api/accounts/${owner.accountId}/settings`, { key: owner.key, body: { enforce_ip_allowlist: true } });
  expect(lockout.status).toBe(422);
  expect(lockout.body.code).toBe('IP_ALLOWLIST_LOCKOUT');
  expect((await send(port, ALLOWED, 'PATCH', `/api/accounts/${owner.accountId}/settings`, { key: owner.key, body: { enforce_ip_allowlist: true } })).status).toBe(204);
  return gateway;
}

describe('an enforced allowlist of 127.0.0.1/32, with no trusted proxy', () => {
  let g: WebsocketGateway;
  beforeAll(async () => {
    g = await enforcingGateway();
  });
  afterAll(() => g.close());

  const expectRefusal = (res: Answer) => {
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'IP_NOT_ALLOWED', detail: expect.stringContaining(`Your address ${OTHER} is not on this account's IP allowlist`) });
  };

  it("refuses Gatehouse's own API from 127.0.0.2 and answers from 127.0.0.1", async () => {
    const url = `/api/accounts/${g.owner.accountId}`;
    expect((await send(g.port, ALLOWED, 'GET', url, { key: g.owner.key })).status).toBe(200);
    expectRefusal(await send(g.port, OTHER, 'GET', url, { key: g.owner.key }));
    const myAccess = await send(g.port, ALLOWED, 'GET', `${url}/ip_allowlist/my_access`, { key: g.owner.key });
    expect(myAccess.body).toEqual({ allowed: true, detail: `Your address ${ALLOWED} is on the IP allowlist` });
  });

  it("refuses the caller's own scopes and permissions in the account from 127.0.0.2 (what a Prefect client asks first)", async () => {
    const scopes = `/api/me/workspaces/${g.wsId}/scopes`;
    const permissions = `/api/me/accounts/${g.owner.accountId}/permissions`;
    for (const path of [scopes, permissions]) {
      // Twice each: the second answer comes from the cache, which must refuse as well.
      for (let i = 0; i < 2; i++) {
        expect((await send(g.port, ALLOWED, 'GET', path, { key: g.owner.key })).status).toBe(200);
        expectRefusal(await send(g.port, OTHER, 'GET', path, { key: g.owner.key }));
      }
    }
  });

  it('does not believe a forged X-Forwarded-For naming the allowed address', async () => {
    const url = `/api/accounts/${g.owner.accountId}`;
    for (const forged of [ALLOWED, `${ALLOWED}, ${ALLOWED}`, `${OTHER}, ${ALLOWED}`]) {
      expectRefusal(await send(g.port, OTHER, 'GET', url, { key: g.owner.key, headers: { 'x-forwarded-for': forged, 'x-real-ip': ALLOWED, forwarded: `for=${ALLOWED}` } }));
    }
  });

  it("refuses the gateway's HTTP proxy before the request reaches Prefect", async () => {
    const path = `/api/accounts/${g.owner.accountId}/workspaces/${g.wsId}/flows/filter`;
    const before = g.fake.requests.length;
    expectRefusal(await send(g.port, OTHER, 'POST', path, { key: g.owner.key, body: {}, headers: { 'x-forwarded-for': ALLOWED } }));
    expect(g.fake.requests.length).toBe(before);
    expect((await send(g.port, ALLOWED, 'POST', path, { key: g.owner.key, body: {} })).status).toBe(200);
  });

  it('refuses forward-auth for the other address', async () => {
    const headers = { 'x-original-method': 'POST', 'x-original-uri': `/api/accounts/${g.owner.accountId}/workspaces/${g.wsId}/flows/filter` };
    expect((await send(g.port, ALLOWED, 'GET', '/api/gateway/authorize', { key: g.owner.key, headers })).status).toBe(204);
    const refused = await send(g.port, OTHER, 'GET', '/api/gateway/authorize', { key: g.owner.key, headers: { ...headers, 'x-forwarded-for': ALLOWED } });
    expectRefusal(refused);
  });

  it('refuses the Prefect UI under /w/ to a signed-in person at the other address', async () => {
    const db = g.h.handle.store.db;
    const { handle: accountHandle } = await db.selectFrom('accounts').select('handle').where('id', '=', g.owner.accountId).executeTakeFirstOrThrow();
    const { handle: workspaceHandle } = await db.selectFrom('workspaces').select('handle').where('id', '=', g.wsId).executeTakeFirstOrThrow();
    const admin = await addMember(g.h, g.owner.accountId, 'Admin');
    await setFirstPassword(g.h, admin.email);
    const session = await signIn(g.h, admin.email, PASSWORD);
    const api = `/w/${accountHandle}/${workspaceHandle}/api/flows/filter`;
    const headers = { ...browser(session), origin: `http://${ALLOWED}:${g.port}`, 'sec-fetch-site': 'same-origin' };
    expect((await send(g.port, ALLOWED, 'POST', api, { headers, body: {} })).status).toBe(200);
    expectRefusal(await send(g.port, OTHER, 'POST', api, { headers, body: {} }));
    const page = await send(g.port, OTHER, 'GET', `/w/${accountHandle}/${workspaceHandle}/`, { headers: { ...browser(session), accept: 'text/html' } });
    expect(page.status).toBe(403);
    expect(String(page.body)).toContain(`Your address ${OTHER} is not on this account&#39;s IP allowlist`);
  });

  it('refuses a websocket from the other address at the handshake', async () => {
    expect(await openSocket(g.url('/events/out'), g.owner.key, OTHER)).toEqual({ status: 403 });
    const allowed = await openSocket(g.url('/events/out'), g.owner.key, ALLOWED);
    expect('socket' in allowed).toBe(true);
    if ('socket' in allowed) allowed.socket.close();
  });
});

describe('behind a trusted proxy at 127.0.0.1 (GATEHOUSE_TRUST_PROXY=127.0.0.1)', () => {
  let g: WebsocketGateway;
  beforeAll(async () => {
    g = await enforcingGateway({ trustProxy: [ALLOWED] });
  });
  afterAll(() => g.close());

  it("believes the proxy's X-Forwarded-For, and only the proxy's", async () => {
    const url = `/api/accounts/${g.owner.accountId}`;
    // Through the proxy: the client it saw decides.
    const viaProxy = await send(g.port, ALLOWED, 'GET', url, { key: g.owner.key, headers: { 'x-forwarded-for': OTHER } });
    expect(viaProxy.status).toBe(403);
    expect(viaProxy.body.detail).toContain(`Your address ${OTHER} is not`);
    expect((await send(g.port, ALLOWED, 'GET', url, { key: g.owner.key, headers: { 'x-forwarded-for': ALLOWED } })).status).toBe(200);
    // Straight from 127.0.0.2, which is no trusted proxy: its header is not believed.
    expect((await send(g.port, OTHER, 'GET', url, { key: g.owner.key, headers: { 'x-forwarded-for': ALLOWED } })).status).toBe(403);
  });
});
