// Malformed requests for the workspace gateway: Prefect API paths built from the gateway's route
// table with their parameters and shape broken (bad UUIDs, encoded slashes, bad percent-encoding,
// toggled trailing slashes, unknown routes), any method, include_secrets spelled every way, bodies
// as for Gatehouse's own routes; and forward-auth requests with fuzzed X-Original-* headers.
import fc from 'fast-check';
import { ROUTE_TABLE } from '../../src/gateway/route-table.js';
import { RUN_CHOOSING_FIELDS, concretePath } from '../authz/gateway-policy.js';
import { badUuid, contentType, encode, encoding, extraQuery, headerText, hostileString, urlText, wrongValue } from './arbitraries.js';
import { hasMarkers } from './oracle.js';
import { callers, printable, type FuzzRequest } from './requests.js';
import type { World } from './world.js';

/** Gatehouse's own routes under a workspace; a gateway path must not collide with them. */
const OWN_SEGMENTS = new Set(['', 'gateway', 'user_access', 'bot_access']);

export interface GatewayTargets {
  world: World;
  /** A workspace with no upstream (404 GATEWAY_NOT_CONFIGURED), and one in another account. */
  unconfiguredWorkspaceId: string;
  otherAccountId: string;
  otherWorkspaceId: string;
}

const DOT_SEGMENT = /^(\.|%2e){1,2}$/i;

const segment = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/) },
  { weight: 1, arbitrary: hostileString.filter((s) => s.length < 500).map(urlText).filter((s) => !DOT_SEGMENT.test(s)) },
  // No dot segments ("..", ".%2E"): app.inject() resolves them (WHATWG URL) before Gatehouse sees them.
  { weight: 1, arbitrary: fc.constantFrom('%ZZ', '%2F', '%2f', '%5C', '%00', '%0A', '%ED%A0%80', '%C0%AF', '%252F', '%2e%2e%2f', '..%2F', '%20', '~', '@', ':', ';x=1') },
);

/** A value for one `{name:converter}` of a route template. */
function templateValue(converter: string | undefined): fc.Arbitrary<string> {
  switch (converter) {
    case 'uuid':
      return fc.oneof({ weight: 3, arbitrary: fc.uuid() }, { weight: 1, arbitrary: badUuid().filter((s) => s.length > 0 && s.length < 500).map(urlText) });
    case 'path':
      return fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
    default:
      return segment.filter((s) => s.length > 0);
  }
}

/** A Prefect API path: a route of the table with its parameters filled, then perhaps broken. */
export const apiPath: fc.Arbitrary<[path: string, method: string, what: string]> = fc
  .constantFrom(...ROUTE_TABLE)
  .chain((route) => {
    const holes = [...route.path.matchAll(/\{([A-Za-z_]*)(?::([a-z]+))?\}/g)];
    return fc.tuple(fc.constant(route), fc.tuple(...holes.map((m) => templateValue(m[2]))));
  })
  .chain(([route, values]) => {
    let i = 0;
    const filled = route.path.replace(/\{[A-Za-z_]*(?::[a-z]+)?\}/g, () => values[i++]);
    const method = route.method === 'WS' ? 'GET' : route.method;
    return fc.oneof(
      { weight: 10, arbitrary: fc.constant<[string, string, string]>([filled, method, `route ${route.method} ${route.path}`]) },
      { weight: 1, arbitrary: fc.constant<[string, string, string]>([filled.endsWith('/') ? filled.slice(0, -1) : `${filled}/`, method, 'trailing slash toggled']) },
      { weight: 1, arbitrary: fc.constant<[string, string, string]>([filled.replace(/\/([^/]*)$/, '//$1'), method, 'empty segment']) },
      { weight: 1, arbitrary: segment.map<[string, string, string]>((s) => [filled.replace(/\/([^/]*)$/, `/${s}%2F$1`), method, 'encoded slash']) },
      { weight: 1, arbitrary: segment.map<[string, string, string]>((s) => [`${filled}/${s}`, method, 'extra segment']) },
      { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 5 }).map<[string, string, string]>((parts) => [`/${parts.join('/')}`, method, 'unknown route']) },
      { weight: 1, arbitrary: fc.constant<[string, string, string]>([filled.toUpperCase(), method, 'upper case']) },
    );
  })
  .filter(([path]) => path.startsWith('/') && !OWN_SEGMENTS.has(path.split('/').find((s) => s !== '') ?? ''));

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND'];

