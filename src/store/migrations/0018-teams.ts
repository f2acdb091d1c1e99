// Teams (issue 21, item 2), as Prefect Cloud has them: a named group of an account's users and
// service accounts, granted workspace roles as a whole. A member's scopes in a workspace are the
// union of their own grant's and each of their teams' grants (auth/grants.ts).
import type { Kysely } from 'kysely';
import { actor, createAccountTable, createKeyedTable, indexColumn, ownedBy, required, timestamps, uniqueInAccount } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createAccountTable(db, 'teams')
    .$call(required('text', 'name', 'description'))
    .$call(timestamps)
    .$call(uniqueInAccount('teams', 'name'))
    .execute();

  // One row per member: a user (by their membership in the team's account) or a service account.
  await db.schema
    .createTable('team_members')
    .addColumn('team_id', 'text', ownedBy('teams.id'))
    .$call(actor)
    .addColumn('created', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('team_members_pkey', ['team_id', 'actor_id'])
    .execute();
  await indexColumn(db, 'team_members', 'actor_id');
  await indexColumn(db, 'team_members', 'user_id');
  await indexColumn(db, 'team_members', 'bot_id');

  // A team's grant on a workspace: one per team and workspace.
  await createKeyedTable(db, 'team_access')
    .addColumn('team_id', 'text', ownedBy('teams.id'))
    .addColumn('workspace_id', 'text', ownedBy('workspaces.id'))
    .addColumn('workspace_role_id', 'text', (c) => c.notNull().references('workspace_roles.id'))
    .$call(timestamps)
    .addUniqueConstraint('team_access_team_unique', ['workspace_id', 'team_id'])
    .execute();
  await indexColumn(db, 'team_access', 'team_id');
  await indexColumn(db, 'team_access', 'workspace_role_id');
}
