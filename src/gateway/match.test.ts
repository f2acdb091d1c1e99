// Route matching as the Prefect server routes (decoding, converters, order, trailing slashes), the
// include_secrets scope rule, the route table's data, and what the built-in roles may reach through it.

import { describe, expect, it } from 'vitest';
import { WORKSPACE_SCOPE_NAMES } from '../authz/scopes.js';
import { BUILTIN_WORKSPACE_ROLES } from '../authz/workspace-roles.js';
import { WEBSOCKET_ROUTES, matchRoute, requiredScopes, type RouteMatch } from './match.js';
import { ROUTE_TABLE } from './route-table.js';

const ID = '0b6f2b9e-6a43-4c2e-9a7e-0d1c2b3a4f5e';

/** The match for a request that must match; fails the test with what it got otherwise. */
function routeOf(method: string, path: string): RouteMatch {
  const m = matchRoute(method, path);
  if (m === null || 'code' in m) throw new Error(`${method} ${path} should match a route, got ${JSON.stringify(m)}`);
  return m;
}

const key = (m: RouteMatch) => `${m.route.method} ${m.route.path}`;

function scopesFor(method: string, target: string, body?: unknown, bodyUnknown?: boolean): string[] {
  const [path, query = ''] = target.split('?');
  return requiredScopes(routeOf(method, path).route, { query: new URLSearchParams(query), body, bodyUnknown });
}

describe('path converters', () => {
  it('matches {id:uuid} only with a UUID, in any case', () => {
    expect(key(routeOf('GET', `/flows/${ID}`))).toBe('GET /flows/{id:uuid}');
    expect(routeOf('GET', `/flows/${ID.toUpperCase()}`).params).toEqual({ id: ID.toUpperCase() });
    expect(matchRoute('GET', '/flows/not-a-uuid')).toBeNull();
    expect(matchRoute('GET', `/flows/${ID}0`)).toBeNull();
  });

  it('never lets {name} or {name:str} span a slash', () => {
    expect(routeOf('GET', '/work_pools/pool-a').params).toEqual({ name: 'pool-a' });
    expect(matchRoute('GET', '/work_pools/a/b')).toBeNull();
    expect(routeOf('GET', '/variables/name/v1').params).toEqual({ name: 'v1' });
    expect(matchRoute('GET', '/variables/name/v1/extra')).toBeNull();
  });

  it('lets {path:path} take the rest of the path', () => {
    expect(routeOf('GET', '/static/img/logo.png').params).toEqual({ path: 'img/logo.png' });
  });

  it('gives parameters percent-decoded, as the upstream will see them', () => {
    expect(routeOf('GET', '/work_pools/my%20pool').params).toEqual({ name: 'my pool' });
    expect(routeOf('GET', '/work_pools/donn%C3%A9es').params).toEqual({ name: 'données' });
    // One round of decoding only, like uvicorn: %252F is the three characters "%2F".
    expect(routeOf('GET', '/work_pools/a%252Fb').params).toEqual({ name: 'a%2Fb' });
  });

  it('matches an encoded character in a literal segment, as the upstream does', () => {
    expect(key(routeOf('POST', '/flows/%66ilter'))).toBe('POST /flows/filter');
  });
});

