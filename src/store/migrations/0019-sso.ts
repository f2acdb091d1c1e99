// Sign-in with OpenID Connect (issue 21, item 1): an account's identity providers (the client
// secret sealed under the server's secret key), its email domains (verified or not: only a
// verified one lets people join by SSO), its SSO settings (default role of SSO arrivals, passwords
// off), the one-use sign-ins in flight (state → PKCE verifier and nonce) and the identities linked
// to users (provider + subject).
import type { Kysely } from 'kysely';
import { createAccountTable, id, indexColumn, onePer, ownedBy, timestamps } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createAccountTable(db, 'sso_providers')
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('client_secret_sealed', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .$call(timestamps)
    .execute();
  await indexColumn(db, 'sso_providers', 'account_id');
  await createAccountTable(db, 'account_domains')
    .addColumn('name', 'text', (c) => c.notNull())
    // Set (to the name) once verified: unique, so that one domain is verified by one account only.
    .addColumn('verified_name', 'text', (c) => c.unique())
    .addColumn('verified_at', 'text')
    .addColumn('verified_by', 'text')
    .$call(timestamps)
    .addUniqueConstraint('account_domains_account_name_key', ['account_id', 'name'])
    .execute();
  await indexColumn(db, 'account_domains', 'name');
  await db.schema
    .createTable('account_sso_settings')
    .addColumn('account_id', 'text', onePer('accounts.id'))
    .addColumn('default_account_role_id', 'text', (c) => c.notNull())
    .addColumn('passwords_disabled', 'integer', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('sso_logins')
    .addColumn('state_hash', 'text', (c) => c.primaryKey())
    .addColumn('provider_id', 'text', ownedBy('sso_providers.id'))
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text', (c) => c.notNull())
    // The user signed in when the sign-in started: the identity is linked to them.
    .addColumn('link_user_id', 'text')
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await indexColumn(db, 'sso_logins', 'provider_id');
  await db.schema
    .createTable('sso_identities')
    .$call(id)
    .addColumn('provider_id', 'text', ownedBy('sso_providers.id'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', ownedBy('users.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('last_sign_in', 'text', (c) => c.notNull())
    .addUniqueConstraint('sso_identities_provider_subject_key', ['provider_id', 'subject'])
    .execute();
  await indexColumn(db, 'sso_identities', 'user_id');
}
