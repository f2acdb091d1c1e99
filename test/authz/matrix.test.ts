// Contract 5: every route × every kind of caller answers what test/authz/policy.ts states, and no
// account ever sees or touches another account's objects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../../src/authz/permissions.js';
import { WORKSPACE_SCOPES, expandScopes } from '../../src/authz/scopes.js';
import { BUILTIN_WORKSPACE_ROLES, WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import type { RouteSpec } from '../../src/http/route.js';
import { CALLERS, CUSTOM_ROLE, POLICY, expectedCode, expectedStatus, routeKey, type Caller } from './policy.js';
import { PREPARE, buildWorld, cellUrl, fillUrl, idsOf, paramValue, pathParams, prepareCell, snapshotAccount, type Side, type World } from './fixtures.js';

let w: World;
beforeAll(async () => {
  w = await buildWorld();
});
afterAll(async () => {
  await w?.h.close();
});

const routes = (): RouteSpec[] => w.h.app.routes;
const isSelfRoute = (r: RouteSpec) => r.url.startsWith('/api/users/');
const isScimRoute = (r: RouteSpec) => r.requirement.kind === 'scim';

/** Deterministic shuffle (mulberry32), so that a failing order can be replayed with MATRIX_SEED. */
function shuffle<T>(items: T[], seed: number): T[] {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i < r.length - 1 ? cell.padEnd(widths[i]) : cell)).join('  ')).join('\n');
}

