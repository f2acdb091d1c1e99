// Where the audit feed stands in the trail, in each dialect's terms (migration 0015): the one place
// that reads the feed columns. A position is opaque text to everyone else.
//
// PostgreSQL: `tx:seq`. Rows are read in (transaction id, sequence) order, and only rows of
// transactions older than the oldest one still running (the snapshot's xmin): every such
// transaction has ended, so no row can later appear behind the position. A long transaction
// anywhere on the server delays the feed until it ends; it never makes the feed skip a row.
// SQLite: `seq`, the counter the insert trigger advances; writers are serialized, so rows commit
// in counter order.
import { sql } from 'kysely';
import type { AuditEventsTable } from './schema.js';
import type { Store } from './store.js';

export interface FeedRead {
  rows: AuditEventsTable[];
  /** The position after the last row read (unchanged when none). */
  position: string;
}

/** The position of "now": the feed starts here when it has no cursor yet. */
export async function currentFeedPosition(store: Store): Promise<string> {
  if (store.dialect === 'postgres') {
    const { rows } = await sql<{ xmin: string }>`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`.execute(store.db);
    return `${rows[0]!.xmin}:0`;
  }
  const { rows } = await sql<{ last: number }>`select last from audit_feed_counter where id = 1`.execute(store.db);
  return String(rows[0]?.last ?? 0);
}

const COLUMNS = sql`id, account_id, workspace_id, actor_id, actor_type, actor_name, action, target_type, target_id, request_id, details, occurred`;

/** Up to `limit` events after `position`, in feed order. */
export async function readFeed(store: Store, position: string, limit: number): Promise<FeedRead> {
  if (store.dialect === 'postgres') {
    const [tx, seq] = position.split(':');
    const { rows } = await sql<AuditEventsTable & { feed_tx: string; feed_seq: string }>`
      select ${COLUMNS}, feed_tx::text as feed_tx, feed_seq
      from audit_events
      where (feed_tx, feed_seq) > (${tx}::xid8, ${seq}::bigint)
        and feed_tx < pg_snapshot_xmin(pg_current_snapshot())
      order by feed_tx, feed_seq
      limit ${limit}`.execute(store.db);
    const last = rows.at(-1);
    return { rows: rows.map(({ feed_tx: _tx, feed_seq: _seq, ...row }) => row), position: last ? `${last.feed_tx}:${last.feed_seq}` : position };
  }
  const { rows } = await sql<AuditEventsTable & { feed_seq: number }>`
    select ${COLUMNS}, feed_seq from audit_events where feed_seq > ${Number(position)} order by feed_seq limit ${limit}`.execute(store.db);
  const last = rows.at(-1);
  return { rows: rows.map(({ feed_seq: _seq, ...row }) => row), position: last ? String(last.feed_seq) : position };
}
