// Leak reports (issue 19 item 4): where a secret-scanning partner last found a key (when, the public
// URL, the source it names), kept on the key so that every list shows it without a join; and what an
// account does with a found key (`disable` at once, the default, or `flag` it and leave it working).
import type { Kysely } from 'kysely';
import { addOptionalColumns } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await addOptionalColumns(db, 'api_keys', 'text', ['leak_reported_at', 'leak_url', 'leak_source']);
  await db.schema
    .alterTable('account_key_policies')
    .addColumn('leaked_key_action', 'text', (c) => c.notNull().defaultTo('disable'))
    .execute();
}
