// Accounts (Prefect's "organizations"): read and update, and bootstrap, which creates an account
// with its first Owner and that Owner's first API key.
import { fail, ok, type Result } from '../../errors.js';
import { ACCOUNT_ROLE_IDS } from '../../authz/permissions.js';
import { inTransaction } from '../transaction.js';
import { parseJsonColumn } from '../../store/json-column.js';
import type { Deps } from '../deps.js';
import { newId, type OpContext } from '../context.js';
import { changedColumns, recordEvent } from '../audit/service.js';
import { issueKey } from '../api-keys/service.js';
import { findOrCreateUser } from '../users/create.js';
import { addMembership } from '../memberships/service.js';
import { SELF_HOSTED_PLAN } from '../plan.js';
import type { AccountsTable } from '../../store/schema.js';
import type { AccountUpdate } from './inputs.js';
import { checkEnforcement } from '../ip-allowlist/service.js';

export interface AccountSettings {
  allow_public_workspaces: boolean;
  ai_log_summaries: boolean;
  managed_execution: boolean;
  enforce_ip_allowlist: boolean;
  enforce_webhook_authentication: boolean;
  self_healing_enabled: boolean;
  enabled_feature_flags: string[];
  default_result_storage: unknown;
}

export const DEFAULT_ACCOUNT_SETTINGS: AccountSettings = {
  allow_public_workspaces: false,
  ai_log_summaries: false,
  managed_execution: false,
  enforce_ip_allowlist: false,
  enforce_webhook_authentication: false,
  self_healing_enabled: false,
  enabled_feature_flags: [],
  default_result_storage: null,
};

/** An account as the API shows it: the row's profile columns as they are (each named), its settings parsed, the plan fields clients read. */
export interface Account
  extends Pick<AccountsTable, 'id' | 'created' | 'updated' | 'name' | 'handle' | 'location' | 'link' | 'image_location' | 'billing_email' | 'auth_expiration_seconds'> {
  settings: AccountSettings;
  plan_type: string;
  plan_tier: string;
  features: string[];
  self_serve: boolean;
  sso_state: string;
  scim_state: string;
  run_retention_days: number | null;
  audit_log_retention_days: number | null;
  automations_limit: number | null;
}

/** An account as the API shows it: each wire field named, so a new column stays off the wire. */
export const toAccount = (row: AccountsTable): Account => ({
  id: row.id,
  created: row.created,
  updated: row.updated,
  name: row.name,
  handle: row.handle,
  location: row.location,
  link: row.link,
  image_location: row.image_location,
  billing_email: row.billing_email,
  auth_expiration_seconds: row.auth_expiration_seconds,
  settings: { ...DEFAULT_ACCOUNT_SETTINGS, ...parseJsonColumn<Partial<AccountSettings>>(row.settings, {}) },
  ...SELF_HOSTED_PLAN,
  features: [],
  self_serve: false,
  sso_state: 'DISABLED',
  scim_state: 'DISABLED',
  run_retention_days: null,
  audit_log_retention_days: null,
  automations_limit: null,
});

export type { AccountUpdate };

export interface BootstrapInput {
  accountName: string;
  accountHandle: string;
  email: string;
  /** Set for the browser's first-run setup, which signs in with a password instead of a key. */
  passwordHash?: string | null;
  firstName?: string;
  lastName?: string;
  /** Default true: the CLI prints one API key for the new Owner. */
  issueApiKey?: boolean;
}

export interface BootstrapResult {
  account_id: string;
  user_id: string;
  /** Empty when issueApiKey was false. */
  api_key: string;
}

const handleTaken = fail('ACCOUNT_HANDLE_TAKEN');

