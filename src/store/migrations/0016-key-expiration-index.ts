// An index on API keys' expiration: the metrics listener counts the keys that expire within 7 and
// 30 days at every scrape (observability/metrics.ts), which without it reads the whole table.
import type { Kysely } from 'kysely';
import { indexColumn } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await indexColumn(db, 'api_keys', 'expiration');
}