const INCLUDE_SECRETS = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 't', 'f', 'y', 'n', 'TRUE', 'True', '', 'maybe', '%00', '%ZZ', 'true%00'];
const query = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...INCLUDE_SECRETS), { minLength: 1, maxLength: 3 }).map((values) => values.map((v) => `include_secrets=${v}`).join('&')) },
  { weight: 1, arbitrary: fc.constantFrom('INCLUDE_SECRETS=true', 'include_secrets', 'include%5Fsecrets=true', 'include_secrets=true#x', 'limit=5&offset=-1') },
  { weight: 2, arbitrary: extraQuery },
);

/** A body: JSON that might ask for secrets, or anything at all, encoded well or badly. */
const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant<[string | Buffer | undefined, string | null, string]>([undefined, null, 'no body']) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.record({ include_secrets: fc.oneof(fc.boolean(), wrongValue), limit: fc.oneof(fc.nat(300), wrongValue) }, { requiredKeys: [] }),
          fc.jsonValue({ maxDepth: 3 }),
          wrongValue,
        ),
        encoding,
        contentType,
      )
      .map<[string | Buffer | undefined, string | null, string]>(([value, how, type]) => [encode(value, how), type, `body ${how.kind}`]),
  },
);

const hopHeaders = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Record<string, string>>({}) },
  { weight: 1, arbitrary: fc.constantFrom<Record<string, string>>({ connection: 'keep-alive, x-private', 'x-private': 'hop' }, { te: 'trailers' }, { 'proxy-authorization': 'Basic eDp5' }, { 'x-forwarded-for': '10.0.0.1, 10.0.0.2' }, { host: 'evil.example' }, { 'x-forwarded-host': 'evil.example' }) },
);

function workspacePrefix(t: GatewayTargets): fc.Arbitrary<[string, string]> {
  const { world } = t;
  const account = fc.oneof(
    { weight: 20, arbitrary: fc.constant(world.accountId) },
    { weight: 1, arbitrary: fc.constantFrom(t.otherAccountId, world.accountId.toUpperCase()) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: badUuid().filter((s) => s.length > 0 && s.length < 180 && !/^\.{1,2}$/.test(s)).map(urlText) },
  );
  const workspace = fc.oneof(
    { weight: 20, arbitrary: fc.constant(world.workspaceId) },
    { weight: 1, arbitrary: fc.constantFrom(t.unconfiguredWorkspaceId, t.otherWorkspaceId, world.workspaceId.toUpperCase()) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: badUuid().filter((s) => s.length > 0 && s.length < 180 && !/^\.{1,2}$/.test(s)).map(urlText) },
  );
  return fc.tuple(account, workspace).map(([a, w]) => [`/api/accounts/${a}/workspaces/${w}`, a === world.accountId && w === world.workspaceId ? '' : `workspace ${a}/${w}`]);
}

/** Requests through the gateway proxy, any method. */
export function proxyRequests(t: GatewayTargets): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      caller: callers(t.world),
      prefix: workspacePrefix(t),
      path: apiPath,
      method: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
      query,
      body,
      hop: hopHeaders,
    })
    .map(({ caller, prefix, path, method, query: q, body: [payload, type, bodyWhat], hop }) => {
      const m = method ?? path[1];
      const headers: Record<string, string> = { ...hop, ...caller[1] };
      if (payload !== undefined && type !== null) headers['content-type'] = type;
      const what = [`caller ${caller[0]}`, prefix[1], path[2], ...(method ? [`method ${method}`] : []), bodyWhat].filter((w) => w && w !== 'no body');
      return printable({ method: m, url: `${prefix[0]}${path[0]}${q ? `?${q}` : ''}`, headers, payload: m === 'GET' || m === 'HEAD' ? undefined : payload, what });
    })
    // Node refuses a request head over 16 KiB with 431 before any handler runs, Gatehouse's and the
    // upstream's alike; app.inject() has no such limit, so longer ones would only test the fake.
    .filter((r) => r.url.length < 12_000 && !hasMarkers(`${r.url} ${typeof r.payload === 'string' ? r.payload : ''}`));
}

