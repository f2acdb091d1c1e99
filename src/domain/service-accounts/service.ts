// Service accounts ("bots" on the wire): account-level actors whose API keys let execution
// environments reach workspaces. Always account Members; any workspace role per workspace.
import { fail, ok, type Result } from '../../errors.js';
import { ACCOUNT_ROLE_IDS } from '../../authz/permissions.js';
import { WORKSPACE_ROLE_IDS } from '../../authz/workspace-roles.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { newId, type AnyOf, type OpContext, type Page } from '../context.js';
import { recordEvent, updateRecorded } from '../audit/service.js';
import { lastOwnerRefusal } from '../access/last-owner.js';
import { lockAccount } from '../locks.js';
import { addMembership } from '../memberships/service.js';
import { checkExpiration, issueKey, KEY_VIEW_COLUMNS, toKeyView, type ApiKeyView, type IssuedApiKey } from '../api-keys/service.js';
import type { BotsTable } from '../../store/schema.js';
import { failpoint } from '../../failpoints.js';
import { confusableName } from '../confusables.js';
import { checkKeyExpiration, checkRotationGrace, readKeyPolicy } from '../key-policies/service.js';
import type { KeyRotation, ServiceAccountCreate, ServiceAccountUpdate } from './inputs.js';

/** The longest an old key may keep working after a rotation: 48 hours. */
export const MAX_ROTATION_GRACE_SECONDS = 172_800;

export interface ServiceAccount {
  id: string;
  created: string;
  updated: string;
  actor_id: string;
  account_id: string;
  name: string;
  account_role_name: 'Member';
  api_key: ApiKeyView | null;
}

export interface ServiceAccountWithKey extends Omit<ServiceAccount, 'api_key'> {
  api_key: IssuedApiKey;
}

export interface ServiceAccountKeys {
  active_key: ApiKeyView | null;
  rotating_keys: ApiKeyView[];
}

const nameTaken = fail('SERVICE_ACCOUNT_NAME_TAKEN');

/**
 * What create and update check of their input: the account role first, then the name when one is
 * given. A name that could pass for another on its own (an invisible character, Latin mixed with
 * Cyrillic or Greek) is refused; comparing look-alikes with every other name of a large account
 * would cost each create a scan, so that is left to the exact-name rule.
 */
function checkFields(input: { name?: string; account_role_id?: string | null }): Result<null> {
  const role = checkAccountRole(input.account_role_id);
  if (!role.ok) return role;
  if (input.name === undefined) return ok(null);
  return confusableName('service account', input.name) ?? ok(null);
}

/** A service account's account role can only ever be Member: null/absent or Member's id. */
function checkAccountRole(roleId: string | null | undefined): Result<null> {
  if (roleId === null || roleId === undefined || roleId === ACCOUNT_ROLE_IDS.Member) return ok(null);
  return fail(
    'SERVICE_ACCOUNT_ROLE_FIXED',
    'A service account is always a Member of its account and cannot be Admin or Owner; leave account_role_id out (or send the Member role id) and grant workspace roles instead',
  );
}

/**
 * A service account as the API shows it, with its key masked (`ApiKeyView`) or, in the one
 * response that issues it, in clear (`IssuedApiKey`). Each wire field is named, so a new column
 * stays off the wire.
 */
export function toServiceAccount<K extends ApiKeyView | IssuedApiKey | null>(serviceAccount: BotsTable, key: K): Omit<ServiceAccount, 'api_key'> & { api_key: K } {
  return {
    id: serviceAccount.id,
    created: serviceAccount.created,
    updated: serviceAccount.updated,
    actor_id: serviceAccount.actor_id,
    account_id: serviceAccount.account_id,
    name: serviceAccount.name,
    account_role_name: 'Member',
    api_key: key,
  };
}

async function activeKey(tx: Executor, serviceAccountId: string): Promise<ApiKeyView | null> {
  const row = await tx
    .selectFrom('api_keys')
    .select(KEY_VIEW_COLUMNS)
    .where('bot_id', '=', serviceAccountId)
    .where('is_active', '=', 1)
    .executeTakeFirst();
  return row ? toKeyView(row) : null;
}

/** A service account of the account (its trust rules, in workload-identity/, look it up the same way). */
export async function findServiceAccount(db: Executor, accountId: string, serviceAccountId: string): Promise<BotsTable | undefined> {
  return db.selectFrom('bots').selectAll().where('id', '=', serviceAccountId).where('account_id', '=', accountId).executeTakeFirst();
}

