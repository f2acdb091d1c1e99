// Robustness: every mutating and filter route, fed bad input, answers a 4xx with the error envelope
// and a human detail, never a 5xx, a stack trace or SQL text, and the server keeps serving.
import { randomBytes, randomUUID } from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../src/authz/permissions.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { ERRORS } from '../src/errors.js';
import type { RouteSpec } from '../src/http/route.js';
import { startHarness, type Harness, type Response } from './support/harness.js';

type Schema = TSchema & Record<string, any>;
type Path = (string | number)[];

let h: Harness;
let owner: { accountId: string; userId: string; key: string };
const ids: Record<string, string> = {};
const failures: string[] = [];
/** Requests sent since the last verdict, so that no case list can silently come out empty. */
let sent = 0;

const rand = () => randomBytes(4).toString('hex');
const STACK = /\n\s+at |\bat .+:\d+:\d+|node_modules|\/work\/|file:\/\/|\.[tj]s:\d+/;
const SQL = /select |insert into|delete from|SQLITE_|violates|syntax error|relation "/i;

/** A valid body per route, so that a case breaks exactly one thing. */
function validBody(route: RouteSpec): unknown {
  const u = route.url;
  if (u.endsWith('/filter')) return {};
  if (u === '/api/users/:user_id') return { first_name: 'Ada' };
  if (u.endsWith('/api_keys')) return { name: `key-${rand()}` };
  if (u === '/api/accounts/:account_id') return { location: 'Lyon' };
  if (u.endsWith('/account_memberships/:account_membership_id')) return { account_role_id: ACCOUNT_ROLE_IDS.Owner };
  if (u.endsWith('/bots/')) return { name: `bot-${rand()}` };
  if (u.endsWith('/bots/:bot_id')) return { name: `bot-${rand()}` };
  if (u.endsWith('/rotate_api_key')) return { old_key_expires_in_seconds: 60 };
  if (u.endsWith('/workspaces/')) return { name: `ws-${rand()}`, handle: `ws-${rand()}` };
  if (u.endsWith('/workspaces/:workspace_id')) return { description: 'd' };
  if (u.endsWith('/workspace_roles/')) return { name: `role-${rand()}` };
  if (u.endsWith('/workspace_roles/:workspace_role_id')) return { description: 'd' };
  if (u.endsWith('/user_access/')) return { user_id: owner.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Owner };
  if (u.endsWith('/bot_access/')) return { bot_id: ids.bot_id, workspace_role_id: WORKSPACE_ROLE_IDS.Runner };
  // A route added since: a body that satisfies its schema, which is all these cases need.
  return generated(objectBranch(route.body as Schema)!);
}

