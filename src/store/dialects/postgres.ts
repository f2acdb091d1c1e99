// The scale-out store: PostgreSQL 15+ through pg; any number of Gatehouse processes share it.
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';

export interface PostgresOptions {
  url: string;
  /** Put every table in this schema (created if missing); tests use one schema each. */
  schema?: string;
  poolSize?: number;
}

export function openPostgres({ url, schema, poolSize = 10 }: PostgresOptions): Store {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5000,
    options: schema ? `-c search_path=${schema}` : undefined,
  });
  // An idle client losing its connection must not take the process down; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    schema,
    description: `PostgreSQL ${redactUrl(url)}${schema ? ` (schema ${schema})` : ''}`,
    isUniqueViolation: (error) => (error as { code?: unknown })?.code === '23505',
    isForeignKeyViolation: (error) => (error as { code?: unknown })?.code === '23503',
    isUnavailable: (error) => {
      const code = String((error as { code?: unknown })?.code ?? '');
      const message = String((error as { message?: unknown })?.message ?? '');
      return (
        code.startsWith('08') || code === '57P01' || code === '57P03' || code === 'ECONNREFUSED' ||
        code === 'ECONNRESET' || code === 'ETIMEDOUT' || /timeout exceeded when trying to connect|Connection terminated/i.test(message)
      );
    },
    prepare: async () => {
      if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/** The URL with any password replaced, for logs and start-up output. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '*****';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}
