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
import { ROUTE_TABLE, type GatewayRoute } from '../../src/gateway/route-table.js';
import type { Caller } from './policy.js';
import { CUSTOM_ROLE } from './policy.js';

/**
 * A built-in workspace role, or `Custom`: the fixture's custom role (policy.ts CUSTOM_ROLE), which
 * inherits Viewer and adds see_secret_blocks, write_workspace_settings, see_workspace_service_accounts.
 */
export type Role = 'Owner' | 'Developer' | 'Runner' | 'Viewer' | 'Worker' | 'Custom';

/** Asking a block route for secret values (`include_secrets`) needs this scope as well. */
export const SECRET_SCOPE = 'see_secret_blocks';

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
 * Whether a request to a route that reads `include_secrets` (route table `secrets`) asks for secret
 * values. Forward-auth never sees the body (docs/forward-auth.md), so there a body flag counts as
 * asking, whatever it says.
 */
export function asksForSecrets(where: 'query' | 'body' | undefined, flag: boolean | undefined, via: Via): boolean {
  if (where === undefined) return false;
  return (where === 'body' && via === 'forward-auth') || flag === true;
}

/** The scopes one request needs: the route table's, plus SECRET_SCOPE when it asks for secrets. */
export function scopesNeeded(routeScopes: readonly string[], asks: boolean): string[] {
  return asks && !routeScopes.includes(SECRET_SCOPE) ? [...routeScopes, SECRET_SCOPE] : [...routeScopes];
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
