// Sign-in throttling: too many failures for one email or from one address within a window blocks
// further attempts for that key until the window ends. Kept in the store, so every process agrees.
import type { Tx } from '../deps.js';

export const THROTTLE = {
  windowMs: 15 * 60 * 1000,
  perEmail: 5,
  perAddress: 20,
};

export const emailKey = (email: string) => `email:${email.trim().toLowerCase()}`;
export const addressKey = (ip: string) => `ip:${ip}`;

/** Seconds until `key` may try again, or 0 when it is not blocked. */
export async function blockedFor(db: Tx, key: string, limit: number, now: Date): Promise<number> {
  const row = await db.selectFrom('auth_failures').selectAll().where('key', '=', key).executeTakeFirst();
  if (!row || row.failures < limit) return 0;
  const ends = new Date(row.window_start).getTime() + THROTTLE.windowMs;
  return ends > now.getTime() ? Math.ceil((ends - now.getTime()) / 1000) : 0;
}

export async function recordFailure(db: Tx, key: string, now: Date): Promise<void> {
  const row = await db.selectFrom('auth_failures').selectAll().where('key', '=', key).executeTakeFirst();
  const stale = !row || new Date(row.window_start).getTime() + THROTTLE.windowMs <= now.getTime();
  if (stale) {
    await db
      .insertInto('auth_failures')
      .values({ key, failures: 1, window_start: now.toISOString() })
      .onConflict((oc) => oc.column('key').doUpdateSet({ failures: 1, window_start: now.toISOString() }))
      .execute();
    return;
  }
  await db.updateTable('auth_failures').set((eb) => ({ failures: eb('failures', '+', 1) })).where('key', '=', key).execute();
}

export async function clearFailures(db: Tx, key: string): Promise<void> {
  await db.deleteFrom('auth_failures').where('key', '=', key).execute();
}
