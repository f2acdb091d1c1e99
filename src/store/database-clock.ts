// When PostgreSQL is the store, time (and so expiry) is the database's, so every Gatehouse process
// on one database agrees on when a key expires, whatever its own host's wall clock says. The
// process's wall clock never enters: the database clock is read now and then and carried forward
// in between on this process's monotonic clock.
import { performance } from 'node:perf_hooks';
import { CompiledQuery, type Kysely } from 'kysely';
import type { Clock } from '../clock.js';

export interface DatabaseClock extends Clock {
  /** Reads the database clock again. On failure the last reading stays in use and the error is thrown. */
  sync(): Promise<void>;
  /** Stops the periodic re-sync (now() keeps working from the last reading). */
  stop(): void;
}

export interface DatabaseClockOptions {
  /** How often the database clock is read again, to follow adjustments of the database host's clock (default 10 s). */
  resyncMs?: number;
  /** A periodic re-sync failed; the clock keeps running from the last reading. */
  onResyncError?: (error: unknown) => void;
}

const DEFAULT_RESYNC_MS = 10_000;
/** Readings per sync; the one with the shortest round trip, so the smallest possible error, is kept. */
const READINGS = 3;
// float8 keeps the microseconds that clock_timestamp() has.
const DB_NOW_MS = CompiledQuery.raw('select (extract(epoch from clock_timestamp()) * 1000)::float8 as ms');

/** Reads the database clock once (the returned promise resolves once it has), then every `resyncMs`. */
export async function startDatabaseClock(db: Kysely<any>, options: DatabaseClockOptions = {}): Promise<DatabaseClock> {
  // The database's time at the reading, and this process's monotonic time when the query was sent.
  let dbMs = 0;
  let sentAt = 0;
  let syncing: Promise<void> | null = null;

  async function read(): Promise<void> {
    await db.connection().execute(async (connection) => {
      let best: { ms: number; sent: number; roundTrip: number } | undefined;
      for (let reading = 0; reading < READINGS; reading += 1) {
        // Noted after a connection is in hand, so waiting for one in the pool does not count. The
        // database read its clock somewhat after this moment (less than one round trip later), so
        // dbMs + (now - sentAt) is never earlier than the database's time: the error is toward
        // "later", refusing a key a fraction of a millisecond early, never accepting one late.
        const sent = performance.now();
        const { rows } = await connection.executeQuery<{ ms: number }>(DB_NOW_MS);
        const roundTrip = performance.now() - sent;
        const ms = Number(rows[0]?.ms);
        if (!Number.isFinite(ms)) throw new Error('The database clock query returned no time');
        if (!best || roundTrip < best.roundTrip) best = { ms, sent, roundTrip };
      }
      dbMs = best!.ms;
      sentAt = best!.sent;
    });
  }

  // One sync at a time: a slow one is not overtaken by a later one.
  const sync = () => (syncing ??= read().finally(() => (syncing = null)));

  await sync();
  const timer = setInterval(() => sync().catch((error) => options.onResyncError?.(error)), options.resyncMs ?? DEFAULT_RESYNC_MS);
  timer.unref();

  return {
    // Between readings the estimate follows this process's monotonic clock, so it is off by the
    // difference in tick rate between the two hosts' clocks over at most one re-sync interval
    // (parts per million of it for clocks that are not being corrected).
    now: () => new Date(dbMs + (performance.now() - sentAt)),
    sync,
    stop: () => clearInterval(timer),
  };
}