export function serviceAccountService(deps: Deps) {
  const { store } = deps;

  /**
   * Writes the service account's row before anything else a key change touches, so rotations,
   * key deletions and removal of one service account queue behind each other (a row lock on
   * PostgreSQL; SQLite writers are serial already). Taking locks in any other order deadlocks:
   * a removal holding the keys while a rotation holds the service account. False: no such service account.
   */
  async function lockServiceAccount(tx: Executor, accountId: string, serviceAccountId: string, now: Date): Promise<boolean> {
    const touched = await tx
      .updateTable('bots')
      .set({ updated: now.toISOString() })
      .where('id', '=', serviceAccountId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return Number(touched.numUpdatedRows) > 0;
  }

  return {
    async create(
      ctx: OpContext,
      accountId: string,
      input: ServiceAccountCreate,
    ): Promise<Result<ServiceAccountWithKey>> {
      const checked = checkFields(input);
      if (!checked.ok) return checked;
      const expiration = checkExpiration(input.api_key_expiration, ctx.now);
      if (!expiration.ok) return expiration;
      const now = ctx.now.toISOString();
      const serviceAccount: BotsTable = { id: newId(), actor_id: newId(), account_id: accountId, name: input.name, created: now, updated: now };
      const created = await inTransaction(
        deps,
        async (tx) => {
          // The unique constraint decides under concurrency; this read only gives the common case
          // its answer without an aborted statement.
          const clash = await tx.selectFrom('bots').select('id').where('account_id', '=', accountId).where('name', '=', input.name).executeTakeFirst();
          if (clash) return nameTaken;
          const allowed = checkKeyExpiration(await readKeyPolicy(tx, accountId), expiration.value, ctx.now);
          if (!allowed.ok) return allowed;
          await tx.insertInto('bots').values(serviceAccount).execute();
          failpoint('create.after_insert');
          await addMembership(tx, accountId, { actorId: serviceAccount.actor_id, serviceAccountId: serviceAccount.id }, ACCOUNT_ROLE_IDS.Member, ctx.now);
          const key = await issueKey(tx, { kind: 'bot', actorId: serviceAccount.actor_id, serviceAccountId: serviceAccount.id }, { name: serviceAccount.name, expiration: expiration.value, now: ctx.now });
          await recordEvent(tx, ctx, {
            action: 'service_account.created',
            accountId,
            targetType: 'service_account',
            targetId: serviceAccount.id,
            details: { name: serviceAccount.name, api_key_id: key.id, api_key_expiration: key.expiration },
          });
          failpoint('create.before_commit');
          return ok(toServiceAccount(serviceAccount, key));
        },
        // A new service account, its Member membership and its first key: nothing cached refers to them.
        { onUniqueViolation: nameTaken, invalidates: false },
      );
      failpoint('create.after_commit');
      return created;
    },

    async filter(accountId: string, names: AnyOf, page: Page): Promise<ServiceAccount[]> {
      let query = store.db
        .selectFrom('bots as b')
        .leftJoin('api_keys as k', (join) => join.onRef('k.bot_id', '=', 'b.id').on('k.is_active', '=', 1))
        .select([
          'b.id', 'b.created', 'b.updated', 'b.actor_id', 'b.account_id', 'b.name',
          'k.id as key_id', 'k.created as key_created', 'k.name as key_name', 'k.expiration as key_expiration', 'k.masked_key',
          'k.last_used_at', 'k.last_used_from', 'k.last_used_client', 'k.last_used_workspace_id',
          'k.leak_reported_at', 'k.leak_url', 'k.leak_source',
        ])
        .where('b.account_id', '=', accountId);
      if (names) query = query.where('b.name', 'in', names.length ? names : ['']);
      const rows = await query.orderBy('b.name').orderBy('b.id').limit(page.limit).offset(page.offset).execute();
      return rows.map((r) =>
        toServiceAccount(
          { id: r.id, created: r.created, updated: r.updated, actor_id: r.actor_id, account_id: r.account_id, name: r.name },
          r.key_id
            ? toKeyView({ id: r.key_id, created: r.key_created!, name: r.key_name!, expiration: r.key_expiration, masked_key: r.masked_key!, last_used_at: r.last_used_at, last_used_from: r.last_used_from, last_used_client: r.last_used_client, last_used_workspace_id: r.last_used_workspace_id, leak_reported_at: r.leak_reported_at, leak_url: r.leak_url, leak_source: r.leak_source })
            : null,
        ),
      );
    },

    async get(accountId: string, serviceAccountId: string): Promise<Result<ServiceAccount>> {
      const serviceAccount = await findServiceAccount(store.db, accountId, serviceAccountId);
      if (!serviceAccount) return fail('NOT_FOUND', 'Service account not found');
      return ok(toServiceAccount(serviceAccount, await activeKey(store.db, serviceAccount.id)));
    },

    async update(
      ctx: OpContext,
      accountId: string,
      serviceAccountId: string,
      input: ServiceAccountUpdate,
    ): Promise<Result<null>> {
      const checked = checkFields(input);
      if (!checked.ok) return checked;
      return inTransaction(
        deps,
        async (tx) => {
          const serviceAccount = await findServiceAccount(tx, accountId, serviceAccountId);
          if (!serviceAccount) return fail('NOT_FOUND', 'Service account not found');
          if (input.name !== undefined && input.name !== serviceAccount.name) {
            const clash = await tx.selectFrom('bots').select('id').where('account_id', '=', accountId).where('name', '=', input.name).executeTakeFirst();
            if (clash) return nameTaken;
          }
          await updateRecorded(tx, ctx, 'bots', serviceAccount, { name: input.name ?? serviceAccount.name, updated: ctx.now.toISOString() }, {
            action: 'service_account.updated',
            targetType: 'service_account',
            details: { name: input.name ?? serviceAccount.name, previous_name: serviceAccount.name },
          });
          return ok(null);
        },
        { onUniqueViolation: nameTaken },
      );
    },

    /** Deletes the service account, its keys, membership and workspace access in one transaction. */
    async remove(ctx: OpContext, accountId: string, serviceAccountId: string): Promise<Result<{ workspaceIds: string[] }>> {
      const removed = await inTransaction(deps, async (tx) => {
        // Taking Owner grants away reads the workspace's other Owners under the account lock, taken
        // before the service account's (the one order everywhere), and only when the service
        // account holds one: removals of other service accounts never queue behind each other.
        const ownsAny = async () =>
          Boolean(await tx.selectFrom('workspace_access').select('id').where('bot_id', '=', serviceAccountId).where('workspace_role_id', '=', WORKSPACE_ROLE_IDS.Owner).executeTakeFirst());
        const accountLocked = await ownsAny();
        if (accountLocked) await lockAccount(tx, accountId);
        if (!(await lockServiceAccount(tx, accountId, serviceAccountId, ctx.now))) return fail('NOT_FOUND', 'Service account not found');
        const serviceAccount = (await findServiceAccount(tx, accountId, serviceAccountId))!;
        if (!accountLocked && (await ownsAny())) return fail('CONCURRENT_CHANGE');
        const orphans = accountLocked ? await lastOwnerRefusal(tx, accountId, serviceAccount.actor_id, `The service account ${serviceAccount.name}`) : null;
        if (orphans) return orphans;
        const access = await tx.selectFrom('workspace_access').select('workspace_id').where('bot_id', '=', serviceAccountId).execute();
        // Explicit deletes, children first, rather than relying on ON DELETE CASCADE alone: the
        // effect is then the same on every store whatever its foreign-key settings.
        await tx.deleteFrom('api_keys').where('bot_id', '=', serviceAccountId).execute();
        failpoint('remove.after_keys');
        await tx.deleteFrom('trust_rules').where('bot_id', '=', serviceAccountId).execute();
        await tx.deleteFrom('workspace_access').where('bot_id', '=', serviceAccountId).execute();
        await tx.deleteFrom('team_members').where('bot_id', '=', serviceAccountId).execute();
        await tx.deleteFrom('account_memberships').where('bot_id', '=', serviceAccountId).execute();
        await tx.deleteFrom('bots').where('id', '=', serviceAccountId).execute();
        const workspaceIds = access.map((a) => a.workspace_id);
        await recordEvent(tx, ctx, {
          action: 'service_account.deleted',
          accountId,
          targetType: 'service_account',
          targetId: serviceAccountId,
          details: { name: serviceAccount.name, workspace_ids: workspaceIds },
        });
        failpoint('remove.before_commit');
        return ok({ workspaceIds });
      });
      failpoint('remove.after_commit');
      return removed;
    },

    /**
     * Issues a new current key. The old one is deleted now (grace null/absent), expires now (0), or
     * keeps working for up to 48 hours, never beyond its own expiration. Any older key still in its
     * grace from an earlier rotation is deleted now, so at most one old key is ever live.
     */
    async rotateKey(
      ctx: OpContext,
      accountId: string,
      serviceAccountId: string,
      input: KeyRotation,
    ): Promise<Result<ServiceAccountWithKey>> {
      const grace = input.old_key_expires_in_seconds;
      if (grace !== null && grace !== undefined && (!Number.isInteger(grace) || grace < 0 || grace > MAX_ROTATION_GRACE_SECONDS)) {
        return fail('GRACE_PERIOD_TOO_LONG');
      }
      const expiration = checkExpiration(input.api_key_expiration, ctx.now);
      if (!expiration.ok) return expiration;
      const now = ctx.now.toISOString();
      const rotated = await inTransaction(deps, async (tx) => {
        if (!(await lockServiceAccount(tx, accountId, serviceAccountId, ctx.now))) return fail('NOT_FOUND', 'Service account not found');
        const serviceAccount = (await findServiceAccount(tx, accountId, serviceAccountId))!;
        const policy = await readKeyPolicy(tx, accountId);
        const allowed = checkRotationGrace(policy, grace);
        if (!allowed.ok) return allowed;
        const allowedExpiration = checkKeyExpiration(policy, expiration.value, ctx.now);
        if (!allowedExpiration.ok) return allowedExpiration;
        const old = await tx
          .selectFrom('api_keys')
          .select(['id', 'expiration'])
          .where('bot_id', '=', serviceAccountId)
          .where('is_active', '=', 1)
          .executeTakeFirst();
        // At most one old key in grace: a rotation ends the grace of every older key now (those
        // whose grace has run out are of no further use to anyone either). Pentest issue 14.
        const ended = await tx.selectFrom('api_keys').select('id').where('bot_id', '=', serviceAccountId).where('is_active', '=', 0).where('expiration', '>', now).execute();
        await tx.deleteFrom('api_keys').where('bot_id', '=', serviceAccountId).where('is_active', '=', 0).execute();
        let oldKeyExpiration: string | null = null;
        if (old) {
          if (grace === null || grace === undefined) {
            await tx.deleteFrom('api_keys').where('id', '=', old.id).execute();
          } else {
            const graceEnd = new Date(ctx.now.getTime() + grace * 1000).toISOString();
            oldKeyExpiration = old.expiration !== null && old.expiration < graceEnd ? old.expiration : graceEnd;
            await tx.updateTable('api_keys').set({ is_active: 0, expiration: oldKeyExpiration }).where('id', '=', old.id).execute();
          }
        }
        failpoint('rotate.after_old_key');
        const key = await issueKey(tx, { kind: 'bot', actorId: serviceAccount.actor_id, serviceAccountId }, { name: serviceAccount.name, expiration: expiration.value, now: ctx.now });
        failpoint('rotate.after_insert');
        await recordEvent(tx, ctx, {
          action: 'service_account.api_key_rotated',
          accountId,
          targetType: 'service_account',
          targetId: serviceAccountId,
          details: {
            name: serviceAccount.name,
            api_key_id: key.id,
            api_key_expiration: key.expiration,
            old_api_key_id: old?.id ?? null,
            old_key_expires_in_seconds: grace ?? null,
            old_key_expiration: old ? oldKeyExpiration : null,
            ended_grace_api_key_ids: ended.map((k) => k.id),
          },
        });
        failpoint('rotate.before_commit');
        return ok(toServiceAccount(serviceAccount, key));
      }, { onUniqueViolation: fail('CONCURRENT_CHANGE') });
      failpoint('rotate.after_commit');
      return rotated;
    },

    async readKeys(accountId: string, serviceAccountId: string): Promise<Result<ServiceAccountKeys>> {
      const serviceAccount = await findServiceAccount(store.db, accountId, serviceAccountId);
      if (!serviceAccount) return fail('NOT_FOUND', 'Service account not found');
      const now = deps.clock.now().toISOString();
      const rows = await store.db
        .selectFrom('api_keys')
        .select([...KEY_VIEW_COLUMNS, 'is_active'])
        .where('bot_id', '=', serviceAccountId)
        .orderBy('created', 'desc')
        .orderBy('id')
        .execute();
      const active = rows.find((r) => r.is_active === 1);
      const rotating = rows.filter((r) => r.is_active === 0 && r.expiration !== null && r.expiration > now);
      return ok({ active_key: active ? toKeyView(active) : null, rotating_keys: rotating.map(toKeyView) });
    },

    async deleteKey(ctx: OpContext, accountId: string, serviceAccountId: string, keyId: string): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        if (!(await lockServiceAccount(tx, accountId, serviceAccountId, ctx.now))) return fail('NOT_FOUND', 'Service account not found');
        const serviceAccount = (await findServiceAccount(tx, accountId, serviceAccountId))!;
        const deleted = await tx.deleteFrom('api_keys').where('bot_id', '=', serviceAccountId).where('id', '=', keyId).executeTakeFirst();
        if (Number(deleted.numDeletedRows) === 0) return fail('NOT_FOUND', 'API key not found');
        await recordEvent(tx, ctx, {
          action: 'service_account.api_key_deleted',
          accountId,
          targetType: 'service_account',
          targetId: serviceAccountId,
          details: { name: serviceAccount.name, api_key_id: keyId },
        });
        failpoint('delete_key.before_commit');
        return ok(null);
      });
    },
  };
}

export type ServiceAccountService = ReturnType<typeof serviceAccountService>;
