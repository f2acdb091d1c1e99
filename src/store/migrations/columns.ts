// The columns and indexes that many migrations declare alike. Each helper adds exactly what those
// migrations wrote out by hand, where they wrote it: a new database must get the same schema as one
// created before, so a helper that a migration uses never changes.
import type { ColumnDefinitionBuilder, CreateTableBuilder, Kysely } from 'kysely';

/** A required reference to `target` (`table.column`): the row goes when the row it names goes. */
export const ownedBy = (target: string) => (c: ColumnDefinitionBuilder) =>
  c.notNull().references(target).onDelete('cascade');

/** The same reference where a row may have none (a built-in role has no account). */
export const optionallyOwnedBy = (target: string) => (c: ColumnDefinitionBuilder) =>
  c.references(target).onDelete('cascade');

/** A table with one row at most per row of `target`, keyed by that row's id and gone with it. */
export const onePer = (target: string) => (c: ColumnDefinitionBuilder) =>
  c.primaryKey().references(target).onDelete('cascade');

/** `id`, the random text id that most tables are keyed by. */
export const id = <TB extends string, C extends string>(table: CreateTableBuilder<TB, C>) =>
  table.addColumn('id', 'text', (c) => c.primaryKey());

/** `account_id`, the account a row belongs to. */
export const account = <TB extends string, C extends string>(table: CreateTableBuilder<TB, C>) =>
  table.addColumn('account_id', 'text', ownedBy('accounts.id'));

/** A table of things an account has (its teams, tokens, …): keyed by `id`, with their `account_id`. */
export const createAccountTable = (db: Kysely<unknown>, name: string) =>
  db.schema.createTable(name).$call(id).$call(account);

/** `created` and `updated`, ISO-8601 timestamps. */
export const timestamps = <TB extends string, C extends string>(table: CreateTableBuilder<TB, C>) =>
  table.addColumn('created', 'text', (c) => c.notNull()).addColumn('updated', 'text', (c) => c.notNull());

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