/**
 * Forward-auth requests: the original method and URI in X-Original-* or X-Forwarded-* headers
 * (both, either, neither, empty, garbage), in Gatehouse's form or Prefect's with the workspace in
 * the query. `queryIsSane` says whether the authorize URL's own query is one an operator could
 * have configured (then only 204, 401 and 403 are allowed).
 */
export function authorizeRequests(t: GatewayTargets): fc.Arbitrary<FuzzRequest & { queryIsSane: boolean }> {
  const { world } = t;
  const originalMethod = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...METHODS, 'WS', 'get', 'Post') },
    { weight: 1, arbitrary: headerText },
  );
  const prefixed = fc.tuple(workspacePrefix(t), apiPath, query).map(([p, path, q]) => `${p[0]}${path[0]}${q ? `?${q}` : ''}`);
  const prefectForm = fc.tuple(fc.constantFrom('/api', '/prefect/api', ''), apiPath, query).map(([base, path, q]) => `${base}${path[0]}${q ? `?${q}` : ''}`);
  const uri = fc.oneof(
    { weight: 6, arbitrary: prefixed },
    { weight: 3, arbitrary: prefectForm },
    { weight: 1, arbitrary: headerText },
    { weight: 1, arbitrary: fc.constantFrom('', '/', '*', 'http://evil.example/api/flows/filter', '//evil.example/api', '/api/accounts//workspaces//flows') },
  );
  const where = fc.constantFrom('original', 'forwarded', 'both', 'neither', 'mixed');
  const authorizeQuery = fc.oneof(
    { weight: 4, arbitrary: fc.constant<[string, boolean]>(['', true]) },
    { weight: 3, arbitrary: fc.constantFrom<[string, boolean]>([`account_id=${world.accountId}&workspace_id=${world.workspaceId}`, true], [`account_id=${world.accountId}&workspace_id=${world.workspaceId}&api_prefix=/prefect/api`, true], [`account_id=${t.otherAccountId}&workspace_id=${t.otherWorkspaceId}`, true], [`account_id=x&workspace_id=y`, true], [`api_prefix=${encodeURIComponent('/a/../b')}`, true]) },
    { weight: 1, arbitrary: extraQuery.map<[string, boolean]>((q) => [q, false]) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('account_id', 'workspace_id', 'api_prefix'), hostileString.filter((s) => s.length < 5_000)).map<[string, boolean]>(([k, v]) => [`${k}=${urlText(v)}`, !v.includes('\u0000')]) },
    { weight: 1, arbitrary: fc.constantFrom<[string, boolean]>([`account_id=${world.accountId}&account_id=${world.accountId}`, false], ['workspace_id=%ZZ', false]) },
  );
  return fc
    .record({ caller: callers(t.world), method: originalMethod, uri, where, query: authorizeQuery, otherUri: uri })
    .map(({ caller, method, uri: u, where: w, query: [q, sane], otherUri }) => {
      const headers: Record<string, string> = { ...caller[1] };
      if (w === 'original' || w === 'both') Object.assign(headers, { 'x-original-method': method, 'x-original-uri': u });
      if (w === 'forwarded' || w === 'both') Object.assign(headers, { 'x-forwarded-method': method, 'x-forwarded-uri': w === 'both' ? otherUri : u });
      if (w === 'mixed') Object.assign(headers, { 'x-original-method': method, 'x-forwarded-uri': u });
      for (const [k, v] of Object.entries(headers)) if (/[^\t\x20-\x7e\x80-\xff]/.test(v)) headers[k] = encodeURI(v);
      const request = printable({ method: 'GET', url: `/api/gateway/authorize${q ? `?${q}` : ''}`, headers, what: [`caller ${caller[0]}`, `headers ${w}`, ...(sane ? [] : ['bad authorize query'])] });
      return Object.assign(request, { queryIsSane: sane });
    })
    .filter((r) => !hasMarkers(`${r.url} ${JSON.stringify(r.headers)}`));
}

