// A workspace's upstream as it is saved and checked (issue 16, item 3): the URL is stored with its
// slashes normalised and a warning when its path does not end with /api, and
// POST .../gateway/check asks the Prefect server whether it answers, with the stored credential,
// in words a person can act on and without ever repeating the credential.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { startHarness, type Harness } from '../support/harness.js';
import { botWithRole, createWorkspace, workspaceWithUpstream } from '../support/members.js';
import { closedPort, listenLocal } from '../support/ports.js';

const CREDENTIAL = 'admin:s3cret-upstream-pass';
const TIMEOUT_MS = 300;

let h: Harness;
let owner: { accountId: string; key: string };
let prefect: Server;
let origin: string;
let silent: Server;
let silentOrigin: string;
let refusingPort: number;
/** What the fake Prefect server was sent: path and Authorization header. */
const seen: { path: string; authorization: string | undefined }[] = [];

/** Prefect as PREFECT_SERVER_API_AUTH_STRING makes it: /api/health open, every other path asks for the credential. */
function fakePrefect(req: IncomingMessage, res: import('node:http').ServerResponse) {
  seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
  const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (req.url === '/api/health') return json(200, true);
  if (req.url?.startsWith('/api/')) {
    if (req.headers.authorization !== `Basic ${Buffer.from(CREDENTIAL).toString('base64')}`) return json(401, { exception_message: 'Unauthorized' });
    if (req.url === '/api/version') return json(200, '3.1.4');
  }
  // Prefect's web page answers any other path with its HTML (a single-page app).
  if (req.url === '/health') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Prefect</title>');
  return json(404, { detail: 'Not Found' });
}

let workspaceCount = 0;
/** A new workspace of the owner's account pointed at `url` (with `auth`), and its gateway path. */
async function workspaceAt(url: string, auth?: string | null): Promise<{ id: string; base: string; handle: string }> {
  const w = await workspaceWithUpstream(h, owner, url, { auth, handle: `check-${++workspaceCount}` });
  return { id: w.id, base: `${w.base}/gateway`, handle: w.handle };
}

const check = (base: string, key = owner.key) => h.request('POST', `${base}/check`, { key });

beforeAll(async () => {
  prefect = createServer(fakePrefect);
  origin = `http://127.0.0.1:${await listenLocal(prefect)}`;
  // Accepts connections and never answers.
  silent = createServer(() => {});
  silentOrigin = `http://127.0.0.1:${await listenLocal(silent)}`;
  refusingPort = await closedPort();
  h = await startHarness({ upstreamCheckTimeoutMs: TIMEOUT_MS });
  owner = await h.bootstrap();
});

afterAll(async () => {
  await h?.close();
  silent?.closeAllConnections();
  await new Promise((r) => silent?.close(r));
  await new Promise((r) => prefect?.close(r));
});

describe('saving an upstream URL', () => {
  it('collapses doubled slashes and drops the trailing one, and answers the URL as stored with no warning for /api', async () => {
    const w = await createWorkspace(h, owner.accountId, owner.key);
    const base = `/api/accounts/${owner.accountId}/workspaces/${w.id}/gateway`;
    const res = await h.request('PUT', base, { key: owner.key, body: { upstream_url: `${origin}//api//` } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ upstream_url: `${origin}/api`, has_upstream_auth_string: false, updated: expect.any(String), warnings: [] });
    expect((await h.request('GET', base, { key: owner.key })).body.upstream_url).toBe(`${origin}/api`);
  });

  it('keeps a path that ends with /api behind a proxy without a warning', async () => {
    const w = await createWorkspace(h, owner.accountId, owner.key);
    const res = await h.request('PUT', `/api/accounts/${owner.accountId}/workspaces/${w.id}/gateway`, { key: owner.key, body: { upstream_url: `${origin}/prefect//api/` } });
    expect(res.status).toBe(200);
    expect(res.body.upstream_url).toBe(`${origin}/prefect/api`);
    expect(res.body.warnings).toEqual([]);
  });

  it('warns when the path does not end with /api, naming where requests will go', async () => {
    const w = await createWorkspace(h, owner.accountId, owner.key);
    const res = await h.request('PUT', `/api/accounts/${owner.accountId}/workspaces/${w.id}/gateway`, { key: owner.key, body: { upstream_url: `${origin}//` } });
    expect(res.status).toBe(200);
    expect(res.body.upstream_url).toBe(origin);
    expect(res.body.warnings).toEqual([
      `Prefect's API is usually served at /api; requests will go to ${origin}/flows/… and the like. ` +
        `If that is not where this Prefect server serves its API, set ${origin}/api instead (Check connection tells whether Prefect answers).`,
    ]);
  });

  it('still refuses a URL with a query (422), as before', async () => {
    const w = await createWorkspace(h, owner.accountId, owner.key);
    const res = await h.request('PUT', `/api/accounts/${owner.accountId}/workspaces/${w.id}/gateway`, { key: owner.key, body: { upstream_url: `${origin}/api?x=1` } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });
});

describe('checking the connection: Prefect answers', () => {
  it('answers reachable with the version, having sent the stored credential', async () => {
    const w = await workspaceAt(`${origin}/api`, CREDENTIAL);
    seen.length = 0;
    const res = await check(w.base);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      reachable: true,
      status_code: 200,
      elapsed_ms: expect.any(Number),
      upstream_url: `${origin}/api`,
      detail: `Prefect 3.1.4 answered at ${origin}/api: it accepted the stored credential`,
    });
    const basic = `Basic ${Buffer.from(CREDENTIAL).toString('base64')}`;
    expect(seen).toEqual([
      { path: '/api/health', authorization: basic },
      { path: '/api/version', authorization: basic },
    ]);
  });
});

