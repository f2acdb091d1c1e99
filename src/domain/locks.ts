// Row locks several services take, in one order everywhere (the account before any grant or
// service account row), so concurrent changes queue rather than deadlock. A leaf module: any
// concept folder may use it without importing another.
import type { Executor } from '../store/store.js';

/**
 * Serialises changes to one account's memberships, and grants to its users (so that a grant racing
 * a removal cannot outlive it): a row lock on PostgreSQL, the write lock on SQLite.
 */
export async function lockAccount(tx: Executor, accountId: string): Promise<void> {
  await tx.updateTable('accounts').set((eb) => ({ id: eb.ref('id') })).where('id', '=', accountId).execute();
}
