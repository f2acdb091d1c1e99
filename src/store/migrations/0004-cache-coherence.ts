// Bookkeeping for the authentication cache's coherence across processes (cache/pg-coherence.ts):
// one row per live process with its lease and the last invalidation it has acknowledged, and one
// counter that every invalidating write advances.
import type { Kysely } from 'kysely';
import { createKeyedTable, required } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createKeyedTable(db, 'cache_nodes')
    .$call(required('bigint', 'lease_until', 'seen_seq'))
    .execute();
  await db.schema
    .createTable('cache_epoch')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .execute();
  await (db as Kysely<{ cache_epoch: { id: number; seq: number } }>).insertInto('cache_epoch').values({ id: 1, seq: 0 }).execute();
}