export function accountService(deps: Deps) {
  const { store } = deps;

  return {
    /**
     * Creates an account, its Owner (an existing user with this email, or a new one) and one user
     * API key for that Owner. The key's plaintext is in the result and nowhere else.
     */
    async bootstrap(ctx: OpContext, input: BootstrapInput): Promise<Result<BootstrapResult>> {
      const now = ctx.now.toISOString();
      return inTransaction(
        deps,
        async (tx) => {
          const clash = await tx.selectFrom('accounts').select('id').where('handle', '=', input.accountHandle).executeTakeFirst();
          if (clash) return handleTaken;
          const account: AccountsTable = {
            id: newId(),
            name: input.accountName,
            handle: input.accountHandle,
            location: null,
            link: null,
            image_location: null,
            billing_email: null,
            auth_expiration_seconds: null,
            settings: JSON.stringify(DEFAULT_ACCOUNT_SETTINGS),
            created: now,
            updated: now,
          };
          await tx.insertInto('accounts').values(account).execute();
          const user = await findOrCreateUser(tx, { email: input.email, now: ctx.now, passwordHash: input.passwordHash ?? null, firstName: input.firstName, lastName: input.lastName });
          await addMembership(tx, account.id, { actorId: user.actor_id, userId: user.id }, ACCOUNT_ROLE_IDS.Owner, ctx.now);
          const key =
            input.issueApiKey === false
              ? null
              : await issueKey(tx, { kind: 'user', actorId: user.actor_id, userId: user.id }, { name: 'bootstrap', expiration: null, now: ctx.now });
          await recordEvent(tx, ctx, {
            action: 'account.created',
            accountId: account.id,
            targetType: 'account',
            targetId: account.id,
            details: { handle: account.handle, owner_user_id: user.id, owner_email: input.email, api_key_id: key?.id ?? null },
          });
          return ok({ account_id: account.id, user_id: user.id, api_key: key?.key ?? '' });
        },
        { onUniqueViolation: handleTaken },
      );
    },

    async isEmpty(): Promise<boolean> {
      const row = await store.db.selectFrom('accounts').select('id').limit(1).executeTakeFirst();
      return !row;
    },

    async get(accountId: string): Promise<Result<Account>> {
      const row = await store.db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
      return row ? ok(toAccount(row)) : fail('NOT_FOUND', 'Account not found');
    },

    /** `address`: the caller's, so that turning on `enforce_ip_allowlist` cannot lock it out (null: not checked). */
    async update(ctx: OpContext, accountId: string, input: AccountUpdate, address: string | null = null): Promise<Result<null>> {
      return inTransaction(
        deps,
        async (tx) => {
          const existing = await tx.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
          if (!existing) return fail('NOT_FOUND', 'Account not found');
          // Prefect Cloud's session lifetime per account: Gatehouse's sessions belong to a person, not
          // an account, so a value would be stored and never applied. Refused; null (and a value
          // stored before this rule, sent back unchanged) still passes, as Terraform sends every field.
          const authExpiration = input.auth_expiration_seconds;
          if (authExpiration !== undefined && authExpiration !== null && authExpiration !== existing.auth_expiration_seconds) return fail('AUTH_EXPIRATION_NOT_APPLIED');
          const lockout = await checkEnforcement(tx, accountId, input.settings?.enforce_ip_allowlist, address);
          if (lockout) return lockout;
          if (input.handle !== undefined && input.handle !== existing.handle) {
            const clash = await tx.selectFrom('accounts').select('id').where('handle', '=', input.handle).executeTakeFirst();
            if (clash) return handleTaken;
          }
          const changes: Partial<AccountsTable> = { updated: ctx.now.toISOString() };
          for (const field of ['name', 'handle', 'location', 'link', 'image_location', 'billing_email', 'auth_expiration_seconds'] as const) {
            const value = input[field];
            if (value === undefined) continue;
            // name and handle are required: Terraform sends every field, null meaning "unchanged".
            if ((field === 'name' || field === 'handle') && value === null) continue;
            (changes as Record<string, unknown>)[field] = value;
          }
          // Whether the IP allowlist's enforcement changed: a notice (domain/notices) when it did.
          let enforcement: { before: boolean; after: boolean } | undefined;
          if (input.settings) {
            const current = parseJsonColumn<Partial<AccountSettings>>(existing.settings, {});
            const merged = { ...DEFAULT_ACCOUNT_SETTINGS, ...current, ...input.settings };
            changes.settings = JSON.stringify(merged);
            const before = { ...DEFAULT_ACCOUNT_SETTINGS, ...current }.enforce_ip_allowlist;
            if (Boolean(before) !== Boolean(merged.enforce_ip_allowlist)) enforcement = { before: Boolean(before), after: Boolean(merged.enforce_ip_allowlist) };
          }
          await tx.updateTable('accounts').set(changes).where('id', '=', accountId).execute();
          await recordEvent(tx, ctx, {
            action: 'account.updated',
            accountId,
            targetType: 'account',
            targetId: accountId,
            details: { changed: changedColumns(changes), ...(enforcement ? { enforce_ip_allowlist: enforcement } : {}) },
          });
          return ok(null);
        },
        { onUniqueViolation: handleTaken },
      );
    },
  };
}

export type AccountService = ReturnType<typeof accountService>;
