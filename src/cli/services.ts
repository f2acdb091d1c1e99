// Administration commands open the store named by the same flags as `start` and go through the
// same domain services as the HTTP API: there is no second write path.
import { loadConfig } from '../config.js';
import { openStore } from '../store/store.js';
import { migrate } from '../store/migrate.js';
import { createServices, type Services } from '../domain/services.js';
import { systemClock } from '../clock.js';
import { UsageError } from './args.js';

export interface StoreFlags {
  'data-dir'?: string;
  'database-url'?: string;
  'database-schema'?: string;
}

export async function withServices<T>(flags: StoreFlags, work: (services: Services) => Promise<T>): Promise<T> {
  const loaded = loadConfig({ 'data-dir': flags['data-dir'], 'database-url': flags['database-url'], 'database-schema': flags['database-schema'] });
  if (!loaded.ok) throw new UsageError(loaded.error);
  const { dataDir, databaseUrl, databaseSchema } = loaded.config;
  const store = await openStore({ dataDir, databaseUrl, databaseSchema });
  try {
    await migrate(store);
    return await work(createServices({ store, clock: systemClock }));
  } finally {
    await store.close();
  }
}
