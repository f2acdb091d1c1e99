// The gateway's route → workspace-scope table: every route of the Prefect 3 server REST API, in
// the order Starlette tries them, with the scopes a caller's workspace role must hold.
//
// Paths are Starlette templates relative to the Prefect API mount (`/api` upstream;
// `/api/accounts/{a}/workspaces/{w}` through Gatehouse). A route missing here is refused, so the
// table is checked against an inventory read from Prefect's source (test/gateway/prefect-routes.txt,
// made by scripts/prefect-routes.py). docs/gateway-routes.md ("Choices that are not obvious") gives
// the reasons for the scope choices; `note` carries the reason wherever a choice is not obvious
// and is printed in docs/gateway-routes.md. `fieldScopes` names the query parameters and body fields
// that need more than the route's scopes (include_secrets; what a flow run runs; variable placeholders).

import { unknownScopes } from '../authz/scopes.js';

/** 'WS' marks a websocket route; everything else is an HTTP method. */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'WS';

export interface GatewayRoute {
  method: RouteMethod;
  /** Starlette path template relative to the API mount, e.g. `/flows/{id:uuid}`. */
  path: string;
  /** Workspace scopes that are ALL required; empty means any workspace role ("member"). */
  scopes: readonly string[];
  /**
   * Query parameters and body fields that, when the request uses them, need more scopes than the
   * route's own (match.ts `requiredScopes` evaluates them; an unseen or unparseable body uses them all).
   */
  fieldScopes?: readonly FieldScope[];
  /** Why the scope is what it is, when that is not obvious. */
  note?: string;
  /** Where Prefect declares the route: a module of src/prefect/server/api, e.g. `flows.py`. */
  module: string;
}

/**
 * When a field counts as used. Each reading is the one under which Prefect could act on the field;
 * a value our reading is unsure of counts as used (Prefect then answers 422, or acts on it).
 * - `true`: Prefect's lax bool reads it as true, or cannot read it (`include_secrets`).
 * - `given`: the field is there with a value other than null. On a create, null is the default:
 *   Prefect's 3.0–3.2 clients send every field, null where unset.
 * - `set`: the field is there at all, null included (on a PATCH, null clears the column).
 * - `scheduled`: a state whose `type` is not certainly another than SCHEDULED: a worker or a
 *   `serve()` process would pick the run up again.
 * - `hydrated`: it holds, at any depth, an object with a `__prefect_kind` key, which Prefect's
 *   hydration replaces with (for `workspace_variable`) the variable's value.
 * - `remote_ref`: a JSON schema with a `$ref`, `$dynamicRef` or `$recursiveRef` pointing outside
 *   itself, which Prefect releases before PrefectHQ/prefect#22252 fetch over HTTP.
 */
export type FieldUse = 'true' | 'given' | 'set' | 'scheduled' | 'hydrated' | 'remote_ref';

export interface FieldScope {
  in: 'query' | 'body';
  /** The query parameter or top-level body field; `*` for the whole body. */
  field: string;
  when: FieldUse;
  /** Scopes needed, on top of the route's, when the field is used. */
  scopes: readonly string[];
}

type Entry = Omit<GatewayRoute, 'module'>;

const MEMBER: readonly string[] = [];

function route(method: RouteMethod, path: string, scopes: readonly string[], extra: Pick<Entry, 'fieldScopes' | 'note'> = {}): Entry {
  return { method, path, scopes, ...extra };
}

function router(module: string, entries: Entry[]): GatewayRoute[] {
  return entries.map((entry) => ({ ...entry, module }));
}

const secrets = (where: 'query' | 'body'): FieldScope[] => [{ in: where, field: 'include_secrets', when: 'true', scopes: ['see_secret_blocks'] }];
const SECRETS_IN_QUERY = secrets('query');
const SECRETS_IN_BODY = secrets('body');

const fields = (when: FieldUse, names: string[], scopes: string[]): FieldScope[] => names.map((field) => ({ in: 'body', field, when, scopes }));

/**
 * Fields of a flow run that choose what a worker runs, where and how: a deployment's run, a work
 * pool and queue, job variables (laid over the deployment's by the worker: the command, the
 * environment, the image), a Prefect 2 infrastructure block. Choosing them is running a deployment
 * (POST /deployments/{id}/create_flow_run takes the same job variables), so they need
 * run_deployments; a Worker key (run_flows) still creates subflow runs and updates its own runs.
 */
