// Account key policies (issue 19, item 2): one optional row per account with the limits its
// service-account keys must keep. No row means no limits (the behaviour before the policy existed).
import type { Kysely } from 'kysely';
import { onePer, optional } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('account_key_policies')
    .addColumn('account_id', 'text', onePer('accounts.id'))
    .addColumn('max_key_lifetime_days', 'integer')
    .addColumn('allow_never_expire', 'integer', (c) => c.notNull().defaultTo(1))
    .$call(optional('integer', 'max_rotation_grace_seconds', 'disable_keys_unused_days'))
    .addColumn('updated', 'text', (c) => c.notNull())
    .execute();
}
