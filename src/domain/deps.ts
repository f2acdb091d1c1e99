// What every domain service is built from, and the one helper that runs a write in a transaction.
import type { Clock } from '../clock.js';
import type { Failure } from '../errors.js';
import type { Store, Tx } from '../store/store.js';
import type { AuthCache } from '../cache/auth-cache.js';
import type { Database } from '../store/schema.js';
import type { Transaction } from 'kysely';

export interface Deps {
  store: Store;
  /** What authentication keeps in memory: every write that invalidates makes every process forget. */
  cache: AuthCache;
  clock: Clock;
}

/** Thrown inside a transaction to roll it back and answer with an expected failure. */
export class Abort extends Error {
  constructor(readonly failure: Failure) {
    super(failure.code);
  }
}

export interface TxOptions {
  /** The answer when a unique constraint refuses the write (a concurrent create won). */
  onUniqueViolation?: Failure;
  /** The answer when a referenced row vanished meanwhile. */
  onForeignKeyViolation?: Failure;
  /**
   * False for a write that only inserts rows no cached answer is about: every cached answer concerns
   * a key, actor or workspace that existed when it was read (a lookup that finds no such thing is
   * not kept), so a brand-new service account with its membership and first key leaves all of them
   * true, and no process needs to forget anything. Default true: anything that changes or removes
   * a row invalidates.
   */
  invalidates?: boolean;
}

/**
 * Runs `work` in one transaction. Expected failures come back as values; constraint violations
 * that a concurrent request can cause are mapped to the answer the caller chose for them.
 */
export async function inTransaction<T>(
  deps: Deps,
  work: (tx: Transaction<Database>) => Promise<T>,
  options: TxOptions = {},
): Promise<T | Failure> {
  try {
    // Whatever a write changed may be cached by this or another process: they forget it before the
    // write returns (contract 4). An expected failure changed nothing.
    const { coherence } = deps.cache;
    let stamp: number | null = null;
    const result = await deps.store.db.transaction().execute(async (tx) => {
      const value = await work(tx);
      if (!isFailure(value) && options.invalidates !== false) stamp = await coherence.stamp(tx);
      return value;
    });
    if (stamp !== null) await coherence.settle(stamp);
    return result;
  } catch (error) {
    if (error instanceof Abort) return error.failure;
    if (options.onUniqueViolation && deps.store.isUniqueViolation(error)) return options.onUniqueViolation;
    if (options.onForeignKeyViolation && deps.store.isForeignKeyViolation(error)) return options.onForeignKeyViolation;
    throw error;
  }
}

export const isFailure = (value: unknown): value is Failure =>
  typeof value === 'object' && value !== null && (value as Failure).ok === false && 'code' in value;

export function parseJsonColumn<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export type { Tx };
