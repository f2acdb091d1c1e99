// The gateway's authorization matrix: every entry of the route table (HTTP and websocket) × every
// kind of caller × three workspaces (A's workspace W, A's workspace that only account Owners and
// Admins reach, account B's workspace), sent through Gatehouse to fake Prefect servers that record
// what arrives, and asked of forward-auth. test/authz/gateway-policy.ts states the answer of each
// cell: a refused request never reaches an upstream; an allowed one reaches its workspace's
// upstream exactly once and comes back with the upstream's status. A route added to the table is
// part of the matrix by itself; a method or upgrade the table does not declare is refused to all.
// An entry whose scopes depend on a query parameter or body field (route table `fieldScopes`) is
// also sent with each such field used and, where there is one, a form that does not use it; and
// every field of Prefect's body schemas that chooses what a worker runs (gateway-policy.ts
// RUN_CHOOSING_FIELDS, read from Prefect's source) is sent by every role. GATEHOUSE_LONG=1 adds forward-auth for every workspace, every route with its trailing slash
// toggled, and every GET as HEAD.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_TABLE, type FieldScope, type GatewayRoute } from '../../src/gateway/route-table.js';
import { startFakePrefect, type FakePrefect, type Recorded } from '../support/fake-prefect.js';
import { buildWorld, type World } from './fixtures.js';
import { CALLERS, type Caller } from './policy.js';
import {
  ROLE_IN,
  SCOPE_HOLDERS,
  TARGETS,
  concretePath,
  fieldExamples,
  firstClaim,
  holds,
  matchesAnyHttpEntry,
  RUN_CHOOSING_FIELDS,
  runChoosingValue,
  expectedAtForwardAuth,
  expectedAtGateway,
  scopesNeeded,
  type Denial,
  type Expectation,
  type Target,
  type Via,
} from './gateway-policy.js';

const LONG = process.env.GATEHOUSE_LONG === '1';

let w: World;
let fakes: Record<Target, FakePrefect>;
let ids: Record<Target, { account: string; workspace: string }>;
let wsOrigin: string;
const prefix = (account: string, workspace: string) => `/api/accounts/${account}/workspaces/${workspace}`;
const prefixOf = (target: Target) => prefix(ids[target].account, ids[target].workspace);