describe('route order', () => {
  it('takes POST /work_pools/filter as the query but PATCH /work_pools/filter as an update of the pool "filter"', () => {
    expect(key(routeOf('POST', '/work_pools/filter'))).toBe('POST /work_pools/filter');
    const patch = routeOf('PATCH', '/work_pools/filter');
    expect(key(patch)).toBe('PATCH /work_pools/{name}');
    expect(patch.params).toEqual({ name: 'filter' });
    expect(patch.route.scopes).toEqual(['write_work_pools']);
  });

  it('tells /deployments/name/{flow}/{dep} from /deployments/{id:uuid}', () => {
    const byName = routeOf('GET', '/deployments/name/etl/nightly');
    expect(key(byName)).toBe('GET /deployments/name/{flow_name}/{deployment_name}');
    expect(byName.params).toEqual({ flow_name: 'etl', deployment_name: 'nightly' });
    expect(key(routeOf('GET', `/deployments/${ID}`))).toBe('GET /deployments/{id:uuid}');
  });

  it('tells /artifacts/{key}/latest from POST /artifacts/latest/filter', () => {
    expect(key(routeOf('GET', '/artifacts/latest/latest'))).toBe('GET /artifacts/{key}/latest');
    expect(key(routeOf('POST', '/artifacts/latest/filter'))).toBe('POST /artifacts/latest/filter');
    expect(matchRoute('GET', '/artifacts/latest/filter')).toBeNull();
  });

  it('tells /variables/name/{name:str} from /variables/{id:uuid}', () => {
    expect(key(routeOf('DELETE', '/variables/name/x'))).toBe('DELETE /variables/name/{name:str}');
    expect(key(routeOf('DELETE', `/variables/${ID}`))).toBe('DELETE /variables/{id:uuid}');
  });

  it('reaches every table entry with a path built from its own template', () => {
    const unreachable = ROUTE_TABLE.filter((route) => {
      const path = route.path.replace(/\{(\w+)(?::(\w+))?\}/g, (_, name: string, conv?: string) =>
        conv === 'uuid' ? ID : `sample-${name}`,
      );
      const m = matchRoute(route.method, path);
      return m === null || 'code' in m || m.route !== route || m.redirectTo !== undefined;
    });
    expect(unreachable.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });
});

describe('methods', () => {
  it('matches HEAD as GET, and methods in any case', () => {
    expect(key(routeOf('HEAD', `/flows/${ID}`))).toBe('GET /flows/{id:uuid}');
    expect(key(routeOf('post', '/flows/filter'))).toBe('POST /flows/filter');
  });

  it('matches websocket routes only as WS, and HTTP routes never as WS', () => {
    expect(key(routeOf('WS', '/events/in'))).toBe('WS /events/in');
    expect(matchRoute('GET', '/events/in')).toBeNull();
    expect(matchRoute('WS', '/events')).toBeNull();
    expect(WEBSOCKET_ROUTES.map((r) => r.path).sort()).toEqual([
      '/events/in',
      '/events/out',
      '/logs/out',
      '/task_runs/subscriptions/scheduled',
      '/work_pools/{work_pool_name}/workers/connect',
    ]);
  });

  it('answers null for a method no route has at that path', () => {
    expect(matchRoute('GET', '/flows/filter')).toBeNull();
    expect(matchRoute('OPTIONS', '/flows/filter')).toBeNull();
  });
});

describe('refused paths', () => {
  const refused: Array<[string, string]> = [
    ['an encoded slash', '/work_pools/a%2Fb'],
    ['an encoded slash in lower case', '/work_pools/a%2fb'],
    ['an encoded slash that would make /deployments/', '/deployments%2F'],
    ['a .. segment', '/flows/../admin/settings'],
    ['an encoded .. segment', '/flows/%2e%2E/admin/settings'],
    ['a . segment', '/flows/./filter'],
    ['a trailing . segment', '/work_pools/.'],
    ['an empty segment', '/flows//filter'],
    ['a leading empty segment', '//flows/'],
    ['an encoded NUL', '/work_pools/a%00'],
    ['an encoded newline', '/work_pools/a%0A'],
    ['an encoded DEL', '/work_pools/a%7f'],
    ['a malformed escape', '/work_pools/a%zz'],
    ['a truncated escape', '/work_pools/a%4'],
    ['bytes that are not UTF-8', '/work_pools/a%C3%28'],
    ['a raw space', '/work_pools/a b'],
    ['a raw non-ASCII character', '/work_pools/é'],
    ['a path without its leading slash', 'flows/filter'],
    // Issue 14 finding 5: a URL parser turns '\\' into '/' and then resolves the '..'.
    ['a backslash', '/work_pools/a\\b'],
    ['backslashes around dot segments', '/work_pools/..\\..\\..\\api2\\work_pools\\x/workers/connect'],
    ['an encoded backslash', '/work_pools/a%5Cb'],
    ['an encoded backslash in lower case', '/work_pools/..%5c..%5capi2/workers/connect'],
  ];

  it.each(refused)('refuses %s', (_, path) => {
    const m = matchRoute('POST', path);
    expect(m).toMatchObject({ ok: false, code: 'GATEWAY_BAD_PATH' });
    expect((m as { detail: string }).detail.length).toBeGreaterThan(10);
  });

  it('refuses a backslash for websocket routes too, saying why', () => {
    expect(matchRoute('WS', '/work_pools/..\\..\\..\\api2\\work_pools\\x/workers/connect')).toEqual({
      ok: false,
      code: 'GATEWAY_BAD_PATH',
      detail: "the path contains a backslash ('\\' or %5C), which URL parsers read as '/'; address the object by its id",
    });
  });
});

describe('trailing slashes', () => {
  it('redirects to the route with the slash added or removed, as Starlette would', () => {
    const create = routeOf('POST', '/deployments');
    expect(key(create)).toBe('POST /deployments/');
    expect(create.redirectTo).toBe('/deployments/');
    const events = routeOf('POST', '/events/');
    expect(key(events)).toBe('POST /events');
    expect(events.redirectTo).toBe('/events');
    expect(routeOf('GET', `/flows/${ID}/`).redirectTo).toBe(`/flows/${ID}`);
  });

  it('keeps the percent-encoding of the redirected path', () => {
    expect(routeOf('GET', '/work_pools/my%20pool/').redirectTo).toBe('/work_pools/my%20pool');
  });

  it('does not redirect an exact match', () => {
    expect(routeOf('POST', '/deployments/').redirectTo).toBeUndefined();
  });

  it('does not redirect when the path exists under another method, or for websockets', () => {
    expect(matchRoute('GET', '/work_pools/')).toBeNull(); // POST /work_pools/ exists: upstream says 405
    expect(matchRoute('WS', '/events/in/')).toBeNull();
    expect(matchRoute('GET', '/')).toBeNull();
  });
});

describe('include_secrets', () => {
  const read = `/block_documents/${ID}`;
  const base = ['see_blocks'];
  const withSecrets = ['see_blocks', 'see_secret_blocks'];

  it.each(['true', 'True', 'TRUE', '1', 'yes', 'on', 't', 'Y', 'false&include_secrets=true'])(
    'asks for secrets with include_secrets=%s',
    (value) => {
      expect(scopesFor('GET', `${read}?include_secrets=${value}`)).toEqual(withSecrets);
    },
  );

  it.each(['false', 'False', '0', 'no', 'off', 'f', 'N', 'true&include_secrets=false'])(
    'does not ask for secrets with include_secrets=%s',
    (value) => {
      expect(scopesFor('GET', `${read}?include_secrets=${value}`)).toEqual(base);
    },
  );

  it('does not ask for secrets when the flag is absent', () => {
    expect(scopesFor('GET', read)).toEqual(base);
    expect(scopesFor('GET', `${read}?other=true`)).toEqual(base);
  });

  it('treats a value Prefect cannot parse as asking for secrets', () => {
    expect(scopesFor('GET', `${read}?include_secrets=maybe`)).toEqual(withSecrets);
    expect(scopesFor('GET', `${read}?include_secrets=`)).toEqual(withSecrets);
    expect(scopesFor('GET', `${read}?include_secrets`)).toEqual(withSecrets);
    expect(scopesFor('GET', `${read}?include_secrets=%E2%84%AA`)).toEqual(withSecrets); // Kelvin sign, not 'k'
  });

  it('reads the query flag on every query-secrets route, decoded', () => {
    expect(scopesFor('GET', '/block_types/slug/aws/block_documents?include_secrets=tru%65')).toEqual(withSecrets);
    expect(scopesFor('GET', '/block_types/slug/aws/block_documents/name/prod?include%5Fsecrets=1')).toEqual(withSecrets);
  });

  it('ignores the flag on routes that do not read it', () => {
    expect(scopesFor('POST', '/block_documents/count?include_secrets=true', { include_secrets: true })).toEqual(base);
    expect(scopesFor('POST', '/block_documents/filter?include_secrets=true', {})).toEqual(base);
  });

  it('reads the body flag of POST /block_documents/filter like Pydantic', () => {
    const filter = (body: unknown) => scopesFor('POST', '/block_documents/filter', body);
    for (const yes of [true, 1, 'true', 'Yes', '1']) expect(filter({ include_secrets: yes })).toEqual(withSecrets);
    for (const no of [false, 0, 'false', 'off', null]) expect(filter({ include_secrets: no })).toEqual(base);
    expect(filter({ limit: 5 })).toEqual(base);
    expect(filter(undefined)).toEqual(base);
    expect(filter(null)).toEqual(base);
  });

  it('treats an unparseable or unseen body as asking for secrets', () => {
    const filter = (body: unknown) => scopesFor('POST', '/block_documents/filter', body);
    expect(filter({ include_secrets: 'maybe' })).toEqual(withSecrets);
    expect(filter({ include_secrets: 2 })).toEqual(withSecrets);
    expect(filter({ include_secrets: [true] })).toEqual(withSecrets);
    expect(filter([])).toEqual(withSecrets);
    expect(scopesFor('POST', '/block_documents/filter', undefined, true)).toEqual(withSecrets);
    // A route whose secrets flag is in the query does not care that the body is unseen.
    expect(scopesFor('GET', read, undefined, true)).toEqual(base);
  });
});

describe('the route table', () => {
  it('names only workspace scopes that exist', () => {
    const unknown = ROUTE_TABLE.flatMap((r) => r.scopes.filter((s) => !WORKSPACE_SCOPE_NAMES.has(s)).map((s) => `${r.method} ${r.path}: ${s}`));
    expect(unknown).toEqual([]);
  });

  it('has no two entries for the same method and path', () => {
    const keys = ROUTE_TABLE.map((r) => `${r.method} ${r.path}`);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('marks exactly the four include_secrets routes, on top of see_blocks', () => {
    const secretRules = (r: (typeof ROUTE_TABLE)[number]) => (r.fieldScopes ?? []).filter((f) => f.field === 'include_secrets');
    const marked = ROUTE_TABLE.filter((r) => secretRules(r).length > 0).map((r) => `${secretRules(r)[0].in} ${r.method} ${r.path}`);
    expect(marked).toEqual([
      'query GET /block_types/slug/{slug}/block_documents',
      'query GET /block_types/slug/{slug}/block_documents/name/{block_document_name}',
      'body POST /block_documents/filter',
      'query GET /block_documents/{id:uuid}',
    ]);
    expect(ROUTE_TABLE.filter((r) => secretRules(r).length > 0).every((r) => r.scopes.join() === 'see_blocks')).toBe(true);
  });

  it('names only existing scopes in its field rules, and fields of body routes only where Prefect reads a body', () => {
    const rules = ROUTE_TABLE.flatMap((r) => (r.fieldScopes ?? []).map((f) => ({ r, f })));
    expect(rules.flatMap(({ r, f }) => f.scopes.filter((s) => !WORKSPACE_SCOPE_NAMES.has(s)).map((s) => `${r.method} ${r.path}: ${s}`))).toEqual([]);
    expect(rules.filter(({ r, f }) => f.in === 'body' && !['POST', 'PUT', 'PATCH'].includes(r.method)).map(({ r }) => r.path)).toEqual([]);
  });

  it('requires both write_workers and write_work_pools for the worker channel', () => {
    expect(routeOf('WS', '/work_pools/p/workers/connect').route.scopes).toEqual(['write_workers', 'write_work_pools']);
  });
});

describe('built-in roles through the gateway', () => {
  const roleScopes = (name: string) => {
    const role = BUILTIN_WORKSPACE_ROLES.find((r) => r.name === name);
    if (role === undefined) throw new Error(`no built-in role ${name}`);
    return new Set(role.scopes);
  };
  const allows = (role: string, method: string, target: string, body?: unknown) =>
    scopesFor(method, target, body).every((s) => roleScopes(role).has(s));

  // docs/worker-requests.md (test/gateway/worker-sequence.ts), in order (repeats left out).
  const WORKER_REQUESTS: Array<[string, string]> = [
    ['GET', '/work_pools/P'],
    ['POST', '/work_pools/P/queues/filter'],
    ['WS', '/events/in'],
    ['WS', '/events/out'],
    ['POST', '/work_pools/P/workers/heartbeat'],
    ['POST', '/work_pools/P/get_scheduled_flow_runs'],
    ['POST', '/logs/'],
    ['GET', `/deployments/${ID}`],
    ['POST', `/flow_runs/${ID}/set_state`],
    ['GET', `/flows/${ID}`],
    ['PATCH', `/flow_runs/${ID}/labels`],
    ['PATCH', `/flow_runs/${ID}`],
    ['GET', `/flow_runs/${ID}`],
    ['GET', '/admin/storage'],
    ['GET', `/work_queues/${ID}`],
    ['POST', '/task_runs/'],
    ['POST', `/task_runs/${ID}/set_state`],
    ['POST', `/v2/concurrency_limits/leases/${ID}/renew`],
    ['POST', '/flow_runs/filter'],
  ];

  it.each(WORKER_REQUESTS)('lets the Worker role send %s %s', (method, path) => {
    expect(allows('Worker', method, path)).toBe(true);
  });

  it.each([
    ['POST', '/deployments/'],
    ['GET', `/block_documents/${ID}?include_secrets=true`],
    ['POST', '/work_pools/'],
    ['PATCH', '/work_pools/P'],
    // Refused, so the worker falls back to REST for good (reference §1.3).
    ['WS', '/work_pools/P/workers/connect'],
  ])('refuses the Worker role %s %s', (method, path) => {
    expect(allows('Worker', method, path)).toBe(false);
  });

  it('lets a Worker read a block without its secrets', () => {
    expect(allows('Worker', 'GET', `/block_documents/${ID}?include_secrets=false`)).toBe(true);
  });

  it('keeps Viewers from polling and from secrets, and lets Developers read secrets', () => {
    expect(allows('Viewer', 'POST', '/work_pools/P/get_scheduled_flow_runs')).toBe(false);
    expect(allows('Viewer', 'POST', '/block_documents/filter', { include_secrets: true })).toBe(false);
    expect(allows('Viewer', 'POST', '/block_documents/filter', { include_secrets: false })).toBe(true);
    expect(allows('Developer', 'POST', '/block_documents/filter', { include_secrets: true })).toBe(true);
    expect(allows('Developer', 'WS', '/work_pools/P/workers/connect')).toBe(true);
  });
});

describe('body fields that add scopes (issue 14)', () => {
  const create = (body: unknown, unknown?: boolean) => scopesFor('POST', '/flow_runs/', body, unknown);
  const update = (body: unknown, unknown?: boolean) => scopesFor('PATCH', `/flow_runs/${ID}`, body, unknown);
  const setState = (body: unknown, unknown?: boolean) => scopesFor('POST', `/flow_runs/${ID}/set_state`, body, unknown);
  const RUN = ['run_flows'];
  const DEPLOY = ['run_flows', 'run_deployments'];

  it('needs run_deployments to create a flow run that names a deployment, a pool, a queue, job variables or an infrastructure block', () => {
    for (const field of ['deployment_id', 'work_pool_name', 'work_queue_name', 'job_variables', 'infrastructure_document_id']) {
      expect(create({ flow_id: ID, [field]: field === 'job_variables' ? { command: 'sh -c id' } : ID }), field).toEqual(DEPLOY);
    }
    // The finding's request, as sent.
    const attack = { flow_id: ID, deployment_id: ID, work_pool_name: 'p', work_queue_name: 'default', job_variables: { command: 'sh -c id', env: { A: '1' } }, state: { type: 'SCHEDULED' } };
    expect(create(attack)).toEqual(DEPLOY);
  });

  it('lets run_flows create a subflow run as the engine sends it', () => {
    const subflow = { flow_id: ID, flow_version: 'abc', name: 'child', parameters: { x: 1 }, context: {}, tags: [], parent_task_run_id: ID, state: { type: 'PENDING', name: 'Pending' }, empirical_policy: { retries: 0, retry_delay: 0 } };
    expect(create(subflow)).toEqual(RUN);
    expect(create(undefined)).toEqual(RUN);
    expect(create(null)).toEqual(RUN);
  });

  it('reads null as the default on a create and as a change on an update, keys from the parsed object, and the last of duplicate keys', () => {
    // Prefect's 3.0–3.2 clients send every FlowRunCreate field, null where unset.
    expect(create({ flow_id: ID, deployment_id: null, infrastructure_document_id: null, work_pool_name: null, work_queue_name: null, job_variables: null })).toEqual(RUN);
    expect(update({ job_variables: null })).toEqual(DEPLOY);
    // "deployment\u005fid" in the text is deployment_id once parsed, in Python as in JavaScript.
    expect(create(JSON.parse('{"flow_id": "x", "deployment\\u005fid": "y"}'))).toEqual(DEPLOY);
    // Both parsers keep the last of a repeated key.
    expect(create(JSON.parse('{"job_variables": null, "job_variables": {"command": "x"}}'))).toEqual(DEPLOY);
    expect(create(JSON.parse('{"job_variables": {"command": "x"}, "job_variables": null}'))).toEqual(RUN);
    expect(update(JSON.parse('{"job_variables": {"command": "x"}, "job_variables": null}'))).toEqual(DEPLOY);
    // Pydantic's names are case-sensitive: another case is an extra field (422), not the field.
    expect(create({ flow_id: ID, Deployment_Id: ID })).toEqual(RUN);
  });

  it('assumes every field is used when the body is unseen, unparseable or not an object', () => {
    expect(create(undefined, true)).toEqual(DEPLOY);
    expect(create([{ deployment_id: ID }])).toEqual(DEPLOY);
    expect(create('deployment_id')).toEqual(DEPLOY);
    expect(update(undefined, true)).toEqual(DEPLOY);
    expect(setState(undefined, true)).toEqual(DEPLOY);
  });

  it('needs run_deployments to give a flow run new job variables or parameters, not for what the run and its worker send', () => {
    expect(update({ job_variables: { command: 'sh -c id' } })).toEqual(DEPLOY);
    expect(update({ job_variables: null })).toEqual(DEPLOY);
    expect(update({ parameters: { x: 1 } })).toEqual(DEPLOY);
    expect(update({ infrastructure_pid: 'host:42' })).toEqual(RUN);
    expect(update({ flow_version: 'abc', empirical_policy: { retries: 0, retry_delay: 0, pause_keys: [], resuming: false, retry_type: null } })).toEqual(RUN);
    expect(update({ name: 'n', tags: ['t'] })).toEqual(RUN);
  });

  it('needs run_deployments to move a run back to SCHEDULED, reading the state type as Pydantic does', () => {
    for (const type of ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED', 'PAUSED', 'CANCELLING']) {
      expect(setState({ state: { type, name: 'x' }, force: false }), type).toEqual(RUN);
    }
    expect(setState({ state: { type: 'SCHEDULED', name: 'AwaitingRetry' }, force: true })).toEqual(DEPLOY);
    // Values our reading is unsure of count as SCHEDULED (Prefect answers 422 to them).
    for (const state of [{ type: 'scheduled' }, { type: 'SCHEDULED ' }, {}, { type: 1 }, 'SCHEDULED', [{ type: 'RUNNING' }]]) {
      expect(setState({ state }), JSON.stringify(state)).toEqual(DEPLOY);
    }
    expect(scopesFor('POST', '/flow_runs/bulk_set_state', { flow_runs: null, state: { type: 'SCHEDULED' } })).toEqual(DEPLOY);
    expect(scopesFor('POST', '/flow_runs/bulk_set_state', { state: { type: 'CANCELLED' } })).toEqual(RUN);
  });

  it('needs see_variables wherever Prefect hydrates a placeholder with workspace variables', () => {
    const placeholder = { nested: [{ __prefect_kind: 'workspace_variable', variable_name: 'db_password' }] };
    expect(scopesFor('POST', `/deployments/${ID}/create_flow_run`, { parameters: placeholder })).toEqual(['run_deployments', 'see_variables']);
    expect(scopesFor('POST', `/deployments/${ID}/create_flow_run`, { parameters: { x: 1 } })).toEqual(['run_deployments']);
    expect(scopesFor('POST', `/deployments/${ID}/create_flow_run/bulk`, [{ parameters: placeholder }])).toEqual(['run_deployments', 'see_variables']);
    expect(scopesFor('POST', `/deployments/${ID}/create_flow_run/bulk`, [{ parameters: { x: 1 } }])).toEqual(['run_deployments']);
    expect(scopesFor('POST', '/deployments/', { parameters: placeholder })).toEqual(['write_deployments', 'see_variables']);
    expect(scopesFor('PATCH', `/deployments/${ID}`, { parameters: placeholder })).toEqual(['write_deployments', 'see_variables']);
    expect(scopesFor('POST', `/flow_runs/${ID}/resume`, { run_input: placeholder })).toEqual(['run_flows', 'see_variables']);
    expect(scopesFor('POST', `/flow_runs/${ID}/resume`, { run_input: { approved: true } })).toEqual(['run_flows']);
  });

  it('needs see_flows for the concurrency status of a pool or queue, which lists the runs holding slots', () => {
    expect(scopesFor('POST', '/work_pools/p/concurrency_status', {})).toEqual(['see_work_pools', 'see_flows']);
    expect(scopesFor('POST', `/work_queues/${ID}/concurrency_status`, {})).toEqual(['see_work_queues', 'see_flows']);
  });

  it('walks a deeply nested body without overflowing the stack', () => {
    let deep: unknown = { __prefect_kind: 'workspace_variable', variable_name: 'v' };
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(scopesFor('POST', `/flow_runs/${ID}/resume`, { run_input: { x: deep } })).toEqual(['run_flows', 'see_variables']);
  });

  it('needs see_variables for ui/schemas/validate, and the Owner scope for a schema that points outside itself', () => {
    const validate = (body: unknown, unknown?: boolean) => scopesFor('POST', '/ui/schemas/validate', body, unknown);
    const local = { type: 'object', properties: { a: { $ref: '#/definitions/A' } }, definitions: { A: { type: 'string' } } };
    expect(validate({ schema: local, values: { a: { __prefect_kind: 'workspace_variable', variable_name: 'v' } } })).toEqual(['see_variables']);
    for (const ref of ['http://169.254.169.254/latest/meta-data', 'other.json', '//evil.example/x', '']) {
      expect(validate({ schema: { properties: { a: { $ref: ref } } }, values: {} }), ref).toEqual(['see_variables', 'manage_workspace_settings']);
    }
    expect(validate({ schema: { $defs: { a: { $dynamicRef: 'http://x/' } } }, values: {} })).toEqual(['see_variables', 'manage_workspace_settings']);
    expect(validate({ schema: { properties: { a: { $ref: 42 } } }, values: {} })).toEqual(['see_variables', 'manage_workspace_settings']);
    expect(validate(undefined, true)).toEqual(['see_variables', 'manage_workspace_settings']);
  });

  it('keeps the Worker role to what its processes send, and lets the Developer choose deployments, pools and job variables', () => {
    const holds = (name: string, scopes: string[]) => scopes.every((s) => BUILTIN_WORKSPACE_ROLES.find((r) => r.name === name)!.scopes.includes(s));
    expect(holds('Worker', create({ flow_id: ID, parent_task_run_id: ID, state: { type: 'PENDING' } }))).toBe(true);
    expect(holds('Worker', create({ flow_id: ID, deployment_id: ID, job_variables: { command: 'x' } }))).toBe(false);
    expect(holds('Worker', update({ job_variables: { command: 'x' } }))).toBe(false);
    expect(holds('Worker', setState({ state: { type: 'SCHEDULED' } }))).toBe(false);
    expect(holds('Developer', create({ flow_id: ID, deployment_id: ID, job_variables: { command: 'x' } }))).toBe(true);
    expect(holds('Developer', update({ job_variables: { command: 'x' } }))).toBe(true);
    expect(holds('Viewer', scopesFor('POST', '/ui/schemas/validate', { schema: {}, values: {} }))).toBe(true);
  });
});
