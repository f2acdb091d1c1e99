// Sign-in with OpenID Connect (issue 21, item 1): an account's identity providers (the client
// secret sealed under the server's secret key), its email domains (verified or not: only a
// verified one lets people join by SSO), its SSO settings (default role of SSO arrivals, passwords
// off), the one-use sign-ins in flight (state → PKCE verifier and nonce) and the identities linked
// to users (provider + subject).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sso_providers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('client_secret_sealed', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sso_providers_account_id_idx').on('sso_providers').column('account_id').execute();
  await db.schema
    .createTable('account_domains')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    // Set (to the name) once verified: unique, so that one domain is verified by one account only.
    .addColumn('verified_name', 'text', (c) => c.unique())
    .addColumn('verified_at', 'text')
    .addColumn('verified_by', 'text')
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .addUniqueConstraint('account_domains_account_name_key', ['account_id', 'name'])
    .execute();
  await db.schema.createIndex('account_domains_name_idx').on('account_domains').column('name').execute();
  await db.schema
    .createTable('account_sso_settings')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('default_account_role_id', 'text', (c) => c.notNull())
    .addColumn('passwords_disabled', 'integer', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('sso_logins')
    .addColumn('state_hash', 'text', (c) => c.primaryKey())
    .addColumn('provider_id', 'text', (c) => c.notNull().references('sso_providers.id').onDelete('cascade'))
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text', (c) => c.notNull())
    // The user signed in when the sign-in started: the identity is linked to them.
    .addColumn('link_user_id', 'text')
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sso_logins_provider_id_idx').on('sso_logins').column('provider_id').execute();
  await db.schema
    .createTable('sso_identities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('provider_id', 'text', (c) => c.notNull().references('sso_providers.id').onDelete('cascade'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('last_sign_in', 'text', (c) => c.notNull())
    .addUniqueConstraint('sso_identities_provider_subject_key', ['provider_id', 'subject'])
    .execute();
  await db.schema.createIndex('sso_identities_user_id_idx').on('sso_identities').column('user_id').execute();
}
