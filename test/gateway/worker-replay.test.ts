// A Prefect worker's whole life replayed through the gateway with a Worker-role service-account key,
// against a fake Prefect server that requires an upstream auth string: every request the worker
// needs reaches the upstream unchanged but with the upstream credential instead of the key; every
// request the Worker role must not make is refused before it leaves Gatehouse.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { startFakePrefect, type FakePrefect, type RecordedSocket } from '../support/fake-prefect.js';
import { startHarness, type Harness } from '../support/harness.js';
import { botWithRole, workspaceWithUpstream, type Bot } from '../support/members.js';
import { CONTROL_STEPS, WORKER_CHANNEL, WORKER_REFUSALS, WORKER_STEPS, type Step } from './worker-sequence.js';

const AUTH_STRING = 'admin:s3cret';
const BASIC = `Basic ${Buffer.from(AUTH_STRING).toString('base64')}`;
const ANY_KEY = /pn[bu]_[A-Za-z0-9]{36}/;
// A browser session cookie that must never travel upstream, sent with every replayed request.
const COOKIE = 'gatehouse_session=not-a-real-session; theme=dark';

let fake: FakePrefect;
let h: Harness;
let owner: { accountId: string; key: string };
let bot: Bot;
/** `http://127.0.0.1:PORT/api/accounts/{a}/workspaces/{w}`: the worker's PREFECT_API_URL. */
let apiUrl: string;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP request with the path sent byte for byte (fetch would normalise it). */
function send(base: string, method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<Answer> {
  const target = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method,
        path: `${target.pathname}${path}`,
        headers: { ...headers, ...(body.length > 0 ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const bodyOf = (step: Step) => (step.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(step.body)));
const jsonType = (body: Buffer): Record<string, string> => (body.length > 0 ? { 'content-type': 'application/json' } : {});

/** The headers a Prefect 3.8.4 client sends in Cloud mode, plus a cookie that must be dropped. */
const workerHeaders = (key: string, body: Buffer): Record<string, string> => ({
  authorization: `Bearer ${key}`,
  'x-prefect-api-version': '0.8.4',
  'user-agent': 'prefect/3.8.4 (API 0.8.4)',
  cookie: COOKIE,
  ...jsonType(body),
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const wsUrl = (path: string) => `${apiUrl.replace(/^http/, 'ws')}${path}`;

/** A websocket client that queues what it receives, so a test can wait for the next message. */
class Client {
  readonly received: unknown[] = [];
  closed: { code: number; reason: string } | null = null;
  refusedWith: number | null = null;
  private wake: (() => void) | null = null;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      try {
        this.received.push(JSON.parse(text));
      } catch {
        this.received.push(text);
      }
      this.wake?.();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake?.();
    });
    ws.on('unexpected-response', (_req, res) => {
      this.refusedWith = res.statusCode ?? 0;
      res.resume();
      this.wake?.();
    });
    ws.on('error', () => this.wake?.());
  }

  /** Resolves once the socket is open, or once it was refused or closed (check `opened`). */
  async settled(): Promise<boolean> {
    await this.until(() => this.ws.readyState !== WebSocket.CONNECTING || this.refusedWith !== null, 'the handshake to finish');
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** The next message not yet taken, or null if the socket closed first. */
  async next(): Promise<unknown> {
    await this.until(() => this.received.length > 0 || this.closed !== null, 'a message from the gateway');
    return this.received.length > 0 ? this.received.shift() : null;
  }

  /** Pings and tells what came back first. */
  async ping(): Promise<'pong' | 'closed' | 'nothing within 5 s'> {
    const answer = new Promise<'pong' | 'closed' | 'nothing within 5 s'>((resolve) => {
      const timer = setTimeout(() => resolve('nothing within 5 s'), 5000);
      const settle = (what: 'pong' | 'closed') => {
        clearTimeout(timer);
        resolve(what);
      };
      this.ws.once('pong', () => settle('pong'));
      this.ws.once('close', () => settle('closed'));
    });
    this.ws.ping();
    return answer;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate(); // a refused upgrade
    await this.until(() => this.ws.readyState === WebSocket.CLOSED, 'the socket to close');
  }

  private async until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`websocket: gave up waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }
}

function connect(path: string, auth: 'header' | 'message', key: string): Client {
  const headers = { 'user-agent': 'prefect/3.8.4 (API 0.8.4)', cookie: COOKIE };
  if (auth === 'header') return new Client(new WebSocket(wsUrl(path), { headers: { ...headers, authorization: `bearer ${key}` } }));
  return new Client(new WebSocket(wsUrl(path), ['prefect'], { headers }));
}

/** What every request or socket the upstream saw must look like: our credential, nothing of the caller's. */
function expectUpstreamCredentialOnly(headers: IncomingHttpHeaders, kind: 'http' | 'ws'): void {
  const all = JSON.stringify(headers);
  expect(all).not.toMatch(ANY_KEY);
  expect(headers.cookie).toBeUndefined();
  if (kind === 'http') expect(headers.authorization).toBe(BASIC);
  else if (headers.authorization !== undefined) expect(headers.authorization).toBe(BASIC);
}

// The replay proves something only if the fake refuses what a real Prefect server refuses.
describe('the fake upstream, asked directly, behaves like Prefect with an auth string', () => {
  let direct: FakePrefect;
  beforeAll(async () => {
    direct = await startFakePrefect({ authString: AUTH_STRING });
  });
  afterAll(async () => direct?.close());

  const get = (path: string, headers: Record<string, string> = {}) => send(direct.url, 'GET', path, headers, Buffer.alloc(0));

  it('answers 401 without the Basic credential, except GET /health and /ready', async () => {
    expect((await get('/work_pools/p')).status).toBe(401);
    expect((await get('/work_pools/p', { authorization: 'Bearer pnb_0000000000000000000000000000000000aa' })).status).toBe(401);
    expect((await get('/health')).status).toBe(200);
    expect((await get('/ready')).status).toBe(200);
    const pool = await get('/work_pools/p', { authorization: BASIC });
    expect(pool.status).toBe(200);
    expect(JSON.parse(pool.body.toString())).toMatchObject({ name: 'p', type: 'process', is_paused: false });
  });

  it('routes the decoded path and redirects a toggled slash to its own absolute URL', async () => {
    const body = Buffer.from('{"name":"d"}');
    const encoded = await send(direct.url, 'POST', '/deployments%2F', { authorization: BASIC, 'content-type': 'application/json' }, body);
    expect(encoded.status).toBe(201);
    const slashless = await send(direct.url, 'POST', '/logs?x=1', { authorization: BASIC, 'content-type': 'application/json' }, Buffer.from('[]'));
    expect(slashless.status).toBe(307);
    expect(slashless.headers.location).toBe(`${direct.origin}/api/logs/?x=1`);
    expect(direct.requests.at(-1)).toMatchObject({ method: 'POST', rawPath: '/logs', path: '/logs', query: 'x=1', status: 307 });
  });

  it('takes a websocket only with subprotocol prefect and the auth string as token, then echoes', async () => {
    const open = (protocols: string[]) => new Client(new WebSocket(`${direct.url.replace(/^http/, 'ws')}/events/out`, protocols));
    const legacy = open([]);
    await legacy.settled();
    await legacy.next();
    expect(legacy.closed?.code).toBe(1002);

    const wrong = open(['prefect']);
    await wrong.settled();
    wrong.ws.send(JSON.stringify({ type: 'auth', token: 'pnb_not-the-auth-string' }));
    expect(await wrong.next()).toBeNull();
    expect(wrong.closed?.code).toBe(1008);

    const right = open(['prefect']);
    await right.settled();
    right.ws.send(JSON.stringify({ type: 'auth', token: AUTH_STRING }));
    expect(await right.next()).toEqual({ type: 'auth_success' });
    right.ws.send(JSON.stringify({ type: 'filter', filter: {} }));
    expect(await right.next()).toEqual({ type: 'echo', data: { type: 'filter', filter: {} } });
    await right.close();
    await direct.until(() => direct.sockets[2]?.closed, 'the upstream to see the close');
    expect(direct.sockets.map((s) => [s.protocol, s.authenticated, s.closed?.code])).toEqual([
      ['', false, 1002],
      ['prefect', false, 1008],
      ['prefect', true, 1000],
    ]);
  });
});

describe('through the gateway, with a Worker-role key', () => {
  beforeAll(async () => {
    fake = await startFakePrefect({ authString: AUTH_STRING });
    h = await startHarness();
    await h.app.server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.app.server.server.address() as AddressInfo;
    owner = await h.bootstrap();
    const workspace = await workspaceWithUpstream(h, owner, fake.url, { auth: AUTH_STRING });
    apiUrl = `http://127.0.0.1:${port}${workspace.base}`;

    bot = await botWithRole(h, owner, workspace.id, WORKSPACE_ROLE_IDS.Worker, 'replay-worker');
  });

  afterAll(async () => {
    await h?.close();
    await fake?.close();
  });

  describe('the upstream setting', () => {
    it('is read back with the auth string hidden', async () => {
      const path = new URL(apiUrl).pathname;
      const res = await h.request('GET', `${path}/gateway`, { key: owner.key });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ upstream_url: fake.url, has_upstream_auth_string: true, updated: expect.any(String) });
      expect(res.text).not.toContain(AUTH_STRING);
      expect(res.text).not.toContain(BASIC.slice('Basic '.length));
    });
  });

  describe('a Worker key replaying a worker through the gateway', () => {
    WORKER_STEPS.forEach((step, index) => {
      const title = `${String(index + 1).padStart(2, '0')}. ${step.method} ${step.path}: ${step.step}`;
      if (step.method === 'WS') {
        it(title, async () => {
          await replaySocket(step);
        });
      } else {
        it(title, async () => {
          await replayHttp(step);
        });
      }
    });
  });

  describe('requests the Worker role is refused, which never reach the upstream', () => {
    for (const refusal of WORKER_REFUSALS) {
      it(`${refusal.method} ${refusal.path}: ${refusal.step} (needs ${refusal.needs})`, async () => {
        const body = bodyOf(refusal);
        const before = fake.requests.length;
        const res = await send(apiUrl, refusal.method, refusal.path, workerHeaders(bot.key, body), body);
        expect(refusal.statuses, res.body.toString()).toContain(res.status);
        expect(fake.requests.length).toBe(before);
        const error = JSON.parse(res.body.toString());
        expect(error).toEqual(expect.objectContaining({ detail: expect.any(String), code: expect.any(String), request_id: expect.any(String) }));
        // Where the only right answer is 403, the detail names the scope to ask for.
        if (refusal.statuses.length === 1) expect(error.detail).toContain(refusal.needs);
      });
    }

    it(`WS ${WORKER_CHANNEL.path}: ${WORKER_CHANNEL.step} is refused, so the worker falls back to REST`, async () => {
      const client = connect(WORKER_CHANNEL.path, 'message', bot.key);
      if (await client.settled()) {
        // Authentication is in the first message on this channel, so the refusal may come after it.
        client.ws.send(JSON.stringify({ type: 'auth', token: bot.key }));
        const reply = await client.next();
        if (reply !== null) {
          expect(reply).toEqual({ type: 'auth_success' });
          for (const message of WORKER_CHANNEL.ws!.messages) client.ws.send(JSON.stringify(message));
          while ((await client.next()) !== null);
        }
        expect(client.closed?.code, 'a refusal after the upgrade must be a 1008 close (terminal for the worker)').toBe(1008);
      } else {
        expect(WORKER_CHANNEL.statuses).toContain(client.refusedWith);
      }
      expect(fake.sockets.filter((s) => s.path === WORKER_CHANNEL.path)).toEqual([]);
      await client.close();
    });
  });

  describe('the same routes without secrets are let through', () => {
    for (const step of CONTROL_STEPS) {
      it(`${step.method} ${step.path}: ${step.step}`, async () => {
        await replayHttp(step);
      });
    }
  });

  describe('what the worker never gets from, or gives to, the upstream', () => {
    it('answers a request without a key 401 and does not forward it', async () => {
      const before = fake.requests.length;
      const res = await send(apiUrl, 'GET', '/work_pools/replay-pool', { cookie: COOKIE }, Buffer.alloc(0));
      expect(res.status).toBe(401);
      expect(fake.requests.length).toBe(before);
    });

    it("never hands the client a redirect to the upstream's own address", async () => {
      // The upstream answers POST /logs (no slash) with a 307 to its own absolute URL; following that
      // would send the worker's key straight to the Prefect server.
      const body = Buffer.from(JSON.stringify([]));
      const before = fake.requests.length;
      const res = await send(apiUrl, 'POST', '/logs', workerHeaders(bot.key, body), body);
      expect(JSON.stringify(res.headers)).not.toContain(fake.origin);
      if (res.status >= 300 && res.status < 400) {
        // Redirected to the slash form on the gateway itself.
        expect(res.headers.location).toMatch(new RegExp(`^(${escapeRegExp(apiUrl)}|${escapeRegExp(new URL(apiUrl).pathname)})/logs/$`));
      } else if (res.status < 300) {
        // Or the gateway followed the slash redirect itself.
        expect(res.status).toBe(201);
        expect(fake.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toContain('POST /logs/');
      } else {
        // Or it does not route the slashless form at all; then nothing may have gone upstream.
        expect([403, 404]).toContain(res.status);
        expect(fake.requests.length).toBe(before);
      }
    });

    it('never lets an API key reach the upstream, in any request or socket message', () => {
      expect(fake.requests.length).toBeGreaterThan(WORKER_STEPS.length);
      const requests = JSON.stringify(fake.requests.map((r) => ({ ...r, body: r.body.toString('utf8') })));
      const sockets = JSON.stringify(fake.sockets);
      for (const text of [requests, sockets]) {
        expect(text).not.toMatch(ANY_KEY);
        expect(text).not.toContain(bot.key);
        expect(text).not.toContain(owner.key);
      }
    });
  });
});

