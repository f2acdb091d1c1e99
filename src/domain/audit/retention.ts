// Audit retention: events older than the retention are deleted, oldest first, PRUNE_BATCH at a time,
// each batch its own short statement, so no lock is held for long however much is due. Every
// process runs it on a timer; two processes pruning at once delete disjoint or already-deleted
// rows, so the outcome is the same as one (no process needs electing).
import type { Store } from '../../store/store.js';

export const PRUNE_BATCH = 1_000;
export const PRUNE_INTERVAL_MS = 3_600_000;

/** Deletes every event that occurred before `cutoff` (RFC 3339), a batch at a time; answers how many. */
export async function pruneAuditEvents(store: Store, cutoff: string, options: { batch?: number; pauseMs?: number; stopped?: () => boolean; onBatch?: (removed: number) => void } = {}): Promise<number> {
  const batch = options.batch ?? PRUNE_BATCH;
  let removed = 0;
  for (;;) {
    const result = await store.db
      .deleteFrom('audit_events')
      .where('id', 'in', (db) => db.selectFrom('audit_events').select('id').where('occurred', '<', cutoff).orderBy('occurred').orderBy('id').limit(batch))
      .executeTakeFirst();
    const count = Number(result.numDeletedRows);
    removed += count;
    options.onBatch?.(count);
    if (count < batch || options.stopped?.()) return removed;
    // Let other writers (and this process's requests) in between batches.
    await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 10));
  }
}

export interface RetentionOptions {
  store: Store;
  now: () => Date;
  days: number;
  everyMs?: number;
  onPruned?: (removed: number, cutoff: string) => void;
  onError?: (error: unknown) => void;
}

/** Prunes soon after start, then every `everyMs`; stop() ends it (a running batch finishes). */
export function scheduleAuditRetention(options: RetentionOptions): { run(): Promise<number>; stop(): Promise<void> } {
  let running: Promise<number> | null = null;
  let stopped = false;
  const run = () =>
    (running ??= (async () => {
      const cutoff = new Date(options.now().getTime() - options.days * 86_400_000).toISOString();
      const removed = await pruneAuditEvents(options.store, cutoff, { stopped: () => stopped });
      if (removed > 0) options.onPruned?.(removed, cutoff);
      return removed;
    })().finally(() => (running = null)));
  const tick = () => {
    if (!stopped) run().catch((error) => options.onError?.(error));
  };
  // A minute after start: not in the way of a process coming up (or of a burst of restarts).
  const first = setTimeout(tick, Math.min(60_000, options.everyMs ?? PRUNE_INTERVAL_MS));
  const timer = setInterval(tick, options.everyMs ?? PRUNE_INTERVAL_MS);
  first.unref();
  timer.unref();
  return {
    run,
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
