// Sign-in throttling: too many failures for one email or from one address within a window blocks
// further attempts for that key until the window ends. Kept in the store, so every process agrees.
// Each attempt is counted before its password is checked, in one atomic statement, so that
// concurrent guesses cannot all slip past the limit while the (slow) checks run; a success then
// takes its count back.
import type { Executor } from '../../store/store.js';

export const THROTTLE = {
  windowMs: 15 * 60 * 1000,
  perEmail: 5,
  perAddress: 20,
};

export const emailKey = (email: string) => `email:${email.trim().toLowerCase()}`;
export const addressKey = (ip: string) => `ip:${ip}`;
/** Wrong current passwords given to change a user's password, counted like failed sign-ins. */
export const passwordChangeKey = (userId: string) => `password-change:${userId}`;

/**
 * Counts one attempt against `key` and answers the seconds until `key` may try again when this
 * attempt is over `limit`, or 0 when it may go ahead. A window that has ended starts afresh.
 */
export async function countAttempt(db: Executor, key: string, limit: number, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - THROTTLE.windowMs).toISOString();
  const row = await db
    .insertInto('auth_failures')
    .values({ key, failures: 1, window_start: now.toISOString() })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => {
        // Both SET expressions see the row as it was, so both test the old window.
        const stale = eb('auth_failures.window_start', '<=', cutoff);
        return {
          failures: eb.case().when(stale).then(eb.val(1)).else(eb('auth_failures.failures', '+', 1)).end(),
          window_start: eb.case().when(stale).then(eb.val(now.toISOString())).else(eb.ref('auth_failures.window_start')).end(),
        };
      }),
    )
    .returning(['failures', 'window_start'])
    .executeTakeFirstOrThrow();
  if (row.failures <= limit) return 0;
  const ends = new Date(row.window_start).getTime() + THROTTLE.windowMs;
  return Math.max(1, Math.ceil((ends - now.getTime()) / 1000));
}

/** Takes back the count of one attempt that turned out to be a success. */
export async function uncountAttempt(db: Executor, key: string): Promise<void> {
  await db.updateTable('auth_failures').set((eb) => ({ failures: eb('failures', '-', 1) })).where('key', '=', key).where('failures', '>', 0).execute();
}

export async function clearFailures(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('auth_failures').where('key', '=', key).execute();
}
