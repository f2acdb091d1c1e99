// The audit feed's place in the trail (domain/audit/feed.ts) and the retention's index.
//
// Each new audit row gets a feed position when it is inserted, without touching the code that
// inserts it. PostgreSQL: the inserting transaction's id (`feed_tx`, xid8) and a sequence number
// (`feed_seq`); a reader takes only rows of transactions older than every one still running, so a
// transaction that commits late is never skipped. SQLite: writes are serialized, so a counter that
// a trigger advances (`audit_feed_counter`) orders rows as they commit. Rows written before this
// migration have no position: the feed starts where it is first switched on, `audit export` has the
// rest.
//
// `audit_feed` holds the feed's cursor and which process writes it (its lease).
import { PostgresAdapter, sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  if (postgres) {
    // Added without a default, then given one: no rewrite of a large table.
    await sql`alter table audit_events add column feed_tx xid8`.execute(db);
    await sql`alter table audit_events alter column feed_tx set default pg_current_xact_id()`.execute(db);
    await sql`create sequence audit_events_feed_seq`.execute(db);
    await sql`alter table audit_events add column feed_seq bigint`.execute(db);
    await sql`alter table audit_events alter column feed_seq set default nextval('audit_events_feed_seq')`.execute(db);
    await sql`create index audit_events_feed_idx on audit_events (feed_tx, feed_seq)`.execute(db);
  } else {
    await db.schema.alterTable('audit_events').addColumn('feed_seq', 'integer').execute();
    await db.schema
      .createTable('audit_feed_counter')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('last', 'integer', (c) => c.notNull())
      .execute();
    await sql`insert into audit_feed_counter (id, last) values (1, 0)`.execute(db);
    await sql`
      create trigger audit_events_feed_seq after insert on audit_events begin
        update audit_feed_counter set last = last + 1 where id = 1;
        update audit_events set feed_seq = (select last from audit_feed_counter where id = 1) where rowid = new.rowid;
      end`.execute(db);
    await db.schema.createIndex('audit_events_feed_idx').on('audit_events').column('feed_seq').execute();
  }
  // Pruning deletes the oldest first, a batch at a time: it needs events by time alone.
  await db.schema.createIndex('audit_events_occurred_idx').on('audit_events').columns(['occurred', 'id']).execute();
  await db.schema
    .createTable('audit_feed')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    // PostgreSQL: `tx:seq`; SQLite: `seq`. Everything up to it has been written to the feed.
    .addColumn('position', 'text', (c) => c.notNull())
    .addColumn('holder', 'text')
    .addColumn('lease_until', 'bigint', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .execute();
}
