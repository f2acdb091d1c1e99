// Audit retention (issue 20 item 6): GATEHOUSE_AUDIT_RETENTION_DAYS prunes events past it on a
// timer, oldest first and a batch at a time; two processes pruning at once end as one would; the
// setting's parsing; unset keeps everything.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { pruneAuditEvents } from '../src/domain/audit/retention.js';
import { createApp } from '../src/app.js';
import { freshStore, TestClock, type StoreHandle } from './support/harness.js';

let handle: StoreHandle;
const DAY = 86_400_000;
const clock = new TestClock();

beforeAll(async () => {
  handle = await freshStore();
});
afterAll(async () => handle?.dispose());

/** `count` events, `daysAgo` days old, in one insert per 500. */
async function events(count: number, daysAgo: number, tag: string): Promise<void> {
  for (let done = 0; done < count; done += 500) {
    const rows = Array.from({ length: Math.min(500, count - done) }, (_, i) => ({
      id: randomUUID(),
      account_id: null,
      workspace_id: null,
      actor_id: null,
      actor_type: 'system',
      actor_name: 'test',
      action: 'test.retention',
      target_type: 'test',
      target_id: tag,
      request_id: null,
      details: '{}',
      occurred: new Date(clock.now().getTime() - daysAgo * DAY + done + i).toISOString(),
    }));
    await handle.store.db.insertInto('audit_events').values(rows).execute();
  }
}

async function countByTag(): Promise<Record<string, number>> {
  const rows = await handle.store.db.selectFrom('audit_events').select(['target_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('target_id').execute();
  return Object.fromEntries(rows.map((r) => [r.target_id, Number(r.n)]));
}

describe('pruning', () => {
  it('deletes every event older than the cutoff, a batch at a time, and nothing newer', async () => {
    await handle.store.db.deleteFrom('audit_events').execute();
    await events(2_345, 40, 'old');
    await events(10, 29, 'kept');
    const cutoff = new Date(clock.now().getTime() - 30 * DAY).toISOString();
    const statements: number[] = [];
    const removed = await pruneAuditEvents(handle.store, cutoff, { batch: 1_000, onBatch: (n) => statements.push(n) });
    expect(removed).toBe(2_345);
    expect(statements).toEqual([1_000, 1_000, 345]);
    expect(await countByTag()).toEqual({ kept: 10 });
  });

  it('ends the same when two processes prune at once', async () => {
    await handle.store.db.deleteFrom('audit_events').execute();
    await events(3_000, 40, 'old');
    await events(5, 1, 'kept');
    const other = await handle.reopen();
    const cutoff = new Date(clock.now().getTime() - 30 * DAY).toISOString();
    const [a, b] = await Promise.all([pruneAuditEvents(handle.store, cutoff, { batch: 500 }), pruneAuditEvents(other.store, cutoff, { batch: 500 })]);
    expect(a + b).toBe(3_000);
    expect(await countByTag()).toEqual({ kept: 5 });
  });
});

describe('GATEHOUSE_AUDIT_RETENTION_DAYS', () => {
  it('prunes on a timer in a running server', async () => {
    await handle.store.db.deleteFrom('audit_events').execute();
    await events(1_200, 8, 'old');
    await events(3, 6, 'kept');
    const app = await createApp({ store: handle.store, cache: handle.cache, clock, logger: false, auditRetentionDays: 7, auditPruneIntervalMs: 50 });
    try {
      await expect.poll(countByTag, { timeout: 10_000 }).toEqual({ kept: 3 });
    } finally {
      await app.server.close();
    }
  });

  it('keeps every event when unset', async () => {
    await handle.store.db.deleteFrom('audit_events').execute();
    await events(5, 3_000, 'ancient');
    const app = await createApp({ store: handle.store, cache: handle.cache, clock, logger: false, auditPruneIntervalMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await app.server.close();
    expect(await countByTag()).toEqual({ ancient: 5 });
  });

  it('reads days, or forever; refuses 0 and anything else, saying what to write', () => {
    const read = (value: string | undefined) => loadConfig({}, { GATEHOUSE_AUDIT_RETENTION_DAYS: value });
    expect(read(undefined)).toMatchObject({ ok: true, config: { auditRetentionDays: undefined } });
    expect(read('forever')).toMatchObject({ ok: true, config: { auditRetentionDays: undefined } });
    expect(read('400')).toMatchObject({ ok: true, config: { auditRetentionDays: 400 } });
    const refusal = (text: string) => `Invalid GATEHOUSE_AUDIT_RETENTION_DAYS "${text}": a whole number of days from 1 to 36500, or forever (the default) to keep every event`;
    expect(read('0')).toEqual({ ok: false, error: refusal('0') });
    expect(read('30d')).toEqual({ ok: false, error: refusal('30d') });
    expect(read('-1')).toEqual({ ok: false, error: refusal('-1') });
  });
});
