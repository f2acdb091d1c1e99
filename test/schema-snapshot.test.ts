// A fresh database gets exactly the schema in test/fixtures/schema/<store>.txt: tables, columns in
// order with their types, nullability and defaults, constraints and indexes. Migrations build their
// tables from shared helpers (src/store/migrations/columns.ts); an edit to a helper, or to a
// migration that has shipped, would give new databases another schema than the deployed ones have,
// and this test says where. A new migration updates the file on purpose:
// `npx vitest run test/schema-snapshot.test.ts -u` on each store (GATEHOUSE_TEST_STORE=postgres),
// and the diff is reviewed with it.
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

type Row = Record<string, unknown>;
const lines = (rows: Row[]) => rows.map((row) => Object.values(row).map((value) => String(value)).join('\t'));

async function sqliteSchema(): Promise<string[]> {
  const db = handle.store.db;
  const objects = (await sql<Row>`select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%' order by name`.execute(db)).rows;
  const out = lines(objects);
  for (const table of objects.filter((o) => o.type === 'table')) {
    const name = String(table.name);
    out.push(...lines((await sql<Row>`select * from pragma_table_xinfo(${name})`.execute(db)).rows).map((l) => `column\t${name}\t${l}`));
    out.push(...lines((await sql<Row>`select * from pragma_foreign_key_list(${name})`.execute(db)).rows).map((l) => `fk\t${name}\t${l}`));
    out.push(...lines((await sql<Row>`select * from pragma_index_list(${name}) order by name`.execute(db)).rows).map((l) => `index\t${name}\t${l}`));
  }
  return out;
}

async function postgresSchema(): Promise<string[]> {
  const db = handle.store.db;
  const schema = handle.schema!;
  const query = async (section: string, text: ReturnType<typeof sql<Row>>) => [`# ${section}`, ...lines((await text.execute(db)).rows)];
  return [
    ...(await query(
      'columns',
      sql<Row>`select c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull, pg_get_expr(d.adbin, d.adrelid) as "default"
               from pg_attribute a join pg_class c on c.oid = a.attrelid
               left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
               where c.relnamespace = ${schema}::regnamespace and c.relkind in ('r', 'p', 'v', 'm') and a.attnum > 0 and not a.attisdropped
               order by c.relname, a.attnum`,
    )),
    ...(await query(
      'constraints',
      sql<Row>`select c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid) as def
               from pg_constraint k join pg_class c on c.oid = k.conrelid
               where k.connamespace = ${schema}::regnamespace order by c.relname, k.conname`,
    )),
    ...(await query('indexes', sql<Row>`select tablename, indexname, indexdef from pg_indexes where schemaname = ${schema} order by tablename, indexname`)),
    ...(await query(
      'triggers',
      sql<Row>`select c.relname, t.tgname, pg_get_triggerdef(t.oid) as def from pg_trigger t join pg_class c on c.oid = t.tgrelid
               where c.relnamespace = ${schema}::regnamespace and not t.tgisinternal order by 1, 2`,
    )),
  ].map((line) => line.split(schema).join('<schema>'));
}

it('gives a fresh database exactly the recorded schema', async () => {
  const text = `${(STORE_KIND === 'sqlite' ? await sqliteSchema() : await postgresSchema()).join('\n')}\n`;
  await expect(text).toMatchFileSnapshot(`./fixtures/schema/${STORE_KIND}.txt`);
});
