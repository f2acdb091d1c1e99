// The Prefect UI behind Gatehouse sign-in (gateway/prefect-ui.ts), against a stand-in Prefect server
// that serves a UI the way Prefect 3.9 does (files written for base `/v2`, a root that redirects to
// it, /ui-settings) and an API behind HTTP Basic auth. Who gets in (session cookie, workspace role,
// same 404 for none and not yours), what reaches the upstream (its credential, never the person's
// cookie), the refusals of cross-site changes, the files moved under the workspace's prefix, and a
// revocation taking effect on the next request. test/real/prefect-ui.test.ts runs the real UI.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { startHarness, type Harness } from '../support/harness.js';
import { addMember, grant, workspaceWithUpstream, createWorkspace, type Member } from '../support/members.js';
import { browser, PASSWORD, setFirstPassword, signIn, type Session } from '../support/people.js';
import { listenLocal } from '../support/ports.js';
import { REFUSAL_ACTION } from '../../src/domain/audit/refusals.js';
import { refusalSummary } from '../../web/src/audit-words.js';

const AUTH_STRING = 'admin:ui-upstream-s3cret';
const BASIC = `Basic ${Buffer.from(AUTH_STRING).toString('base64')}`;

/** What the stand-in serves, as Prefect 3.9.1 writes it for base `/v2`. */
const PAGE = '<!doctype html><html><head><link rel="icon" href="/v2/ico/favicon.png"><script type="module" crossorigin src="/v2/assets/index-abc.js"></script><link rel="stylesheet" href="/v2/assets/index-abc.css"><a href="https://prefect.io/">x</a></head><body><div id="root"></div></body></html>';
const SCRIPT = 'var a=function(e){return`/v2/`+e};fetch(`/v2/concurrency_limits/filter`);';
const STYLE = '.a{background:url(/v2/bg.svg)}@font-face{src:url(/v2/fonts/Geist.ttf)}';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

let h: Harness;
let upstream: Server;
let upstreamUrl: string;
const seen: Seen[] = [];
let owner: { accountId: string; userId: string; key: string };
let accountHandle: string;
let ws: { id: string; handle: string; base: string };
let prefix: string;
let people: Record<'viewer' | 'developer' | 'outsider', { member: Member; session: Session }>;
const DEPLOYMENT = randomUUID();

beforeAll(async () => {
  upstream = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    req.resume();
    const url = req.url!.split('?')[0]!;
    const send = (status: number, type: string, body: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'set-cookie': 'upstream=1; Path=/', 'content-security-policy': "default-src *", ...extra });
      res.end(body);
    };
    if (url.startsWith('/api/')) {
      if (req.headers.authorization !== BASIC) return send(401, 'application/json', '{"exception_message":"Unauthorized"}');
      if (url === '/api/health') return send(200, 'application/json', 'true');
      return send(url.endsWith('/create_flow_run') ? 201 : 200, 'application/json', url.endsWith('/filter') ? '[]' : '{}');
    }
    if (url === '/') return send(307, 'text/plain', '', { location: '/v2/' });
    if (url === '/ui-settings') {
      return send(200, 'application/json', JSON.stringify({ api_url: 'http://127.0.0.1:4200/api', csrf_enabled: false, auth: 'BASIC', flags: [], default_ui: 'v2', available_uis: ['v1', 'v2'], v1_base_url: '/', v2_base_url: '/v2' }));
    }
    if (url === '/v2/assets/index-abc.js') return send(200, 'text/javascript; charset=utf-8', SCRIPT, { etag: '"js"' });
    if (url === '/v2/assets/index-abc.css') return send(200, 'text/css; charset=utf-8', STYLE);
    if (url === '/v2/ico/favicon.png') return send(200, 'image/png', 'PNG');
    if (url.startsWith('/v2/')) return send(200, 'text/html; charset=utf-8', PAGE);
    return send(404, 'application/json', '{"detail":"Not Found"}');
  });
  upstreamUrl = `http://127.0.0.1:${await listenLocal(upstream)}`;

  h = await startHarness();
  owner = await h.bootstrap();
  accountHandle = (await h.handle.store.db.selectFrom('accounts').select('handle').where('id', '=', owner.accountId).executeTakeFirstOrThrow()).handle;
  ws = await workspaceWithUpstream(h, owner, `${upstreamUrl}/api`, { auth: AUTH_STRING });
  prefix = `/w/${accountHandle}/${ws.handle}`;
  const person = async (role: keyof typeof WORKSPACE_ROLE_IDS | null) => {
    const member = await addMember(h, owner.accountId, 'Member');
    await setFirstPassword(h, member.email);
    if (role) await grant(h, owner.accountId, ws.id, owner.key, { userId: member.userId }, WORKSPACE_ROLE_IDS[role]);
    return { member, session: await signIn(h, member.email, PASSWORD) };
  };
  people = { viewer: await person('Viewer'), developer: await person('Developer'), outsider: await person(null) };
});

afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => upstream?.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
});

/** The origin Gatehouse expects the UI's own requests to come from (in-process requests: Host localhost:80). */
const ORIGIN = 'http://localhost:80';
const page = { accept: 'text/html', 'sec-fetch-mode': 'navigate' };
const sameSite = (session: Session) => ({ ...browser(session), origin: ORIGIN, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' });

describe('the Prefect UI at /w/{account}/{workspace}/', () => {
  it('sends a page load without a session to sign-in, coming back after; a script gets 401', async () => {
    const load = await h.request('GET', `${prefix}/v2/runs?tab=flows`, { headers: page });
    expect(load.status).toBe(303);
    expect(load.headers.location).toBe(`/sign-in?next=${encodeURIComponent(`${prefix}/v2/runs?tab=flows`)}`);
    const api = await h.request('POST', `${prefix}/api/flows/filter`, { headers: { origin: ORIGIN }, body: {} });
    expect(api.status).toBe(401);
    expect(api.body).toEqual({ detail: 'Sign in to Gatehouse, then reload the Prefect UI', code: 'UNAUTHENTICATED', request_id: expect.any(String) });
    expect(seen).toEqual([]);
  });

  it("serves the upstream's UI with its files moved under the prefix, and its settings pointed at Gatehouse", async () => {
    const viewer = people.viewer.session;
    const noSlash = await h.request('GET', prefix, { headers: { ...browser(viewer), ...page } });
    expect(noSlash.status).toBe(308);
    expect(noSlash.headers.location).toBe(`${prefix}/`);
    const root = await h.request('GET', `${prefix}/`, { headers: { ...browser(viewer), ...page } });
    expect(root.status).toBe(307);
    expect(root.headers.location).toBe(`${prefix}/v2/`);

    const html = await h.request('GET', `${prefix}/v2/dashboard`, { headers: { ...browser(viewer), ...page } });
    expect(html.status).toBe(200);
    expect(html.text).toContain(`src="${prefix}/v2/assets/index-abc.js"`);
    expect(html.text).toContain(`href="${prefix}/v2/assets/index-abc.css"`);
    expect(html.text).toContain(`href="${prefix}/v2/ico/favicon.png"`);
    expect(html.text).toContain('href="https://prefect.io/"');
    expect(html.headers['cache-control']).toBe('no-cache');
    // Nothing of the upstream's own cookies or policy reaches the browser; Gatehouse's policy keeps the UI's scripts in the prefix.
    expect(html.headers['set-cookie']).toBeUndefined();
    const csp = String(html.headers['content-security-policy']);
    expect(csp).toContain(`connect-src ${ORIGIN}${prefix}/ ws://localhost:80${prefix}/;`);
    expect(csp).toContain(`form-action ${ORIGIN}${prefix}/;`);
    expect(csp).toContain("frame-src 'none'");
    expect(html.headers['cross-origin-opener-policy']).toBe('same-origin-allow-popups');

    const js = await h.request('GET', `${prefix}/v2/assets/index-abc.js`, { headers: browser(viewer) });
    expect(js.text).toBe(`var a=function(e){return\`${prefix}/v2/\`+e};fetch(\`/v2/concurrency_limits/filter\`);`);
    expect(js.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(js.headers.etag).toBeUndefined();
    const css = await h.request('GET', `${prefix}/v2/assets/index-abc.css`, { headers: browser(viewer) });
    expect(css.text).toBe(`.a{background:url(${prefix}/v2/bg.svg)}@font-face{src:url(${prefix}/v2/fonts/Geist.ttf)}`);
    const png = await h.request('GET', `${prefix}/v2/ico/favicon.png`, { headers: browser(viewer) });
    expect(png.text).toBe('PNG');

    // A content-hashed file is kept: the second read does not reach the upstream.
    seen.length = 0;
    expect((await h.request('GET', `${prefix}/v2/assets/index-abc.js`, { headers: browser(viewer) })).text).toContain(prefix);
    expect(seen).toEqual([]);

    const settings = await h.request('GET', `${prefix}/ui-settings`, { headers: browser(viewer) });
    expect(settings.status).toBe(200);
    expect(settings.body).toEqual({
      api_url: `${ORIGIN}${prefix}/api`, csrf_enabled: false, auth: null, flags: [],
      default_ui: 'v2', available_uis: ['v2'], v1_base_url: null, v2_base_url: `${prefix}/v2`,
    });
    for (const answer of [html, js, css, settings]) {
      expect(answer.text).not.toContain(upstreamUrl);
      expect(answer.text).not.toContain('s3cret');
    }
  });

  it("authorizes every API call by the person's workspace role, sending the upstream credential and never the cookie", async () => {
    const viewer = people.viewer.session;
    const read = await h.request('POST', `${prefix}/api/flows/filter`, { headers: sameSite(viewer), body: {} });
    expect(read.status).toBe(200);
    expect(read.body).toEqual([]);
    const reached = seen.find((r) => r.url === '/api/flows/filter')!;
    expect(reached.headers.authorization).toBe(BASIC);
    expect(reached.headers.cookie).toBeUndefined();
    expect(JSON.stringify(reached.headers)).not.toContain(viewer.token);

    seen.length = 0;
    const run = await h.request('POST', `${prefix}/api/deployments/${DEPLOYMENT}/create_flow_run`, { headers: sameSite(viewer), body: {} });
    expect(run.status).toBe(403);
    expect(run.body).toMatchObject({ code: 'FORBIDDEN', detail: expect.stringContaining('`run_deployments`') });
    expect(seen).toEqual([]);

    const developer = people.developer.session;
    const allowed = await h.request('POST', `${prefix}/api/deployments/${DEPLOYMENT}/create_flow_run`, { headers: sameSite(developer), body: {} });
    expect(allowed.status).toBe(201);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([`POST /api/deployments/${DEPLOYMENT}/create_flow_run`]);
  });

  it('refuses a change that does not come from the UI on this origin (403 CSRF_FAILED), and forwards nothing', async () => {
    const developer = people.developer.session;
    const url = `${prefix}/api/deployments/${DEPLOYMENT}/create_flow_run`;
    const variants: Record<string, string>[] = [
      { ...browser(developer), 'content-type': 'application/json' },
      { ...browser(developer), origin: 'https://evil.example', 'content-type': 'application/json' },
      { ...sameSite(developer), 'sec-fetch-site': 'cross-site' },
      { ...sameSite(developer), 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of variants) {
      const res = await h.request('POST', url, { headers, body: {} });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.body.code).toBe('CSRF_FAILED');
    }
    expect(seen).toEqual([]);
  });

  it("writes its refusals to the audit trail like the gateway's: a Viewer's refused run, a cross-site change, an outsider's 404", async () => {
    await h.app.refusals.flush();
    await h.handle.store.db.deleteFrom('audit_events').where('action', '=', REFUSAL_ACTION).execute();
    const url = `${prefix}/api/deployments/${DEPLOYMENT}/create_flow_run`;
    expect((await h.request('POST', url, { headers: sameSite(people.viewer.session), body: {} })).status).toBe(403);
    expect((await h.request('POST', url, { headers: { ...sameSite(people.developer.session), 'sec-fetch-site': 'cross-site' }, body: {} })).status).toBe(403);
    expect((await h.request('POST', `${prefix}/api/flows/filter`, { headers: sameSite(people.outsider.session), body: {} })).status).toBe(404);
    await h.app.refusals.flush();
    const rows = (await h.handle.store.db.selectFrom('audit_events').selectAll().where('action', '=', REFUSAL_ACTION).execute()).map((row) => ({ ...row, details: JSON.parse(row.details) }));
    const by = (reason: string) => rows.find((row) => row.details.reason === reason);
    expect(by('FORBIDDEN')).toMatchObject({ account_id: owner.accountId, workspace_id: ws.id, actor_id: people.viewer.member.actorId, details: { via: 'prefect_ui', method: 'POST', route: '/deployments/{id:uuid}/create_flow_run', count: 1 } });
    expect(by('CSRF_FAILED')).toMatchObject({ actor_id: people.developer.member.actorId, details: { via: 'prefect_ui', count: 1 } });
    expect(by('NOT_FOUND')).toMatchObject({ account_id: owner.accountId, workspace_id: ws.id, actor_id: people.outsider.member.actorId, details: { via: 'prefect_ui', route: '/flows/filter' } });
    expect(refusalSummary(by('FORBIDDEN')!.details)).toContain('through the Prefect UI');
    expect(JSON.stringify(rows)).not.toContain(people.viewer.session.token);
  });

  it('answers the same 404 to a person without access and for a workspace that does not exist', async () => {
    const outsider = people.outsider.session;
    const pageLoad = await h.request('GET', `${prefix}/v2/`, { headers: { ...browser(outsider), ...page } });
    expect(pageLoad.status).toBe(404);
    expect(pageLoad.text).toContain(`There is no workspace ${accountHandle}/${ws.handle} that you can reach`);
    const none = await h.request('GET', `/w/${accountHandle}/no-such-workspace/v2/`, { headers: { ...browser(people.viewer.session), ...page } });
    expect(none.status).toBe(404);
    expect(none.text).toContain(`There is no workspace ${accountHandle}/no-such-workspace that you can reach`);
    const api = await h.request('POST', `${prefix}/api/flows/filter`, { headers: sameSite(outsider), body: {} });
    expect(api.status).toBe(404);
    expect(api.body).toMatchObject({ code: 'NOT_FOUND', detail: 'Workspace not found' });
    expect(seen).toEqual([]);
  });

  it('takes a new role, a removal and a sign-out into account on the next request', async () => {
    const member = await addMember(h, owner.accountId, 'Member');
    await setFirstPassword(h, member.email);
    const access = await grant(h, owner.accountId, ws.id, owner.key, { userId: member.userId }, WORKSPACE_ROLE_IDS.Developer);
    const session = await signIn(h, member.email, PASSWORD);
    const run = () => h.request('POST', `${prefix}/api/deployments/${DEPLOYMENT}/create_flow_run`, { headers: sameSite(session), body: {} });
    expect((await run()).status).toBe(201);
    await grant(h, owner.accountId, ws.id, owner.key, { userId: member.userId }, WORKSPACE_ROLE_IDS.Viewer);
    expect((await run()).status).toBe(403);
    const removed = await h.request('DELETE', `${ws.base}/user_access/${access.id}`, { key: owner.key });
    expect(removed.status).toBe(204);
    expect((await run()).status).toBe(404);
    await grant(h, owner.accountId, ws.id, owner.key, { userId: member.userId }, WORKSPACE_ROLE_IDS.Developer);
    expect((await run()).status).toBe(201);
    const out = await h.request('POST', '/api/auth/logout', { headers: { ...browser(session, session.csrf) } });
    expect(out.status).toBe(204);
    expect((await run()).status).toBe(401);
  });

  it("follows a workspace's new handle at once: the old address is 404, the new one serves", async () => {
    const viewer = people.viewer.session;
    const before = await h.request('POST', `${prefix}/api/flows/filter`, { headers: sameSite(viewer), body: {} });
    expect(before.status).toBe(200);
    const renamed = await h.request('PATCH', ws.base, { key: owner.key, body: { handle: `${ws.handle}-new` } });
    expect(renamed.status).toBe(204);
    try {
      expect((await h.request('POST', `${prefix}/api/flows/filter`, { headers: sameSite(viewer), body: {} })).status).toBe(404);
      expect((await h.request('POST', `/w/${accountHandle}/${ws.handle}-new/api/flows/filter`, { headers: sameSite(viewer), body: {} })).status).toBe(200);
    } finally {
      expect((await h.request('PATCH', ws.base, { key: owner.key, body: { handle: ws.handle } })).status).toBe(204);
    }
  });

  it('says when the workspace has no Prefect server yet', async () => {
    const bare = await createWorkspace(h, owner.accountId, owner.key);
    const ownerPerson = people.developer; // any person with access: grant one
    await grant(h, owner.accountId, bare.id, owner.key, { userId: ownerPerson.member.userId }, WORKSPACE_ROLE_IDS.Viewer);
    const load = await h.request('GET', `/w/${accountHandle}/${bare.handle}/`, { headers: { ...browser(ownerPerson.session), ...page } });
    expect(load.status).toBe(404);
    expect(load.text).toContain(`Workspace ${accountHandle}/${bare.handle} has no Prefect server Gatehouse can reach`);
    const api = await h.request('POST', `/w/${accountHandle}/${bare.handle}/api/flows/filter`, { headers: sameSite(ownerPerson.session), body: {} });
    expect(api.body.code).toBe('GATEWAY_NOT_CONFIGURED');
  });
});
