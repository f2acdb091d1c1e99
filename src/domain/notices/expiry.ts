// The time-based notices: a service-account key expiring in 30, 7 or 1 days, expired, or an old key
// whose rotation grace ended. A periodic scan in every process finds them; each is sent once per key
// and notice whichever process gets there first (a row in api_key_notices, inserted with the audit
// event that is the notice, in one transaction; a second insert does nothing and sends nothing).
import type { Deps } from '../deps.js';
import { inTransaction } from '../transaction.js';
import { fail } from '../../errors.js';
import { SYSTEM_ACTOR, type OpContext } from '../context.js';
import { recordEvent } from '../audit/service.js';
import { EXPIRY_ACTIONS } from '../audit/notice-events.js';

const DAY_MS = 86_400_000;
/** Days before expiry at which a key's Owners are told, largest first. */
export const EXPIRY_THRESHOLDS_DAYS = [30, 7, 1] as const;
/** A key that ended longer ago than this (before notices existed, or while no process ran) is not announced. */
const LOOKBACK_MS = 7 * DAY_MS;

export interface ExpiryNotice {
  api_key_id: string;
  notice: string;
}

/**
 * The notice a key is due now, or null. A key gets the smallest threshold it is within, and only one
 * it lived longer than (a key made to last 5 days is not "expiring in 7 days" at birth).
 */
export function dueNotice(key: { created: string; expiration: string; is_active: number }, now: Date): { notice: string; days?: number } | null {
  const expires = Date.parse(key.expiration);
  const left = expires - now.getTime();
  if (left <= 0) return left > -LOOKBACK_MS ? { notice: key.is_active === 1 ? 'expired' : 'grace_ended' } : null;
  if (key.is_active !== 1) return null;
  const lifetime = expires - Date.parse(key.created);
  const days = [...EXPIRY_THRESHOLDS_DAYS].reverse().find((d) => left <= d * DAY_MS && lifetime > d * DAY_MS);
  return days === undefined ? null : { notice: `expiring_${days}`, days };
}

export function expiryScan(deps: Deps) {
  const { store, clock } = deps;
  return {
    /** Sends (queues) every time-based notice due now; returns the ones this call sent. */
    async run(now: Date = clock.now()): Promise<ExpiryNotice[]> {
      const from = new Date(now.getTime() - LOOKBACK_MS).toISOString();
      const until = new Date(now.getTime() + EXPIRY_THRESHOLDS_DAYS[0] * DAY_MS).toISOString();
      const keys = await store.db
        .selectFrom('api_keys as k')
        .innerJoin('bots as b', 'b.id', 'k.bot_id')
        .leftJoin('api_key_notices as n', 'n.api_key_id', 'k.id')
        .select(['k.id', 'k.created', 'k.expiration', 'k.is_active', 'k.masked_key', 'b.id as bot_id', 'b.name as bot_name', 'b.account_id', 'n.notice'])
        .where('k.expiration', '>', from)
        .where('k.expiration', '<=', until)
        .execute();
      const sent = new Map<string, Set<string>>();
      for (const k of keys) if (k.notice) (sent.get(k.id) ?? sent.set(k.id, new Set()).get(k.id)!).add(k.notice);
      const seen = new Set<string>();
      const done: ExpiryNotice[] = [];
      const ctx: OpContext = { actor: SYSTEM_ACTOR, requestId: null, now };
      for (const key of keys) {
        if (seen.has(key.id) || !key.expiration) continue;
        seen.add(key.id);
        const due = dueNotice({ created: key.created, expiration: key.expiration, is_active: Number(key.is_active) }, now);
        if (!due || sent.get(key.id)?.has(due.notice)) continue;
        const action = due.notice.startsWith('expiring') ? EXPIRY_ACTIONS.expiring : due.notice === 'expired' ? EXPIRY_ACTIONS.expired : EXPIRY_ACTIONS.grace_ended;
        const result = await inTransaction(deps, async (tx) => {
          const inserted = await tx
            .insertInto('api_key_notices')
            .values({ api_key_id: key.id, notice: due.notice, created: now.toISOString() })
            .onConflict((oc) => oc.doNothing())
            .executeTakeFirst();
          if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return false; // another process sent it
          await recordEvent(tx, ctx, {
            action,
            accountId: key.account_id,
            targetType: 'service_account',
            targetId: key.bot_id,
            details: { name: key.bot_name, api_key_id: key.id, masked_key: key.masked_key, expiration: key.expiration, is_active: Number(key.is_active) === 1, ...(due.days ? { days: due.days } : {}) },
          });
          return true;
        }, { invalidates: false, onForeignKeyViolation: fail('NOT_FOUND') }); // the key was removed meanwhile
        if (result === true) done.push({ api_key_id: key.id, notice: due.notice });
      }
      return done;
    },
  };
}
