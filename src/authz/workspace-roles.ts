// The five built-in workspace roles (Owner, Developer, Runner, Viewer, Worker) with their expanded scope sets.

import { WORKSPACE_SCOPE_NAMES, expandScopes, unknownScopes } from './scopes.js';

// Fixed ids so every install and every test names the built-ins identically; Prefect Cloud's
// built-ins are likewise shared by all accounts (`account_id: null`).
export const WORKSPACE_ROLE_IDS = {
  Owner: 'b0000000-0000-4000-8000-000000000001',
  Developer: 'b0000000-0000-4000-8000-000000000002',
  Runner: 'b0000000-0000-4000-8000-000000000003',
  Viewer: 'b0000000-0000-4000-8000-000000000004',
  Worker: 'b0000000-0000-4000-8000-000000000005',
} as const;

export interface BuiltinWorkspaceRole {
  id: string;
  name: string;
  description: string;
  scopes: readonly string[];
}

// Roles are written as the highest scopes they grant and stored expanded, because that is what
// Prefect Cloud returns for a role (the Terraform provider reads back the expanded set).
function role(id: string, name: string, description: string, grants: readonly string[]): BuiltinWorkspaceRole {
  const unknown = unknownScopes(grants);
  // expandScopes drops unknown names, so a typo here would silently remove access; fail at load.
  if (unknown.length > 0) throw new Error(`built-in role ${name} names unknown scopes: ${unknown.join(', ')}`);
  return { id, name, description, scopes: expandScopes(grants) };
}

// Prefect publishes only the prose role table, not the role → scope mapping; docs/roles.md gives
// the reason for every choice below.

// Viewer: the docs list flow runs, deployments, work pools, blocks and automations; the other
// see_* scopes are the same kind of read-only run data shown on those pages. Left out: secret
// block values (docs), webhooks (their URL is a credential), workspace settings and who has
// access (docs give those to Developer), and the undocumented event publications/subscriptions.
const VIEWER_GRANTS = [
  'see_flows',
  'see_deployments',
  'see_work_pools',
  'see_work_queues',
  'see_workers',
  'see_blocks',
  'see_automations',
  'see_artifacts',
  'see_variables',
  'see_concurrency_limits',
  'see_events',
  'see_notifications',
  'see_tags',
  'see_assets',
  'see_incidents',
] as const;

// Runner: "Viewer + run deployments" (docs), nothing else.
const RUNNER_GRANTS = [...VIEWER_GRANTS, 'run_deployments'] as const;

// Developer: builds and operates everything in the workspace, but does not govern it: no editing
// workspace settings, no managing who has access, no ACLs, and none of the undocumented event
// streaming or managed-execution storage scopes (those stay with Owner until documented).
const DEVELOPER_GRANTS = [
  ...RUNNER_GRANTS,
  'manage_flows', // "run flows" and "delete flow runs"; deletion sits with manage_flows
  'manage_saved_search',
  'manage_deployments',
  'manage_work_pools',
  'manage_work_queues', // queues live inside the pools a Developer creates and deletes
  'manage_workers', // clearing stale worker records is part of running pools
  'manage_blocks', // "all blocks and their secrets"
  'manage_automations',
  'manage_webhooks', // webhooks exist to trigger the automations a Developer writes
  'manage_variables',
  'manage_artifacts',
  'manage_concurrency_limits',
  'manage_events',
  'manage_notifications',
  'manage_tags',
  'manage_assets',
  'manage_incidents',
  'manage_mex_deploy', // creating deployments on a managed pool is still creating deployments
  'see_workspace_settings', // "view all workspace settings"
  'see_workspace_users',
  'see_workspace_service_accounts',
] as const;

// Worker: the requests `prefect worker start` and the flow-run processes it launches send with the
// same key (docs/worker-requests.md). Deliberately absent: see_secret_blocks,
// any deployment/pool/variable/block/automation write, run_deployments and manage_flows.
const WORKER_GRANTS = [
  'see_work_pools', // read its pool (paused? type? base job template)
  'see_work_queues', // check whether its queues are paused; events name the queue
  'write_workers', // poll get_scheduled_flow_runs and send heartbeats (includes see_workers)
  'see_deployments', // check the deployment still exists and build the job from it
  'run_flows', // set flow-run state, labels, infrastructure_pid, logs, concurrency slots (includes run_tasks, see_flows)
  'manage_events', // emit worker and task-run events over events/in (includes see_events for cancellation)
  'see_blocks', // non-secret block reads and GET /admin/storage
  'see_variables', // {{ prefect.variables.* }} in job templates and pull steps
  'write_artifacts', // flows create artifacts with the key they inherit from the worker
  'see_concurrency_limits', // flows read the limits whose slots they take
] as const;

export const BUILTIN_WORKSPACE_ROLES: readonly BuiltinWorkspaceRole[] = [
  role(
    WORKSPACE_ROLE_IDS.Owner,
    'Owner',
    'Full control of the workspace: everything a Developer can do, plus managing workspace access, roles and settings.',
    [...WORKSPACE_SCOPE_NAMES],
  ),
  role(
    WORKSPACE_ROLE_IDS.Developer,
    'Developer',
    'Run flows; create, edit and delete deployments, work pools, blocks and their secrets, automations, variables and artifacts; view workspace settings.',
    DEVELOPER_GRANTS,
  ),
  role(
    WORKSPACE_ROLE_IDS.Runner,
    'Runner',
    'Everything a Viewer can do, plus running deployments.',
    RUNNER_GRANTS,
  ),
  role(
    WORKSPACE_ROLE_IDS.Viewer,
    'Viewer',
    'View flow runs, deployments, work pools, blocks (not secret values), automations and other workspace objects.',
    VIEWER_GRANTS,
  ),
  role(
    WORKSPACE_ROLE_IDS.Worker,
    'Worker',
    'The minimum scopes required for a worker to poll for and submit work.',
    WORKER_GRANTS,
  ),
];
