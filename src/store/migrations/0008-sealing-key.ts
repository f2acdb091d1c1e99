// Which secret key seals this database's upstream credentials (its id, never the key), so that a
// process started with another key refuses to start instead of answering 502 to every proxied
// request. One row; a rotation moves it to the new key (domain/gateways/service.ts).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sealing_key')
    .addColumn('slot', 'text', (c) => c.primaryKey())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .execute();
}
