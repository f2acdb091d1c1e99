// The embedded store: one SQLite file through better-sqlite3, WAL, synchronous=FULL.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';
import type { Database } from '../schema.js';
import type { DialectWrapper, Store } from '../store.js';
import { storeQueryLog } from '../../observability/metrics.js';

export const SQLITE_FILE_NAME = 'gatehouse.db';

/**
 * Kysely opens SQLite transactions with a deferred BEGIN. A deferred transaction that later writes
 * can fail with SQLITE_BUSY at once when another process holds the write lock, because the busy
 * handler cannot wait for a lock upgrade. BEGIN IMMEDIATE takes the write lock up front and waits.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/** Prepared statements kept per connection; Kysely would otherwise prepare every query anew. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The database as Kysely's driver sees it, with a statement cache: preparing costs as much as
 * running a small query, and the same few dozen statements run all day. Statements run to
 * completion synchronously (all/run), so reusing one is safe.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql); // re-inserted last: the Map's order is least recently used first
      } else {
        statement = sqlite.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      }
      statements.set(sql, statement);
      return statement;
    },
  } as unknown as SqliteDialectConfig['database'];
}

export function openSqlite(dataDir: string, wrapDialect?: DialectWrapper): Store {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, SQLITE_FILE_NAME);
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const dialect = new ImmediateSqliteDialect({ database: withStatementCache(sqlite) });
  const db = new Kysely<Database>({ dialect: wrapDialect ? wrapDialect(dialect, 'sqlite') : dialect, log: storeQueryLog() });
  const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
  return {
    db,
    dialect: 'sqlite',
    description: `SQLite ${file}`,
    isUniqueViolation: (error) => {
      const code = (error as { code?: unknown })?.code;
      return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
    },
    isForeignKeyViolation: (error) => (error as { code?: unknown })?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY',
    isUnavailable: (error) => {
      const code = (error as { code?: unknown })?.code;
      return code === 'SQLITE_BUSY' || code === 'SQLITE_IOERR' || code === 'SQLITE_CANTOPEN';
    },
    prepare: async () => {},
    close: () => db.destroy(),
    // Asked on every authentication: a statement prepared once (pragma() would prepare it each time).
    dataVersion: () => dataVersion.get() as number,
  };
}
