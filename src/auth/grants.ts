// What an actor holds in an account and in a workspace, read from the store: the inputs
// authz/evaluate() decides on. Only the auth core (core.ts) calls these, through its cache.
import { parseJsonColumn } from '../store/json-column.js';
import type { Executor } from '../store/store.js';
import { effectiveScopes } from '../domain/roles/service.js';
import { ACTS_AS_WORKSPACE_OWNER } from '../authz/permissions.js';
import { WORKSPACE_SCOPES } from '../authz/scopes.js';

const ALL_SCOPES: ReadonlySet<string> = new Set(WORKSPACE_SCOPES.map((s) => s.name));

export interface AccountGrant {
  membershipId: string;
  roleId: string;
  roleName: string;
  permissions: ReadonlySet<string>;
}

export async function loadAccountGrant(db: Executor, accountId: string, actorId: string): Promise<AccountGrant | null> {
  const row = await db
    .selectFrom('account_memberships as m')
    .innerJoin('account_roles as r', 'r.id', 'm.account_role_id')
    .select(['m.id as membership_id', 'r.id as role_id', 'r.name as role_name', 'r.permissions'])
    .where('m.account_id', '=', accountId)
    .where('m.actor_id', '=', actorId)
    .executeTakeFirst();
  if (!row) return null;
  return {
    membershipId: row.membership_id,
    roleId: row.role_id,
    roleName: row.role_name,
    permissions: new Set(parseJsonColumn<string[]>(row.permissions, [])),
  };
}

/** The actor's scopes in a workspace of `accountId`, or null when it has no access (or no such workspace). */
export async function loadWorkspaceScopes(
  db: Executor,
  accountId: string,
  workspaceId: string,
  actorId: string,
  account: AccountGrant,
): Promise<ReadonlySet<string> | null> {
  if (account.permissions.has(ACTS_AS_WORKSPACE_OWNER)) {
    return (await loadWorkspaceAccount(db, workspaceId)) === accountId ? ALL_SCOPES : null;
  }
  // The union of the actor's own grant and each grant of a team it is a member of (domain/teams).
  const own = db
    .selectFrom('workspace_access as a')
    .innerJoin('workspaces as w', 'w.id', 'a.workspace_id')
    .innerJoin('workspace_roles as r', 'r.id', 'a.workspace_role_id')
    .selectAll('r')
    .where('a.workspace_id', '=', workspaceId)
    .where('a.actor_id', '=', actorId)
    .where('w.account_id', '=', accountId);
  const viaTeams = db
    .selectFrom('team_access as a')
    .innerJoin('team_members as m', 'm.team_id', 'a.team_id')
    .innerJoin('teams as t', 't.id', 'a.team_id')
    .innerJoin('workspace_roles as r', 'r.id', 'a.workspace_role_id')
    .selectAll('r')
    .where('a.workspace_id', '=', workspaceId)
    .where('m.actor_id', '=', actorId)
    .where('t.account_id', '=', accountId);
  const roles = await own.union(viaTeams).execute();
  if (!roles.length) return null;
  const scopes = new Set<string>();
  for (const role of roles) for (const scope of await effectiveScopes(db, role)) scopes.add(scope);
  return scopes;
}

/** The account a workspace belongs to, or null. */
export async function loadWorkspaceAccount(db: Executor, workspaceId: string): Promise<string | null> {
  const row = await db.selectFrom('workspaces').select('account_id').where('id', '=', workspaceId).executeTakeFirst();
  return row?.account_id ?? null;
}
