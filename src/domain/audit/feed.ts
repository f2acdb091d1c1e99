// The live audit feed: every audit event, as the JSON line `gatehouse audit export` writes, to a
// file or socket (feed-sink.ts), read from the audit_events table after a cursor kept in the store
// (store/audit-feed.ts), so events written by any process (server, CLI) reach it.
//
// One process writes the feed at a time: it holds a lease on the cursor row (renewed on every
// poll, LEASE_MS long), and any process configured with a feed takes the lease over once it has
// lapsed. Lines are written, then (file) synced, then the cursor moves past them: at least once. A
// crash or lost lease between the write and the move repeats those lines; each carries the event's
// `id` for a reader that wants exactly once.
import type { Store } from '../../store/store.js';
import type { Clock } from '../../clock.js';
import { currentFeedPosition, readFeed } from '../../store/audit-feed.js';
import { newId } from '../context.js';
import { toEvent } from './service.js';
import { describeFeedTarget, openFeedSink, type FeedSink, type FeedTarget } from './feed-sink.js';

export const FEED_POLL_MS = 1_000;
export const FEED_LEASE_MS = 15_000;
/** Events read and written at a time. */
export const FEED_BATCH = 500;

export interface AuditFeedOptions {
  store: Store;
  clock: Clock;
  target: FeedTarget;
  pollMs?: number;
  leaseMs?: number;
  /** Told when writing or the store fails (the feed tries again at its next poll). */
  onError?: (error: unknown, where: string) => void;
  /** A sink of the test's own; default: openFeedSink(target). */
  sink?: FeedSink;
}

export interface AuditFeed {
  /** Writes what the cursor has not reached yet, if this process holds (or can take) the lease. */
  poll(): Promise<number>;
  /** Stops polling and gives the lease up, so another process takes over at once. */
  close(): Promise<void>;
  readonly holder: string;
}

const CURSOR = 1;
const CLOSE_WAIT_MS = 5_000;

export function startAuditFeed(options: AuditFeedOptions): AuditFeed {
  const { store, clock, target } = options;
  const leaseMs = options.leaseMs ?? FEED_LEASE_MS;
  const holder = newId();
  const sink = options.sink ?? openFeedSink(target);
  const db = store.db;
  let running: Promise<number> | null = null;
  let closed = false;

  /** The lease for this process, and the cursor; null when another process holds it. */
  async function lease(): Promise<string | null> {
    const now = clock.now().getTime();
    const take = () =>
      db
        .updateTable('audit_feed')
        .set({ holder, lease_until: now + leaseMs })
        .where('id', '=', CURSOR)
        .where((eb) => eb.or([eb('holder', '=', holder), eb('holder', 'is', null), eb('lease_until', '<', now)]))
        .returning('position')
        .executeTakeFirst();
    let row = await take();
    if (!row) {
      // No cursor yet: the feed starts at the end of the trail as it is now.
      const position = await currentFeedPosition(store);
      await db
        .insertInto('audit_feed')
        .values({ id: CURSOR, position, holder: null, lease_until: 0, updated: clock.now().toISOString() })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      row = await take();
    }
    return row?.position ?? null;
  }

  async function release(): Promise<void> {
    await db.updateTable('audit_feed').set({ holder: null, lease_until: 0 }).where('id', '=', CURSOR).where('holder', '=', holder).execute();
  }

  async function pass(): Promise<number> {
    let position = await lease();
    if (position === null) return 0;
    const deadline = Date.now() + leaseMs / 3;
    let written = 0;
    for (;;) {
      const read = await readFeed(store, position, FEED_BATCH);
      if (read.rows.length === 0) return written;
      const text = read.rows.map((row) => JSON.stringify(toEvent(row))).join('\n') + '\n';
      try {
        await sink.write(text);
      } catch (error) {
        // Another process may reach the reader: let it take over rather than wait out the lease.
        await release().catch(() => {});
        throw Object.assign(new Error(`could not write the audit feed to ${describeFeedTarget(target)}: ${(error as Error).message}`), { cause: error });
      }
      const moved = await db
        .updateTable('audit_feed')
        .set({ position: read.position, updated: clock.now().toISOString() })
        .where('id', '=', CURSOR)
        .where('holder', '=', holder)
        .executeTakeFirst();
      // The lease went to another process meanwhile: it writes from the cursor it finds.
      if (Number(moved.numUpdatedRows) === 0) return written;
      written += read.rows.length;
      position = read.position;
      // A long backlog is written a batch after another, renewing the lease as it goes.
      if (read.rows.length < FEED_BATCH) return written;
      if (Date.now() > deadline) {
        if ((await lease()) === null) return written;
      }
      if (closed) return written;
    }
  }

  function poll(): Promise<number> {
    running ??= pass().finally(() => (running = null));
    return running;
  }

  const timer = setInterval(() => {
    poll().catch((error) => options.onError?.(error, 'poll'));
  }, options.pollMs ?? FEED_POLL_MS);
  timer.unref();

  return {
    holder,
    poll,
    async close() {
      closed = true;
      clearInterval(timer);
      // A collector that stopped reading must not hold up shutdown: what was not written stays
      // behind the cursor, for the next writer.
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([running?.catch(() => {}), new Promise((resolve) => (wait = setTimeout(resolve, CLOSE_WAIT_MS)))]);
      clearTimeout(wait);
      sink.close();
      await release().catch((error) => options.onError?.(error, 'release'));
    },
  };
}
