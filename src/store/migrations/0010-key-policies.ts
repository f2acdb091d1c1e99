// Account key policies (issue 19, item 2): one optional row per account with the limits its
// service-account keys must keep. No row means no limits (the behaviour before the policy existed).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('account_key_policies')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('max_key_lifetime_days', 'integer')
    .addColumn('allow_never_expire', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('max_rotation_grace_seconds', 'integer')
    .addColumn('disable_keys_unused_days', 'integer')
    .addColumn('updated', 'text', (c) => c.notNull())
    .execute();
}
