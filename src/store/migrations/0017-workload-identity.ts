// Keyless workload identity (issue 21, item 4): a service account's trust rules say which OIDC
// tokens (issuer, audience, subject pattern, required claims) may be exchanged for a short-lived
// key of it. Exchanged tokens are remembered until they expire, so that none is exchanged twice.
// An exchanged key is an ordinary api_keys row (is_active 2: neither the current key nor an old
// one in its rotation grace) that names the token's subject and issuer and the rule that let it in
// (deleting the rule deletes its keys).
import type { Kysely } from 'kysely';
import { addOptionalColumns, createAccountTable, indexColumn, ownedBy, required, timestamps } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createAccountTable(db, 'trust_rules')
    .addColumn('bot_id', 'text', ownedBy('bots.id'))
    .$call(required('text', 'issuer', 'audience', 'subject_pattern', 'required_claims'))
    .addColumn('key_lifetime_seconds', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .$call(timestamps)
    .execute();
  await indexColumn(db, 'trust_rules', 'bot_id');
  await indexColumn(db, 'trust_rules', 'account_id');
  await db.schema
    .createTable('exchanged_tokens')
    .$call(required('text', 'issuer', 'token_id', 'expires_at'))
    .addPrimaryKeyConstraint('exchanged_tokens_pkey', ['issuer', 'token_id'])
    .execute();
  await addOptionalColumns(db, 'api_keys', 'text', ['exchanged_subject', 'exchanged_issuer', 'exchanged_rule_id']);
}
