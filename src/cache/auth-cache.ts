// The in-process cache of what authentication and authorization read on every request: the actor
// of a key (by its digest), an actor's grant in an account, and its scopes in a workspace. Entries
// are trusted only as the store's Coherence allows (cache/coherence.ts): a write anywhere empties
// every cache before the write returns, and a fill that raced a write is not kept.
import { LRUCache } from 'lru-cache';
import type { Coherence } from './coherence.js';
import { metrics } from '../observability/metrics.js';

/** At most this many entries per kind; the ones filled longest ago go first. */
const MAX_ENTRIES = 200_000;

/**
 * A new, empty set of entries for one kind: made again after every invalidating write, so it must
 * cost nothing to make. Bounded by size, each entry counting 1: `max` would allocate its arrays for
 * all 200,000 entries up front (17 ms of CPU, paid by every process after every revoking write).
 */
const emptyEntries = (): Entries => new LRUCache({ maxSize: MAX_ENTRIES, sizeCalculation: () => 1 });

type Entries = LRUCache<string, {}>;

export interface AuthCache {
  /**
   * Catches up with writes of other processes as the store's coherence requires (Coherence.glance).
   * Every authentication calls it first, so no entry it uses predates a revoking call that returned.
   */
  poll(): void;
  /**
   * `load()` unless a trusted entry exists for `key` in `kind`; keeps the answer if nothing changed
   * meanwhile. Concurrent misses for one entry in one generation share one load.
   */
  through<V>(kind: string, key: string, load: () => Promise<V>): Promise<V>;
  /** The trusted entry for `key` in `kind`, or undefined: what a request can decide without waiting. */
  peek<V>(kind: string, key: string): V | undefined;
  readonly coherence: Coherence;
  /** Stops the coherence (its listening connection, its lease): by whoever opened the cache. */
  close(): Promise<void>;
}

export function authCache(coherence: Coherence): AuthCache {
  let kinds = new Map<string, Entries>();
  let seen = coherence.generation();
  const inflight = new Map<string, { generation: number; value: Promise<unknown> }>();

  /** Empties everything when the generation moved; says whether entries may be used now. */
  function usable(): boolean {
    const generation = coherence.generation();
    if (generation !== seen) {
      kinds = new Map();
      seen = generation;
    }
    return coherence.trusted();
  }

  return {
    coherence,
    close: () => coherence.stop(),
    poll: () => coherence.glance(),
    peek<V>(kind: string, key: string): V | undefined {
      // `peek`: no reordering on a hit (lru-cache's `get` moves the entry, ~1 µs per request in a
      // profile of the scopes route); the entries filled longest ago go first when a kind is full.
      const hit = usable() ? (kinds.get(kind)?.peek(key) as V | undefined) : undefined;
      if (hit !== undefined) metrics.cacheHit(kind);
      return hit;
    },
    through<V>(kind: string, key: string, load: () => Promise<V>): Promise<V> {
      const hit = this.peek<V>(kind, key);
      if (hit !== undefined) return Promise.resolve(hit);
      metrics.cacheMiss(kind);
      // A miss reads the store: look for other processes' writes just before and just after, and
      // keep the answer only when none committed meanwhile (it may predate them).
      coherence.poll();
      const trusted = usable();
      const before = seen;
      // Concurrent misses for one entry share one load (after a revocation empties the cache, every
      // worker's next request misses at once), but only a load begun in this generation: one begun
      // before a write that has since returned may have read what that write changed.
      const id = `${kind}\u0000${key}`;
      const pending = trusted ? inflight.get(id) : undefined;
      if (pending && pending.generation === before) return pending.value as Promise<V>;
      const value = load().then((loaded) => {
        coherence.poll();
        if (trusted && loaded !== null && loaded !== undefined && usable() && seen === before) {
          let entries = kinds.get(kind);
          if (!entries) kinds.set(kind, (entries = emptyEntries()));
          entries.set(key, loaded as {});
        }
        return loaded;
      });
      if (trusted) {
        inflight.set(id, { generation: before, value });
        const done = () => void (inflight.get(id)?.value === value && inflight.delete(id));
        value.then(done, done);
      }
      return value;
    },
  };
}