describe('checking the connection: what went wrong, and what to do', () => {
  it('names the refused credential with the command that sets it again, and never repeats it', async () => {
    const w = await workspaceAt(`${origin}/api`, 'admin:wrong-pass');
    const res = await check(w.base);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      reachable: false,
      status_code: 401,
      elapsed_ms: expect.any(Number),
      upstream_url: `${origin}/api`,
      detail:
        `The upstream refused the stored credential (401 at ${origin}/api/version): set it again with ` +
        `\`gatehouse workspace set ${(await h.request('GET', `/api/accounts/${owner.accountId}`, { key: owner.key })).body.handle}/${w.handle} --upstream ${origin}/api --upstream-auth-string-stdin\` or on the Workspaces page`,
    });
    expect(res.text).not.toContain('wrong-pass');
    expect(res.text).not.toContain(Buffer.from('admin:wrong-pass').toString('base64'));
  });

  it('says a credential is needed when none is stored', async () => {
    const w = await workspaceAt(`${origin}/api`);
    const res = await check(w.base);
    expect(res.body).toMatchObject({ reachable: false, status_code: 401 });
    expect(res.body.detail).toMatch(/^The upstream asks for a credential \(401 at .*\/api\/version\) and none is stored: set Prefect's auth string/);
  });

  it('asks whether the URL ends with /api when nothing answers at /health (404)', async () => {
    const w = await workspaceAt(`${origin}/prefect`, CREDENTIAL);
    const res = await check(w.base);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      reachable: false,
      status_code: 404,
      elapsed_ms: expect.any(Number),
      upstream_url: `${origin}/prefect`,
      detail: `Nothing answers at ${origin}/prefect/health (404): does the URL end with /api?`,
    });
  });

  it("is not fooled by Prefect's web page answering 200 at the root of the host", async () => {
    const w = await workspaceAt(origin, CREDENTIAL);
    const res = await check(w.base);
    expect(res.body).toMatchObject({
      reachable: false,
      status_code: 200,
      detail: `Something answered at ${origin}/health, but not Prefect's API (which answers true there): does the URL end with /api?`,
    });
  });

  it('names host and port when the connection is refused', async () => {
    const w = await workspaceAt(`http://127.0.0.1:${refusingPort}/api`);
    const res = await check(w.base);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      reachable: false,
      status_code: null,
      elapsed_ms: expect.any(Number),
      upstream_url: `http://127.0.0.1:${refusingPort}/api`,
      detail: `Connection refused at 127.0.0.1:${refusingPort}: is the Prefect server running, and listening on that address and port?`,
    });
  });

  it('gives up after its timeout when the upstream never answers', async () => {
    const w = await workspaceAt(`${silentOrigin}/api`, CREDENTIAL);
    const res = await check(w.base);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      reachable: false,
      status_code: null,
      detail: `No answer from ${silentOrigin.replace('http://', '')} within 0.3 s: is the address right, and does nothing (a firewall) stop Gatehouse from reaching it?`,
    });
    expect(res.body.elapsed_ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(res.body.elapsed_ms).toBeLessThan(3_000);
  });
});

describe('checking the connection: who may, and when there is nothing to check', () => {
  it('answers 404 GATEWAY_NOT_CONFIGURED when the workspace has no upstream', async () => {
    const w = await createWorkspace(h, owner.accountId, owner.key);
    const res = await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/${w.id}/gateway/check`, { key: owner.key, headers: { 'x-request-id': 'check-none' } });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      code: 'GATEWAY_NOT_CONFIGURED',
      detail: 'This workspace has no Prefect server behind it yet; a workspace Owner sets one with `gatehouse workspace set --upstream URL` (or PUT .../gateway)',
      request_id: 'check-none',
    });
  });

  it('lets a Developer check (who may read the setting) and refuses a Viewer (403)', async () => {
    const w = await workspaceAt(`${origin}/api`, CREDENTIAL);
    const developer = await botWithRole(h, owner, w.id, WORKSPACE_ROLE_IDS.Developer);
    const viewer = await botWithRole(h, owner, w.id, WORKSPACE_ROLE_IDS.Viewer);
    expect((await check(w.base, developer.key)).body.reachable).toBe(true);
    const refused = await check(w.base, viewer.key);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    expect((await h.request('GET', w.base, { key: viewer.key })).status).toBe(403);
  });
});
