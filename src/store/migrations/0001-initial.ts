// The initial schema. Written with Kysely's schema builder only, so it runs unchanged on both dialects.
import { sql, type Kysely } from 'kysely';
import {
  account,
  actor,
  createAccountTable,
  createKeyedTable,
  createRoleTable,
  optional,
  ownedBy,
  required,
  timestamps,
  uniqueInAccount,
} from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createKeyedTable(db, 'accounts')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('handle', 'text', (c) => c.notNull().unique())
    .$call(optional('text', 'location', 'link', 'image_location', 'billing_email'))
    .addColumn('auth_expiration_seconds', 'integer')
    .addColumn('settings', 'text', (c) => c.notNull())
    .$call(timestamps)
    .execute();

  await createKeyedTable(db, 'users')
    .addColumn('actor_id', 'text', (c) => c.notNull().unique())
    .addColumn('handle', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .$call(required('text', 'first_name', 'last_name'))
    .$call(optional('text', 'location', 'title', 'image_location'))
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('last_login', 'text')
    .$call(timestamps)
    .execute();

  await createKeyedTable(db, 'bots')
    .addColumn('actor_id', 'text', (c) => c.notNull().unique())
    .$call(account)
    .addColumn('name', 'text', (c) => c.notNull())
    .$call(timestamps)
    .$call(uniqueInAccount('bots', 'name'))
    .execute();

  await createKeyedTable(db, 'api_keys')
    .$call(actor)
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('masked_key', 'text', (c) => c.notNull())
    .addColumn('expiration', 'text')
    .addColumn('is_active', 'integer', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('api_keys_user_idx').on('api_keys').column('user_id').execute();
  await db.schema.createIndex('api_keys_bot_idx').on('api_keys').column('bot_id').execute();
  // At most one current key per service account, whatever the interleaving of rotations.
  await db.schema
    .createIndex('api_keys_one_active_per_bot')
    .on('api_keys')
    .column('bot_id')
    .unique()
    .where(sql<boolean>`is_active = 1 and bot_id is not null`)
    .execute();

  await createRoleTable(db, 'account_roles')
    .$call(required('text', 'name', 'permissions'))
    .addColumn('is_system_role', 'integer', (c) => c.notNull())
    .$call(timestamps)
    .execute();

  await createAccountTable(db, 'account_memberships')
    .$call(actor)
    .addColumn('account_role_id', 'text', (c) => c.notNull().references('account_roles.id'))
    .$call(timestamps)
    .addUniqueConstraint('account_memberships_actor_unique', ['account_id', 'actor_id'])
    .execute();

  await createRoleTable(db, 'workspace_roles')
    .$call(required('text', 'name', 'description', 'scopes'))
    .addColumn('inherited_role_id', 'text', (c) => c.references('workspace_roles.id'))
    .$call(timestamps)
    .$call(uniqueInAccount('workspace_roles', 'name'))
    .execute();

  await createAccountTable(db, 'workspaces')
    .$call(required('text', 'name', 'handle', 'description'))
    .addColumn('default_workspace_role_id', 'text', (c) => c.references('workspace_roles.id'))
    .addColumn('is_public', 'integer', (c) => c.notNull())
    .$call(timestamps)
    .$call(uniqueInAccount('workspaces', 'handle'))
    .$call(uniqueInAccount('workspaces', 'name'))
    .execute();

  await createKeyedTable(db, 'workspace_access')
    .addColumn('workspace_id', 'text', ownedBy('workspaces.id'))
    .$call(actor)
    .addColumn('workspace_role_id', 'text', (c) => c.notNull().references('workspace_roles.id'))
    .$call(timestamps)
    .addUniqueConstraint('workspace_access_actor_unique', ['workspace_id', 'actor_id'])
    .execute();
  await db.schema.createIndex('workspace_access_actor_idx').on('workspace_access').column('actor_id').execute();

  await createKeyedTable(db, 'audit_events')
    .$call(optional('text', 'account_id', 'workspace_id', 'actor_id'))
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_name', 'text')
    .$call(required('text', 'action', 'target_type'))
    .$call(optional('text', 'target_id', 'request_id'))
    .$call(required('text', 'details', 'occurred'))
    .execute();
  await db.schema
    .createIndex('audit_events_account_time_idx')
    .on('audit_events')
    .columns(['account_id', 'occurred'])
    .execute();
}
