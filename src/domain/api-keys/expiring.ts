// How many current API keys expire soon, for the metrics listener's gauges
// (observability/metrics.ts): one indexed range count per window (api_keys_expiration_idx).
import { sql } from 'kysely';
import type { Executor } from '../../store/store.js';

const DAY_MS = 86_400_000;
const WINDOWS = [['7d', 7], ['30d', 30]] as const;
const HOLDERS = ['service_account', 'user'] as const;

/**
 * Keys that are current (not an old key inside its rotation grace) and expire after `now` and within
 * 7 and 30 days, by holder; every window and holder is answered, with 0 when none.
 */
export async function countExpiringKeys(db: Executor, now: Date): Promise<{ within: string; holder: string; count: number }[]> {
  const holder = sql<string>`case when bot_id is null then 'user' else 'service_account' end`;
  const rows: { within: string; holder: string; count: number }[] = [];
  for (const [within, days] of WINDOWS) {
    const counted = await db
      .selectFrom('api_keys')
      .select([holder.as('holder'), (eb) => eb.fn.countAll<number | string | bigint>().as('count')])
      .where('expiration', '>', now.toISOString())
      .where('expiration', '<=', new Date(now.getTime() + days * DAY_MS).toISOString())
      .where('is_active', '=', 1)
      .groupBy(holder)
      .execute();
    for (const name of HOLDERS) rows.push({ within, holder: name, count: Number(counted.find((row) => row.holder === name)?.count ?? 0) });
  }
  return rows;
}
