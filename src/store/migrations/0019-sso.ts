// Sign-in with OpenID Connect (issue 21, item 1): an account's identity providers (the client
// secret sealed under the server's secret key), its email domains (verified or not: only a
// verified one lets people join by SSO), its SSO settings (default role of SSO arrivals, passwords
// off), the one-use sign-ins in flight (state → PKCE verifier and nonce) and the identities linked
// to users (provider + subject).
import type { Kysely } from 'kysely';
import { createAccountTable, createKeyedTable, indexColumn, onePer, optional, ownedBy, required, timestamps } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createAccountTable(db, 'sso_providers')
    .$call(required('text', 'display_name', 'issuer', 'client_id'))
    .addColumn('client_secret_sealed', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .$call(timestamps)
    .execute();
  await indexColumn(db, 'sso_providers', 'account_id');
  await createAccountTable(db, 'account_domains')
    .addColumn('name', 'text', (c) => c.notNull())
    // Set (to the name) once verified: unique, so that one domain is verified by one account only.
    .addColumn('verified_name', 'text', (c) => c.unique())
    .$call(optional('text', 'verified_at', 'verified_by'))
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
  await createKeyedTable(db, 'sso_logins', 'state_hash')
    .addColumn('provider_id', 'text', ownedBy('sso_providers.id'))
    .$call(required('text', 'code_verifier', 'nonce', 'return_to'))
    // The user signed in when the sign-in started: the identity is linked to them.
    .addColumn('link_user_id', 'text')
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await indexColumn(db, 'sso_logins', 'provider_id');
  await createKeyedTable(db, 'sso_identities')
    .addColumn('provider_id', 'text', ownedBy('sso_providers.id'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', ownedBy('users.id'))
    .$call(required('text', 'email', 'created', 'last_sign_in'))
    .addUniqueConstraint('sso_identities_provider_subject_key', ['provider_id', 'subject'])
    .execute();
  await indexColumn(db, 'sso_identities', 'user_id');
}
