// Forward-auth: Debian's nginx, configured with the very block docs/forward-auth.md shows, asks
// Gatehouse (auth_request) before it forwards to a Prefect server; and the authorize endpoint on
// its own, for both header conventions, both URI forms, sessions and body-dependent routes.
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { headerSafeDetail } from '../../src/gateway/forward-auth.js';
import { ROOT } from '../support/build.js';
import { startFakePrefect, type FakePrefect } from '../support/fake-prefect.js';
import { startHarness, type Harness } from '../support/harness.js';
import { createBot, createWorkspace, grant, type Bot } from '../support/members.js';
import { requireNginx, startNginx, type Nginx } from '../support/nginx.js';
import { browser, personWithPassword, signIn } from '../support/people.js';

const BLOCK = '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a30';
const POLL = '/api/work_pools/p/get_scheduled_flow_runs';

/** The nginx block of docs/forward-auth.md, and the Prefect credential it hands the upstream. */
function documentedNginx(): { block: string; basic: string } {
  const doc = readFileSync(join(ROOT, 'docs', 'forward-auth.md'), 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  const basic = block && /proxy_set_header Authorization "Basic ([A-Za-z0-9+/=]+)";/.exec(block)?.[1];
  if (!block || !basic) throw new Error('docs/forward-auth.md must show the nginx configuration in a ```nginx block with the Basic credential for Prefect');
  return { block, basic };
}

/** The documented block with its placeholders filled in for this test's servers. */
function fillIn(block: string, values: Record<string, string>): string {
  let config = block;
  for (const [placeholder, value] of Object.entries(values)) {
    if (!config.includes(placeholder)) throw new Error(`docs/forward-auth.md's nginx block no longer contains "${placeholder}"; update this test along with it`);
    config = config.split(placeholder).join(value);
  }
  return config;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One request to nginx, its path sent exactly as given (HTTP clients would tidy `..` away). */
function send(port: number, method: string, path: string, options: { key?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Gatehouse's log lines, to find a refusal's request id in. */
const logLines: { reqId?: string; msg?: string; res?: { statusCode?: number } }[] = [];
const logSink = new Writable({
  write(chunk, _encoding, next) {
    for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
    next();
  },
});

let h: Harness;
let fake: FakePrefect;
let nginx: Nginx;
let upstreamBasic: string;
let owner: { accountId: string; key: string };
let ws: { id: string };
let other: { id: string };
let worker: Bot;
let ownerBot: Bot;
/** A Worker in `other` only. */
let outsider: Bot;

async function botWithRole(workspaceId: string, role: keyof typeof WORKSPACE_ROLE_IDS): Promise<Bot> {
  const bot = await createBot(h, owner.accountId, owner.key);
  await grant(h, owner.accountId, workspaceId, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS[role]);
  return bot;
}

beforeAll(async () => {
  // Installs Debian's nginx when it is missing; a machine that cannot is a failure, not a skip.
  await requireNginx();
  const documented = documentedNginx();
  upstreamBasic = `Basic ${documented.basic}`;
  fake = await startFakePrefect({ authString: Buffer.from(documented.basic, 'base64').toString('utf8') });
  h = await startHarness({ logger: pino({ level: 'debug' }, logSink) });
  const gatehouse = await h.app.server.listen({ host: '127.0.0.1', port: 0 });
  owner = await h.bootstrap();
  ws = await createWorkspace(h, owner.accountId, owner.key);
  other = await createWorkspace(h, owner.accountId, owner.key);
  worker = await botWithRole(ws.id, 'Worker');
  ownerBot = await botWithRole(ws.id, 'Owner');
  outsider = await botWithRole(other.id, 'Worker');
  nginx = await startNginx((port) =>
    fillIn(documented.block, {
      'listen 80;': `listen 127.0.0.1:${port};`,
      'http://prefect.internal:4200': fake.origin,
      'http://gatehouse.internal:4280': gatehouse,
      ACCOUNT_ID: owner.accountId,
      WORKSPACE_ID: ws.id,
    }),
  );
}, 300_000);

afterAll(async () => {
  await nginx?.close();
  await h?.close();
  await fake?.close();
});

beforeEach(() => fake.reset());

describe('nginx with auth_request in front of Prefect', () => {
  const through = (method: string, path: string, options?: Parameters<typeof send>[3]) => send(nginx.port, method, path, options);

  it("forwards a Worker's poll with Prefect's credential, never the caller's key or cookie", async () => {
    const res = await through('POST', POLL, { key: worker.key, body: { work_queue_names: ['default'] }, headers: { cookie: 'gatehouse_session=abc' } });
    expect(res.status, nginx.errorLog()).toBe(200);
    expect(JSON.parse(res.text)).toEqual([]);
    expect(fake.requests).toHaveLength(1);
    const seen = fake.requests[0];
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe(POLL);
    expect(JSON.parse(seen.body.toString('utf8'))).toEqual({ work_queue_names: ['default'] });
    expect(seen.headers.authorization).toBe(upstreamBasic);
    expect(seen.headers.cookie).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain(worker.key);
  });

  it("refuses a Worker's deployment create with 403 and Prefect never sees it", async () => {
    const res = await through('POST', '/api/deployments/', { key: worker.key, body: { name: 'd', flow_id: BLOCK } });
    expect(res.status).toBe(403);
    expect(fake.requests).toHaveLength(0);
  });

  it('lets only a role with see_secret_blocks read a block with include_secrets=true', async () => {
    const path = `/api/block_documents/${BLOCK}?include_secrets=true`;
    expect((await through('GET', path, { key: worker.key })).status).toBe(403);
    expect(fake.requests).toHaveLength(0);

    const allowed = await through('GET', path, { key: ownerBot.key });
    expect(allowed.status).toBe(200);
    expect(JSON.parse(allowed.text).data).toEqual({ value: 'the-secret' });
    expect(fake.requests.map((r) => r.url)).toEqual([path]);

    // The query is judged exactly: without secrets the Worker may read the block.
    const masked = await through('GET', `/api/block_documents/${BLOCK}?include_secrets=false`, { key: worker.key });
    expect(masked.status).toBe(200);
    expect(JSON.parse(masked.text).data).toEqual({ value: '********' });
  });

  it('answers 401 without a key and with a malformed one', async () => {
    expect((await through('POST', POLL, { body: {} })).status).toBe(401);
    expect((await through('POST', POLL, { key: 'pnb_notakey', body: {} })).status).toBe(401);
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 401 on the very next request once the key is deleted', async () => {
    const bot = await botWithRole(ws.id, 'Worker');
    expect((await through('POST', POLL, { key: bot.key, body: {} })).status).toBe(200);
    const bots = `/api/accounts/${owner.accountId}/bots/${bot.id}`;
    const keys = await h.request('GET', `${bots}/read_bot_api_keys`, { key: owner.key });
    const deleted = await h.request('DELETE', `${bots}/delete_bot_api_key/${keys.body.active_key.id}`, { key: owner.key });
    expect(deleted.status).toBe(204);
    expect((await through('POST', POLL, { key: bot.key, body: {} })).status).toBe(401);
    expect(fake.requests).toHaveLength(1);
  });

  it('refuses a route that is not in the table with 403, for an Owner too', async () => {
    expect((await through('GET', '/api/nope', { key: ownerBot.key })).status).toBe(403);
    expect(fake.requests).toHaveLength(0);
  });

  it("judges the URI nginx forwards, not nginx's tidied one: dot segments and encoded slashes are refused", async () => {
    // nginx matches `location /api/` on the normalised path but forwards the raw one, which
    // Prefect would route to create-deployment; Gatehouse sees the raw one too and refuses it.
    for (const path of ['/api/work_pools/p/../../deployments/', '/api/deployments%2F']) {
      expect((await through('POST', path, { key: worker.key, body: { name: 'd' } })).status, path).toBe(403);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("cannot be talked into judging another request by the client's own X-Original-* or X-Forwarded-* headers", async () => {
    const res = await through('POST', '/api/deployments/', {
      key: worker.key,
      body: { name: 'd' },
      headers: { 'x-original-method': 'POST', 'x-original-uri': POLL, 'x-forwarded-method': 'POST', 'x-forwarded-uri': POLL },
    });
    expect(res.status).toBe(403);
    expect(fake.requests).toHaveLength(0);
  });

  it("passes Prefect's trailing-slash redirect back pointing at nginx, for a caller allowed the route it points to", async () => {
    const res = await through('POST', '/api/work_pools', { key: ownerBot.key, body: { name: 'p' } });
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe(`${nginx.origin}/api/work_pools/`);
    expect(fake.requests).toHaveLength(1);
    expect((await through('POST', '/api/work_pools', { key: worker.key, body: { name: 'p' } })).status).toBe(403);
    expect(fake.requests).toHaveLength(1);
  });

  it("answers a refusal with Gatehouse's JSON, its code and request id, and Gatehouse logged that id", async () => {
    const res = await through('POST', '/api/deployments/', { key: worker.key, body: { name: 'd', flow_id: BLOCK } });
    expect(res.status, nginx.errorLog()).toBe(403);
    expect(res.headers['content-type']).toBe('application/json');
    const body = JSON.parse(res.text);
    expect(Object.keys(body)).toEqual(['detail', 'code', 'request_id']);
    expect(body.code).toBe('FORBIDDEN');
    expect(body.detail).toContain('`write_deployments`');
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-request-id']).toBe(body.request_id);
    const logged = logLines.filter((line) => line.reqId === body.request_id);
    expect(logged.map((line) => line.msg)).toEqual(['incoming request', 'request completed']);
    expect(logged[1]!.res?.statusCode).toBe(403);
    expect(fake.requests).toHaveLength(0);
  });

  it("answers 401 with Gatehouse's JSON too, and a refusal keeps its own code", async () => {
    const none = await through('POST', POLL, { body: {} });
    expect(none.status).toBe(401);
    const body = JSON.parse(none.text);
    expect(body).toEqual({ detail: expect.any(String), code: 'UNAUTHENTICATED', request_id: none.headers['x-request-id'] });
    const unknown = await through('GET', '/api/nope', { key: ownerBot.key });
    expect(unknown.status).toBe(403);
    expect(JSON.parse(unknown.text).code).toBe('GATEWAY_ROUTE_UNKNOWN');
    expect(fake.requests).toHaveLength(0);
  });

  it("keeps to the workspace nginx fronts: a Worker of another workspace is refused", async () => {
    expect((await through('POST', POLL, { key: outsider.key, body: {} })).status).toBe(403);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('GET /api/gateway/authorize', () => {
  const AUTHORIZE = '/api/gateway/authorize';
  const prefectForm = (workspaceId = ws.id) => `${AUTHORIZE}?account_id=${owner.accountId}&workspace_id=${workspaceId}`;
  const gatehouseForm = (workspaceId = ws.id) => `/api/accounts/${owner.accountId}/workspaces/${workspaceId}`;
  const original = (method: string, uri: string) => ({ 'x-original-method': method, 'x-original-uri': uri });
  const forwarded = (method: string, uri: string) => ({ 'x-forwarded-method': method, 'x-forwarded-uri': uri });

  describe('allows (204, empty body)', () => {
    it('with X-Original-Method and X-Original-URI, as nginx sends them', async () => {
      const res = await h.request('GET', prefectForm(), { key: worker.key, headers: original('POST', POLL) });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
    });

    it('with X-Forwarded-Method and X-Forwarded-Uri, as Traefik sends them', async () => {
      const res = await h.request('GET', prefectForm(), { key: worker.key, headers: forwarded('POST', POLL) });
      expect(res.status).toBe(204);
    });

    it("with a Gatehouse-form URI, which names the workspace itself", async () => {
      const uri = `${gatehouseForm()}/work_pools/p/get_scheduled_flow_runs`;
      expect((await h.request('GET', AUTHORIZE, { key: worker.key, headers: original('POST', uri) })).status).toBe(204);
      expect((await h.request('GET', AUTHORIZE, { key: worker.key, headers: forwarded('POST', uri) })).status).toBe(204);
    });

    it('with a Prefect API mounted elsewhere when api_prefix says where', async () => {
      const headers = original('POST', '/prefect/api/work_pools/p/get_scheduled_flow_runs');
      expect((await h.request('GET', `${prefectForm()}&api_prefix=/prefect/api`, { key: worker.key, headers })).status).toBe(204);
      const without = await h.request('GET', prefectForm(), { key: worker.key, headers });
      expect(without.status).toBe(403);
      expect(without.body.detail).toMatch(/api_prefix/);
    });

    it('a HEAD as its GET', async () => {
      const res = await h.request('GET', prefectForm(), { key: worker.key, headers: original('HEAD', `/api/block_documents/${BLOCK}`) });
      expect(res.status).toBe(204);
    });
  });

  describe('refuses with 401', () => {
    it('without a key, or with a malformed one', async () => {
      const none = await h.request('GET', prefectForm(), { headers: original('POST', POLL) });
      expect(none.status).toBe(401);
      expect(none.body.code).toBe('UNAUTHENTICATED');
      expect((await h.request('GET', prefectForm(), { key: 'pnb_notakey', headers: original('POST', POLL) })).status).toBe(401);
    });
  });

  describe('refuses with 403', () => {
    it('when the method or the URI header is missing', async () => {
      const partial: Record<string, string>[] = [{}, { 'x-original-method': 'POST' }, { 'x-original-uri': POLL }, { 'x-forwarded-method': 'POST' }];
      for (const headers of partial) {
        const res = await h.request('GET', prefectForm(), { key: worker.key, headers });
        expect(res.status, JSON.stringify(headers)).toBe(403);
        expect(res.body.code).toBe('FORBIDDEN');
        expect(res.body.detail).toMatch(/X-Original-Method/);
      }
    });

    it('when a Prefect-form URI comes without account_id and workspace_id, or with ids that are not UUIDs', async () => {
      const bare = await h.request('GET', AUTHORIZE, { key: worker.key, headers: original('POST', POLL) });
      expect(bare.status).toBe(403);
      expect(bare.body.detail).toMatch(/names no workspace/);
      const notIds = await h.request('GET', `${AUTHORIZE}?account_id=acme&workspace_id=production`, { key: worker.key, headers: original('POST', POLL) });
      expect(notIds.status).toBe(403);
    });

    it('in a workspace the caller has no access to, in either URI form (not 404: a proxy passes on only 401 and 403)', async () => {
      const viaQuery = await h.request('GET', prefectForm(other.id), { key: worker.key, headers: original('POST', POLL) });
      expect(viaQuery.status).toBe(403);
      expect(viaQuery.body.detail).toMatch(/no access to this workspace/);
      const viaUri = await h.request('GET', AUTHORIZE, { key: worker.key, headers: original('POST', `${gatehouseForm(other.id)}/work_pools/p/get_scheduled_flow_runs`) });
      expect(viaUri.status).toBe(403);
    });

    it('when the role lacks a scope the route needs, naming the scope', async () => {
      const res = await h.request('GET', prefectForm(), { key: worker.key, headers: original('POST', '/api/deployments/') });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
      expect(res.body.detail).toContain('`write_deployments`');
    });

    it('for a route missing from the table', async () => {
      const res = await h.request('GET', prefectForm(), { key: ownerBot.key, headers: original('GET', '/api/nope') });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('GATEWAY_ROUTE_UNKNOWN');
    });

    it('for a path Prefect could read differently (400 on the gateway, 403 here)', async () => {
      const res = await h.request('GET', prefectForm(), { key: ownerBot.key, headers: original('POST', '/api/deployments%2F') });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
    });

    it('for websocket routes, which forward-auth does not cover', async () => {
      const res = await h.request('GET', prefectForm(), { key: ownerBot.key, headers: { ...original('GET', '/api/events/in'), upgrade: 'websocket', connection: 'Upgrade' } });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('GATEWAY_ROUTE_UNKNOWN');
    });
  });

  describe("tells a proxy Gatehouse's reason in headers", () => {
    it('on a 403: the code, the detail and the request id', async () => {
      const res = await h.request('GET', prefectForm(), { key: worker.key, headers: original('POST', '/api/deployments/') });
      expect(res.status).toBe(403);
      expect(res.headers['x-gatehouse-error-code']).toBe('FORBIDDEN');
      expect(res.headers['x-gatehouse-error']).toBe(res.body.detail);
      expect(res.headers['x-gatehouse-request-id']).toBe(res.body.request_id);
    });

    it('on a 401 from authentication, before the handler', async () => {
      const res = await h.request('GET', prefectForm(), { key: 'pnb_notakey', headers: original('POST', POLL) });
      expect(res.status).toBe(401);
      expect(res.headers['x-gatehouse-error-code']).toBe('UNAUTHENTICATED');
      expect(res.headers['x-gatehouse-error']).toBe(res.body.detail);
      expect(res.headers['x-gatehouse-request-id']).toBe(res.body.request_id);
    });

    it('on an allowed request, the request id alone', async () => {
      const res = await h.request('GET', prefectForm(), { key: worker.key, headers: { ...original('POST', POLL), 'x-request-id': 'nginx-req-1' } });
      expect(res.status).toBe(204);
      expect(res.headers['x-gatehouse-request-id']).toBe('nginx-req-1');
      expect(res.headers['x-gatehouse-error-code']).toBeUndefined();
      expect(res.headers['x-gatehouse-error']).toBeUndefined();
    });

    it("answers a bad authorize URL (the proxy's configuration) with the catalog's status, its reason in the headers", async () => {
      // nginx then fails closed with its 500; every code keeps its one status (clients rely on it).
      const res = await h.request('GET', `${prefectForm()}&workspace=typo`, { key: worker.key, headers: original('POST', POLL) });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.headers['x-gatehouse-error-code']).toBe('VALIDATION_FAILED');
      expect(res.headers['x-gatehouse-error']).toBe('querystring.workspace: unknown field "workspace"'.replace(/"/g, "'"));
    });

    it('keeps the detail header-safe and JSON-string-safe: printable ASCII, no quotes, backslashes or line breaks, bounded', () => {
      expect(headerSafeDetail('Workspace "café"\r\nnext\\line… ✓')).toBe("Workspace 'cafe' next/line... ?");
      const long = headerSafeDetail('x'.repeat(5000));
      expect(long).toHaveLength(400);
      expect(long.endsWith('...')).toBe(true);
    });
  });

  describe('with a session cookie', () => {
    let session: { token: string; csrf: string };
    let sessionUri: string;
    beforeAll(async () => {
      const person = await personWithPassword(h);
      const own = await createWorkspace(h, person.accountId, person.key);
      session = await signIn(h, person.email, person.password);
      sessionUri = `/api/accounts/${person.accountId}/workspaces/${own.id}/flows/filter`;
    });

    it('refuses a change without X-CSRF-Token, or with a wrong one, with 403 CSRF_FAILED', async () => {
      for (const csrf of [null, 'not-the-token']) {
        const res = await h.request('GET', AUTHORIZE, { headers: { ...browser(session, csrf), ...original('POST', sessionUri) } });
        expect(res.status, String(csrf)).toBe(403);
        expect(res.body.code).toBe('CSRF_FAILED');
      }
    });

    it('allows the change with the session\'s X-CSRF-Token, and a read without one', async () => {
      expect((await h.request('GET', AUTHORIZE, { headers: { ...browser(session, session.csrf), ...original('POST', sessionUri) } })).status).toBe(204);
      const read = sessionUri.replace('/flows/filter', `/flows/${BLOCK}`);
      expect((await h.request('GET', AUTHORIZE, { headers: { ...browser(session), ...original('GET', read) } })).status).toBe(204);
    });
  });

  describe('routes whose scope depends on the body', () => {
    const FILTER = '/api/block_documents/filter';

    it('are judged as if the body asked for secrets: a Worker is refused, naming see_secret_blocks', async () => {
      const res = await h.request('GET', prefectForm(), { key: worker.key, headers: original('POST', FILTER) });
      expect(res.status).toBe(403);
      expect(res.body.detail).toContain('`see_secret_blocks`');
      expect((await h.request('GET', prefectForm(), { key: ownerBot.key, headers: original('POST', FILTER) })).status).toBe(204);
    });

    it("while Gatehouse's own gateway, which reads the body, lets the Worker filter without secrets", async () => {
      const base = gatehouseForm();
      const set = await h.request('PUT', `${base}/gateway`, { key: owner.key, body: { upstream_url: fake.url, upstream_auth_string: Buffer.from(upstreamBasic.slice(6), 'base64').toString('utf8') } });
      expect(set.status).toBe(200);
      const res = await h.request('POST', `${base}/block_documents/filter`, { key: worker.key, body: { include_secrets: false } });
      expect(res.status).toBe(200);
      expect(fake.requests).toHaveLength(1);
    });
  });

  // Two ways a caller could make forward-auth judge another request than the one the proxy sends.
  describe('requests it must not be fooled about', () => {
    it("judges the header pair the proxy set: behind Traefik, a client-added X-Original-URI must not win over X-Forwarded-Uri", async () => {
      // Traefik sets X-Forwarded-* to the real request and passes every other client header on.
      const res = await h.request('GET', prefectForm(), { key: worker.key, headers: { ...forwarded('POST', '/api/deployments/'), ...original('POST', POLL) } });
      expect(res.status).toBe(403);
    });

    it('judges a Gatehouse-form URI against the workspace the authorize URL names, not the one in the URI', async () => {
      // nginx fronts `ws`'s Prefect; the outsider may poll only in `other`.
      const res = await h.request('GET', prefectForm(), { key: outsider.key, headers: original('POST', `${gatehouseForm(other.id)}/work_pools/p/get_scheduled_flow_runs`) });
      expect(res.status).toBe(403);
    });
  });
});