beforeAll(async () => {
  w = await buildWorld();
  fakes = { own: await startFakePrefect(), hidden: await startFakePrefect(), other_account: await startFakePrefect() };
  ids = {
    own: { account: w.a.account_id, workspace: w.a.workspace_id },
    hidden: { account: w.a.account_id, workspace: w.hiddenWorkspaceId },
    other_account: { account: w.b.account_id, workspace: w.b.workspace_id },
  };
  // Each workspace forwards to an upstream of its own, so a request that reaches the wrong one shows.
  for (const target of TARGETS) {
    const key = target === 'other_account' ? w.keys.other_owner : w.keys.owner;
    const set = await w.h.request('PUT', `${prefixOf(target)}/gateway`, { key, body: { upstream_url: fakes[target].url } });
    if (set.status !== 200) throw new Error(`fixture: setting the ${target} upstream answered ${set.status} ${set.text}`);
  }
  wsOrigin = (await w.h.app.server.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
}, 120_000);

afterAll(async () => {
  await w?.h.close();
  for (const fake of Object.values(fakes ?? {})) await fake.close();
});

const toggleSlash = (path: string) => (path.endsWith('/') ? path.slice(0, -1) : `${path}/`);
const routeName = (r: GatewayRoute) => `${r.method} ${r.path}`;
const withBody = (method: string) => (['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined);

/** One request form of an entry: as declared, using one of its field rules (or not), toggled slash, HEAD. */
interface Variant {
  /** The entry the form is derived from (names the row). */
  route: GatewayRoute;
  label: string;
  method: string;
  path: string;
  /** Query string without `?`. */
  query: string;
  body?: unknown;
  /** The entry the request is for; null when it is for none (refused for every role). */
  entry: GatewayRoute | null;
  /** The field rule of the entry this form uses, if any. */
  uses?: FieldScope;
  /** Set when Starlette would redirect (307): the path the gateway must redirect to, itself. */
  redirectTo?: string;
}

/** The entry whose trailing-slash form is always checked: its scope splits the roles. */
const REDIRECT_ROUTE = 'POST /deployments/{id:uuid}/create_flow_run';

/** The other trailing-slash form, as Starlette would treat it: another entry, a 307 back, or nothing. */
function toggledVariant(route: GatewayRoute, path: string): Variant {
  const base = { route, label: ' (other slash)', method: route.method, path: toggleSlash(path), query: 'matrix=1', body: withBody(route.method) };
  const claim = firstClaim(route.method, base.path);
  if (claim) return { ...base, entry: claim };
  // Starlette redirects only a path that no route of any method matches.
  if (matchesAnyHttpEntry(base.path)) return { ...base, entry: null };
  return { ...base, entry: route, redirectTo: path };
}

function httpVariants(): Variant[] {
  const variants: Variant[] = [];
  for (const route of ROUTE_TABLE) {
    if (route.method === 'WS') continue;
    const path = concretePath(route.path);
    const base = { route, entry: route, method: route.method, path, query: '', body: withBody(route.method) };
    variants.push({ ...base, label: '' });
    for (const rule of route.fieldScopes ?? []) {
      for (const example of fieldExamples(rule)) {
        variants.push({ ...base, label: example.label, query: example.query ?? '', body: example.body ?? base.body, uses: example.uses ? rule : undefined });
      }
    }
    if (LONG || routeName(route) === REDIRECT_ROUTE) variants.push(toggledVariant(route, path));
    if (LONG && route.method === 'GET') variants.push({ ...base, label: ' (HEAD)', method: 'HEAD' });
  }
  return variants;
}

const needs = (v: Variant, via: Via) => (v.entry ? scopesNeeded(v.entry, v.entry === v.route ? v.uses : undefined, via) : null);

// The key throttle answers 429 after 30 failed keys a minute from one address; that is not what
// this matrix is about, so each bad key comes from an address of its own.
let addressCounter = 0;
function clientAddress(caller: Caller): string {
  if (caller !== 'malformed' && caller !== 'removed_bot') return '127.0.0.1';
  addressCounter += 1;
  return `10.${(addressCounter >> 16) & 255}.${(addressCounter >> 8) & 255}.${addressCounter & 255}`;
}

interface Answer {
  status: number;
  code: string;
  detail: string;
  location?: string;
}

/** The header that ties what an upstream receives to the cell that sent it. */
const CELL_HEADER = 'x-matrix-cell';

async function send(method: string, url: string, caller: Caller, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const key = w.keys[caller];
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await w.h.app.server.inject({
    method: method as never,
    url,
    headers,
    payload: body === undefined ? undefined : JSON.stringify(body),
    remoteAddress: clientAddress(caller),
  });
  let parsed: { code?: unknown; detail?: unknown } | undefined;
  try {
    parsed = res.body ? JSON.parse(res.body) : undefined;
  } catch {}
  const location = res.headers.location;
  return { status: res.statusCode, code: String(parsed?.code ?? ''), detail: String(parsed?.detail ?? '').slice(0, 90), location: typeof location === 'string' ? location : undefined };
}

type Seen = { target: Target; record: Recorded };

/** What reached the upstreams since the last call, emptying their records. */
function takeRequests(): Seen[] {
  const seen = TARGETS.flatMap((target) => fakes[target].requests.map((record) => ({ target, record })));
  for (const target of TARGETS) fakes[target].reset();
  return seen;
}

/** Runs `task` over `items`, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

interface HttpCell {
  id: number;
  v: Variant;
  caller: Caller;
  target: Target;
  via: Via;
  answer?: Answer;
}

/** A refusal matches by status, and by code where there is a body (HEAD answers have none). */
const refusedAs = (answer: Answer, denial: Denial, method: string) => answer.status === denial.status && (method === 'HEAD' || answer.code === denial.code);

function expectationText(cell: HttpCell): string {
  const needed = needs(cell.v, cell.via);
  if (cell.via === 'forward-auth') {
    const e = expectedAtForwardAuth(cell.caller, cell.target, needed);
    return 'code' in e ? `${e.status} ${e.code}` : '204';
  }
  const e = expectedAtGateway(cell.caller, cell.target, needed);
  return 'refused' in e ? `${e.refused.status} ${e.refused.code}` : cell.v.redirectTo ? '307, not forwarded' : 'forwarded once';
}

/** Why an HTTP cell differs from its expectation, or null when it does not. */
function httpMismatch(cell: HttpCell, seen: Seen[]): string | null {
  const { v, target } = cell;
  const answer = cell.answer!;
  const actual = `${answer.status} ${answer.code}`.trim();
  const needed = needs(v, cell.via);
  if (cell.via === 'forward-auth') {
    const e = expectedAtForwardAuth(cell.caller, target, needed);
    if (seen.length > 0) return `${actual}, and an upstream received it`;
    return ('code' in e ? refusedAs(answer, e, 'GET') : answer.status === 204) ? null : actual;
  }
  const expected = expectedAtGateway(cell.caller, target, needed);
  if (('refused' in expected || v.redirectTo !== undefined) && seen.length > 0) return `${actual}, and an upstream received it`;
  if ('refused' in expected) return refusedAs(answer, expected.refused, v.method) ? null : actual;
  if (v.redirectTo !== undefined) {
    if (answer.status !== 307 || !answer.location) return actual;
    // Without a public URL the gateway redirects to a path alone, resolved against the caller's address.
    const to = new URL(answer.location, 'http://gatehouse.invalid');
    return to.pathname + to.search === `${prefixOf(target)}${v.redirectTo}?${v.query}` ? null : `307 to ${answer.location}`;
  }
  if (seen.length !== 1) return `${actual}; the upstreams received it ${seen.length} times`;
  const [{ target: reached, record }] = seen;
  if (reached !== target) return `${actual}; forwarded to the ${reached} workspace's upstream`;
  if (record.method !== v.method || record.rawPath !== v.path || record.query !== v.query) return `${actual}; upstream saw ${record.method} ${record.url}`;
  return answer.status === record.status ? null : `${actual}; the upstream answered ${record.status}`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i < r.length - 1 ? cell.padEnd(widths[i]) : cell)).join('  ')).join('\n');
}

