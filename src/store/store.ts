// What the rest of Gatehouse knows about a store: a Kysely handle and the few facts that differ by dialect.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';
import { authCache, type AuthCache } from '../cache/auth-cache.js';
import { disabledCoherence, localCoherence, sqliteCoherence } from '../cache/coherence.js';
import { pgCoherence } from '../cache/pg-coherence.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database> | Kysely<Database>;

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
  /** What authentication may keep in memory, and when it must forget it (cache/). */
  cache: AuthCache;
}

export interface StoreConfig {
  dataDir: string;
  databaseUrl?: string;
  databaseSchema?: string;
  /** Keep keys and grants in memory between requests (default true; GATEHOUSE_AUTH_CACHE=off). */
  authCache?: boolean;
}

export async function openStore(config: StoreConfig): Promise<Store> {
  let store: Omit<Store, 'cache'>;
  let coherence;
  if (config.databaseUrl) {
    const { openPostgres } = await import('./dialects/postgres.js');
    store = openPostgres({ url: config.databaseUrl, schema: config.databaseSchema });
    coherence = pgCoherence({ url: config.databaseUrl, schema: config.databaseSchema, db: store.db });
  } else {
    const { openSqlite } = await import('./dialects/sqlite.js');
    store = openSqlite(config.dataDir);
    coherence = store.dataVersion ? sqliteCoherence({ dataVersion: store.dataVersion, db: store.db }) : localCoherence();
  }
  if (config.authCache === false) coherence = disabledCoherence(coherence);
  const close = store.close;
  return {
    ...store,
    cache: authCache(coherence),
    async close() {
      await coherence.stop();
      await close();
    },
  };
}
