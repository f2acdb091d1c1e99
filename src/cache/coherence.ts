// When a process may trust what it has cached about keys and grants. The rule (contract 4): a
// revoking write returns only once no process can still use what it revoked. Each store has one
// Coherence; a write calls `invalidated()` after it commits, and a reader checks `generation()`
// before trusting or filling the cache.
//
// - In one process every cache on a store shares its Coherence, so a commit empties them at once.
// - SQLite, several processes on one file: `PRAGMA data_version` changes when another connection
//   commits; it is read on every check (no I/O: it is in the shared memory of the WAL index).
// - PostgreSQL, several processes: cache/pg-coherence.ts (leases, NOTIFY and acknowledgements).

export interface Coherence {
  /** Changes whenever cached entries may have gone stale; a cache empties itself when it does. */
  generation(): number;
  /** False while the process cannot be sure it would hear of another process's writes. */
  trusted(): boolean;
  /** After a committed write: empties the caches here and, where there are other processes, waits until they have too. */
  invalidated(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** One process, one connection: only its own writes change anything. */
export function localCoherence(): Coherence {
  let generation = 0;
  return {
    generation: () => generation,
    trusted: () => true,
    invalidated: async () => void (generation += 1),
    start: async () => {},
    stop: async () => {},
  };
}

/** SQLite: its own commits, and other connections' commits seen through data_version. */
export function sqliteCoherence(dataVersion: () => number): Coherence {
  let generation = 0;
  let seen = dataVersion();
  return {
    generation() {
      const now = dataVersion();
      if (now !== seen) {
        seen = now;
        generation += 1;
      }
      return generation;
    },
    trusted: () => true,
    invalidated: async () => void (generation += 1),
    start: async () => {},
    stop: async () => {},
  };
}

/** A cache that never trusts anything (GATEHOUSE_AUTH_CACHE=off): every request asks the store. */
export function disabledCoherence(inner: Coherence): Coherence {
  return { ...inner, trusted: () => false };
}
