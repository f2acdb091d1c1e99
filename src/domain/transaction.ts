// The one way a domain service writes: inTransaction runs its work in one transaction, makes every
// process's cache forget what it changed, and maps the expected failures a concurrent write causes.
import type { Transaction } from 'kysely';
import type { Failure } from '../errors.js';
import type { Database } from '../store/schema.js';
import type { Deps } from './deps.js';
import { metrics } from '../observability/metrics.js';

/** Carries a returned failure out of the transaction, which rolls it back (never leaves this module). */
class RolledBack extends Error {
  constructor(readonly failure: Failure) {
    super(failure.code);
  }
}

export interface TransactionOptions {
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
 * Runs `work` in one transaction. A Failure that `work` returns rolls back whatever it wrote and is
 * the answer: the one way to abort (helpers return a Failure, their caller returns it). Constraint
 * violations that a concurrent request can cause are mapped to the answer the caller chose for them.
 */
export async function inTransaction<T>(
  deps: Deps,
  work: (tx: Transaction<Database>) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T | Failure> {
  try {
    // Whatever a write changed may be cached by this or another process: they forget it before the
    // write returns (contract 4). An expected failure changed nothing: it was rolled back.
    const { coherence } = deps.cache;
    let stamp: number | null = null;
    const result = await deps.store.db.transaction().execute(async (tx) => {
      const value = await work(tx);
      if (isFailure(value)) throw new RolledBack(value);
      if (options.invalidates !== false) stamp = await coherence.stamp(tx);
      return value;
    });
    if (stamp !== null) await metrics.invalidationSettled(coherence.settle(stamp));
    return result;
  } catch (error) {
    if (error instanceof RolledBack) return error.failure;
    if (options.onUniqueViolation && deps.store.isUniqueViolation(error)) return options.onUniqueViolation;
    if (options.onForeignKeyViolation && deps.store.isForeignKeyViolation(error)) return options.onForeignKeyViolation;
    throw error;
  }
}

export const isFailure = (value: unknown): value is Failure =>
  typeof value === 'object' && value !== null && (value as Failure).ok === false && 'code' in value;
