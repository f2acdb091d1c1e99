// The initial schema. Written with Kysely's schema builder only, so it runs unchanged on both dialects.
import { sql, type Kysely } from 'kysely';
import { account, actor, createAccountTable, id, optionallyOwnedBy, ownedBy, timestamps } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .$call(id)
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('handle', 'text', (c) => c.notNull().unique())
    .addColumn('location', 'text')
    .addColumn('link', 'text')
    .addColumn('image_location', 'text')
    .addColumn('billing_email', 'text')
    .addColumn('auth_expiration_seconds', 'integer')
    .addColumn('settings', 'text', (c) => c.notNull())
    .$call(timestamps)
    .execute();

  await db.schema
    .createTable('users')
    .$call(id)
    .addColumn('actor_id', 'text', (c) => c.notNull().unique())
    .addColumn('handle', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('location', 'text')
    .addColumn('title', 'text')
    .addColumn('image_location', 'text')
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('last_login', 'text')
    .$call(timestamps)
    .execute();

  await db.schema
    .createTable('bots')
    .$call(id)
    .addColumn('actor_id', 'text', (c) => c.notNull().unique())
    .$call(account)
    .addColumn('name', 'text', (c) => c.notNull())
    .$call(timestamps)
    .addUniqueConstraint('bots_account_name_unique', ['account_id', 'name'])
    .execute();

  await db.schema
    .createTable('api_keys')
    .$call(id)
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

  await db.schema
    .createTable('account_roles')
    .$call(id)
    .addColumn('account_id', 'text', optionallyOwnedBy('accounts.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addColumn('is_system_role', 'integer', (c) => c.notNull())
    .$call(timestamps)
    .execute();

  await createAccountTable(db, 'account_memberships')
    .$call(actor)
    .addColumn('account_role_id', 'text', (c) => c.notNull().references('account_roles.id'))
    .$call(timestamps)
    .addUniqueConstraint('account_memberships_actor_unique', ['account_id', 'actor_id'])
    .execute();

  await db.schema
    .createTable('workspace_roles')
    .$call(id)
    .addColumn('account_id', 'text', optionallyOwnedBy('accounts.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('inherited_role_id', 'text', (c) => c.references('workspace_roles.id'))
    .$call(timestamps)
    .addUniqueConstraint('workspace_roles_account_name_unique', ['account_id', 'name'])
    .execute();

  await createAccountTable(db, 'workspaces')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('handle', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('default_workspace_role_id', 'text', (c) => c.references('workspace_roles.id'))
    .addColumn('is_public', 'integer', (c) => c.notNull())
    .$call(timestamps)
    .addUniqueConstraint('workspaces_account_handle_unique', ['account_id', 'handle'])
    .addUniqueConstraint('workspaces_account_name_unique', ['account_id', 'name'])
    .execute();

  await db.schema
    .createTable('workspace_access')
    .$call(id)
    .addColumn('workspace_id', 'text', ownedBy('workspaces.id'))
    .$call(actor)
    .addColumn('workspace_role_id', 'text', (c) => c.notNull().references('workspace_roles.id'))
    .$call(timestamps)
    .addUniqueConstraint('workspace_access_actor_unique', ['workspace_id', 'actor_id'])
    .execute();
  await db.schema.createIndex('workspace_access_actor_idx').on('workspace_access').column('actor_id').execute();

  await db.schema
    .createTable('audit_events')
    .$call(id)
    .addColumn('account_id', 'text')
    .addColumn('workspace_id', 'text')
    .addColumn('actor_id', 'text')
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_name', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    .addColumn('request_id', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('occurred', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_events_account_time_idx')
    .on('audit_events')
    .columns(['account_id', 'occurred'])
    .execute();
}
