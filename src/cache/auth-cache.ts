// The in-process cache of what authentication and authorization read on every request: the actor
// of a key (by its digest), an actor's grant in an account, and its scopes in a workspace. Entries
// are trusted only as the store's Coherence allows (cache/coherence.ts): a write anywhere empties
// every cache before the write returns, and a fill that raced a write is not kept.
import type { Coherence } from './coherence.js';

/** At most this many entries per kind; the oldest go first. */
const MAX_ENTRIES = 200_000;

class Bounded<V> {
  readonly map = new Map<string, V>();
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    if (this.map.size >= MAX_ENTRIES && !this.map.has(key)) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, value);
  }
}

export interface AuthCache {
  /** `load()` unless a trusted entry exists for `key` in `kind`; keeps the answer if nothing changed meanwhile. */
  through<V>(kind: string, key: string, load: () => Promise<V>): Promise<V>;
  readonly coherence: Coherence;
}

export function authCache(coherence: Coherence): AuthCache {
  let kinds = new Map<string, Bounded<unknown>>();
  let seen = coherence.generation();

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
    async through<V>(kind: string, key: string, load: () => Promise<V>): Promise<V> {
      const trusted = usable();
      const before = seen;
      if (trusted) {
        const hit = kinds.get(kind)?.get(key);
        if (hit !== undefined) return hit as V;
      }
      const value = await load();
      // Not kept when a write committed while loading: the answer may predate it.
      if (trusted && value !== null && value !== undefined && usable() && seen === before) {
        let entries = kinds.get(kind);
        if (!entries) kinds.set(kind, (entries = new Bounded()));
        entries.set(key, value);
      }
      return value;
    },
  };
}