describe('authorization matrix', () => {
  it('has a policy row for every route and a route for every policy row', () => {
    const keys = new Set(routes().map(routeKey));
    const missingRows = [...keys].filter((k) => !(k in POLICY));
    const rowsWithoutRoute = Object.keys(POLICY).filter((k) => !keys.has(k));
    const preparationsWithoutRoute = Object.keys(PREPARE).filter((k) => !keys.has(k));
    expect({ missingRows, rowsWithoutRoute, preparationsWithoutRoute }).toEqual({
      missingRows: [],
      rowsWithoutRoute: [],
      preparationsWithoutRoute: [],
    });
    expect(keys.size).toBe(routes().length);
  });

  it('gives every caller the account role and workspace scopes the policy assumes', async () => {
    const role = (name: string) => BUILTIN_WORKSPACE_ROLES.find((r) => r.name === name)!.scopes;
    const custom = expandScopes([...role(CUSTOM_ROLE.inheritsFrom), ...CUSTOM_ROLE.scopes]);
    const all = WORKSPACE_SCOPES.map((s) => s.name);
    const expected: Partial<Record<Caller, { accountRole: string | null; scopes: readonly string[] | null }>> = {
      owner: { accountRole: 'Owner', scopes: all },
      admin: { accountRole: 'Admin', scopes: all },
      member: { accountRole: 'Member', scopes: null },
      member_viewer: { accountRole: 'Member', scopes: role('Viewer') },
      bot_owner: { accountRole: 'Member', scopes: all },
      bot_developer: { accountRole: 'Member', scopes: role('Developer') },
      bot_runner: { accountRole: 'Member', scopes: role('Runner') },
      bot_viewer: { accountRole: 'Member', scopes: role('Viewer') },
      bot_worker: { accountRole: 'Member', scopes: role('Worker') },
      bot_custom: { accountRole: 'Member', scopes: custom },
      bot_none: { accountRole: 'Member', scopes: null },
      other_owner: { accountRole: null, scopes: null },
    };
    // The custom role is meant to sit strictly between built-ins on the routes under test.
    expect(custom).toContain('see_flows');
    expect(custom).toContain('write_workspace_settings');
    expect(custom).not.toContain('manage_workspace_settings');
    expect(custom).not.toContain('see_workspace_users');

    for (const [caller, want] of Object.entries(expected) as Array<[Caller, { accountRole: string | null; scopes: readonly string[] | null }]>) {
      const accounts = await w.h.request('GET', '/api/me/accounts', { key: w.keys[caller] });
      expect(accounts.status, caller).toBe(200);
      const inA = (accounts.body as Array<{ account_id: string; account_role_name: string }>).find((m) => m.account_id === w.a.account_id);
      expect(inA?.account_role_name ?? null, caller).toBe(want.accountRole);
      const scopes = await w.h.request('GET', `/api/me/workspaces/${w.a.workspace_id}/scopes`, { key: w.keys[caller] });
      if (want.scopes === null) expect(scopes.status, caller).toBe(404);
      else expect([scopes.status, scopes.body], caller).toEqual([200, [...want.scopes].sort()]);
    }
    for (const caller of ['anonymous', 'malformed', 'removed_bot'] as const) {
      expect((await w.h.request('GET', '/api/me/', { key: w.keys[caller] })).status, caller).toBe(401);
    }
  });

  it('answers every route × caller cell with the status the policy states, in every form a client can send', async () => {
    // Each cell is sent as declared, with the other trailing-slash form, and (for GET) as HEAD.
    type Form = 'declared' | 'other slash' | 'HEAD';
    const cells = routes()
      .filter((r) => POLICY[routeKey(r)])
      .flatMap((route) =>
        CALLERS.flatMap((caller) =>
          (['declared', 'other slash', ...(route.method === 'GET' ? ['HEAD'] : [])] as Form[]).map((form) => ({ route, caller, form })),
        ),
      );
    // Random order, so that a cell that only passes after (or before) another one is caught.
    const seed = Number(process.env.MATRIX_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const mismatches: string[][] = [];
    const counts: Record<number, number> = {};
    for (const { route, caller, form } of shuffle(cells, seed)) {
      const req = await prepareCell(w, route);
      const url = fillUrl(route.url, req.params);
      const sent = form === 'other slash' ? (url.endsWith('/') ? url.slice(0, -1) : `${url}/`) : url;
      const res = await w.h.request(form === 'HEAD' ? 'HEAD' : route.method, cellUrl(sent, req), { key: w.keys[caller], body: req.body });
      const expected = expectedStatus(POLICY[routeKey(route)], caller);
      if (form === 'declared') counts[expected] = (counts[expected] ?? 0) + 1;
      const code = res.body?.code ?? '';
      const wantCode = form === 'HEAD' ? undefined : expectedCode(POLICY[routeKey(route)], caller);
      if (res.status !== expected || (wantCode && code !== wantCode)) {
        const where = form === 'declared' ? routeKey(route) : `${routeKey(route)} (${form})`;
        mismatches.push([where, caller, `${expected} ${wantCode ?? ''}`, `${res.status} ${code}`, String(res.body?.detail ?? '').slice(0, 80)]);
      }
    }
    const declared = Object.values(counts).reduce((a, b) => a + b, 0);
    const summary = `${declared} route × caller cells, ${cells.length} requests (${Object.entries(counts).map(([s, n]) => `${n}×${s}`).join(', ')}), MATRIX_SEED=${seed}`;
    console.info(`authorization matrix: ${summary}`);
    if (mismatches.length > 0) {
      mismatches.sort((x, y) => x[0].localeCompare(y[0]) || x[1].localeCompare(y[1]));
      expect.fail(`${mismatches.length} requests differ from the policy; ${summary}\n${table([['route', 'caller', 'expected', 'actual', 'detail'], ...mismatches])}`);
    }
    // Sign-in, password and invitation cells each pay for an Argon2id hash or check.
  }, 240_000);

  it('never treats a service account as the user of /api/users/{id}, even with its own id', async () => {
    for (const caller of ['bot_owner', 'bot_none'] as const) {
      const me = await w.h.request('GET', '/api/me/', { key: w.keys[caller] });
      expect(me.status).toBe(200);
      const res = await w.h.request('GET', `/api/users/${me.body.id}/api_keys`, { key: w.keys[caller] });
      expect([res.status, res.body?.code], caller).toEqual([404, 'NOT_FOUND']);
    }
  });

  it('lists only the workspaces a caller reaches, in the account list and in /api/me/workspaces', async () => {
    const { workspace_id: W } = w.a;
    const hidden = w.hiddenWorkspaceId;
    for (const caller of CALLERS) {
      if (!w.keys[caller] || caller === 'malformed' || caller === 'removed_bot') continue;
      const reachesW = expectedStatus(POLICY['GET /api/accounts/:account_id/workspaces/:workspace_id'], caller) === 200;
      const administers = caller === 'owner' || caller === 'admin';
      const want = [...(reachesW ? [W] : []), ...(administers ? [hidden] : [])].sort();
      const listed = await w.h.request('POST', `/api/accounts/${w.a.account_id}/workspaces/filter`, { key: w.keys[caller], body: {} });
      const mine = await w.h.request('GET', '/api/me/workspaces', { key: w.keys[caller] });
      const pick = (ids: string[]) => ids.filter((id) => id === W || id === hidden).sort();
      if (caller === 'other_owner') expect(listed.status).toBe(404);
      else expect([listed.status, pick(listed.body.map((x: { id: string }) => x.id))], caller).toEqual([200, want]);
      expect([mine.status, pick(mine.body.map((x: { workspace_id: string }) => x.workspace_id))], caller).toEqual([200, want]);
    }
  });
});

/** The path parameters of `route` as `side` names them; the built-in Member role stands in for account roles. */
function sideParams(side: Side, route: RouteSpec): Record<string, string> {
  const params: Record<string, string> = {};
  for (const name of pathParams(route.url)) {
    params[name] = name === 'account_role_id' ? ACCOUNT_ROLE_IDS.Member : paramValue(side, routeKey(route), name);
  }
  return params;
}

describe('tenant isolation', () => {
  it("never shows an account's objects in another account's lists and reads", async () => {
    const idsA = await idsOf(w.h, w.a.account_id);
    const idsB = await idsOf(w.h, w.b.account_id);
    const onlyA = [...idsA].filter((id) => !idsB.has(id));
    const onlyB = [...idsB].filter((id) => !idsA.has(id));
    expect(onlyA.length).toBeGreaterThan(20);
    expect(onlyB.length).toBeGreaterThan(8);

    // Routes of a browser session answer no key (they are covered by test/sessions.test.ts);
    // forward-auth answers 204/403 and lists nothing (test/gateway/forward-auth.test.ts).
    const reads = routes().filter(
      (r) => r.requirement.kind !== 'public' && POLICY[routeKey(r)]?.visible !== 'session' && POLICY[routeKey(r)]?.success === 200 && (r.method === 'GET' || r.url.endsWith('/filter')),
    );
    expect(reads.length).toBeGreaterThanOrEqual(25);
    const problems: string[] = [];
    const sides = [
      { name: 'A', side: w.a, key: w.keys.owner!, selfKey: w.selfKey.a, scimToken: w.scimToken.a, foreign: onlyB },
      { name: 'B', side: w.b, key: w.keys.other_owner!, selfKey: w.selfKey.b, scimToken: w.scimToken.b, foreign: onlyA },
    ];
    for (const { name, side, key, selfKey, scimToken, foreign } of sides) {
      for (const route of reads) {
        const res = await w.h.request(route.method, fillUrl(route.url, sideParams(side, route)), {
          key: isScimRoute(route) ? scimToken : isSelfRoute(route) ? selfKey : key,
          body: route.method === 'POST' ? {} : undefined,
        });
        if (res.status !== 200) problems.push(`${routeKey(route)} as ${name}'s Owner: ${res.status} ${res.text.slice(0, 100)}`);
        const leaked = foreign.filter((id) => res.text.includes(id));
        if (leaked.length) problems.push(`${routeKey(route)} as ${name}'s Owner shows foreign ids ${leaked.join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("answers 404 to another account's object named under this account's path, and changes nothing", async () => {
    const before = await snapshotAccount(w.h, w.b.account_id);
    const problems: string[] = [];
    let probes = 0;
    for (const route of routes()) {
      // A provider's sign-in starts for anyone who names it: no account is in its path.
      if (routeKey(route) === 'GET /api/auth/sso/:provider_id/start') continue;
      // Under /api/accounts/:account_id the account stays A; every other parameter is B's.
      const foreignable = pathParams(route.url).filter((n) => !(n === 'account_id' && route.url.startsWith('/api/accounts/')));
      for (const name of foreignable) {
        const req = await prepareCell(w, route);
        req.params[name] = paramValue(w.b, routeKey(route), name);
        const res = await w.h.request(route.method, cellUrl(fillUrl(route.url, req.params), req), {
          key: isScimRoute(route) ? w.scimToken.a : isSelfRoute(route) ? w.selfKey.a : w.keys.owner,
          body: req.body,
        });
        probes += 1;
        if (res.status !== 404 || res.body?.code !== 'NOT_FOUND') problems.push(`${routeKey(route)} with B's :${name}: ${res.status} ${res.text.slice(0, 100)}`);
      }
    }
    expect(problems).toEqual([]);
    expect(probes).toBeGreaterThanOrEqual(30);
    expect(await snapshotAccount(w.h, w.b.account_id)).toEqual(before);
  });

  it("refuses grants, team members and default roles that name another account's service account, user, team or role", async () => {
    const before = await snapshotAccount(w.h, w.b.account_id);
    const base = `/api/accounts/${w.a.account_id}/workspaces/${w.a.workspace_id}`;
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', `${base}/bot_access/`, { bot_id: w.b.bot_id, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer }, 'UNKNOWN_SERVICE_ACCOUNT'],
      ['POST', `${base}/user_access/`, { user_id: w.b.user_id, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer }, 'UNKNOWN_USER'],
      ['POST', `${base}/bot_access/`, { bot_id: w.a.bot_id, workspace_role_id: w.b.workspace_role_id }, 'UNKNOWN_WORKSPACE_ROLE'],
      ['POST', `${base}/user_access/`, { user_id: w.grantee.userId, workspace_role_id: w.b.workspace_role_id }, 'UNKNOWN_WORKSPACE_ROLE'],
      ['PATCH', base, { default_workspace_role_id: w.b.workspace_role_id }, 'UNKNOWN_WORKSPACE_ROLE'],
      ['PUT', `${base}/team_access/`, [{ team_id: w.b.team_id, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer }], 'UNKNOWN_TEAM'],
      ['PUT', `${base}/team_access/`, [{ team_id: w.a.team_id, workspace_role_id: w.b.workspace_role_id }], 'UNKNOWN_WORKSPACE_ROLE'],
      ['PUT', `/api/accounts/${w.a.account_id}/teams/${w.a.team_id}/members`, { members: [{ member_id: w.b.user_id, member_type: 'user' }] }, 'UNKNOWN_USER'],
      ['PUT', `/api/accounts/${w.a.account_id}/teams/${w.a.team_id}/members`, { members: [{ member_id: w.b.bot_id, member_type: 'service_account' }] }, 'UNKNOWN_SERVICE_ACCOUNT'],
    ];
    for (const [method, url, body, code] of cases) {
      const res = await w.h.request(method, url, { key: w.keys.owner, body });
      expect([res.status, res.body?.code], `${method} ${url} ${JSON.stringify(body)}`).toEqual([422, code]);
    }
    const access = await w.h.request('GET', `${base}/bot_access/${w.a.bot_access_id}`, { key: w.keys.owner });
    expect(access.body.workspace_role_id).toBe(WORKSPACE_ROLE_IDS.Viewer);
    expect(await snapshotAccount(w.h, w.b.account_id)).toEqual(before);
  });
});