async function replayHttp(step: Step): Promise<void> {
  const body = bodyOf(step);
  // What the upstream itself answers, asked directly with its own credential.
  const direct = await send(fake.url, step.method, step.path, { authorization: BASIC, ...jsonType(body) }, body);
  expect(direct.status, `the fake upstream cannot serve this step: ${direct.body}`).toBeLessThan(300);

  const before = fake.requests.length;
  const res = await send(apiUrl, step.method, step.path, workerHeaders(bot.key, body), body);
  expect(res.status, res.body.toString()).toBe(direct.status);
  expect(res.body.length === 0).toBe(direct.body.length === 0);
  expect(JSON.stringify(res.headers)).not.toContain(fake.origin);

  const reached = fake.requests.slice(before);
  expect(reached, 'the request reaches the upstream exactly once').toHaveLength(1);
  const [upstream] = reached;
  expect(upstream.method).toBe(step.method);
  expect(upstream.url).toBe(`/api${step.path}`);
  expect(upstream.body.equals(body), `body sent upstream: ${upstream.body}`).toBe(true);
  expectUpstreamCredentialOnly(upstream.headers, 'http');
  expect(upstream.headers['x-request-id']).toMatch(/\S/);
}

async function replaySocket(step: Step): Promise<void> {
  const plan = step.ws!;
  const before = fake.sockets.length;
  const client = connect(step.path, plan.auth, bot.key);
  expect(await client.settled(), `the gateway refused the upgrade with ${client.refusedWith}`).toBe(true);
  if (plan.auth === 'message') {
    expect(client.ws.protocol).toBe('prefect');
    client.ws.send(JSON.stringify({ type: 'auth', token: bot.key }));
    expect(await client.next()).toEqual({ type: 'auth_success' });
  } else {
    // The events client pings on connect and waits for the pong before it sends anything.
    expect(await client.ping()).toBe('pong');
  }
  for (const message of plan.messages) client.ws.send(JSON.stringify(message));

  // A bare connect (the emitter's ping) need not open the upstream socket yet; a message must.
  if (plan.messages.length === 0) return client.close();
  const upstream: RecordedSocket = await fake.until(
    () => fake.sockets.slice(before).find((s) => s.path === step.path && s.authenticated && s.messages.length >= plan.messages.length),
    `the upstream to receive ${plan.messages.length} message(s) on ${step.path}`,
  );
  expect(upstream.protocol).toBe('prefect');
  expect(upstream.auth).toEqual({ type: 'auth', token: AUTH_STRING });
  expect(upstream.messages).toEqual(plan.messages);
  expectUpstreamCredentialOnly(upstream.headers, 'ws');

  // events/out and logs/out: the upstream echoes each message, proving the way back works too.
  if (step.path === '/events/out') {
    for (const message of plan.messages) expect(await client.next()).toEqual({ type: 'echo', data: message });
  }
  await client.close();
}
