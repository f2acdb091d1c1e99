// Workspace scopes as data (the `GET /api/workspace_scopes` catalogue) and their see → run → write → manage closure.

// Exactly the wire shape of one item of Prefect Cloud's `GET /api/workspace_scopes`.
export interface WorkspaceScopeInfo {
  name: string;
  title: string;
  feature_group: string;
  includes_scopes: string[];
  see_scope: string | null;
}

// A plain string: role payloads arrive from clients (Terraform, the UI) as strings, and the
// catalogue below is the single authority on which strings are valid.
export type WorkspaceScope = string;

// Compact row builder; keeps the table below one scope per line.
function scope(
  name: string,
  title: string,
  feature_group: string,
  includes_scopes: string[],
  see_scope: string | null,
): WorkspaceScopeInfo {
  return { name, title, feature_group, includes_scopes, see_scope };
}

// Conventions, because Prefect publishes the names (61, from the Cloud OpenAPI spec) but not the
// relations:
// - `includes_scopes` lists every lower scope of the same family (see < run < write < manage),
//   as the docs' custom-role table does ("Delete deployments" includes all three below it).
//   Prefect's docs and the Terraform provider both say granting a higher scope grants these.
// - `see_scope` is the family's base `see_*` scope, and that base scope names itself (not null),
//   so "can this role see the feature?" is always `see_scope !== null && scopes.has(see_scope)`.
//   `see_secret_blocks` is a rung above `see_blocks`, so it names `see_blocks`. Families with no
//   `see_*` scope at all (teams, ACLs, managed execution) have null.
// - Order follows the 2024 Prefect UI listing (by feature, then lowest to highest) so this file
//   reads like the role editor; callers that need name order sort.
export const WORKSPACE_SCOPES: readonly WorkspaceScopeInfo[] = [
  // Flows. run_flows includes run_tasks because a flow run records its subflow task runs through
  // the same key; a key that could run flows but not their tasks would fail mid-run.
  scope('see_flows', 'View flows and flow runs', 'Flows', [], 'see_flows'),
  scope('manage_saved_search', 'Create, update, and delete saved search filters', 'Flows', ['see_flows'], 'see_flows'),
  scope('run_tasks', 'Create and update task runs', 'Flows', ['see_flows'], 'see_flows'),
  scope('run_flows', 'Create, update, and run flows', 'Flows', ['run_tasks', 'see_flows'], 'see_flows'),
  scope('manage_flows', 'Delete flows and flow runs', 'Flows', ['run_flows', 'run_tasks', 'see_flows'], 'see_flows'),

  // Blocks. Secret values are a separate rung so that a role can use blocks without reading keys.
  scope('see_blocks', 'View blocks', 'Blocks', [], 'see_blocks'),
  scope('see_secret_blocks', 'View secret block data', 'Blocks', ['see_blocks'], 'see_blocks'),
  scope('manage_blocks', 'Create, edit, and delete blocks', 'Blocks', ['see_blocks', 'see_secret_blocks'], 'see_blocks'),

  // Deployments.
  scope('see_deployments', 'View deployments', 'Deployments', [], 'see_deployments'),
  scope('run_deployments', 'Run deployments', 'Deployments', ['see_deployments'], 'see_deployments'),
  scope('write_deployments', 'Create and edit deployments', 'Deployments', ['run_deployments', 'see_deployments'], 'see_deployments'),
  scope('manage_deployments', 'Delete deployments', 'Deployments', ['run_deployments', 'see_deployments', 'write_deployments'], 'see_deployments'),

  // Notifications (Prefect 3 replaced notification policies with automations; kept for Cloud parity).
  scope('see_notifications', 'View notification policies', 'Notifications', [], 'see_notifications'),
  scope('write_notifications', 'Create and edit notification policies', 'Notifications', ['see_notifications'], 'see_notifications'),
  scope('manage_notifications', 'Delete notification policies', 'Notifications', ['see_notifications', 'write_notifications'], 'see_notifications'),

  // Workspace management: settings, and who has access.
  scope('see_workspace_settings', 'View workspace settings', 'Workspace management', [], 'see_workspace_settings'),
  scope('write_workspace_settings', 'Edit workspace settings', 'Workspace management', ['see_workspace_settings'], 'see_workspace_settings'),
  scope('manage_workspace_settings', 'Manage workspace settings and delete the workspace', 'Workspace management', ['see_workspace_settings', 'write_workspace_settings'], 'see_workspace_settings'),
  scope('see_workspace_users', 'View information about workspace users', 'Workspace management', [], 'see_workspace_users'),
  scope('manage_workspace_users', 'Add and remove workspace users and set their roles', 'Workspace management', ['see_workspace_users'], 'see_workspace_users'),
  scope('see_workspace_service_accounts', 'View information about workspace service accounts', 'Workspace management', [], 'see_workspace_service_accounts'),
  scope('manage_workspace_service_accounts', 'Add and remove workspace service accounts and set their roles', 'Workspace management', ['see_workspace_service_accounts'], 'see_workspace_service_accounts'),
  // No see_workspace_teams exists; granting team access implies nothing else by itself.
  scope('manage_workspace_teams', 'Add and remove workspace teams and set their roles', 'Workspace management', [], null),

  // Work queues.
  scope('see_work_queues', 'View work queues', 'Work queues', [], 'see_work_queues'),
  scope('write_work_queues', 'Create, edit, and pause work queues', 'Work queues', ['see_work_queues'], 'see_work_queues'),
  scope('manage_work_queues', 'Delete work queues', 'Work queues', ['see_work_queues', 'write_work_queues'], 'see_work_queues'),

  // Concurrency limits (task-run tag limits and global limits).
  scope('see_concurrency_limits', 'View concurrency limits', 'Concurrency limits', [], 'see_concurrency_limits'),
  scope('manage_concurrency_limits', 'Create, edit, and delete concurrency limits', 'Concurrency limits', ['see_concurrency_limits'], 'see_concurrency_limits'),

  // Events. Emitting needs manage_events (Prefect's own events client docstring says so).
  scope('see_events', 'View events', 'Events', [], 'see_events'),
  scope('manage_events', 'Emit events', 'Events', ['see_events'], 'see_events'),
  scope('see_event_publications', 'View event publications', 'Events', [], 'see_event_publications'),
  scope('manage_event_publications', 'Create, edit, and delete event publications', 'Events', ['see_event_publications'], 'see_event_publications'),
  scope('see_event_subscriptions', 'View event subscriptions', 'Events', [], 'see_event_subscriptions'),
  scope('manage_event_subscriptions', 'Create, edit, and delete event subscriptions', 'Events', ['see_event_subscriptions'], 'see_event_subscriptions'),

  // Automations.
  scope('see_automations', 'View automations', 'Automations', [], 'see_automations'),
  scope('manage_automations', 'Create, edit, and delete automations', 'Automations', ['see_automations'], 'see_automations'),

  // Work pools.
  scope('see_work_pools', 'View work pools', 'Work pools', [], 'see_work_pools'),
  scope('write_work_pools', 'Create, edit, and pause work pools', 'Work pools', ['see_work_pools'], 'see_work_pools'),
  scope('manage_work_pools', 'Delete work pools', 'Work pools', ['see_work_pools', 'write_work_pools'], 'see_work_pools'),

  // Workers. write_workers is what a polling worker holds: polls and heartbeats mark pools healthy.
  scope('see_workers', 'View workers', 'Workers', [], 'see_workers'),
  scope('write_workers', 'Poll for work and send worker heartbeats', 'Workers', ['see_workers'], 'see_workers'),
  scope('manage_workers', 'Delete workers', 'Workers', ['see_workers', 'write_workers'], 'see_workers'),

  // Artifacts.
  scope('see_artifacts', 'View artifacts', 'Artifacts', [], 'see_artifacts'),
  scope('write_artifacts', 'Create and edit artifacts', 'Artifacts', ['see_artifacts'], 'see_artifacts'),
  scope('manage_artifacts', 'Delete artifacts', 'Artifacts', ['see_artifacts', 'write_artifacts'], 'see_artifacts'),

  // Variables.
  scope('see_variables', 'View variables', 'Variables', [], 'see_variables'),
  scope('write_variables', 'Create and edit variables', 'Variables', ['see_variables'], 'see_variables'),
  scope('manage_variables', 'Delete variables', 'Variables', ['see_variables', 'write_variables'], 'see_variables'),

  // Object-level access control lists (Cloud Enterprise); no see_* counterpart exists.
  scope('manage_acls', 'Manage object-level access control lists', 'Access control', [], null),

  // Incidents.
  scope('see_incidents', 'View incidents', 'Incidents', [], 'see_incidents'),
  scope('write_incidents', 'Create and edit incidents', 'Incidents', ['see_incidents'], 'see_incidents'),
  scope('manage_incidents', 'Delete incidents', 'Incidents', ['see_incidents', 'write_incidents'], 'see_incidents'),

  // Assets.
  scope('see_assets', 'View assets', 'Assets', [], 'see_assets'),
  scope('write_assets', 'Create and edit assets', 'Assets', ['see_assets'], 'see_assets'),
  scope('manage_assets', 'Delete assets', 'Assets', ['see_assets', 'write_assets'], 'see_assets'),

  // Tags.
  scope('see_tags', 'View tags', 'Tags', [], 'see_tags'),
  scope('manage_tags', 'Create, edit, and delete tags', 'Tags', ['see_tags'], 'see_tags'),

  // Webhooks.
  scope('see_webhooks', 'View webhooks', 'Webhooks', [], 'see_webhooks'),
  scope('manage_webhooks', 'Create, edit, and delete webhooks', 'Webhooks', ['see_webhooks'], 'see_webhooks'),

  // Prefect-managed execution (Cloud only); no see_* counterpart exists.
  scope('manage_mex_deploy', 'Deploy to Prefect-managed work pools', 'Managed execution', [], null),
  scope('manage_mex_storage', 'Manage Prefect-managed code storage', 'Managed execution', [], null),
];

export const WORKSPACE_SCOPE_NAMES: ReadonlySet<string> = new Set(WORKSPACE_SCOPES.map((s) => s.name));

const INCLUDES: ReadonlyMap<string, readonly string[]> = new Map(
  WORKSPACE_SCOPES.map((s) => [s.name, s.includes_scopes]),
);

// Unknown names are dropped rather than thrown on so that this stays total; validating input
// (and answering 422) is the caller's job, with unknownScopes().
export function expandScopes(scopes: Iterable<string>): string[] {
  const seen = new Set<string>();
  const stack = [...scopes].filter((s) => WORKSPACE_SCOPE_NAMES.has(s));
  for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
    if (seen.has(name)) continue; // also what keeps a (test-forbidden) cycle from looping forever
    seen.add(name);
    for (const inc of INCLUDES.get(name) ?? []) stack.push(inc);
  }
  return [...seen].sort();
}

export function unknownScopes(scopes: Iterable<string>): string[] {
  return [...new Set([...scopes].filter((s) => !WORKSPACE_SCOPE_NAMES.has(s)))].sort();
}
