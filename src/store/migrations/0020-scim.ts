// SCIM 2.0 provisioning (issue 21, item 3): an account's SCIM bearer tokens (only their SHA-256
// digest is kept) and what the identity provider said about each person it provisioned: its own id
// for them (externalId) and whether it wants them active. A person deprovisioned (active false)
// keeps their row here after their membership is gone, so the provider can still read and
// reactivate them. A SCIM Group is one of the account's teams; scim_groups keeps its externalId.
import type { Kysely } from 'kysely';
import { account, createAccountTable, indexColumn, onePer, optional, ownedBy, required, timestamps } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createAccountTable(db, 'scim_tokens')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .$call(required('text', 'masked_token', 'created', 'created_by'))
    .$call(optional('text', 'last_used_at', 'last_used_from'))
    .execute();
  await indexColumn(db, 'scim_tokens', 'account_id');
  await db.schema
    .createTable('scim_users')
    .$call(account)
    .addColumn('user_id', 'text', ownedBy('users.id'))
    .$call(optional('text', 'external_id', 'user_name'))
    .addColumn('active', 'integer', (c) => c.notNull())
    .$call(timestamps)
    .addPrimaryKeyConstraint('scim_users_pkey', ['account_id', 'user_id'])
    .execute();
  await indexColumn(db, 'scim_users', 'user_id');
  await db.schema.createIndex('scim_users_external_id_idx').on('scim_users').columns(['account_id', 'external_id']).unique().execute();
  // A SCIM Group is a team (migration 0018): the provider's own id for it, when it gave one.
  await db.schema
    .createTable('scim_groups')
    .addColumn('team_id', 'text', onePer('teams.id'))
    .$call(account)
    .addColumn('external_id', 'text')
    .$call(timestamps)
    .execute();
  await db.schema.createIndex('scim_groups_external_id_idx').on('scim_groups').columns(['account_id', 'external_id']).unique().execute();
}