/**
 * Issue 14's class: a Worker-role key sending, through the proxy, bodies that carry a field of
 * Prefect's body schemas that chooses what a worker runs (test/authz/gateway-policy.ts
 * RUN_CHOOSING_FIELDS, read from Prefect's source) or a SCHEDULED state, in the spellings Python's
 * json module reads as that field: keys with `\uXXXX` escapes, repeated keys (the last counts),
 * null values (the default on a create, a change on an update), any Content-Type; mixed with look-alike keys that
 * Pydantic does not read as the field (another case, a trailing space). `carries` says, by
 * construction, whether Prefect would see the field.
 */
export function runChoosingRequests(prefix: string, worker: Record<string, string>): fc.Arbitrary<FuzzRequest & { carries: boolean }> {
  const RUN = '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a12';
  const targets = [
    ...RUN_CHOOSING_FIELDS.map((r) => ({ method: r.method, path: concretePath(r.path), fields: [...r.fields], list: r.list === true, update: r.update === true, state: false })),
    { method: 'POST', path: `/flow_runs/${RUN}/set_state`, fields: ['state'], list: false, update: false, state: true },
    { method: 'POST', path: '/flow_runs/bulk_set_state', fields: ['state'], list: false, update: false, state: true },
  ];
  // Escape some characters of a key as \uXXXX: Python and JavaScript decode it to the same name.
  const spelled = (key: string) =>
    fc.array(fc.boolean(), { minLength: key.length, maxLength: key.length }).map((escape) =>
      [...key].map((c, i) => (escape[i] ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join(''),
    );
  const value = fc.oneof(fc.constant('null'), fc.constant('"x"'), fc.constant('{"command": "sh -c id"}'), fc.constant('[]'), fc.constant('{}'), fc.constant('0'));
  const stateValue = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('SCHEDULED', 'SCHEDUL\\u0045D', 'scheduled', 'Scheduled', '').map((t) => [`{"type": "${t}"}`, true] as const) },
    { weight: 2, arbitrary: fc.constantFrom('RUNNING', 'PENDING', 'COMPLETED', 'CANCELLED', 'PAUSED').map((t) => [`{"type": "${t}", "name": "x"}`, false] as const) },
    { weight: 1, arbitrary: fc.constantFrom(['null', false] as const, ['"SCHEDULED"', true] as const, ['{}', true] as const, ['{"type": 1}', true] as const) },
  );
  const benign = fc.constantFrom('"flow_id": "7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a10"', '"name": "n"', '"tags": []', '"infrastructure_pid": "h:1"', '"flow_version": "v"', '"force": true');
  return fc
    .constantFrom(...targets)
    .chain((target) => {
      const member = fc.constantFrom(...target.fields).chain((field) =>
        fc.oneof(
          { weight: 4, arbitrary: fc.tuple(spelled(field), target.state ? stateValue : value.map((v) => [v, v !== 'null' || target.update] as const)).map(([key, [v, uses]]) => ({ text: `"${key}": ${v}`, field, uses })) },
          // Look-alikes: Pydantic's names are exact, so these are other (forbidden, 422) fields.
          { weight: 1, arbitrary: fc.constantFrom(field.toUpperCase(), `${field} `, `_${field}`).map((key) => ({ text: `"${key}": "x"`, field: undefined as string | undefined, uses: false })) },
        ),
      );
      return fc.record({
        target: fc.constant(target),
        members: fc.array(fc.oneof(member, benign.map((text) => ({ text, field: undefined as string | undefined, uses: false }))), { minLength: 0, maxLength: 5 }),
        type: fc.constantFrom<string | null>('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', null),
      });
    })
    .map(({ target, members, type }) => {
      const object = `{${members.map((m) => m.text).join(', ')}}`;
      const payload = target.list ? `[${object}]` : object;
      const headers: Record<string, string> = { ...worker, ...(type ? { 'content-type': type } : {}) };
      // Of a repeated key, Python's json keeps the last: that one decides.
      const last = new Map(members.filter((m) => m.field !== undefined).map((m) => [m.field, m.uses]));
      const carries = [...last.values()].some(Boolean);
      const request = printable({ method: target.method, url: `${prefix}${target.path}`, headers, payload, what: ['caller Worker key', carries ? 'carries a run-choosing field' : 'no run-choosing field'] });
      return Object.assign(request, { carries });
    });
}

