// The scale-out store: PostgreSQL 15+ through pg; any number of Gatehouse processes share it.
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { Database } from '../schema.js';
import type { DialectWrapper, Store } from '../store.js';
import { maskUrlPassword } from '../../url-password.js';
import { storeQueryLog } from '../../observability/metrics.js';

export interface PostgresOptions {
  url: string;
  /** Put every table in this schema (created if missing); tests use one schema each. */
  schema?: string;
  poolSize?: number;
  wrapDialect?: DialectWrapper;
}

/**
 * While the database is unreachable a request must fail with 503 within 5 s, never hang. A query
 * waits at most CONNECT_TIMEOUT_MS for a connection (a free one from the pool, or a new one), then
 * at most QUERY_TIMEOUT_MS for its answer; the first timeout fails the request, so a request fails
 * at most 3.5 s after the database stops answering. Every query a request runs is a short indexed
 * one: these bound outages, not work.
 */
const CONNECT_TIMEOUT_MS = 1_500;
const QUERY_TIMEOUT_MS = 2_000;

/**
 * Statements exempt from the query timeout: schema changes (an index on a large table takes its
 * time) and the migration lock (a second process waits for the first one's migrations). Requests
 * never run these.
 */
const UNBOUNDED_STATEMENT = /^\s*(create|alter|drop|comment)\b|pg_advisory/i;

/** The error a query gets when the database did not answer in time; `isUnavailable` knows it. */
class QueryTimeoutError extends Error {
  readonly code = 'GATEHOUSE_QUERY_TIMEOUT';
}

/** The error a query gets when its connection reached a read-only standby; `isUnavailable` knows it. */
class StandbyError extends Error {
  readonly code = 'GATEHOUSE_STANDBY';
}

/**
 * The pool as Kysely sees it, with the query timeout. A connection that let a query time out is
 * not trusted again: later queries on it fail at once (so a transaction's ROLLBACK does not wait a
 * second timeout) and it is closed when released, instead of going back to the pool with a stale
 * answer still owed on it.
 */
function timeBoundPool(pool: pg.Pool): PostgresPool {
  /** Connections seen to reach a primary. */
  const onPrimary = new WeakSet<pg.PoolClient>();
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      if (!onPrimary.has(client)) await checkPrimary(client);
      onPrimary.add(client);
      let abandoned = false;
      const query = async (text: string, values: readonly unknown[]) => {
        if (abandoned) throw new QueryTimeoutError('The database connection stopped answering and was given up');
        const bounded = !UNBOUNDED_STATEMENT.test(text);
        try {
          return await client.query({ text, values: [...values], ...(bounded ? { query_timeout: QUERY_TIMEOUT_MS } : {}) });
        } catch (error) {
          if ((error as Error)?.message !== 'Query read timeout') throw error;
          abandoned = true;
          throw new QueryTimeoutError(`The database did not answer within ${QUERY_TIMEOUT_MS} ms`);
        }
      };
      return {
        // Only the (sql, parameters) form: the dialect has no cursor configured, so Kysely never streams.
        query: query as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy || abandoned),
      };
    },
    end: () => pool.end(),
  };
}

/**
 * A new connection must reach the primary, as libpq's target_session_attrs=read-write asks: behind a
 * proxy whose health check lags a failover (docs/high-availability.md), it can reach a node just
 * demoted to a standby, whose reads may lag the new primary's writes (a key revoked there could
 * still look valid). A node changes role only by restarting, which ends every connection to it, so
 * checking once per connection is enough. Refused like an outage: 503 until the proxy catches up.
 */
async function checkPrimary(client: pg.PoolClient): Promise<void> {
  try {
    const { rows } = await client.query({ text: 'select pg_is_in_recovery() as standby', query_timeout: QUERY_TIMEOUT_MS } as pg.QueryConfig);
    if (rows[0]?.standby === true) throw new StandbyError('The database server is a read-only standby; Gatehouse needs the primary');
  } catch (error) {
    client.release(true);
    if ((error as Error)?.message === 'Query read timeout') throw new QueryTimeoutError(`The database did not answer within ${QUERY_TIMEOUT_MS} ms`);
    throw error;
  }
}

/**
 * Error codes meaning the server is gone, unreachable, shutting down, out of connections, or no
 * longer the primary. In a failover (docs/high-availability.md) the node a connection reached can
 * change under it: 25006 (read_only_sql_transaction) is a write that reached a node just demoted to
 * a read-only standby (a proxy whose health check has not yet seen the switch); 57P01 (admin
 * shutdown), 57P02 (crash shutdown) and 57P03 (cannot connect now: starting up, shutting down,
 * in recovery) are a node stopping or restarting as a standby; 08xxx is a lost connection;
 * GATEHOUSE_STANDBY is a new connection that reached a standby (checkPrimary).
 * None is the request's fault, and the same request succeeds once the new primary is reachable.
 */
const UNAVAILABLE_CODES = new Set([
  'GATEHOUSE_QUERY_TIMEOUT', 'GATEHOUSE_STANDBY', '25006', '57P01', '57P02', '57P03', '53300',
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);
/** pg reports a lost or never-made connection by message only. */
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|not queryable|Query read timeout/i;

/** Whether a query's error means "the database cannot serve this now" (503), not a bug (500). */
export function isPostgresUnavailable(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  const message = String((error as { message?: unknown })?.message ?? '');
  return code.startsWith('08') || UNAVAILABLE_CODES.has(code) || UNAVAILABLE_MESSAGE.test(message);
}

export function openPostgres({ url, schema, poolSize = 10, wrapDialect }: PostgresOptions): Store {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // Lets the operating system notice a peer that vanished without closing the connection.
    keepAlive: true,
    options: schema ? `-c search_path=${schema}` : undefined,
  });
  // A connection lost while idle in the pool, or while checked out between two queries, must not
  // take the process down: pg emits it as an 'error' event, which is fatal with no listener. The
  // pool drops such a connection; a query on it fails and the request gets its 503.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const dialect = new PostgresDialect({ pool: timeBoundPool(pool) });
  const db = new Kysely<Database>({ dialect: wrapDialect ? wrapDialect(dialect, 'postgresql') : dialect, log: storeQueryLog() });
  return {
    db,
    dialect: 'postgres',
    schema,
    description: `PostgreSQL ${redactUrl(url)}${schema ? ` (schema ${schema})` : ''}`,
    isUniqueViolation: (error) => (error as { code?: unknown })?.code === '23505',
    isForeignKeyViolation: (error) => (error as { code?: unknown })?.code === '23503',
    isUnavailable: isPostgresUnavailable,
    prepare: async () => {
      if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/** The URL with any password replaced, for logs and start-up output. */
export function redactUrl(url: string): string {
  return maskUrlPassword(url, 'postgres://(unparseable url)');
}
