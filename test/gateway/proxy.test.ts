// The gateway's HTTP proxy against a real upstream (the fake Prefect server): what it forwards,
// what it keeps back, who it lets through, and how it fails when the upstream does.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { startHarness, type Harness } from '../support/harness.js';
import { botWithRole, createWorkspace, workspaceWithUpstream, type Bot } from '../support/members.js';
import { startFakePrefect, type FakePrefect } from '../support/fake-prefect.js';
import { closedPort, listenLocal } from '../support/ports.js';

const AUTH_STRING = 'admin:upstream-s3cret';

let h: Harness;
let fake: FakePrefect;
let owner: { accountId: string; key: string };
let ws: { id: string; handle: string };
let base: string;

beforeAll(async () => {
  h = await startHarness();
  fake = await startFakePrefect({ authString: AUTH_STRING, delayMs: 3_000 });
  owner = await h.bootstrap();
  ws = await workspaceWithUpstream(h, owner, fake.url, { auth: AUTH_STRING });
  base = `/api/accounts/${owner.accountId}/workspaces/${ws.id}`;
});

afterAll(async () => {
  await h.close();
  await fake.close();
});

beforeEach(() => fake.reset());

const withRole = (role: keyof typeof WORKSPACE_ROLE_IDS): Promise<Bot> => botWithRole(h, owner, ws.id, WORKSPACE_ROLE_IDS[role]);

describe('the gateway setting', () => {
  it('is read back without the credential, and the credential is kept when omitted', async () => {
    const read = await h.request('GET', `${base}/gateway`, { key: owner.key });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ upstream_url: fake.url, has_upstream_auth_string: true, updated: expect.any(String) });
    expect(read.text).not.toContain('s3cret');
    const again = await h.request('PUT', `${base}/gateway`, { key: owner.key, body: { upstream_url: `${fake.url}/` } });
    expect(again.body).toMatchObject({ upstream_url: fake.url, has_upstream_auth_string: true });
  });

  it('refuses a URL carrying credentials, a query or another scheme with 422', async () => {
    for (const upstream_url of ['http://u:p@prefect:4200/api', 'http://prefect:4200/api?x=1', 'ftp://prefect/api', 'not a url']) {
      const res = await h.request('PUT', `${base}/gateway`, { key: owner.key, body: { upstream_url } });
      expect(res.status, upstream_url).toBe(422);
      expect(res.text).not.toContain('u:p@');
    }
  });

  it('can be changed only with manage_workspace_settings: a Developer gets 403', async () => {
    const dev = await withRole('Developer');
    const res = await h.request('PUT', `${base}/gateway`, { key: dev.key, body: { upstream_url: 'http://elsewhere:4200/api' } });
    expect(res.status).toBe(403);
    expect((await h.request('GET', `${base}/gateway`, { key: owner.key })).body.upstream_url).toBe(fake.url);
  });

  it('keeps the credential sealed in the store, never in the clear', async () => {
    const row = await h.app.services.gateways.read(ws.id);
    expect(row.has_upstream_auth_string).toBe(true);
    const stored = await h.handle.store.db.selectFrom('workspace_gateways').selectAll().where('workspace_id', '=', ws.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain('s3cret');
    expect(stored.upstream_auth_sealed).toMatch(/^v1\./);
  });
});

