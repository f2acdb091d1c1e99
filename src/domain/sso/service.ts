// An account's single sign-on setup: its OpenID Connect providers (the client secret sealed under
// the server's secret key, never read back), its email domains (the ones Prefect's Terraform
// `prefect_account` reads and sets; only verified ones let people join by SSO) and its settings
// (default role of SSO arrivals, passwords off).
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { newId, type OpContext } from '../context.js';
import { ownedObjectFields } from '../views.js';
import { deleteRecorded, insertRecorded, recordEvent, updateRecorded } from '../audit/service.js';
import { seal } from '../gateways/sealed.js';
import type { SecretKeyring } from '../../secret-key.js';
import type { AccountDomainsTable, SsoProvidersTable } from '../../store/schema.js';
import { ACCOUNT_ROLE_IDS } from '../../authz/permissions.js';
import { issuerUrlProblem } from '../workload-identity/tokens.js';
import { findAccountRole } from '../roles/service.js';
import { DOMAIN_PATTERN, type DomainNamesUpdate, type SsoProviderCreate, type SsoProviderUpdate, type SsoSettingsUpdate } from './inputs.js';
import type { Discovery } from './discovery.js';

export interface SsoProvider {
  id: string;
  created: string;
  updated: string;
  account_id: string;
  display_name: string;
  issuer: string;
  client_id: string;
  /** Whether a client secret is set (the secret itself is never read back). */
  has_client_secret: boolean;
  enabled: boolean;
}

export interface AccountDomain {
  id: string;
  created: string;
  updated: string;
  account_id: string;
  name: string;
  verified: boolean;
  verified_at: string | null;
  verified_by: string | null;
}

export interface SsoSettings {
  account_id: string;
  default_account_role_id: string;
  passwords_disabled: boolean;
}

export const secretContext = (providerId: string) => `sso-provider:${providerId}`;

const toProvider = (row: SsoProvidersTable): SsoProvider => ({
  ...ownedObjectFields(row),
  display_name: row.display_name,
  issuer: row.issuer,
  client_id: row.client_id,
  has_client_secret: row.client_secret_sealed !== null,
  enabled: row.enabled === 1,
});

export const toDomain = (row: AccountDomainsTable): AccountDomain => ({
  ...ownedObjectFields(row),
  name: row.name,
  verified: row.verified_name !== null,
  verified_at: row.verified_at,
  verified_by: row.verified_by,
});

/** The domain of an email, lowercased (the part after the last "@"). */
export const emailDomain = (email: string): string => email.slice(email.lastIndexOf('@') + 1).trim().toLowerCase();

export async function loadSettings(db: Executor, accountId: string): Promise<SsoSettings> {
  const row = await db.selectFrom('account_sso_settings').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  return {
    account_id: accountId,
    default_account_role_id: row?.default_account_role_id ?? ACCOUNT_ROLE_IDS.Member,
    passwords_disabled: row?.passwords_disabled === 1,
  };
}

const notFound = () => fail('NOT_FOUND', 'Identity provider not found');
const issuerProblem = (issuer: string) => {
  const problem = issuerUrlProblem(issuer);
  return problem ? fail('SSO_ISSUER_INVALID', problem.replace(/^issuer/, 'The issuer')) : null;
};

