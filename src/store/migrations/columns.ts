// The columns and indexes that many migrations declare alike. Each helper adds exactly what those
// migrations wrote out by hand, where they wrote it: a new database must get the same schema as one
// created before, so a helper that a migration uses never changes.
import type { ColumnDataType, ColumnDefinitionBuilder, CreateTableBuilder, Kysely } from 'kysely';

/** A required reference to `target` (`table.column`): the row goes when the row it names goes. */
export const ownedBy = (target: string) => (c: ColumnDefinitionBuilder) =>
  c.notNull().references(target).onDelete('cascade');

/** The same reference where a row may have none (a built-in role has no account). */
export const optionallyOwnedBy = (target: string) => (c: ColumnDefinitionBuilder) =>
  c.references(target).onDelete('cascade');

/** A table with one row at most per row of `target`, keyed by that row's id and gone with it. */
export const onePer = (target: string) => (c: ColumnDefinitionBuilder) =>
  c.primaryKey().references(target).onDelete('cascade');

/**
 * A table keyed by the text column `key`: `id`, the random id that most tables are keyed by, unless
 * its rows have a key of their own (a digest, a slot's name).
 */
export const createKeyedTable = (db: Kysely<unknown>, name: string, key = 'id') =>
  db.schema.createTable(name).addColumn(key, 'text', (c) => c.primaryKey());

/** `account_id`, the account a row belongs to. */
export const account = <TB extends string, C extends string>(table: CreateTableBuilder<TB, C>) =>
  table.addColumn('account_id', 'text', ownedBy('accounts.id'));

/** A table of things an account has (its teams, tokens, …): keyed by `id`, with their `account_id`. */
export const createAccountTable = (db: Kysely<unknown>, name: string) => createKeyedTable(db, name).$call(account);

/** A table of roles: keyed by `id`, with the `account_id` of the account that made one, none for a built-in role. */
export const createRoleTable = (db: Kysely<unknown>, name: string) =>
  createKeyedTable(db, name).addColumn('account_id', 'text', optionallyOwnedBy('accounts.id'));

/** Columns of one type, in the order named, each built by `build` (none: a nullable column). */
const columns =
  <N extends string>(type: ColumnDataType, names: N[], build?: (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder) =>
  <TB extends string, C extends string>(table: CreateTableBuilder<TB, C>) =>
    names.reduce<CreateTableBuilder<TB, C | N>>((t, name) => t.addColumn(name, type, build), table);

/** Columns of one type that every row sets (`not null`), in the order named. */
export const required = <N extends string>(type: ColumnDataType, ...names: N[]) => columns(type, names, (c) => c.notNull());

/** Columns of one type that a row may leave null, in the order named. */
export const optional = <N extends string>(type: ColumnDataType, ...names: N[]) => columns(type, names);

/** Adds nullable columns of one type to an existing table, one statement each: SQLite's ALTER TABLE adds one at a time. */
export async function addOptionalColumns(db: Kysely<unknown>, table: string, type: ColumnDataType, names: string[]): Promise<void> {
  for (const name of names) {
    await db.schema.alterTable(table).addColumn(name, type).execute();
  }
}

/** `created` and `updated`, ISO-8601 timestamps. */
export const timestamps = required('text', 'created', 'updated');

/** No two of an account's rows share `column`: the constraint `<table>_account_<column>_unique`. */
export const uniqueInAccount =
  <K extends string>(table: string, column: K) =>
  <TB extends string, C extends string>(builder: CreateTableBuilder<TB, C | 'account_id' | K>) =>
    builder.addUniqueConstraint(`${table}_account_${column}_unique`, ['account_id', column]);

/**
 * Who a row is for: `actor_id`, and the user or service account (bot) it names, exactly one of the
 * two set; the row goes with them.
 */
export const actor = <TB extends string, C extends string>(table: CreateTableBuilder<TB, C>) =>
  table
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', optionallyOwnedBy('users.id'))
    .addColumn('bot_id', 'text', optionallyOwnedBy('bots.id'));

/** An index on one column, named `<table>_<column>_idx`. */
export async function indexColumn(db: Kysely<unknown>, table: string, column: string): Promise<void> {
  await db.schema.createIndex(`${table}_${column}_idx`).on(table).column(column).execute();
}
