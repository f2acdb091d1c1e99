// Refused gateway requests in the audit trail (issue 20 item 6): one row per (door, reason, account,
// workspace, actor or address, route) per interval, with the count; a flood of distinct addresses
// adds a bounded number of rows; the rows read well in the audit API; forward-auth and websocket
// refusals too; what is not a refusal of access is not audited; nothing key-shaped lands in a row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { MAX_GROUPS, REFUSAL_ACTION } from '../../src/domain/audit/refusals.js';
import { startHarness, type Harness } from '../support/harness.js';
import { botWithRole, createBot, createWorkspace, type Bot } from '../support/members.js';
import { rawUpgrade } from '../support/raw-upgrade.js';
import { refusalSummary } from '../../web/src/audit-words.js';

let h: Harness;
let owner: { accountId: string; key: string };
let ws: { id: string };
let base: string;
let viewer: Bot;
let stranger: Bot;
let port: number;

beforeAll(async () => {
  // Refusals are written when a test flushes them, not by the timer.
  h = await startHarness({ refusalAuditIntervalMs: 3_600_000 });
  owner = await h.bootstrap();
  ws = await createWorkspace(h, owner.accountId, owner.key);
  base = `/api/accounts/${owner.accountId}/workspaces/${ws.id}`;
  viewer = await botWithRole(h, owner, ws.id, WORKSPACE_ROLE_IDS.Viewer, 'nightly-viewer');
  const elsewhere = await h.bootstrap();
  stranger = await createBot(h, elsewhere.accountId, elsewhere.key, 'someone-elses-bot');
  await h.app.server.listen({ host: '127.0.0.1', port: 0 });
  port = (h.app.server.server.address() as { port: number }).port;
});
afterAll(async () => h?.close());

const BAD_KEY = 'pnb_000000000000000000000000000000000000';

/** One request from `address`, as the gateway sees it. */
async function send(method: string, url: string, options: { key?: string; address?: string; headers?: Record<string, string> } = {}) {
  const res = await h.app.server.inject({
    method: method as 'GET',
    url,
    remoteAddress: options.address ?? '203.0.113.7',
    headers: { ...(options.key ? { authorization: `Bearer ${options.key}` } : {}), ...(options.headers ?? {}), 'content-type': 'application/json' },
    payload: method === 'GET' ? undefined : '{}',
  });
  return res;
}

/** The refusal rows written so far, after flushing what is counted; and clears them for the next test. */
async function refusalRows() {
  await h.app.refusals.flush();
  const rows = await h.handle.store.db.selectFrom('audit_events').selectAll().where('action', '=', REFUSAL_ACTION).orderBy('occurred').execute();
  await h.handle.store.db.deleteFrom('audit_events').where('action', '=', REFUSAL_ACTION).execute();
  return rows.map((row) => ({ ...row, details: JSON.parse(row.details) }));
}

describe('one row per group and interval, with the count', () => {
  it('writes 30 refusals of one bad key from one address as one row that says what happened', async () => {
    await refusalRows();
    for (let i = 0; i < 30; i += 1) expect((await send('POST', `${base}/flows/filter`, { key: BAD_KEY })).statusCode).toBe(401);
    const rows = await refusalRows();
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({
      account_id: owner.accountId,
      workspace_id: ws.id,
      actor_id: null,
      actor_type: 'anonymous',
      actor_name: null,
      action: 'gateway.request_refused',
      target_type: 'workspace',
      target_id: ws.id,
    });
    expect(row!.request_id).toEqual(expect.any(String));
    expect(row!.details).toEqual({
      via: 'proxy',
      reason: 'UNAUTHENTICATED',
      status: 401,
      method: 'POST',
      route: '/flows/filter',
      address: '203.0.113.7',
      count: 30,
      first: row!.occurred,
      last: expect.any(String),
      detail: 'Invalid authentication credentials',
    });
    expect(JSON.stringify(row)).not.toContain(BAD_KEY);
    // As the web page's audit log says it.
    expect(refusalSummary(row!.details)).toBe('Refused 30 requests POST /flows/filter through the gateway: no valid API key from 203.0.113.7');
  });

  it('names the service account refused for a missing scope, with the route of the table', async () => {
    await refusalRows();
    expect((await send('POST', `${base}/flows/`, { key: viewer.key })).statusCode).toBe(403);
    expect((await send('POST', `${base}/flows/`, { key: viewer.key })).statusCode).toBe(403);
    const [row, ...more] = await refusalRows();
    expect(more).toEqual([]);
    expect(row).toMatchObject({ account_id: owner.accountId, workspace_id: ws.id, actor_id: viewer.actorId, actor_type: 'bot', actor_name: 'nightly-viewer' });
    expect(row!.details).toMatchObject({ via: 'proxy', reason: 'FORBIDDEN', status: 403, method: 'POST', route: '/flows/', count: 2 });
    expect(row!.details.detail).toContain('`run_flows`');
  });

  it("records who had no access to the workspace (404), without naming another account's service account", async () => {
    await refusalRows();
    expect((await send('POST', `${base}/flows/filter`, { key: stranger.key })).statusCode).toBe(404);
    const [row] = await refusalRows();
    expect(row).toMatchObject({ account_id: owner.accountId, workspace_id: ws.id, actor_id: stranger.actorId, actor_type: 'bot', actor_name: null });
    expect(row!.details).toMatchObject({ reason: 'NOT_FOUND', status: 404 });
  });

  it('keeps an account or workspace that does not exist out of every account', async () => {
    await refusalRows();
    const nowhere = '5d0c8a3e-0000-4000-8000-00000000dead';
    await send('POST', `/api/accounts/${nowhere}/workspaces/${nowhere}/flows/filter`, { key: BAD_KEY });
    await send('POST', `/api/accounts/${owner.accountId}/workspaces/${nowhere}/flows/filter`, { key: BAD_KEY });
    const rows = await refusalRows();
    // One flush writes both rows with one timestamp: compare them in no particular order.
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => [r.account_id, r.workspace_id, r.target_id])).toEqual(
      expect.arrayContaining([
        [null, null, nowhere],
        [owner.accountId, null, nowhere],
      ]),
    );
  });

  it('shows the rows in the audit API to the account Owner', async () => {
    await refusalRows();
    await send('POST', `${base}/flows/`, { key: viewer.key });
    await h.app.refusals.flush();
    const res = await h.request('POST', `/api/accounts/${owner.accountId}/audit_events/filter`, { key: owner.key, body: { audit_events: { action: { any_: [REFUSAL_ACTION] } } } });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({ action: 'gateway.request_refused', actor_name: 'nightly-viewer', workspace_id: ws.id, details: { reason: 'FORBIDDEN', route: '/flows/', count: 1 } });
  });
});