export function ssoService(deps: Deps, ring: SecretKeyring, discovery: Discovery) {
  const { store } = deps;

  const providerIn = (db: Executor, accountId: string, id: string) =>
    db.selectFrom('sso_providers').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();

  return {
    async listProviders(accountId: string): Promise<Result<SsoProvider[]>> {
      const rows = await store.db.selectFrom('sso_providers').selectAll().where('account_id', '=', accountId).orderBy('created').orderBy('id').execute();
      return ok(rows.map(toProvider));
    },

    async createProvider(ctx: OpContext, accountId: string, input: SsoProviderCreate): Promise<Result<SsoProvider>> {
      const problem = issuerProblem(input.issuer);
      if (problem) return problem;
      return inTransaction(
        deps,
        async (tx) => {
          const now = ctx.now.toISOString();
          const id = newId();
          const row: SsoProvidersTable = {
            id,
            account_id: accountId,
            display_name: input.display_name,
            issuer: input.issuer,
            client_id: input.client_id,
            client_secret_sealed: input.client_secret ? seal(ring.current, input.client_secret, secretContext(id)) : null,
            enabled: input.enabled === false ? 0 : 1,
            created: now,
            updated: now,
          };
          await insertRecorded(tx, ctx, 'sso_providers', row, {
            action: 'sso.provider_created',
            targetType: 'sso_provider',
            details: { display_name: row.display_name, issuer: row.issuer, client_id: row.client_id, enabled: row.enabled === 1 },
          });
          return ok(toProvider(row));
        },
        { invalidates: false },
      );
    },

    async updateProvider(ctx: OpContext, accountId: string, id: string, input: SsoProviderUpdate): Promise<Result<SsoProvider>> {
      if (input.issuer !== undefined) {
        const problem = issuerProblem(input.issuer);
        if (problem) return problem;
      }
      return inTransaction(deps, async (tx) => {
        const row = await providerIn(tx, accountId, id);
        if (!row) return notFound();
        const next: SsoProvidersTable = {
          ...row,
          display_name: input.display_name ?? row.display_name,
          issuer: input.issuer ?? row.issuer,
          client_id: input.client_id ?? row.client_id,
          client_secret_sealed:
            input.client_secret === undefined ? row.client_secret_sealed : input.client_secret === null ? null : seal(ring.current, input.client_secret, secretContext(id)),
          enabled: input.enabled === undefined ? row.enabled : input.enabled ? 1 : 0,
          updated: ctx.now.toISOString(),
        };
        const { client_secret, ...shown } = input;
        await updateRecorded(tx, ctx, 'sso_providers', row, next, {
          action: 'sso.provider_updated',
          targetType: 'sso_provider',
          details: { ...shown, ...(client_secret !== undefined ? { client_secret: client_secret === null ? 'removed' : 'changed' } : {}) },
        });
        discovery.forget(id);
        return ok(toProvider(next));
      });
    },

    async removeProvider(ctx: OpContext, accountId: string, id: string): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        const row = await providerIn(tx, accountId, id);
        if (!row) return notFound();
        await deleteRecorded(tx, ctx, 'sso_providers', row, { action: 'sso.provider_deleted', targetType: 'sso_provider', details: { display_name: row.display_name, issuer: row.issuer } });
        discovery.forget(id);
        return ok(null);
      });
    },

    /** Reads the provider's discovery document: whether Gatehouse can use it as configured. */
    async checkProvider(accountId: string, id: string): Promise<Result<{ ok: boolean; detail: string; authorization_endpoint: string | null }>> {
      const row = await providerIn(store.db, accountId, id);
      if (!row) return notFound();
      discovery.forget(id);
      const found = await discovery.configuration(row, ring);
      if (!found.ok) return ok({ ok: false, detail: found.detail ?? found.code, authorization_endpoint: null });
      const endpoint = found.value.serverMetadata().authorization_endpoint ?? null;
      return ok({ ok: true, detail: `The issuer answers: its authorization endpoint is ${endpoint}`, authorization_endpoint: endpoint });
    },

    async listDomains(accountId: string): Promise<Result<AccountDomain[]>> {
      const rows = await store.db.selectFrom('account_domains').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
      return ok(rows.map(toDomain));
    },

    /** Sets the account's domains to exactly these names (Terraform's `domain_names`); kept names keep their verification. */
    async setDomains(ctx: OpContext, accountId: string, input: DomainNamesUpdate): Promise<Result<AccountDomain[]>> {
      const names = [...new Set(input.domain_names.map((name) => name.trim().toLowerCase().replace(/\.$/, '')))];
      const bad = names.find((name) => !DOMAIN_PATTERN.test(name));
      if (bad !== undefined) return fail('DOMAIN_INVALID', `${JSON.stringify(bad)} is not a domain name: send names such as example.com`);
      return inTransaction(
        deps,
        async (tx) => {
          const existing = await tx.selectFrom('account_domains').selectAll().where('account_id', '=', accountId).execute();
          const removed = existing.filter((row) => !names.includes(row.name));
          const added = names.filter((name) => !existing.some((row) => row.name === name));
          if (removed.length) await tx.deleteFrom('account_domains').where('id', 'in', removed.map((row) => row.id)).execute();
          const now = ctx.now.toISOString();
          for (const name of added) {
            await tx.insertInto('account_domains').values({ id: newId(), account_id: accountId, name, verified_name: null, verified_at: null, verified_by: null, created: now, updated: now }).execute();
          }
          if (removed.length || added.length) {
            await recordEvent(tx, ctx, {
              action: 'account.domains_updated',
              accountId,
              targetType: 'account',
              targetId: accountId,
              details: { added, removed: removed.map((row) => row.name) },
            });
          }
          const rows = await tx.selectFrom('account_domains').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
          return ok(rows.map(toDomain));
        },
        { onUniqueViolation: fail('CONCURRENT_CHANGE') },
      );
    },

    /** An Owner or Admin vouches for a domain: people with a provider-verified email there may join by SSO. */
    async verifyDomain(ctx: OpContext, accountId: string, domainId: string): Promise<Result<AccountDomain>> {
      return inTransaction(
        deps,
        async (tx) => {
          const row = await tx.selectFrom('account_domains').selectAll().where('account_id', '=', accountId).where('id', '=', domainId).executeTakeFirst();
          if (!row) return fail('NOT_FOUND', 'Domain not found');
          if (row.verified_name) return ok(toDomain(row));
          const elsewhere = await tx.selectFrom('account_domains').select('id').where('verified_name', '=', row.name).executeTakeFirst();
          if (elsewhere) return fail('DOMAIN_VERIFIED_ELSEWHERE');
          const now = ctx.now.toISOString();
          const next = { ...row, verified_name: row.name, verified_at: now, verified_by: 'owner', updated: now };
          await tx.updateTable('account_domains').set(next).where('id', '=', row.id).execute();
          await recordEvent(tx, ctx, { action: 'account.domain_verified', accountId, targetType: 'account_domain', targetId: row.id, details: { name: row.name, by: 'owner' } });
          return ok(toDomain(next));
        },
        { onUniqueViolation: fail('DOMAIN_VERIFIED_ELSEWHERE') },
      );
    },

    async settings(accountId: string): Promise<Result<SsoSettings>> {
      return ok(await loadSettings(store.db, accountId));
    },

    async updateSettings(ctx: OpContext, accountId: string, input: SsoSettingsUpdate): Promise<Result<SsoSettings>> {
      return inTransaction(deps, async (tx) => {
        const current = await loadSettings(tx, accountId);
        const next = { ...current, ...input };
        if (input.default_account_role_id !== undefined) {
          const role = await findAccountRole(tx, accountId, input.default_account_role_id);
          if (!role) return fail('UNKNOWN_ACCOUNT_ROLE');
          if (role.id === ACCOUNT_ROLE_IDS.Owner) return fail('VALIDATION_FAILED', 'People who join by SSO cannot be made Owners: choose Member, Admin or a custom role');
        }
        if (next.passwords_disabled && !current.passwords_disabled) {
          const enabled = await tx.selectFrom('sso_providers').select('id').where('account_id', '=', accountId).where('enabled', '=', 1).executeTakeFirst();
          if (!enabled) return fail('SSO_PROVIDER_REQUIRED');
        }
        const now = ctx.now.toISOString();
        const row = { account_id: accountId, default_account_role_id: next.default_account_role_id, passwords_disabled: next.passwords_disabled ? 1 : 0, updated: now };
        await tx
          .insertInto('account_sso_settings')
          .values(row)
          .onConflict((oc) => oc.column('account_id').doUpdateSet({ default_account_role_id: row.default_account_role_id, passwords_disabled: row.passwords_disabled, updated: now }))
          .execute();
        await recordEvent(tx, ctx, { action: 'sso.settings_updated', accountId, targetType: 'account', targetId: accountId, details: { ...input } });
        return ok(next);
      });
    },
  };
}

export type SsoService = ReturnType<typeof ssoService>;
