// The authentication cache for one store: the coherence its dialect needs (cache/coherence.ts,
// cache/pg-coherence.ts) and the AuthCache over it. Whoever opens it closes it, before the store.
import type { Store } from '../store/store.js';
import { authCache, type AuthCache } from './auth-cache.js';
import { disabledCoherence, localCoherence, sqliteCoherence, type Coherence } from './coherence.js';
import { pgCoherence } from './pg-coherence.js';

export interface CacheConfig {
  /** PostgreSQL: the URL the store was opened with (the coherence listens on its own connection). */
  databaseUrl?: string;
  databaseSchema?: string;
  /** Keep keys and grants in memory between requests (default true; GATEHOUSE_AUTH_CACHE=off). */
  enabled?: boolean;
}

export function openCache(store: Store, config: CacheConfig = {}): AuthCache {
  let coherence: Coherence;
  if (store.dialect === 'postgres') {
    if (!config.databaseUrl) throw new Error('openCache: a PostgreSQL store needs its databaseUrl');
    coherence = pgCoherence({ url: config.databaseUrl, schema: config.databaseSchema ?? store.schema, db: store.db });
  } else {
    coherence = store.dataVersion ? sqliteCoherence({ dataVersion: store.dataVersion, db: store.db }) : localCoherence();
  }
  if (config.enabled === false) coherence = disabledCoherence(coherence);
  return authCache(coherence);
}
