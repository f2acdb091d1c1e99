// When a process may trust what it has cached about keys and grants. The rule (contract 4): a
// revoking write returns only once no process can still use what it revoked. Each store has one
// Coherence; a write calls `stamp()` inside its transaction and `settle()` after it commits, and a reader checks `generation()`
// before trusting or filling the cache.
import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
//
// - In one process every cache on a store shares its Coherence, so a commit empties them at once.
// - SQLite, several processes on one file: `PRAGMA data_version` changes when another connection
//   commits (no I/O: it is in the shared memory of the WAL index). A serving process looks at it at
//   most every `SQLITE_LOOK_WINDOW_MS` and around every fill; a write that invalidates waits that
//   long before it returns when another such process exists (sqliteCoherence below).
// - PostgreSQL, several processes: cache/pg-coherence.ts (leases, NOTIFY and acknowledgements).

export interface Coherence {
  /**
   * Changes whenever cached entries may have gone stale; a cache empties itself when it does.
   * Cheap: it reflects this process's own writes and what `poll` last found.
   */
  generation(): number;
  /**
   * Looks for writes that other processes have committed (SQLite: data_version), now. Called around
   * every fill.
   */
  poll(): void;
  /**
   * `poll`, unless a look recent enough for this store's rule was made: called at the start of every
   * authentication, before any entry is trusted.
   */
  glance(): void;
  /** False while the process cannot be sure it would hear of another process's writes. */
  trusted(): boolean;
  /** Set when caching is turned off (GATEHOUSE_AUTH_CACHE=off): never trusted, by choice. */
  readonly disabled?: boolean;
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
    glance: () => {},
    trusted: () => true,
    stamp: async () => 0,
    settle: async () => void (generation += 1),
    start: async () => {},
    stop: async () => {},
  };
}

/**
 * How long a serving process on SQLite may answer from its cache after its last look at
 * data_version. Reading it costs a read transaction (a few microseconds, more than the rest of a
 * cached authentication); once a millisecond is enough.
 */
export const SQLITE_LOOK_WINDOW_MS = 1;

/**
 * SQLite: its own commits, and other connections' commits seen through data_version.
 *
 * A process that registered (start) answers from its cache for up to `windowMs` after a look that
 * began at time L. A write that invalidates, once committed at C, reads which other processes are
 * registered and waits out the longest of their windows before it returns. A process that had not
 * looked since before C trusts its cache at most until L + window < C + window, so any request it
 * decides after the write returned looks again and sees the write. A process registering after C
 * looks once its row has committed, before it uses its window. Unregistered processes (the CLI)
 * look on every authentication.
 */
export function sqliteCoherence(options: { dataVersion: () => number; db: Kysely<Database>; windowMs?: number }): Coherence {
  const { dataVersion, db } = options;
  const windowMs = options.windowMs ?? SQLITE_LOOK_WINDOW_MS;
  let generation = 0;
  let seen = dataVersion();
  let lookedAt = -Infinity;
  let registeredAs: string | null = null;

  function look(): void {
    const at = performance.now();
    const now = dataVersion();
    lookedAt = at;
    if (now !== seen) {
      seen = now;
      generation += 1;
    }
  }

  return {
    generation: () => generation,
    poll: look,
    glance() {
      if (registeredAs === null || performance.now() - lookedAt >= windowMs) look();
    },
    trusted: () => true,
    stamp: async () => 0,
    async settle() {
      generation += 1;
      const committedAt = performance.now();
      const wait = await longestOtherWindow(db, registeredAs);
      if (wait > 0) await sleepUntil(committedAt + wait);
    },
    async start() {
      if (registeredAs !== null) return;
      const id = randomUUID();
      await db.insertInto('cache_processes').values({ id, host: HOST, pid: process.pid, window_ms: windowMs }).execute();
      // Writers that committed before the row did may not have waited for this process: see them now.
      look();
      registeredAs = id;
    },
    async stop() {
      const id = registeredAs;
      registeredAs = null;
      if (id) await db.deleteFrom('cache_processes').where('id', '=', id).execute().catch(() => {});
    },
  };
}

/** This machine and PID namespace: two processes with the same HOST can see each other's pids. */
const HOST = (() => {
  let namespace = '';
  try {
    namespace = readlinkSync('/proc/self/ns/pid');
  } catch {
    // not Linux: the host name alone
  }
  return `${hostname()} ${namespace}`.trim();
})();

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The longest window of the other registered processes; rows of processes that died are removed. */
async function longestOtherWindow(db: Kysely<Database>, self: string | null): Promise<number> {
  let longest = 0;
  for (const row of await db.selectFrom('cache_processes').selectAll().execute()) {
    if (row.id === self) continue;
    if (row.host === HOST && !running(row.pid)) {
      await db.deleteFrom('cache_processes').where('id', '=', row.id).execute().catch(() => {});
      continue;
    }
    longest = Math.max(longest, row.window_ms);
  }
  return longest;
}

async function sleepUntil(deadline: number): Promise<void> {
  for (let left = deadline - performance.now(); left > 0; left = deadline - performance.now()) {
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(left)));
  }
}

/** A cache that never trusts anything (GATEHOUSE_AUTH_CACHE=off): every request asks the store. */
export function disabledCoherence(inner: Coherence): Coherence {
  return { ...inner, trusted: () => false, disabled: true };
}