/**
 * Segments a URL parser reads differently from Starlette: dot segments and backslashes, raw and
 * percent-encoded, alone or leading out of the API (`..\..\api2`); and look-alikes that are plain
 * names for both (`...`, `%252e%252e`, `..;`), which must go through unchanged.
 */
const ESCAPES = ['..', '.', '%2e%2e', '%2E.', '.%2e', '%2e', '..\\', '\\..', '..\\..\\..\\api2', '\\', 'a\\b', '%5C', '%5c..%5c', '..%5C..%5Capi2', '..%2F..%2Fapi2', '%252e%252e', '%255C', '..;', '...', '.a', 'a.'];
const escapeSegment = fc.constantFrom(...ESCAPES);

/** A value for a websocket route's one parameter: a plain name, or escape segments. */
const websocketName = fc.oneof(
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_-]{0,12}$/) },
  { weight: 3, arbitrary: escapeSegment },
  { weight: 1, arbitrary: fc.tuple(escapeSegment, fc.constantFrom('\\', '%5C', '/'), escapeSegment).map(([a, sep, b]) => `${a}${sep}${b}`) },
);

/** A websocket route's path with its parameter filled, perhaps with an escape segment put in. */
const websocketPath: fc.Arbitrary<[path: string, what: string]> = fc
  .tuple(
    fc.constantFrom(...ROUTE_TABLE.filter((r) => r.method === 'WS')),
    websocketName,
    fc.nat(4),
    escapeSegment,
    fc.constantFrom('as filled', 'segment inserted', 'slash turned backslash'),
  )
  .map(([route, name, at, esc, how]) => {
    const parts = route.path.replace(/\{[^}]+\}/, () => name).split('/');
    const what = `route WS ${route.path}, ${how}`;
    if (how === 'segment inserted') parts.splice(1 + (at % parts.length), 0, esc);
    if (how === 'slash turned backslash' && parts.length > 2) return [`${parts.slice(0, 2).join('/')}\\${parts.slice(2).join('/')}`, what];
    return [parts.join('/'), what];
  });

const websocketQuery = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom('x=1', 'x=..\\..', "x='", 'x=%5C', 'x=..%2F..', 'x=~!$&()*+,;=:@/?') },
);

export interface WebsocketUpgrade {
  /** After the workspace prefix, exactly as sent: what the upstream must receive after `/api`. */
  apiPathAndQuery: string;
  path: string;
  headers: Record<string, string>;
  what: string[];
}

/** Raw websocket upgrade requests for the gateway's workspace: its websocket routes, broken. */
export function websocketUpgrades(t: GatewayTargets): fc.Arbitrary<WebsocketUpgrade> {
  const owner = t.world.callers.owner;
  const caller = fc.oneof(
    { weight: 8, arbitrary: fc.constant<[string, Record<string, string>]>(['owner key', owner]) },
    { weight: 2, arbitrary: fc.constant<[string, Record<string, string>]>(['prefect subprotocol, no auth message', { 'sec-websocket-protocol': 'prefect' }]) },
    { weight: 1, arbitrary: fc.constant<[string, Record<string, string>]>(['member key', t.world.callers.member]) },
    { weight: 1, arbitrary: fc.constant<[string, Record<string, string>]>(['nobody', {}]) },
    { weight: 1, arbitrary: fc.constant<[string, Record<string, string>]>(['bad key', { authorization: `Bearer pnb_${'0'.repeat(36)}` }]) },
  );
  return fc.record({ path: websocketPath, query: websocketQuery, caller }).map(({ path: [path, what], query: q, caller: [who, headers] }) => {
    const apiPathAndQuery = `${path}${q ? `?${q}` : ''}`;
    return { apiPathAndQuery, path, headers: { ...headers }, what: [`caller ${who}`, what, ...(q ? [`query ${q}`] : [])] };
  });
}

/**
 * Whether a URL parser would read the path otherwise than Starlette (a backslash, a dot segment,
 * raw or encoded) or the gateway cannot know (an encoded slash, malformed encoding): such a path
 * must be refused before any upstream connection. Written apart from decodeApiPath on purpose.
 */
export function escapesItsPath(path: string): boolean {
  if (/\\|%5c|%2f/i.test(path)) return true;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return true;
  }
  return decoded.split('/').some((segment) => segment === '.' || segment === '..');
}
