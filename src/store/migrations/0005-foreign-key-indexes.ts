// An index on every foreign-key column that had none. Deleting a service account, a user or a role
// makes the database find the rows that point at it (to cascade, or to refuse); without an index
// that is a scan of the whole table, so removing one of a million service accounts read a million
// memberships.
import type { Kysely } from 'kysely';
import { indexColumn } from './columns.js';

const INDEXES: [table: string, column: string][] = [
  ['account_roles', 'account_id'],
  ['account_memberships', 'bot_id'],
  ['account_memberships', 'user_id'],
  ['account_memberships', 'account_role_id'],
  ['workspace_access', 'bot_id'],
  ['workspace_access', 'user_id'],
  ['workspace_access', 'workspace_role_id'],
  ['workspace_roles', 'inherited_role_id'],
  ['workspaces', 'default_workspace_role_id'],
  ['invitations', 'account_role_id'],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [table, column] of INDEXES) {
    await indexColumn(db, table, column);
  }
}