const RUN_CREATE_FIELDS = fields('given', ['deployment_id', 'work_pool_name', 'work_queue_name', 'job_variables', 'infrastructure_document_id'], ['run_deployments']);
const RUN_UPDATE_FIELDS = fields('set', ['job_variables', 'parameters'], ['run_deployments']);
const RESCHEDULING: FieldScope[] = [{ in: 'body', field: 'state', when: 'scheduled', scopes: ['run_deployments'] }];
/** Prefect hydrates these with workspace variables, then stores them or echoes them in an error. */
const HYDRATED = (field: string): FieldScope[] => [{ in: 'body', field, when: 'hydrated', scopes: ['see_variables'] }];

const SLOT_USE = 'taking or releasing slots is what running work does; it does not change the limit';

export const ROUTE_TABLE: readonly GatewayRoute[] = [
  // Registered by create_api_app before the routers.
  ...router('server.py create_api_app', [
    route('GET', '/health', MEMBER),
    route('GET', '/version', MEMBER),
  ]),

  ...router('flows.py', [
    route('POST', '/flows/', ['run_flows'], { note: 'running a flow registers it, so `prefect deploy` needs run_flows too' }),
    route('PATCH', '/flows/{id:uuid}', ['run_flows'], { note: 'same writer as POST /flows/' }),
    route('POST', '/flows/count', ['see_flows']),
    route('GET', '/flows/name/{name}', ['see_flows']),
    route('GET', '/flows/{id:uuid}', ['see_flows']),
    route('POST', '/flows/filter', ['see_flows']),
    route('DELETE', '/flows/{id:uuid}', ['manage_flows']),
    route('POST', '/flows/bulk_delete', ['manage_flows']),
    route('POST', '/flows/paginate', ['see_flows']),
  ]),

  ...router('flow_runs.py', [
    route('POST', '/flow_runs/', ['run_flows'], {
      fieldScopes: RUN_CREATE_FIELDS,
      note: 'FlowRunCreate takes deployment_id, a work pool and queue and job variables, which a worker runs as given; without them it is a subflow or ad-hoc run',
    }),
    route('PATCH', '/flow_runs/{id:uuid}', ['run_flows'], {
      fieldScopes: RUN_UPDATE_FIELDS,
      note: "the run's own processes send flow_version, empirical_policy, infrastructure_pid; new job variables or parameters change what a scheduled deployment run does",
    }),
    route('POST', '/flow_runs/count', ['see_flows']),
    route('POST', '/flow_runs/lateness', ['see_flows']),
    route('POST', '/flow_runs/history', ['see_flows']),
    route('GET', '/flow_runs/{id:uuid}', ['see_flows']),
    route('GET', '/flow_runs/{id:uuid}/graph', ['see_flows']),
    route('GET', '/flow_runs/{id:uuid}/graph-v2', ['see_flows']),
    route('POST', '/flow_runs/{id:uuid}/resume', ['run_flows'], { fieldScopes: HYDRATED('run_input'), note: 'run_input is hydrated with workspace variables' }),
    route('POST', '/flow_runs/filter', ['see_flows']),
    route('DELETE', '/flow_runs/{id:uuid}', ['manage_flows'], { note: 'deletion sits with manage_flows, not run_flows' }),
    route('POST', '/flow_runs/bulk_delete', ['manage_flows']),
    route('POST', '/flow_runs/bulk_set_state', ['run_flows'], { fieldScopes: RESCHEDULING, note: 'a SCHEDULED state sends runs back to their workers: running a deployment again' }),
    route('POST', '/flow_runs/{id:uuid}/set_state', ['run_flows'], {
      fieldScopes: RESCHEDULING,
      note: 'runs report Pending, Running, Paused and final states; a SCHEDULED state sends the run back to its worker (flow retries are scheduled by the server)',
    }),
    route('POST', '/flow_runs/{id:uuid}/input', ['run_flows']),
    route('POST', '/flow_runs/{id:uuid}/input/filter', ['see_flows'], { note: 'a POST that only reads' }),
    route('GET', '/flow_runs/{id:uuid}/input/{key}', ['see_flows']),
    route('DELETE', '/flow_runs/{id:uuid}/input/{key}', ['run_flows'], { note: 'run inputs belong to the running flow, which cleans them up' }),
    route('POST', '/flow_runs/paginate', ['see_flows']),
    route('GET', '/flow_runs/{id:uuid}/logs/download', ['see_flows']),
    route('PATCH', '/flow_runs/{id:uuid}/labels', ['run_flows']),
  ]),

  ...router('task_runs.py', [
    route('POST', '/task_runs/', ['run_tasks'], { note: 'subflow parent task runs, run_deployment() inside a flow, task.delay()' }),
    route('PATCH', '/task_runs/{id:uuid}', ['run_tasks']),
    route('POST', '/task_runs/count', ['see_flows']),
    route('POST', '/task_runs/history', ['see_flows']),
    route('GET', '/task_runs/{id:uuid}', ['see_flows']),
    route('POST', '/task_runs/filter', ['see_flows']),
    route('POST', '/task_runs/paginate', ['see_flows']),
    route('DELETE', '/task_runs/{id:uuid}', ['manage_flows'], { note: 'deletion sits with manage_flows' }),
    route('POST', '/task_runs/{id:uuid}/set_state', ['run_tasks'], { note: 'older 3.x clients and task workers; current clients report task states as events' }),
    route('WS', '/task_runs/subscriptions/scheduled', ['run_tasks'], { note: 'task workers receive the task runs they then run' }),
  ]),

  ...router('flow_run_states.py', [
    route('GET', '/flow_run_states/{id:uuid}', ['see_flows']),
    route('GET', '/flow_run_states/', ['see_flows']),
  ]),

  ...router('task_run_states.py', [
    route('GET', '/task_run_states/{id:uuid}', ['see_flows']),
    route('GET', '/task_run_states/', ['see_flows']),
  ]),

  ...router('deployments.py', [
    route('POST', '/deployments/', ['write_deployments'], { fieldScopes: HYDRATED('parameters') }),
    route('PATCH', '/deployments/{id:uuid}', ['write_deployments'], { fieldScopes: HYDRATED('parameters') }),
    route('GET', '/deployments/name/{flow_name}/{deployment_name}', ['see_deployments']),
    route('GET', '/deployments/{id:uuid}', ['see_deployments']),
    route('POST', '/deployments/filter', ['see_deployments']),
    route('POST', '/deployments/paginate', ['see_deployments']),
    route('POST', '/deployments/get_scheduled_flow_runs', ['write_deployments'], {
      note: 'the flow.serve() poll marks its deployments ready; a serve process already needs write_deployments to register them',
    }),
    route('POST', '/deployments/count', ['see_deployments']),
    route('DELETE', '/deployments/{id:uuid}', ['manage_deployments']),
    route('POST', '/deployments/bulk_delete', ['manage_deployments']),
    route('POST', '/deployments/{id:uuid}/schedule', ['run_deployments'], { note: 'backfilling creates flow runs from the deployment' }),
    route('POST', '/deployments/{id:uuid}/resume_deployment', ['write_deployments']),
    route('POST', '/deployments/{id:uuid}/pause_deployment', ['write_deployments']),
    route('POST', '/deployments/{id:uuid}/create_flow_run', ['run_deployments'], {
      fieldScopes: HYDRATED('parameters'),
      note: "its job variables override the deployment's, the command included, as Prefect's custom run allows",
    }),
    route('POST', '/deployments/{id:uuid}/create_flow_run/bulk', ['run_deployments'], { fieldScopes: HYDRATED('*'), note: 'the body is a list of runs' }),
    route('GET', '/deployments/{id:uuid}/work_queue_check', ['see_deployments']),
    route('GET', '/deployments/{id:uuid}/schedules', ['see_deployments']),
    route('POST', '/deployments/{id:uuid}/schedules', ['write_deployments']),
    route('PATCH', '/deployments/{id:uuid}/schedules/{schedule_id:uuid}', ['write_deployments']),
    route('DELETE', '/deployments/{id:uuid}/schedules/{schedule_id:uuid}', ['write_deployments'], {
      note: 'removing one schedule edits the deployment; it does not delete it',
    }),
  ]),

  ...router('saved_searches.py', [
    route('PUT', '/saved_searches/', ['manage_saved_search']),
    route('GET', '/saved_searches/{id:uuid}', ['see_flows'], { note: 'saved searches are flow-run filters; manage_saved_search builds on see_flows' }),
    route('POST', '/saved_searches/filter', ['see_flows']),
    route('DELETE', '/saved_searches/{id:uuid}', ['manage_saved_search']),
  ]),

  ...router('logs.py', [
    route('POST', '/logs/', ['run_flows'], { note: 'there is no logs scope; logs belong to runs and are written by workers and run processes' }),
    route('POST', '/logs/filter', ['see_flows']),
    route('WS', '/logs/out', ['see_flows']),
  ]),

  ...router('concurrency_limits.py', [
    route('POST', '/concurrency_limits/', ['manage_concurrency_limits']),
    route('GET', '/concurrency_limits/{id:uuid}', ['see_concurrency_limits']),
    route('GET', '/concurrency_limits/tag/{tag}', ['see_concurrency_limits']),
    route('POST', '/concurrency_limits/filter', ['see_concurrency_limits']),
    route('POST', '/concurrency_limits/tag/{tag}/reset', ['manage_concurrency_limits']),
    route('DELETE', '/concurrency_limits/{id:uuid}', ['manage_concurrency_limits']),
    route('DELETE', '/concurrency_limits/tag/{tag}', ['manage_concurrency_limits']),
    route('POST', '/concurrency_limits/increment', ['run_flows'], { note: SLOT_USE }),
    route('POST', '/concurrency_limits/decrement', ['run_flows'], { note: SLOT_USE }),
  ]),

  ...router('concurrency_limits_v2.py', [
    route('POST', '/v2/concurrency_limits/', ['manage_concurrency_limits']),
    route('GET', '/v2/concurrency_limits/{id_or_name}', ['see_concurrency_limits']),
    route('POST', '/v2/concurrency_limits/filter', ['see_concurrency_limits']),
    route('PATCH', '/v2/concurrency_limits/{id_or_name}', ['manage_concurrency_limits']),
    route('DELETE', '/v2/concurrency_limits/{id_or_name}', ['manage_concurrency_limits']),
    route('POST', '/v2/concurrency_limits/increment', ['run_flows'], { note: SLOT_USE }),
    route('POST', '/v2/concurrency_limits/increment-with-lease', ['run_flows'], { note: SLOT_USE }),
    route('POST', '/v2/concurrency_limits/decrement', ['run_flows'], { note: SLOT_USE }),
    route('POST', '/v2/concurrency_limits/decrement-with-lease', ['run_flows'], { note: SLOT_USE }),
    route('POST', '/v2/concurrency_limits/leases/{lease_id}/renew', ['run_flows'], {
      note: 'a flow run renews its deployment concurrency lease itself, with the Worker key it inherits',
    }),
  ]),

  ...router('block_types.py', [
    route('POST', '/block_types/', ['manage_blocks']),
    route('GET', '/block_types/{id:uuid}', ['see_blocks']),
    route('GET', '/block_types/slug/{slug}', ['see_blocks']),
    route('POST', '/block_types/filter', ['see_blocks']),
    route('PATCH', '/block_types/{id:uuid}', ['manage_blocks']),
    route('DELETE', '/block_types/{id:uuid}', ['manage_blocks']),
    route('GET', '/block_types/slug/{slug}/block_documents', ['see_blocks'], { fieldScopes: SECRETS_IN_QUERY }),
    route('GET', '/block_types/slug/{slug}/block_documents/name/{block_document_name}', ['see_blocks'], { fieldScopes: SECRETS_IN_QUERY }),
    route('POST', '/block_types/install_system_block_types', ['manage_blocks'], { note: 'writes block types and schemas' }),
  ]),

  ...router('block_documents.py', [
    route('POST', '/block_documents/', ['manage_blocks']),
    route('POST', '/block_documents/filter', ['see_blocks'], { fieldScopes: SECRETS_IN_BODY }),
    route('POST', '/block_documents/count', ['see_blocks']),
    route('GET', '/block_documents/{id:uuid}', ['see_blocks'], { fieldScopes: SECRETS_IN_QUERY, note: 'the Python client sends include_secrets, true by default' }),
    route('DELETE', '/block_documents/{id:uuid}', ['manage_blocks']),
    route('PATCH', '/block_documents/{id:uuid}', ['manage_blocks']),
  ]),

  ...router('workers.py', [
    route('POST', '/work_pools/', ['write_work_pools'], { note: 'a worker creates a missing pool only if its key may; a Worker key cannot' }),
    route('GET', '/work_pools/{name}', ['see_work_pools']),
    route('POST', '/work_pools/filter', ['see_work_pools']),
    route('POST', '/work_pools/count', ['see_work_pools']),
    route('PATCH', '/work_pools/{name}', ['write_work_pools']),
    route('DELETE', '/work_pools/{name}', ['manage_work_pools']),
    route('POST', '/work_pools/{name}/concurrency_status', ['see_work_pools', 'see_flows'], { note: 'a POST that only reads; it lists the flow runs holding slots (id, name, state)' }),
    route('POST', '/work_pools/{name}/get_scheduled_flow_runs', ['write_workers'], {
      note: 'the poll marks the pool, its queues and deployments ready; a Viewer must not fake worker liveness',
    }),
    route('POST', '/work_pools/{work_pool_name}/queues', ['write_work_queues']),
    route('GET', '/work_pools/{work_pool_name}/queues/{name}', ['see_work_queues']),
    route('POST', '/work_pools/{work_pool_name}/queues/filter', ['see_work_queues']),
    route('PATCH', '/work_pools/{work_pool_name}/queues/{name}', ['write_work_queues']),
    route('DELETE', '/work_pools/{work_pool_name}/queues/{name}', ['manage_work_queues']),
    route('WS', '/work_pools/{work_pool_name}/workers/connect', ['write_workers', 'write_work_pools'], {
      note: 'its hello frame can create the pool or set its base job template; a Worker key is refused and falls back to REST',
    }),
    route('POST', '/work_pools/{work_pool_name}/workers/heartbeat', ['write_workers']),
    route('POST', '/work_pools/{work_pool_name}/workers/filter', ['see_workers']),
    route('DELETE', '/work_pools/{work_pool_name}/workers/{name}', ['manage_workers']),
  ]),

  ...router('task_workers.py', [
    route('POST', '/task_workers/filter', ['see_workers']),
  ]),

  ...router('work_queues.py', [
    route('POST', '/work_queues/', ['write_work_queues']),
    route('PATCH', '/work_queues/{id:uuid}', ['write_work_queues']),
    route('GET', '/work_queues/name/{name}', ['see_work_queues']),
    route('GET', '/work_queues/{id:uuid}', ['see_work_queues']),
    route('POST', '/work_queues/{id:uuid}/get_runs', ['write_workers'], {
      note: 'the poll marks the queue and its deployments ready (unless x-prefect-ui: true is sent)',
    }),
    route('POST', '/work_queues/filter', ['see_work_queues']),
    route('DELETE', '/work_queues/{id:uuid}', ['manage_work_queues']),
    route('POST', '/work_queues/{id:uuid}/concurrency_status', ['see_work_queues', 'see_flows'], { note: 'a POST that only reads; it lists the flow runs holding slots (id, name, state)' }),
    route('GET', '/work_queues/{id:uuid}/status', ['see_work_queues']),
  ]),

  ...router('artifacts.py', [
    route('POST', '/artifacts/', ['write_artifacts']),
    route('GET', '/artifacts/{id:uuid}', ['see_artifacts']),
    route('GET', '/artifacts/{key}/latest', ['see_artifacts']),
    route('POST', '/artifacts/filter', ['see_artifacts']),
    route('POST', '/artifacts/latest/filter', ['see_artifacts']),
    route('POST', '/artifacts/count', ['see_artifacts']),
    route('POST', '/artifacts/latest/count', ['see_artifacts']),
    route('PATCH', '/artifacts/{id:uuid}', ['write_artifacts']),
    route('DELETE', '/artifacts/{id:uuid}', ['manage_artifacts']),
  ]),

  ...router('block_schemas.py', [
    route('POST', '/block_schemas/', ['manage_blocks']),
    route('DELETE', '/block_schemas/{id:uuid}', ['manage_blocks']),
    route('POST', '/block_schemas/filter', ['see_blocks']),
    route('GET', '/block_schemas/{id:uuid}', ['see_blocks']),
    route('GET', '/block_schemas/checksum/{checksum}', ['see_blocks']),
  ]),

  ...router('block_capabilities.py', [
    route('GET', '/block_capabilities/', ['see_blocks']),
  ]),

  ...router('collections.py', [
    route('GET', '/collections/views/{view}', MEMBER, { note: 'static collection-registry data, nothing from the workspace' }),
  ]),

  ...router('variables.py', [
    route('POST', '/variables/', ['write_variables']),
    route('GET', '/variables/{id:uuid}', ['see_variables']),
    route('GET', '/variables/name/{name:str}', ['see_variables']),
    route('POST', '/variables/filter', ['see_variables']),
    route('POST', '/variables/count', ['see_variables']),
    route('PATCH', '/variables/{id:uuid}', ['write_variables']),
    route('PATCH', '/variables/name/{name:str}', ['write_variables']),
    route('DELETE', '/variables/{id:uuid}', ['manage_variables']),
    route('DELETE', '/variables/name/{name:str}', ['manage_variables']),
  ]),

  ...router('csrf_token.py', [
    route('GET', '/csrf-token', MEMBER, { note: 'SERVER-mode clients fetch it before every first write' }),
  ]),

  ...router('events.py', [
    route('POST', '/events', ['manage_events'], { note: "Prefect's events client says emitting needs manage_events" }),
    route('WS', '/events/in', ['manage_events'], { note: "Prefect's events client says emitting needs manage_events" }),
    route('WS', '/events/out', ['see_events']),
    route('POST', '/events/filter', ['see_events']),
    route('GET', '/events/filter/next', ['see_events']),
    route('POST', '/events/count-by/{countable}', ['see_events']),
  ]),

  ...router('automations.py', [
    route('POST', '/automations/', ['manage_automations']),
    route('PUT', '/automations/{id:uuid}', ['manage_automations']),
    route('PATCH', '/automations/{id:uuid}', ['manage_automations']),
    route('DELETE', '/automations/{id:uuid}', ['manage_automations']),
    route('POST', '/automations/filter', ['see_automations']),
    route('POST', '/automations/count', ['see_automations']),
    route('GET', '/automations/{id:uuid}', ['see_automations']),
    route('GET', '/automations/related-to/{resource_id:str}', ['see_automations']),
    route('DELETE', '/automations/owned-by/{resource_id:str}', ['manage_automations'], {
      note: 'sent when a deployment is deleted or its triggers replaced, so deleting such a deployment also needs it',
    }),
  ]),

  // templates.py stacks two decorators on one function; the lower one registers first.
  ...router('templates.py', [
    route('POST', '/templates/validate', ['manage_automations'], { note: 'renders a Jinja template on the server; only automation editors need it' }),
    route('POST', '/automations/templates/validate', ['manage_automations'], { note: 'legacy path of /templates/validate' }),
  ]),

  ...router('ui/flows.py', [
    route('POST', '/ui/flows/count-deployments', ['see_deployments']),
    route('POST', '/ui/flows/next-runs', ['see_flows']),
  ]),

  ...router('ui/flow_runs.py', [
    route('POST', '/ui/flow_runs/history', ['see_flows']),
    route('POST', '/ui/flow_runs/count-task-runs', ['see_flows']),
  ]),

  ...router('ui/schemas.py', [
    route('POST', '/ui/schemas/validate', ['see_variables'], {
      fieldScopes: [{ in: 'body', field: 'schema', when: 'remote_ref', scopes: ['manage_workspace_settings'] }],
      note: 'hydrates the values with every workspace variable and names them in its errors; Prefect releases before PrefectHQ/prefect#22252 fetch remote $refs from the server',
    }),
  ]),

  ...router('ui/task_runs.py', [
    route('POST', '/ui/task_runs/dashboard/counts', ['see_flows']),
    route('POST', '/ui/task_runs/count', ['see_flows']),
    route('GET', '/ui/task_runs/{id:uuid}', ['see_flows']),
  ]),

  ...router('admin.py', [
    route('GET', '/admin/settings', ['manage_workspace_settings'], { note: 'server-wide configuration: Owner only' }),
    route('GET', '/admin/version', MEMBER, { note: 'SERVER-mode clients check the version first' }),
    route('GET', '/admin/storage', ['see_blocks'], {
      note: 'every run process reads it (tolerating a refusal); it reveals only a block id, which needs see_blocks to use',
    }),
    route('PUT', '/admin/storage', ['write_workspace_settings'], { note: "sets the workspace's default result storage" }),
    route('DELETE', '/admin/storage', ['write_workspace_settings'], { note: "clears the workspace's default result storage" }),
  ]),

  ...router('root.py', [
    route('GET', '/hello', MEMBER),
    route('GET', '/ready', MEMBER),
    route('GET', '/pid', ['manage_workspace_settings'], { note: 'operator detail (exists only in test mode)' }),
  ]),

  // Registered by create_app after the routers.
  ...router('server.py create_app', [
    route('GET', '/metrics', ['manage_workspace_settings'], { note: 'server-wide operator detail (only with PREFECT_API_ENABLE_METRICS)' }),
    route('GET', '/static/{path:path}', MEMBER, { note: 'the StaticFiles mount (the Prefect logo)' }),
  ]),
];

// A typo would make a route unreachable for every role but Owner; fail at load instead.
const unknown = unknownScopes(ROUTE_TABLE.flatMap((r) => [...r.scopes, ...(r.fieldScopes ?? []).flatMap((f) => f.scopes)]));
if (unknown.length > 0) throw new Error(`route-table.ts names unknown workspace scopes: ${unknown.join(', ')}`);
