// What every domain service is built from (assembled in domain/services.ts; main, the CLI and tests
// open the store and its cache and hand them to createApp).
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuthCache } from '../cache/auth-cache.js';

export interface Deps {
  store: Store;
  /** What authentication keeps in memory: every write that invalidates makes every process forget. */
  cache: AuthCache;
  clock: Clock;
}
