// Notices (issue 19, item 3): an account's webhook endpoints (their signing secret sealed under the
// server's secret key), the outbox of deliveries (webhook or mail) written in the same transaction as
// the audit event they announce, the attempts made (the delivery log), and one row per key and
// time-based notice so each is sent once whichever process finds it first.
import type { Kysely } from 'kysely';
import { createAccountTable, createKeyedTable, optional, optionallyOwnedBy, ownedBy, required, timestamps } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createAccountTable(db, 'webhook_endpoints')
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    // event_types: a JSON array of event types.
    .$call(required('text', 'event_types', 'secret_sealed'))
    .$call(timestamps)
    .execute();
  await db.schema.createIndex('webhook_endpoints_account_idx').on('webhook_endpoints').column('account_id').execute();

  await createAccountTable(db, 'notice_deliveries')
    // Null: the mail to the account's Owners.
    .addColumn('endpoint_id', 'text', optionallyOwnedBy('webhook_endpoints.id'))
    // payload: the exact JSON body sent (Standard Webhooks: type, timestamp, data).
    // status: pending | delivered | failed | skipped.
    .$call(required('text', 'event_type', 'payload', 'status'))
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .$call(optional('text', 'lease_until', 'lease_token'))
    .$call(timestamps)
    .execute();
  await db.schema.createIndex('notice_deliveries_due_idx').on('notice_deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('notice_deliveries_endpoint_idx').on('notice_deliveries').column('endpoint_id').execute();
  await db.schema.createIndex('notice_deliveries_account_idx').on('notice_deliveries').column('account_id').execute();

  await createKeyedTable(db, 'notice_attempts')
    .addColumn('delivery_id', 'text', ownedBy('notice_deliveries.id'))
    .addColumn('endpoint_id', 'text', optionallyOwnedBy('webhook_endpoints.id'))
    .addColumn('attempted_at', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notice_attempts_endpoint_idx').on('notice_attempts').columns(['endpoint_id', 'attempted_at']).execute();
  await db.schema.createIndex('notice_attempts_delivery_idx').on('notice_attempts').column('delivery_id').execute();

  await db.schema
    .createTable('api_key_notices')
    .addColumn('api_key_id', 'text', ownedBy('api_keys.id'))
    // expiring_30 | expiring_7 | expiring_1 | expired | grace_ended
    .addColumn('notice', 'text', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('api_key_notices_pkey', ['api_key_id', 'notice'])
    .execute();
  // The hourly expiry scan reads the keys expiring in the next 30 days (or ended in the last 7),
  // through the index on api_keys.expiration that 0016 creates (metrics counts the same keys).
}
