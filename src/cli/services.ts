// Administration commands open the store named by the same flags as `start` and go through the
// same domain services as the HTTP API: there is no second write path.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStore, type Store } from '../store/store.js';
import { openCache } from '../cache/open.js';
import { migrate } from '../store/migrate.js';
import { SQLITE_FILE_NAME } from '../store/dialects/sqlite.js';
import { createServices, type Services } from '../domain/services.js';
import { systemClock } from '../clock.js';
import { loadConfig, secretKeysFor } from '../config.js';
import { UsageError } from './args.js';

export interface StoreFlags {
  /** The configuration file (else GATEHOUSE_CONFIG), as for `start`. */
  config?: string;
  'data-dir'?: string;
  'database-url'?: string;
  'database-schema'?: string;
  /** Create a new, empty store when there is none (otherwise such a command refuses). */
  init?: boolean;
}

export interface OpenOptions {
  /** The command's name, for messages. */
  command: string;
  /** Open upstream credentials with the server's secret keys (GATEHOUSE_SECRET_KEY …), as `start` does. */
  secretKeys?: boolean;
}

/** Whether the store already holds Gatehouse's tables (a command must not quietly make a new one). */
async function storeExists(store: Store): Promise<boolean> {
  if (store.dialect === 'sqlite') return true; // checked before opening, which creates the file
  const table = store.schema ? `"${store.schema}".kysely_migration` : 'kysely_migration';
  const { rows } = await sql<{ found: string | null }>`select to_regclass(${table})::text as found`.execute(store.db);
  return rows[0]?.found != null;
}

export async function withServices<T>(flags: StoreFlags, work: (services: Services, store: Store) => Promise<T>, options: OpenOptions = { command: 'gatehouse' }): Promise<T> {
  const loaded = loadConfig({ config: flags.config, 'data-dir': flags['data-dir'], 'database-url': flags['database-url'], 'database-schema': flags['database-schema'] });
  if (!loaded.ok) throw new UsageError(loaded.error);
  const { config } = loaded;
  const { dataDir, databaseUrl, databaseSchema } = config;
  const noStore = (where: string) =>
    new UsageError(
      `there is no Gatehouse store ${where}. Point the command at the store your server uses (the same --data-dir, ` +
        '--database-url/--database-schema or GATEHOUSE_* variables as `gatehouse start`; its first line names the store), ' +
        'or add --init to create a new, empty store there',
    );
  if (!databaseUrl && !flags.init && !existsSync(join(dataDir, SQLITE_FILE_NAME))) throw noStore(`in ${dataDir}`);
  const store = await openStore({ dataDir, databaseUrl, databaseSchema });
  // Not started: a command is no serving process; its writes still make the servers forget (contract 4).
  const cache = openCache(store, { databaseUrl, databaseSchema });
  try {
    if (!flags.init && !(await storeExists(store))) throw noStore(`at ${store.description}`);
    await migrate(store);
    const secretKey = options.secretKeys ? secretKeysFor(config) : undefined;
    return await work(createServices({ store, cache, clock: systemClock }, { secretKey }), store);
  } finally {
    await cache.close();
    await store.close();
  }
}