describe('a flood cannot fill the disk', () => {
  it(`adds at most ${MAX_GROUPS} rows and one more per door and reason an interval, however many addresses send bad keys`, async () => {
    await refusalRows();
    for (let round = 0; round < 2; round += 1) {
      const sent = 3_000;
      for (let i = 0; i < sent; i += 1) {
        const address = `10.${round}.${i >> 8}.${i & 255}`;
        const res = await send('POST', `${base}/flows/filter`, { key: BAD_KEY, address });
        expect(res.statusCode).toBe(401);
      }
      const rows = await refusalRows();
      expect(rows.length).toBe(MAX_GROUPS + 1);
      // Every refusal is counted: in its own group, or in the one "others" row.
      expect(rows.reduce((sum, row) => sum + row.details.count, 0)).toBe(sent);
      const others = rows.filter((row) => row.details.others);
      expect(others).toHaveLength(1);
      expect(refusalSummary(others[0]!.details)).toBe(`Refused ${sent - MAX_GROUPS} other requests through the gateway: no valid API key`);
      expect(others[0]).toMatchObject({ account_id: null, workspace_id: null, actor_type: 'anonymous', request_id: null, details: { via: 'proxy', reason: 'UNAUTHENTICATED', count: sent - MAX_GROUPS, others: true } });
    }
  }, 120_000);
});

describe('the other doors', () => {
  it('audits a forward-auth refusal with the workspace and route of the original request', async () => {
    await refusalRows();
    const res = await send('GET', '/api/gateway/authorize', {
      key: viewer.key,
      headers: { 'x-original-method': 'POST', 'x-original-uri': `/api/accounts/${owner.accountId}/workspaces/${ws.id}/flows/` },
    });
    expect(res.statusCode).toBe(403);
    const [row] = await refusalRows();
    expect(row).toMatchObject({ account_id: owner.accountId, workspace_id: ws.id, actor_name: 'nightly-viewer' });
    expect(row!.details).toMatchObject({ via: 'forward_auth', reason: 'FORBIDDEN', method: 'POST', route: '/flows/', count: 1 });
  });

  it('audits a refused websocket', async () => {
    await refusalRows();
    const answer = await rawUpgrade(port, `${base}/events/in`, { authorization: `Bearer ${BAD_KEY}` });
    expect(answer.status).toBe(401);
    const [row] = await refusalRows();
    expect(row).toMatchObject({ account_id: owner.accountId, workspace_id: ws.id, actor_type: 'anonymous' });
    expect(row!.details).toMatchObject({ via: 'websocket', reason: 'UNAUTHENTICATED', method: 'WS', route: '/events/in', address: '127.0.0.1' });
  });
});

describe('what is not audited as a refusal', () => {
  it('writes nothing for an allowed request, whatever the upstream answers, or a bad path', async () => {
    await refusalRows();
    // Allowed, but no Prefect server behind the workspace: 404, not a refusal of access.
    const allowed = await send('POST', `${base}/flows/filter`, { key: owner.key });
    expect(allowed.statusCode).toBe(404);
    expect(JSON.parse(allowed.body).code).toBe('GATEWAY_NOT_CONFIGURED');
    expect(await refusalRows()).toEqual([]);
  });

  it('puts nothing key-shaped from the path into a row', async () => {
    await refusalRows();
    const leaked = 'pnb_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const res = await send('GET', `${base}/no-such-route/${leaked}`, { key: owner.key });
    expect(JSON.parse(res.body).code).toBe('GATEWAY_ROUTE_UNKNOWN');
    const rows = await refusalRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.details).toMatchObject({ reason: 'GATEWAY_ROUTE_UNKNOWN', route: 'unknown' });
    expect(JSON.stringify(rows)).not.toContain(leaked);
  });
});