const HEADER = ['route', 'caller', 'workspace', 'expected', 'actual', 'detail'];
const tally = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${n}×${status}`)
    .join(', ');

function report(what: string, summary: string, mismatches: string[][]): void {
  console.info(`gateway authorization matrix${LONG ? ' (GATEHOUSE_LONG=1)' : ''}: ${summary}`);
  if (mismatches.length === 0) return;
  mismatches.sort((x, y) => x[0].localeCompare(y[0]) || x[1].localeCompare(y[1]) || x[2].localeCompare(y[2]));
  expect.fail(`${mismatches.length} ${what} differ from gateway-policy.ts; ${summary}\n${table([HEADER, ...mismatches])}`);
}

describe('gateway authorization matrix', () => {
  it('states which roles hold every scope the route table names, and nothing else', () => {
    const named = new Set(ROUTE_TABLE.flatMap((r) => [...r.scopes, ...(r.fieldScopes ?? []).flatMap((f) => f.scopes)]));
    expect({
      withoutRow: [...named].filter((scope) => !SCOPE_HOLDERS[scope]),
      staleRows: Object.keys(SCOPE_HOLDERS).filter((scope) => !named.has(scope)),
    }).toEqual({ withoutRow: [], staleRows: [] });
  });

  it('sends each entry a concrete path that Starlette would route to that entry', () => {
    const shadowed = ROUTE_TABLE.filter((r) => firstClaim(r.method, concretePath(r.path)) !== r).map(routeName);
    expect(shadowed, 'change FILLERS so that no earlier entry claims these paths').toEqual([]);
    const redirect = httpVariants().find((v) => routeName(v.route) === REDIRECT_ROUTE && v.redirectTo !== undefined);
    expect(redirect, `${REDIRECT_ROUTE} is gone or its other slash form is not redirected: pick another entry`).toBeDefined();
  });

  it('answers every HTTP route × caller × workspace as the policy states, at the proxy and at forward-auth, and forwards exactly the allowed requests', async () => {
    const cells: HttpCell[] = [];
    for (const v of httpVariants()) {
      for (const caller of CALLERS) {
        for (const target of TARGETS) {
          cells.push({ id: cells.length, v, caller, target, via: 'proxy' });
          // Forward-auth decides with the same table; in the CI run it is asked about W only.
          if ((LONG || target === 'own') && v.method !== 'HEAD') cells.push({ id: cells.length, v, caller, target, via: 'forward-auth' });
        }
      }
    }
    takeRequests();
    // A few at a time (no answer depends on order); the cell header tells whose request an upstream got.
    await inParallel(cells, 4, async (cell) => {
      const { v, target } = cell;
      const query = v.query ? `?${v.query}` : '';
      const headers = { [CELL_HEADER]: String(cell.id) };
      if (cell.via === 'proxy') {
        cell.answer = await send(v.method, `${prefixOf(target)}${v.path}${query}`, cell.caller, v.body, headers);
        return;
      }
      // As nginx asks (docs/forward-auth.md): the workspace in the authorize URL, Prefect's own URI.
      const authorize = `/api/gateway/authorize?account_id=${ids[target].account}&workspace_id=${ids[target].workspace}`;
      cell.answer = await send('GET', authorize, cell.caller, undefined, { ...headers, 'x-original-method': v.method, 'x-original-uri': `/api${v.path}${query}` });
    });
    const byCell = new Map<string, Seen[]>();
    for (const seen of takeRequests()) {
      const id = String(seen.record.headers[CELL_HEADER]);
      byCell.set(id, [...(byCell.get(id) ?? []), seen]);
    }
    const mismatches: string[][] = [];
    const counts: Record<Via, Record<string, number>> = { proxy: {}, 'forward-auth': {} };
    for (const cell of cells) {
      const seen = byCell.get(String(cell.id)) ?? [];
      byCell.delete(String(cell.id));
      counts[cell.via][cell.answer!.status] = (counts[cell.via][cell.answer!.status] ?? 0) + 1;
      const problem = httpMismatch(cell, seen);
      const row = `${cell.via === 'proxy' ? '' : 'forward-auth: '}${routeName(cell.v.route)}${cell.v.label}`;
      if (problem) mismatches.push([row, cell.caller, cell.target, expectationText(cell), problem, cell.answer!.detail]);
    }
    for (const [id, seen] of byCell) mismatches.push([`(no cell ${id})`, '', '', 'nothing forwarded', `${seen.length} requests reached an upstream`, seen[0].record.url]);
    const declared = cells.filter((c) => c.v.label === '' && c.via === 'proxy').length;
    const sent = (via: Via) => cells.filter((c) => c.via === via).length;
    const summary =
      `${declared} HTTP route × caller × workspace cells; ${sent('proxy')} requests through the proxy (${tally(counts.proxy)}), ` +
      `${sent('forward-auth')} to forward-auth (${tally(counts['forward-auth'])})`;
    report('requests', summary, mismatches);
  }, 300_000);

  it('refuses every field of a Prefect body schema that chooses what a worker runs to every role without run_deployments or write_deployments, and forwards it to the roles with them', async () => {
    const problems: string[] = [];
    let sent = 0;
    for (const { method, path: template, fields, list } of RUN_CHOOSING_FIELDS) {
      const path = concretePath(template);
      for (const field of fields) {
        const fieldBody = { [field]: runChoosingValue(field) };
        const body = list ? [fieldBody] : fieldBody;
        for (const caller of CALLERS) {
          const role = ROLE_IN.own[caller];
          if (!role) continue;
          sent += 1;
          const answer = await send(method, `${prefixOf('own')}${path}`, caller, body);
          const seen = takeRequests();
          // The route's own scopes, and the right to run or write deployments.
          const mayChoose = firstClaim(method, path)!.scopes.every((scope) => holds(role, scope)) && (holds(role, 'run_deployments') || holds(role, 'write_deployments'));
          const ok = mayChoose ? seen.length === 1 && answer.status === seen[0].record.status : answer.status === 403 && answer.code === 'FORBIDDEN' && seen.length === 0;
          if (!ok) problems.push(`${method} ${template} {"${field}": …} as ${caller} (${role}): ${answer.status} ${answer.code}, ${seen.length} forwarded`);
        }
      }
    }
    console.info(`gateway authorization matrix: ${sent} run-choosing body fields sent`);
    expect(problems).toEqual([]);
    expect(RUN_CHOOSING_FIELDS.some(({ fields }) => fields.length > 0) && sent).toBeGreaterThan(100);
  }, 120_000);

  it('answers every websocket route × caller × workspace as the policy states, with the key in the header or in the auth message', async () => {
    const mismatches: string[][] = [];
    const counts: Record<string, number> = {};
    let cells = 0;
    let upgrades = 0;
    for (const route of ROUTE_TABLE.filter((r) => r.method === 'WS')) {
      const path = concretePath(route.path);
      for (const caller of CALLERS) {
        for (const target of TARGETS) {
          cells += 1;
          const expected = expectedAtGateway(caller, target, scopesNeeded(route, undefined, 'proxy'));
          for (const form of ['header', 'auth message'] as const) {
            upgrades += 1;
            const outcome = await openSocket(`${wsOrigin}${prefixOf(target)}${path}`, w.keys[caller], form);
            const result = await judgeSocket(outcome, target, path, expected, form);
            counts[result.label] = (counts[result.label] ?? 0) + 1;
            const wanted = 'refused' in expected ? `${expected.refused.status}` : 'open, reaches its upstream';
            if (result.problem) mismatches.push([`${routeName(route)} (${form})`, caller, target, wanted, result.problem, '']);
          }
        }
      }
    }
    report('upgrades', `${cells} websocket route × caller × workspace cells, ${upgrades} upgrades (${tally(counts)})`, mismatches);
  }, 120_000);

  it('refuses, even to the account Owner, every method and upgrade the table declares for no path', async () => {
    const problems: string[] = [];
    const refusal = expectedAtGateway('owner', 'own', null);
    // Plus paths Prefect 3 does not serve (Prefect 2's database admin routes, a made-up one). Not
    // `/` (that is Gatehouse's own workspace resource) nor a path whose other trailing-slash form
    // is an entry (the gateway redirects those after the scope check, as Starlette would).
    const paths = [...new Set(ROUTE_TABLE.map((r) => concretePath(r.path))), '/admin/database/clear', '/admin/database/drop', '/matrix/no-such-route'];
    let probes = 0;
    for (const path of paths) {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        if (firstClaim(method, path)) continue; // an entry declares it: the matrix covers it
        probes += 1;
        const answer = await send(method, `${prefixOf('own')}${path}`, 'owner', withBody(method));
        const seen = takeRequests();
        if (!('refused' in refusal) || !refusedAs(answer, refusal.refused, method) || seen.length > 0) {
          problems.push(`${method} ${path}: ${answer.status} ${answer.code}${seen.length ? ', forwarded' : ''}`);
        }
      }
      if (firstClaim('WS', path)) continue;
      probes += 1;
      const outcome = await openSocket(`${wsOrigin}${prefixOf('own')}${path}`, w.keys.owner, 'header');
      const sockets = takeSockets();
      if (outcome.kind === 'open') outcome.socket.terminate();
      if (outcome.kind !== 'refused' || outcome.status !== 403 || sockets.length > 0) problems.push(`WS ${path}: ${describeOutcome(outcome)}${sockets.length ? ', forwarded' : ''}`);
    }
    console.info(`gateway authorization matrix: ${probes} undeclared method/upgrade probes as the account Owner`);
    expect(problems).toEqual([]);
    expect(probes).toBeGreaterThan(300);
  }, 120_000);

  it("answers 404 to a path pairing one account with another account's workspace, and forwards nothing", async () => {
    // Each Owner reaches one of the two workspaces; the pairing must not lend them either.
    const pairs = [
      { caller: 'owner', account: w.a.account_id, workspace: w.b.workspace_id },
      { caller: 'other_owner', account: w.b.account_id, workspace: w.a.workspace_id },
      { caller: 'owner', account: w.b.account_id, workspace: w.a.workspace_id },
      { caller: 'other_owner', account: w.a.account_id, workspace: w.b.workspace_id },
    ] as const;
    const problems: string[] = [];
    for (const route of ROUTE_TABLE) {
      const path = concretePath(route.path);
      for (const { caller, account, workspace } of pairs) {
        if (route.method === 'WS') {
          const outcome = await openSocket(`${wsOrigin}${prefix(account, workspace)}${path}`, w.keys[caller], 'header');
          if (outcome.kind === 'open') outcome.socket.terminate();
          const sockets = takeSockets();
          if (outcome.kind !== 'refused' || outcome.status !== 404 || sockets.length > 0) problems.push(`${routeName(route)} as ${caller}: ${describeOutcome(outcome)}`);
          continue;
        }
        const answer = await send(route.method, `${prefix(account, workspace)}${path}`, caller, withBody(route.method));
        const seen = takeRequests();
        if (answer.status !== 404 || answer.code !== 'NOT_FOUND' || seen.length > 0) problems.push(`${routeName(route)} as ${caller}: ${answer.status} ${answer.code}${seen.length ? ', forwarded' : ''}`);
      }
    }
    expect(problems).toEqual([]);
  }, 120_000);
});

type Outcome =
  | { kind: 'open'; socket: WebSocket }
  | { kind: 'refused'; status: number }
  | { kind: 'closed'; code: number; reason: string }
  | { kind: 'error'; message: string }
  | { kind: 'hung' };

/**
 * Opens a socket the way Prefect clients do: the key as `Authorization: Bearer`, or on subprotocol
 * `prefect` in a first message `{"type":"auth","token":KEY}`. Resolves once it is usable, or with
 * how it was refused; a socket that neither opens nor closes within 10 s is reported as hung.
 */
function openSocket(url: string, key: string | null, form: 'header' | 'auth message'): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = form === 'header' ? new WebSocket(url, { headers: key ? { authorization: `Bearer ${key}` } : {} }) : new WebSocket(url, ['prefect']);
    const timer = setTimeout(() => {
      socket.terminate();
      resolve({ kind: 'hung' });
    }, 10_000);
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    socket.on('error', (error) => done({ kind: 'error', message: error.message }));
    socket.once('unexpected-response', (req, res) => {
      done({ kind: 'refused', status: res.statusCode ?? 0 });
      req.destroy();
    });
    socket.once('close', (code, reason) => done({ kind: 'closed', code, reason: reason.toString() }));
    socket.once('open', () => {
      if (form === 'header') return done({ kind: 'open', socket });
      socket.send(JSON.stringify({ type: 'auth', token: key }));
      socket.once('message', (data) => {
        let message: { type?: unknown } | null = null;
        try {
          message = JSON.parse(data.toString());
        } catch {}
        if (message?.type === 'auth_success') done({ kind: 'open', socket });
        else done({ kind: 'error', message: `first message ${data.toString().slice(0, 60)}` });
      });
    });
  });
}

function takeSockets(): Array<{ target: Target; path: string; authenticated: boolean }> {
  const seen = TARGETS.flatMap((target) => fakes[target].sockets.map((s) => ({ target, path: s.path, authenticated: s.authenticated })));
  for (const target of TARGETS) fakes[target].reset();
  return seen;
}

function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'open':
      return 'open';
    case 'refused':
      return `${outcome.status}`;
    case 'closed':
      return `closed ${outcome.code} "${outcome.reason.slice(0, 60)}"`;
    case 'error':
      return `error: ${outcome.message}`;
    case 'hung':
      return 'neither opened nor closed within 10 s';
  }
}

// With the auth message there is no status to answer: the gateway closes with 1008 and says why.
const CLOSE_REASON: Readonly<Record<401 | 403 | 404, RegExp>> = {
  401: /authentication credentials|first message/i,
  403: /needs the workspace scope/,
  404: /not found/i,
};

/** Checks one upgrade against its expectation and closes what it opened. */
async function judgeSocket(outcome: Outcome, target: Target, path: string, expected: Expectation, form: 'header' | 'auth message'): Promise<{ label: string; problem: string | null }> {
  if ('refused' in expected) {
    const sockets = takeSockets();
    if (outcome.kind === 'open') outcome.socket.terminate();
    const { status } = expected.refused;
    const refused =
      form === 'header'
        ? outcome.kind === 'refused' && outcome.status === status
        : outcome.kind === 'closed' && outcome.code === 1008 && CLOSE_REASON[status].test(outcome.reason);
    const label = outcome.kind === 'refused' ? String(outcome.status) : outcome.kind === 'closed' ? `closed ${outcome.code}` : outcome.kind;
    return { label, problem: refused && sockets.length === 0 ? null : `${describeOutcome(outcome)}${sockets.length ? ', and the upstream got a socket' : ''}` };
  }
  if (outcome.kind !== 'open') return { label: outcome.kind, problem: describeOutcome(outcome) };
  const fake = fakes[target];
  let problem: string | null = null;
  try {
    await fake.until(() => fake.sockets.some((s) => s.authenticated), `the ${target} upstream's socket`);
  } catch {
    problem = 'open, but no authenticated socket reached the upstream';
  }
  const sockets = takeSockets();
  if (!problem && (sockets.length !== 1 || sockets[0].target !== target || sockets[0].path !== path)) {
    problem = `open; upstream sockets: ${JSON.stringify(sockets.map((s) => `${s.target} ${s.path}`))}`;
  }
  const closed = new Promise((resolve) => outcome.socket.once('close', resolve));
  outcome.socket.close();
  await closed;
  return { label: '101', problem };
}
