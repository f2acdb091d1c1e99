// What the rest of Gatehouse knows about a store: a Kysely handle and the few facts that differ by dialect.
import type { Dialect, Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;
/** Where a query runs: a transaction, or the database itself (one statement, no transaction). */
export type Executor = Transaction<Database> | Kysely<Database>;

export interface Store {
  db: Db;
  dialect: 'sqlite' | 'postgres';
  /** PostgreSQL only: the schema that holds Gatehouse's tables when not the default. */
  schema?: string;
  /** Where the data lives, safe to print (no password). */
  description: string;
  isUniqueViolation(error: unknown): boolean;
  /** A row this write references was deleted meanwhile (or a row still referenced is being deleted). */
  isForeignKeyViolation(error: unknown): boolean;
  /** The database itself could not be reached or is overloaded: answer 503, not 500. */
  isUnavailable(error: unknown): boolean;
  /** Anything the dialect needs before migrations (PostgreSQL: create the configured schema). */
  prepare(): Promise<void>;
  close(): Promise<void>;
  /** SQLite only: changes when another connection commits (PRAGMA data_version). */
  dataVersion?(): number;
}

export interface StoreConfig {
  dataDir: string;
  databaseUrl?: string;
  databaseSchema?: string;
  /** Wraps the dialect to trace each query (tracing/tracing.ts); absent, queries run untouched. */
  wrapDialect?: DialectWrapper;
}

export type DialectWrapper = (dialect: Dialect, system: 'sqlite' | 'postgresql') => Dialect;

export async function openStore(config: StoreConfig): Promise<Store> {
  if (config.databaseUrl) {
    const { openPostgres } = await import('./dialects/postgres.js');
    return openPostgres({ url: config.databaseUrl, schema: config.databaseSchema, wrapDialect: config.wrapDialect });
  }
  const { openSqlite } = await import('./dialects/sqlite.js');
  return openSqlite(config.dataDir, config.wrapDialect);
}
