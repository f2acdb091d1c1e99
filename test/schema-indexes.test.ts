// Every foreign-key column leads some index. Deleting a row makes the database look up the rows
// that point at it (to cascade or to refuse); without an index that is a scan of the whole table,
// and removing one of a million service accounts would read every membership.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freshStore, STORE_KIND, type StoreHandle } from './support/harness.js';
import { migrate } from '../src/store/migrate.js';

let handle: StoreHandle;
beforeAll(async () => {
  handle = await freshStore();
  await migrate(handle.store);
});
afterAll(() => handle.dispose());

async function unindexedForeignKeys(): Promise<string[]> {
  const db = handle.store.db;
  if (STORE_KIND === 'sqlite') {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db);
    const missing: string[] = [];
    for (const { name } of tables.rows) {
      const keys = await sql<{ from: string }>`select "from" from pragma_foreign_key_list(${name})`.execute(db);
      const leading = await sql<{ column: string }>`
        select (select ii.name from pragma_index_info(il.name) ii where ii.seqno = 0) as "column"
        from pragma_index_list(${name}) il`.execute(db);
      const indexed = new Set(leading.rows.map((row) => row.column));
      for (const key of keys.rows) if (!indexed.has(key.from)) missing.push(`${name}.${key.from}`);
    }
    return missing;
  }
  const rows = await sql<{ key: string }>`
    select c.conrelid::regclass::text || '.' || a.attname as key
    from pg_constraint c
    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
    where c.contype = 'f' and c.connamespace = ${handle.schema!}::regnamespace
      and not exists (select 1 from pg_index i where i.indrelid = c.conrelid and i.indkey[0] = c.conkey[1])`.execute(db);
  return rows.rows.map((row) => row.key);
}

it('has an index leading with every foreign-key column', async () => {
  expect(await unindexedForeignKeys()).toEqual([]);
});