describe('forwarding', () => {
  it('sends method, path, query and body unchanged, with the upstream credential instead of the key', async () => {
    const body = JSON.stringify({ flows: { name: { any_: ['ünïcode'] } }, limit: 5 });
    const res = await h.request('POST', `${base}/flows/filter?x=1&x=2`, {
      key: owner.key,
      rawBody: body,
      headers: { 'content-type': 'application/json', cookie: 'gatehouse_session=abc', 'x-request-id': 'req-123', 'x-prefect-api-version': '0.8.4' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('req-123');
    const seen = fake.requests.at(-1)!;
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/api/flows/filter?x=1&x=2');
    expect(seen.body.toString()).toBe(body);
    expect(seen.headers.authorization).toBe(`Basic ${Buffer.from(AUTH_STRING).toString('base64')}`);
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['x-request-id']).toBe('req-123');
    expect(seen.headers['x-prefect-api-version']).toBe('0.8.4');
    expect(JSON.stringify(seen.headers)).not.toContain(owner.key);
  });

  it('keeps back the headers that belong to one connection: hop-by-hop ones and those Connection names', async () => {
    const res = await h.request('POST', `${base}/flows/filter`, {
      key: owner.key,
      body: {},
      headers: { connection: 'keep-alive, X-Hop-Only', 'x-hop-only': 'yes', 'keep-alive': 'timeout=5', 'x-end-to-end': 'yes' },
    });
    expect(res.status).toBe(200);
    const seen = fake.requests.at(-1)!;
    expect(seen.headers['x-end-to-end']).toBe('yes');
    expect(seen.headers['x-hop-only']).toBeUndefined();
    expect(seen.headers['keep-alive']).toBeUndefined();
  });

  it("sends the upstream only Gatehouse's own X-Forwarded-For/-Proto/-Host, never the caller's claims", async () => {
    const res = await h.request('POST', `${base}/flows/filter`, {
      key: owner.key,
      body: {},
      headers: {
        connection: 'keep-alive, X-Forwarded-For',
        'x-forwarded-for': '203.0.113.66',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        'x-forwarded-port': '443',
        forwarded: 'for=203.0.113.66;host=evil.example;proto=https',
        'x-real-ip': '203.0.113.66',
        host: 'evil.example',
      },
    });
    expect(res.status).toBe(200);
    const seen = fake.requests.at(-1)!.headers;
    // inject()'s client is 127.0.0.1 over plain http; no public URL is set and nothing listens: localhost.
    expect([seen['x-forwarded-for'], seen['x-forwarded-proto'], seen['x-forwarded-host']]).toEqual(['127.0.0.1', 'http', 'localhost']);
    expect(seen.forwarded).toBeUndefined();
    expect(seen['x-real-ip']).toBeUndefined();
    expect(seen['x-forwarded-port']).toBeUndefined();
    expect(seen.host).toBe(new URL(fake.url).host);
  });

  it('passes the upstream status and body back as they are', async () => {
    const bot = await withRole('Worker');
    const res = await h.request('POST', `${base}/work_pools/pool-a/workers/heartbeat`, { key: bot.key, body: { name: 'w1', heartbeat_interval_seconds: 30 } });
    expect(res.status).toBe(fake.requests.at(-1)!.status);
  });

  it('answers a trailing-slash mismatch with a redirect that stays on the gateway', async () => {
    const res = await h.request('POST', `${base}/flows`, { key: owner.key, body: { name: 'f' } });
    expect(res.status).toBe(307);
    // No public URL is configured: a path alone, never built from the Host the caller sent.
    expect(res.headers.location).toBe(`${base}/flows/`);
    const spoofed = await h.request('POST', `${base}/flows`, { key: owner.key, body: { name: 'f' }, headers: { host: 'evil.example' } });
    expect(spoofed.headers.location).toBe(`${base}/flows/`);
    expect(fake.requests).toHaveLength(0);
  });

  it('says 404 naming the workspace when no upstream is set', async () => {
    const other = await createWorkspace(h, owner.accountId, owner.key);
    const res = await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/${other.id}/flows/filter`, { key: owner.key, body: {} });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('GATEWAY_NOT_CONFIGURED');
    expect(res.body.detail).toContain(other.handle);
  });
});

describe('who gets through', () => {
  // Representative routes, with the lowest built-in role allowed each.
  const ROUTES: { method: string; path: string; body?: unknown; allowed: (keyof typeof WORKSPACE_ROLE_IDS)[] }[] = [
    { method: 'POST', path: '/flows/filter', body: {}, allowed: ['Owner', 'Developer', 'Runner', 'Viewer', 'Worker'] },
    { method: 'POST', path: '/work_pools/pool-a/get_scheduled_flow_runs', body: {}, allowed: ['Owner', 'Developer', 'Worker'] },
    { method: 'POST', path: '/deployments/', body: { name: 'd' }, allowed: ['Owner', 'Developer'] },
    { method: 'DELETE', path: '/flows/00000000-0000-4000-8000-000000000001', allowed: ['Owner', 'Developer'] },
    { method: 'GET', path: '/block_documents/00000000-0000-4000-8000-000000000001?include_secrets=true', allowed: ['Owner', 'Developer'] },
    { method: 'GET', path: '/admin/settings', allowed: ['Owner'] },
  ];
  const ROLES = Object.keys(WORKSPACE_ROLE_IDS) as (keyof typeof WORKSPACE_ROLE_IDS)[];
  const bots = new Map<string, Bot>();
  beforeAll(async () => {
    for (const role of ROLES) bots.set(role, await withRole(role));
  });

  it('lets each built-in role reach exactly its routes; a refusal never reaches the upstream', async () => {
    for (const route of ROUTES) {
      for (const role of ROLES) {
        fake.reset();
        const res = await h.request(route.method, `${base}${route.path}`, { key: bots.get(role)!.key, body: route.body });
        const label = `${role} ${route.method} ${route.path}`;
        if (route.allowed.includes(role)) {
          expect(res.status, label).not.toBe(403);
          expect(fake.requests, label).toHaveLength(1);
        } else {
          expect(res.status, label).toBe(403);
          expect(res.body.detail, label).toMatch(/needs the workspace scope/);
          expect(fake.requests, label).toHaveLength(0);
        }
      }
    }
  });

  it('refuses a route missing from the table with 403, for the Owner too', async () => {
    const res = await h.request('GET', `${base}/no/such/prefect/route`, { key: owner.key });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('GATEWAY_ROUTE_UNKNOWN');
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses an encoded slash, dot segments and empty segments with 400 before anything reaches the upstream', async () => {
    const address = await h.app.server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = new URL(address);
    for (const path of ['/deployments%2F', '/deployments%2f', '/flows/../deployments/', '/flows/./filter', '/flows//filter']) {
      // A raw request line: HTTP clients would tidy these paths before sending them.
      const status = await rawStatus(Number(port), `POST ${base}${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${owner.key}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
      expect([400, 404], path).toContain(status);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 401 without a key and 404 in a workspace the caller cannot reach', async () => {
    expect((await h.request('POST', `${base}/flows/filter`, { body: {} })).status).toBe(401);
    const stranger = await h.bootstrap();
    expect((await h.request('POST', `${base}/flows/filter`, { key: stranger.key, body: {} })).status).toBe(404);
    expect(fake.requests).toHaveLength(0);
  });

  it('stops a key on the very next request after its access is removed or the key is deleted', async () => {
    const bot = await withRole('Worker');
    expect((await h.request('POST', `${base}/flows/filter`, { key: bot.key, body: {} })).status).toBe(200);
    const access = await h.request('POST', `${base}/bot_access/filter`, { key: owner.key, body: {} });
    const row = access.body.find((a: { bot_id: string }) => a.bot_id === bot.id);
    expect((await h.request('DELETE', `${base}/bot_access/${row.id}`, { key: owner.key })).status).toBe(204);
    expect((await h.request('POST', `${base}/flows/filter`, { key: bot.key, body: {} })).status).toBe(404);
    const second = await withRole('Worker');
    expect((await h.request('DELETE', `/api/accounts/${owner.accountId}/bots/${second.id}`, { key: owner.key })).status).toBe(204);
    expect((await h.request('POST', `${base}/flows/filter`, { key: second.key, body: {} })).status).toBe(401);
  });
});

describe('when the upstream fails', () => {
  let closedUrl: string;
  beforeAll(async () => {
    closedUrl = `http://127.0.0.1:${await closedPort()}/api`;
  });

  const workspaceAt = (url: string) => workspaceWithUpstream(h, owner, url);

  /**
   * A Gatehouse that waits only 300 ms for an upstream, with one workspace pointed at `upstream`;
   * `use` gets it, its owner's key and the workspace's base path. Both servers are closed after.
   */
  async function impatientGateway(upstream: Server, use: (gw: { slow: Harness; key: string; wsBase: string; handle: string }) => Promise<void>) {
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const slow = await startHarness({ upstreamResponseTimeoutMs: 300 });
    try {
      const o = await slow.bootstrap();
      const w = await createWorkspace(slow, o.accountId, o.key);
      const wsBase = `/api/accounts/${o.accountId}/workspaces/${w.id}`;
      const port = (upstream.address() as { port: number }).port;
      await slow.request('PUT', `${wsBase}/gateway`, { key: o.key, body: { upstream_url: `http://127.0.0.1:${port}/api` } });
      await use({ slow, key: o.key, wsBase, handle: w.handle });
    } finally {
      await slow.close();
      upstream.closeAllConnections();
      await new Promise<void>((r) => upstream.close(() => r()));
    }
  }

  it('answers 502 naming the workspace when nothing listens', async () => {
    const w = await workspaceAt(closedUrl);
    const res = await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/${w.id}/flows/filter`, { key: owner.key, body: {} });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('UPSTREAM_UNREACHABLE');
    expect(res.body.detail).toContain(w.handle);
  });

  it('answers 504 naming the workspace when the upstream accepts but never answers', async () => {
    await impatientGateway(createServer(() => {}), async ({ slow, key, wsBase, handle }) => {
      const res = await slow.request('POST', `${wsBase}/flows/filter`, { key, body: {} });
      expect(res.status).toBe(504);
      expect(res.body.code).toBe('UPSTREAM_TIMEOUT');
      expect(res.body.detail).toContain(handle);
    });
  });

  it('answers 502 naming the workspace when the upstream breaks off a small answer, without its headers', async () => {
    const breaks = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100', 'x-upstream': 'yes' });
      res.write('only ten b');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const port = await listenLocal(breaks);
    try {
      const w = await workspaceAt(`http://127.0.0.1:${port}/api`);
      const res = await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/${w.id}/flows/filter`, { key: owner.key, body: {} });
      expect(res.status).toBe(502);
      expect(res.body.code).toBe('UPSTREAM_UNREACHABLE');
      expect(res.body.detail).toContain(w.handle);
      expect(res.body.detail).toContain('broke off its answer: the connection was closed before the answer was complete');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-upstream']).toBeUndefined();
    } finally {
      breaks.closeAllConnections();
      await new Promise<void>((r) => breaks.close(() => r()));
    }
  });

  it('answers 502 when the upstream falls silent in the middle of a small answer', async () => {
    const stalls = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('[{"id": 1},'); // and nothing more
    });
    await impatientGateway(stalls, async ({ slow, key, wsBase, handle }) => {
      const res = await slow.request('POST', `${wsBase}/flows/filter`, { key, body: {} });
      expect(res.status).toBe(502);
      expect(res.body.code).toBe('UPSTREAM_UNREACHABLE');
      expect(res.body.detail).toContain(handle);
      expect(res.body.detail).not.toContain('127.0.0.1');
      expect(res.body.detail).toContain('broke off its answer: nothing more of it within 0.3 s');
    });
  });

  it('cuts a streamed answer off when the upstream falls silent in the middle of it, and serves the next request', async () => {
    let calls = 0;
    const stalls = createServer((req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(200, { 'content-type': 'application/json' }); // chunked: streamed through
        res.write('[{"id": 1},');
        return; // and nothing more
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
      res.end('[]');
    });
    await impatientGateway(stalls, async ({ slow, key, wsBase }) => {
      const address = await slow.app.server.listen({ host: '127.0.0.1', port: 0 });
      const started = Date.now();
      const cut = await fetch(`${address}${wsBase}/flows/filter`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' })
        .then((res) => res.text())
        .then(() => 'complete', () => 'cut');
      expect(cut).toBe('cut');
      expect(Date.now() - started).toBeLessThan(5_000);
      const next = await slow.request('POST', `${wsBase}/flows/filter`, { key, body: {} });
      expect(next.status).toBe(200);
      expect(next.body).toEqual([]);
    });
  });
});

describe('the connection to the upstream', () => {
  /** An upstream on raw sockets: `answer(connection, request)` says whether to answer or hang up. */
  async function rawUpstream(answer: (connection: number, request: number) => boolean) {
    const seen: { connection: number; request: number; body: string }[] = [];
    const sockets = new Set<Socket>();
    const server: TcpServer = createTcpServer((socket: Socket) => {
      sockets.add(socket);
      const connection = sockets.size;
      let requests = 0;
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (;;) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buffered.subarray(0, end).toString('latin1');
          const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          const body = buffered.subarray(end + 4, end + 4 + length).toString();
          buffered = buffered.subarray(end + 4 + length);
          const request = ++requests;
          seen.push({ connection, request, body });
          if (!answer(connection, request)) return void socket.end();
          socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n[]');
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const w = await createWorkspace(h, owner.accountId, owner.key);
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api`;
    await h.request('PUT', `/api/accounts/${owner.accountId}/workspaces/${w.id}/gateway`, { key: owner.key, body: { upstream_url: url } });
    const send = (body: unknown) => h.request('POST', `/api/accounts/${owner.accountId}/workspaces/${w.id}/flows/filter`, { key: owner.key, body });
    const close = () => {
      for (const socket of sockets) socket.destroy(); // the gateway keeps idle connections open
      return new Promise<void>((r) => server.close(() => r()));
    };
    return { seen, send, close };
  }

  it('sends a request again, once, when the upstream closed a kept-alive connection just as it went out', async () => {
    // The first connection answers one request and hangs up on the next; later connections answer.
    const upstream = await rawUpstream((connection, request) => connection > 1 || request === 1);
    try {
      expect((await send(upstream, { n: 1 })).status).toBe(200);
      const res = await send(upstream, { n: 2 });
      expect(res.status).toBe(200);
      expect(res.body).toEqual([]);
      expect(upstream.seen).toEqual([
        { connection: 1, request: 1, body: '{"n":1}' },
        { connection: 1, request: 2, body: '{"n":2}' },
        { connection: 2, request: 1, body: '{"n":2}' },
      ]);
    } finally {
      await upstream.close();
    }
  });

  it('never sends a request twice when a new connection is closed under it: 502', async () => {
    const upstream = await rawUpstream(() => false);
    try {
      const res = await send(upstream, { n: 1 });
      expect(res.status).toBe(502);
      expect(res.body.code).toBe('UPSTREAM_UNREACHABLE');
      expect(res.body.detail).toContain('closed before an answer came');
      expect(upstream.seen).toHaveLength(1);
    } finally {
      await upstream.close();
    }
  });

  it('streams large bodies both ways intact, of known length or chunked', async () => {
    const big = randomBytes(700 * 1024);
    const digest = (data: Buffer) => createHash('sha256').update(data).digest('hex');
    const upstream = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const received = Buffer.concat(chunks);
        const headers = { 'content-type': 'application/octet-stream', 'x-received-sha256': digest(received), 'x-received-length': String(received.length) };
        if (req.url?.includes('chunked')) {
          res.writeHead(200, headers); // no length: chunked, streamed through
          for (let at = 0; at < big.length; at += 100_000) res.write(big.subarray(at, at + 100_000));
          res.end();
        } else res.writeHead(200, { ...headers, 'content-length': String(big.length) }).end(big);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const listening = await startHarness();
    try {
      const o = await listening.bootstrap();
      const w = await createWorkspace(listening, o.accountId, o.key);
      const wsBase = `/api/accounts/${o.accountId}/workspaces/${w.id}`;
      await listening.request('PUT', `${wsBase}/gateway`, { key: o.key, body: { upstream_url: `http://127.0.0.1:${(upstream.address() as { port: number }).port}/api` } });
      const address = await listening.app.server.listen({ host: '127.0.0.1', port: 0 });
      for (const path of ['/flows/filter', '/flows/filter?chunked=1']) {
        const sent = randomBytes(300 * 1024);
        const res = await fetch(`${address}${wsBase}${path}`, { method: 'POST', headers: { authorization: `Bearer ${o.key}`, 'content-type': 'application/octet-stream' }, body: sent });
        expect(res.status).toBe(200);
        expect(res.headers.get('x-received-length')).toBe(String(sent.length));
        expect(res.headers.get('x-received-sha256')).toBe(digest(sent));
        const answer = Buffer.from(await res.arrayBuffer());
        expect(answer.length).toBe(big.length);
        expect(digest(answer)).toBe(digest(big));
      }
    } finally {
      await listening.close();
      upstream.closeAllConnections();
      await new Promise<void>((r) => upstream.close(() => r()));
    }
  });
});

const send = (upstream: { send: (body: unknown) => Promise<{ status: number; body: any }> }, body: unknown) => upstream.send(body);

/** Sends bytes as they are and reads the status code of the answer. */
function rawStatus(port: number, request: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}
