// People: passwords on users, browser sessions, invitations, sign-in throttling and the one-time
// first-run setup tokens. Secrets (session tokens, invitation codes, setup tokens) are stored as
// SHA-256 digests only; passwords as Argon2id hashes.
import type { Kysely } from 'kysely';
import { createAccountTable, createKeyedTable, optional, ownedBy, required, timestamps } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('password_hash', 'text').execute();

  await createKeyedTable(db, 'sessions')
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', ownedBy('users.id'))
    .$call(optional('text', 'ip_address', 'user_agent'))
    .$call(timestamps)
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

  await createAccountTable(db, 'invitations')
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('account_role_id', 'text', (c) => c.notNull().references('account_roles.id'))
    .$call(required('text', 'code_hash', 'status'))
    .addColumn('invited_by_actor_id', 'text')
    .addColumn('expiration', 'text', (c) => c.notNull())
    .$call(timestamps)
    .execute();
  await db.schema.createIndex('invitations_account_idx').on('invitations').column('account_id').execute();

  await createKeyedTable(db, 'auth_failures', 'key')
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .execute();

  await createKeyedTable(db, 'setup_tokens', 'token_hash')
    .$call(required('text', 'created', 'expires_at'))
    .execute();
}
