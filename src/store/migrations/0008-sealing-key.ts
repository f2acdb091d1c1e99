// Which secret key seals this database's upstream credentials (its id, never the key), so that a
// process started with another key refuses to start instead of answering 502 to every proxied
// request. One row; a rotation moves it to the new key (domain/gateways/service.ts).
import type { Kysely } from 'kysely';
import { createKeyedTable, required } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createKeyedTable(db, 'sealing_key', 'slot')
    .$call(required('text', 'key_id', 'updated'))
    .execute();
}
