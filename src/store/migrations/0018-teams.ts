// Teams (issue 21, item 2), as Prefect Cloud has them: a named group of an account's users and
// service accounts, granted workspace roles as a whole. A member's scopes in a workspace are the
// union of their own grant's and each of their teams' grants (auth/grants.ts).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('teams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .addUniqueConstraint('teams_account_name_unique', ['account_id', 'name'])
    .execute();

  // One row per member: a user (by their membership in the team's account) or a service account.
  await db.schema
    .createTable('team_members')
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('bot_id', 'text', (c) => c.references('bots.id').onDelete('cascade'))
    .addColumn('created', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('team_members_pkey', ['team_id', 'actor_id'])
    .execute();
  await db.schema.createIndex('team_members_actor_id_idx').on('team_members').column('actor_id').execute();
  await db.schema.createIndex('team_members_user_id_idx').on('team_members').column('user_id').execute();
  await db.schema.createIndex('team_members_bot_id_idx').on('team_members').column('bot_id').execute();

  // A team's grant on a workspace: one per team and workspace.
  await db.schema
    .createTable('team_access')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('workspace_role_id', 'text', (c) => c.notNull().references('workspace_roles.id'))
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .addUniqueConstraint('team_access_team_unique', ['workspace_id', 'team_id'])
    .execute();
  await db.schema.createIndex('team_access_team_id_idx').on('team_access').column('team_id').execute();
  await db.schema.createIndex('team_access_workspace_role_id_idx').on('team_access').column('workspace_role_id').execute();
}
