// Keyless workload identity (issue 21, item 4): a service account's trust rules say which OIDC
// tokens (issuer, audience, subject pattern, required claims) may be exchanged for a short-lived
// key of it. Exchanged tokens are remembered until they expire, so that none is exchanged twice.
// An exchanged key is an ordinary api_keys row (is_active 2: neither the current key nor an old
// one in its rotation grace) that names the token's subject and issuer and the rule that let it in
// (deleting the rule deletes its keys).
import type { Kysely } from 'kysely';
import { createAccountTable, indexColumn, ownedBy, timestamps } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createAccountTable(db, 'trust_rules')
    .addColumn('bot_id', 'text', ownedBy('bots.id'))
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('subject_pattern', 'text', (c) => c.notNull())
    .addColumn('required_claims', 'text', (c) => c.notNull())
    .addColumn('key_lifetime_seconds', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .$call(timestamps)
    .execute();
  await indexColumn(db, 'trust_rules', 'bot_id');
  await indexColumn(db, 'trust_rules', 'account_id');
  await db.schema
    .createTable('exchanged_tokens')
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('token_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('exchanged_tokens_pkey', ['issuer', 'token_id'])
    .execute();
  for (const column of ['exchanged_subject', 'exchanged_issuer', 'exchanged_rule_id']) {
    await db.schema.alterTable('api_keys').addColumn(column, 'text').execute();
  }
}