/** A value that satisfies a schema: required fields only, strings fitted to format and pattern. */
function generated(schema: Schema): unknown {
  const s = core(schema);
  if (s.type === 'object') {
    const props = (s.properties ?? {}) as Record<string, Schema>;
    return Object.fromEntries(((s.required ?? []) as string[]).map((name) => [name, generated(props[name])]));
  }
  if (s.type === 'array') return Array.from({ length: s.minItems ?? 0 }, () => generated(s.items));
  if (s.type === 'integer' || s.type === 'number') return s.minimum ?? 1;
  if (s.type === 'boolean') return true;
  if (s.type !== 'string') return null;
  if (s.format === 'uuid') return ids.user_id;
  if (s.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
  const fits = (v: string) => (!s.pattern || new RegExp(s.pattern, 'u').test(v)) && v.length >= (s.minLength ?? 0) && v.length <= (s.maxLength ?? Infinity);
  return [`x${rand()}`, `x${rand()}@example.com`, `Long-Enough-${rand()}`, 'x'].find(fits) ?? 'x';
}

function paramValue(url: string, name: string): string {
  if (name === 'access_id') return url.includes('/user_access/') ? ids.user_access_id : ids.bot_access_id;
  if (name === 'api_key_id') return url.includes('/bots/') ? ids.bot_api_key_id : ids.user_api_key_id;
  // A parameter of a route added since: an id of nothing, which still reaches validation.
  ids[name] ??= randomUUID();
  return ids[name];
}

function concreteUrl(url: string, override: Record<string, string> = {}): string {
  return url.replace(/:([a-z_]+)/g, (_m, name: string) => override[name] ?? paramValue(url, name));
}

/** The object branch of a body schema (bodies may be `object | null` or `object | object[]`). */
function objectBranch(schema: Schema | undefined): Schema | null {
  if (!schema) return null;
  if (schema.type === 'object') return schema;
  for (const branch of (schema.anyOf ?? []) as Schema[]) if (branch.type === 'object') return branch;
  return null;
}

/** The non-null branch of a nullable schema. */
function core(schema: Schema): Schema {
  const branches = (schema.anyOf ?? []) as Schema[];
  return branches.length === 2 && branches.some((b) => b.type === 'null') ? branches.find((b) => b.type !== 'null')! : schema;
}

/** Every leaf field of a body schema, with its path, walking nested objects and array items. */
function leaves(schema: Schema, prefix: Path = []): { path: Path; schema: Schema }[] {
  const out: { path: Path; schema: Schema }[] = [];
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    const path = [...prefix, name];
    out.push({ path, schema: child });
    const inner = core(child);
    if (inner.type === 'object') out.push(...leaves(inner, path));
    if (inner.type === 'array' && inner.items) {
      out.push({ path: [...path, 0], schema: inner.items });
      if (core(inner.items).type === 'object') out.push(...leaves(core(inner.items), [...path, 0]));
    }
  }
  return out;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function accepts(schema: Schema, value: unknown): boolean {
  if (schema.anyOf) return (schema.anyOf as Schema[]).some((b) => accepts(b, value));
  if (schema.type === undefined) return true; // Type.Any
  const t = jsonType(value);
  return schema.type === t || (schema.type === 'number' && t === 'integer');
}

const withField = (body: unknown, path: Path, value: unknown): unknown => {
  const copy = structuredClone(body ?? {}) as Record<string | number, unknown>;
  let node = copy;
  path.forEach((key, i) => {
    if (i === path.length - 1) node[key] = value;
    else {
      node[key] ??= typeof path[i + 1] === 'number' ? [] : {};
      node = node[key] as Record<string | number, unknown>;
    }
  });
  return copy;
};

function problems(res: Response): string[] {
  const out: string[] = [];
  if (res.status >= 500) out.push(`status ${res.status}`);
  if (STACK.test(res.text)) out.push('stack trace in body');
  if (SQL.test(res.text)) out.push('SQL text in body');
  if (res.status < 400) return out;
  if (res.text.length > 20_000) out.push(`error body of ${res.text.length} characters echoes the input`);
  if (!String(res.headers['content-type']).startsWith('application/json')) out.push(`content-type ${res.headers['content-type']}`);
  const body = res.body as { detail?: unknown; code?: unknown; request_id?: unknown };
  if (typeof body !== 'object' || body === null) return [...out, 'body is not a JSON object'];
  if (typeof body.code !== 'string' || !(body.code in ERRORS)) out.push(`code ${String(body.code)} not in the catalog`);
  else if (ERRORS[body.code as keyof typeof ERRORS].status !== res.status) out.push(`code ${body.code} with status ${res.status}`);
  if (typeof body.request_id !== 'string' || !body.request_id) out.push('no request_id');
  const human = (s: unknown) => typeof s === 'string' && /[a-z]{3}/i.test(s);
  if (Array.isArray(body.detail)) {
    if (!body.detail.length) out.push('empty detail list');
    for (const item of body.detail as { loc?: unknown; msg?: unknown }[]) {
      if (!Array.isArray(item.loc) || !human(item.msg)) out.push(`bad detail item ${JSON.stringify(item)}`);
    }
  } else if (!human(body.detail)) out.push(`detail ${JSON.stringify(body.detail)}`);
  return out;
}

type Expect = number[] | 'not5xx';

async function check(label: string, expected: Expect, method: string, url: string, options: Parameters<Harness['request']>[2]) {
  const res = await h.request(method, url, { key: owner.key, ...options });
  sent += 1;
  const found = problems(res);
  if (expected !== 'not5xx' && !expected.includes(res.status)) found.unshift(`status ${res.status}, expected ${expected.join('/')}`);
  if (found.length) failures.push(`${method} ${url} ${label}: ${found.join('; ')} :: ${res.text.slice(0, 300)}`);
  return res;
}

let routes: RouteSpec[];
let bodyRoutes: RouteSpec[];

beforeAll(async () => {
  h = await startHarness();
  owner = await h.bootstrap();
  const a = `/api/accounts/${owner.accountId}`;
  const post = async (url: string, body: unknown) => {
    const res = await h.request('POST', url, { key: owner.key, body });
    expect(res.status, res.text).toBeLessThan(300);
    return res.body;
  };
  const ws = await post(`${a}/workspaces/`, { name: 'Main', handle: 'main' });
  const bot = await post(`${a}/bots/`, { name: 'worker' });
  const role = await post(`${a}/workspace_roles/`, { name: 'Custom', scopes: ['see_flows'] });
  const userKey = await post(`/api/users/${owner.userId}/api_keys`, { name: 'laptop' });
  Object.assign(ids, {
    account_id: owner.accountId,
    user_id: owner.userId,
    workspace_id: ws.id,
    bot_id: bot.id,
    bot_api_key_id: bot.api_key.id,
    workspace_role_id: role.id,
    account_role_id: ACCOUNT_ROLE_IDS.Member,
    user_api_key_id: userKey.id,
  });
  ids.user_access_id = (await post(`${a}/workspaces/${ws.id}/user_access/`, { user_id: owner.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Owner }))[0].id;
  ids.bot_access_id = (await post(`${a}/workspaces/${ws.id}/bot_access/`, { bot_id: bot.id, workspace_role_id: WORKSPACE_ROLE_IDS.Runner }))[0].id;
  const members = await post(`${a}/account_memberships/filter`, { only_users: true });
  ids.account_membership_id = members[0].id;

  routes = h.app.routes;
  // A leak report is signed by a partner, and refused unsigned before its body is read: its own
  // bad-input cases are in test/leak-reports.test.ts. SCIM routes answer only the account's SCIM
  // token, and bad input in SCIM's own error shape (400 invalidValue rather than 422): test/scim.test.ts.
  routes = routes.filter((r) => r.requirement.kind !== 'scim');
  bodyRoutes = routes.filter((r) => r.body && r.url !== '/api/leak_reports');
  expect(bodyRoutes.length).toBeGreaterThanOrEqual(20);
});

afterAll(async () => {
  await h?.close();
});

describe('bad input on every route with a body', () => {
  // Each test collects every broken answer, so one run lists them all.
  const verdict = (atLeast: number) => {
    expect(sent).toBeGreaterThanOrEqual(atLeast);
    sent = 0;
    expect(failures.splice(0)).toEqual([]);
  };

  it('refuses a field of the wrong type with 422', async () => {
    const candidates = [12345, 1.5, 'text', true, {}, [], null];
    for (const route of bodyRoutes) {
      for (const { path, schema } of leaves(objectBranch(route.body as Schema)!)) {
        for (const value of candidates.filter((c) => !accepts(schema, c))) {
          await check(`${path.join('.')}=${JSON.stringify(value)}`, [422], route.method, concreteUrl(route.url), { body: withField(validBody(route), path, value) });
        }
      }
    }
    verdict(400);
  });

  it('refuses a missing required field with 422 naming it', async () => {
    for (const route of bodyRoutes) {
      const schema = objectBranch(route.body as Schema)!;
      for (const field of (schema.required ?? []) as string[]) {
        const body = { ...(validBody(route) as object) } as Record<string, unknown>;
        delete body[field];
        const res = await check(`without ${field}`, [422], route.method, concreteUrl(route.url), { body });
        if (!res.text.includes(field)) failures.push(`${route.url} without ${field}: detail does not name the field`);
      }
    }
    verdict(10);
  });

  it('refuses unknown fields on strict bodies with 422 and tolerates them on filters', async () => {
    for (const route of bodyRoutes) {
      const strict = objectBranch(route.body as Schema)!.additionalProperties === false;
      const body = { ...(validBody(route) as object), zz_unknown_field: 'x' };
      const res = await check('unknown field', strict ? [422] : 'not5xx', route.method, concreteUrl(route.url), { body });
      if (strict && !res.text.includes('zz_unknown_field')) failures.push(`${route.url}: unknown field not named`);
      if (!strict && route.url.endsWith('/filter') && res.status >= 300) failures.push(`${route.url}: filter refused an unknown field (${res.status})`);
    }
    verdict(20);
  });

  it('survives huge strings, unicode, emoji and control characters in every string field', async () => {
    const strings = ['x'.repeat(100_000), 'Ünïcødé 名前 🚀👩‍👩‍👧', '\u0000\u0001\u001b[31m\u007f', 'a\u0000b', '\ud800', ''];
    for (const route of bodyRoutes) {
      for (const { path, schema } of leaves(objectBranch(route.body as Schema)!)) {
        if (!accepts(schema, 'text')) continue;
        const max = core(schema).maxLength as number | undefined;
        for (const value of strings) {
          const expected: Expect = value.includes('\u0000') || (value.length === 100_000 && max !== undefined) ? [422] : 'not5xx';
          await check(`${path.join('.')}=${JSON.stringify(value.slice(0, 20))}`, expected, route.method, concreteUrl(route.url), { body: withField(validBody(route), path, value) });
        }
      }
    }
    verdict(250);
  });

  it('refuses malformed UUIDs and dates in bodies with 422', async () => {
    const badUuids = ['not-a-uuid', '00000000-0000-0000-0000-00000000000g', "' OR '1'='1", '', ids.bot_id + '0'];
    const badDates = ['2026-13-45T00:00:00Z', 'yesterday', '2030-01-01T00:00:00', '2030-01-01', '2030-02-30T10:00:00Z', '9999999-01-01T00:00:00Z'];
    for (const route of bodyRoutes) {
      for (const { path, schema } of leaves(objectBranch(route.body as Schema)!)) {
        const format = core(schema).format;
        const values = format === 'uuid' ? badUuids : format === 'date-time' ? badDates : [];
        for (const value of values) {
          await check(`${path.join('.')}=${JSON.stringify(value)}`, [422], route.method, concreteUrl(route.url), { body: withField(validBody(route), path, value) });
        }
      }
    }
    verdict(60);
  });

  it('refuses invalid JSON with 400 and JSON that is not an object with 422', async () => {
    for (const route of bodyRoutes) {
      const url = concreteUrl(route.url);
      for (const raw of ['{"name": ', '{name: 1}', "{'a': 1}", '{"a": 1,}', 'nul', '\u0000', '{"a": NaN}', '[1, 2']) {
        await check(`raw ${JSON.stringify(raw)}`, [400], route.method, url, { rawBody: raw, headers: { 'content-type': 'application/json' } });
      }
      const nullable = ((route.body as Schema).anyOf ?? []).some((b: Schema) => b.type === 'null');
      for (const value of [42, 'a string', true, [], [{}], [1, 2], null]) {
        const expected: Expect = value === null && nullable ? 'not5xx' : [422];
        await check(`body ${JSON.stringify(value)}`, expected, route.method, url, { rawBody: JSON.stringify(value), headers: { 'content-type': 'application/json' } });
      }
    }
    verdict(300);
  });

  it('reads a JSON body sent with parameters (application/json; charset=utf-8, as many HTTP clients send it)', async () => {
    for (const route of bodyRoutes) {
      if (route.formBody) continue;
      const res = await h.request(route.method, concreteUrl(route.url), { key: owner.key, rawBody: '{', headers: { 'content-type': 'application/json; charset=utf-8' } });
      // Read as JSON (and found broken: 400 INVALID_JSON), not refused as another type (415).
      expect(`${route.method} ${route.url} ${res.status}`).not.toMatch(/ 415$/);
    }
    const bot = await h.request('POST', `/api/accounts/${owner.accountId}/bots/`, { key: owner.key, rawBody: JSON.stringify({ name: 'charset-bot' }), headers: { 'content-type': 'application/json; charset=UTF-8' } });
    expect(bot.status, bot.text).toBe(201);
  });

  it('refuses a body that is not JSON with 415', async () => {
    for (const route of bodyRoutes) {
      // A route that takes a form (the OAuth token endpoint) is checked for forms in its own tests.
      for (const type of ['text/plain', ...(route.formBody ? [] : ['application/x-www-form-urlencoded']), 'application/xml', 'multipart/form-data; boundary=x']) {
        await check(`as ${type}`, [415], route.method, concreteUrl(route.url), { rawBody: JSON.stringify(validBody(route)), headers: { 'content-type': type } });
      }
    }
    verdict(80);
  });

  it('refuses a body over the 1 MiB limit with 413', async () => {
    const huge = JSON.stringify({ name: 'x'.repeat(1_048_576) });
    for (const route of bodyRoutes) {
      await check('over 1 MiB', [413], route.method, concreteUrl(route.url), { rawBody: huge, headers: { 'content-type': 'application/json' } });
    }
    verdict(20);
  });
});

describe('bad paging on every filter route', () => {
  it('refuses negative, huge, fractional and textual limits and offsets with 422, and limit 201', async () => {
    const filters = routes.filter((r) => r.url.endsWith('/filter'));
    expect(filters.length).toBeGreaterThanOrEqual(8);
    for (const route of filters) {
      const url = concreteUrl(route.url);
      for (const limit of [-1, 201, 1.5, 1e12, '10', true, {}]) {
        const res = await check(`limit ${JSON.stringify(limit)}`, [422], 'POST', url, { body: { limit } });
        if (limit === 201 && !res.text.includes('200')) failures.push(`${route.url}: limit 201 refused without naming the maximum 200`);
      }
      for (const offset of [-1, 1.5, 1e15, '0', false]) {
        await check(`offset ${JSON.stringify(offset)}`, [422], 'POST', url, { body: { offset } });
      }
      await check('limit 200', [200], 'POST', url, { body: { limit: 200, offset: 0 } });
    }
    sent = 0;
    expect(failures.splice(0)).toEqual([]);
  });
});

describe('bad path parameters on every route', () => {
  it('answers 404 or 422 for a malformed id in any path parameter', async () => {
    const bad = ['not-a-uuid', '00000000-0000-0000-0000-00000000000g', "' OR '1'='1", '%00', '..%2F..%2Fetc', 'x'.repeat(190), '🚀'];
    const withParams = routes.filter((r) => r.url.includes(':'));
    for (const route of withParams) {
      for (const name of [...route.url.matchAll(/:([a-z_]+)/g)].map((m) => m[1])) {
        for (const value of bad) {
          const encoded = /%/.test(value) ? value : encodeURIComponent(value);
          const url = concreteUrl(route.url, { [name]: encoded });
          const body = route.body ? validBody(route) : undefined;
          // A NUL is refused from the URL alone, before the route looks anything up.
          const expected = value === '%00' ? [400] : [404, 422];
          await check(`:${name}=${value.slice(0, 20)}`, expected, route.method, url, { body });
        }
      }
    }
    sent = 0;
    expect(failures.splice(0)).toEqual([]);
  });

  it('answers 4xx for NUL, huge or repeated query values', async () => {
    const withQuery = routes.filter((r) => r.querystring);
    expect(withQuery.length).toBeGreaterThanOrEqual(2);
    for (const route of withQuery) {
      const url = concreteUrl(route.url);
      await check('?name=%00', [400], route.method, `${url}?name=a%00b`, {});
      await check('?name=huge', [422], route.method, `${url}?name=${'x'.repeat(5000)}`, {});
      await check('?name twice', 'not5xx', route.method, `${url}?name=a&name=b`, {});
    }
    sent = 0;
    expect(failures.splice(0)).toEqual([]);
  });
});

describe('after all of it', () => {
  it('keeps serving', async () => {
    const health = await h.request('GET', '/api/health');
    expect(health.status).toBe(200);
    expect(health.body).toBe(true);
    const me = await h.request('GET', '/api/me/', { key: owner.key });
    expect(me.status).toBe(200);
  });
});
