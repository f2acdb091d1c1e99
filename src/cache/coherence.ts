// When a process may trust what it has cached about keys and grants. The rule (contract 4): a
// revoking write returns only once no process can still use what it revoked. Each store has one
// Coherence; a write calls `stamp()` inside its transaction and `settle()` after it commits, and a reader checks `generation()`
// before trusting or filling the cache.
import type { Kysely } from 'kysely';
//
// - In one process every cache on a store shares its Coherence, so a commit empties them at once.
// - SQLite, several processes on one file: `PRAGMA data_version` changes when another connection
//   commits; it is read once per authentication and around every fill (no I/O: it is in the shared
//   memory of the WAL index).
// - PostgreSQL, several processes: cache/pg-coherence.ts (leases, NOTIFY and acknowledgements).

export interface Coherence {
  /**
   * Changes whenever cached entries may have gone stale; a cache empties itself when it does.
   * Cheap: it reflects this process's own writes and what `poll` last found.
   */
  generation(): number;
  /**
   * Looks for writes that other processes have committed (SQLite: data_version). Called once at the
   * start of every authentication, before any entry is trusted, and around every fill.
   */
  poll(): void;
  /** False while the process cannot be sure it would hear of another process's writes. */
  trusted(): boolean;
  /**
   * Inside a write's transaction, as its last statement: where there are other processes, takes the
   * write's place in the order of invalidations and notifies them when the transaction commits (the
   * notification commits with the write, or not at all). Returns what `settle` waits for.
   */
  stamp(tx: Kysely<any>): Promise<number>;
  /** After the write committed: empties the caches here and waits until every other process has too. */
  settle(stamp: number): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** One process, one connection: only its own writes change anything. */
export function localCoherence(): Coherence {
  let generation = 0;
  return {
    generation: () => generation,
    poll: () => {},
    trusted: () => true,
    stamp: async () => 0,
    settle: async () => void (generation += 1),
    start: async () => {},
    stop: async () => {},
  };
}

/** SQLite: its own commits, and other connections' commits seen through data_version. */
export function sqliteCoherence(dataVersion: () => number): Coherence {
  let generation = 0;
  let seen = dataVersion();
  return {
    generation: () => generation,
    // One read per request: a statement that costs a few microseconds, so not one per cache lookup.
    poll() {
      const now = dataVersion();
      if (now !== seen) {
        seen = now;
        generation += 1;
      }
    },
    trusted: () => true,
    stamp: async () => 0,
    settle: async () => void (generation += 1),
    start: async () => {},
    stop: async () => {},
  };
}

/** A cache that never trusts anything (GATEHOUSE_AUTH_CACHE=off): every request asks the store. */
export function disabledCoherence(inner: Coherence): Coherence {
  return { ...inner, trusted: () => false };
}
