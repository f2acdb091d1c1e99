// SQLite, several processes on one file (cache/coherence.ts): one row per process that answers from
// its cache between looks at `PRAGMA data_version`, with how long it may go between looks. A write
// that invalidates waits that long when such another process exists, so a revoking call still
// returns only once no process can use what it revoked. `host` names the machine and PID namespace,
// so a row left by a process that died can be recognised and removed. Unused on PostgreSQL.
import type { Kysely } from 'kysely';
import { createKeyedTable, required } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createKeyedTable(db, 'cache_processes')
    .addColumn('host', 'text', (c) => c.notNull())
    .$call(required('integer', 'pid', 'window_ms'))
    .execute();
}
