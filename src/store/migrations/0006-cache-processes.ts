// SQLite, several processes on one file (cache/coherence.ts): one row per process that answers from
// its cache between looks at `PRAGMA data_version`, with how long it may go between looks. A write
// that invalidates waits that long when such another process exists, so a revoking call still
// returns only once no process can use what it revoked. `host` names the machine and PID namespace,
// so a row left by a process that died can be recognised and removed. Unused on PostgreSQL.
import type { Kysely } from 'kysely';
import { id } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cache_processes')
    .$call(id)
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('window_ms', 'integer', (c) => c.notNull())
    .execute();
}
