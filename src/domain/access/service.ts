// Workspace access for users and service accounts: upsert (one grant per actor and workspace),
// filter, read, delete. Revoking a grant takes effect on the next request: every request reads it.
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { newId, type OpContext, type Page } from '../context.js';
import { recordEvent } from '../audit/service.js';
import { findWorkspaceRole } from '../roles/service.js';
import { lockAccount } from '../locks.js';
import { WORKSPACE_ROLE_IDS } from '../../authz/workspace-roles.js';
import { wouldRemoveLastOwner } from './last-owner.js';
import type { WorkspaceAccessTable } from '../../store/schema.js';

export type AccessKind = 'user' | 'bot';

/** What every grant shows: the `workspace_access` row's own columns (each named). */
type Grant = Pick<WorkspaceAccessTable, 'id' | 'created' | 'updated' | 'workspace_id' | 'workspace_role_id' | 'actor_id'>;

export interface UserAccess extends Grant {
  user_id: string;
  first_name: string;
  last_name: string;
  email: string;
  handle: string;
}

export interface ServiceAccountAccess extends Grant {
  bot_id: string;
  bot_name: string;
}

export interface GrantInput {
  principalId: string;
  workspaceRoleId: string;
}

const KIND = {
  user: { column: 'user_id', unknown: 'UNKNOWN_USER', target: 'workspace_user_access' },
  bot: { column: 'bot_id', unknown: 'UNKNOWN_SERVICE_ACCOUNT', target: 'workspace_bot_access' },
} as const;

async function readAccess(tx: Executor, kind: 'user', workspaceId: string, ids: readonly string[] | null, page?: Page): Promise<UserAccess[]>;
async function readAccess(tx: Executor, kind: 'bot', workspaceId: string, ids: readonly string[] | null, page?: Page): Promise<ServiceAccountAccess[]>;
async function readAccess(tx: Executor, kind: AccessKind, workspaceId: string, ids: readonly string[] | null, page?: Page) {
  if (kind === 'user') {
    let query = tx
      .selectFrom('workspace_access as a')
      .innerJoin('users as u', 'u.id', 'a.user_id')
      .select([
        'a.id', 'a.created', 'a.updated', 'a.workspace_id', 'a.workspace_role_id', 'a.actor_id', 'a.user_id',
        'u.first_name', 'u.last_name', 'u.email', 'u.handle',
      ])
      .where('a.workspace_id', '=', workspaceId);
    if (ids) query = query.where('a.id', 'in', ids.length ? ids : ['']);
    query = query.orderBy('a.created').orderBy('a.id');
    if (page) query = query.limit(page.limit).offset(page.offset);
    return (await query.execute()) as UserAccess[];
  }
  let query = tx
    .selectFrom('workspace_access as a')
    .innerJoin('bots as b', 'b.id', 'a.bot_id')
    .select([
      'a.id', 'a.created', 'a.updated', 'a.workspace_id', 'a.workspace_role_id', 'a.actor_id', 'a.bot_id',
      'b.name as bot_name',
    ])
    .where('a.workspace_id', '=', workspaceId);
  if (ids) query = query.where('a.id', 'in', ids.length ? ids : ['']);
  query = query.orderBy('a.created').orderBy('a.id');
  if (page) query = query.limit(page.limit).offset(page.offset);
  return (await query.execute()) as ServiceAccountAccess[];
}

/**
 * The actor of a user or service account of the account, or the refusal naming the one that is not
 * there: a user belongs to the account through their membership, a service account by being created
 * in it. For every grant to one of them (workspace access here, team membership in teams/).
 */
export async function findPrincipal(tx: Executor, accountId: string, kind: AccessKind, id: string): Promise<Result<{ actorId: string }>> {
  const row =
    kind === 'user'
      ? await tx.selectFrom('account_memberships').select('actor_id').where('account_id', '=', accountId).where('user_id', '=', id).executeTakeFirst()
      : await tx.selectFrom('bots').select('actor_id').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  if (row) return ok({ actorId: row.actor_id });
  return fail(KIND[kind].unknown, `No ${kind === 'user' ? 'user' : 'service account'} ${id} in this account`);
}

/**
 * The event of a workspace grant given or taken away (a user's, a service account's, a team's):
 * `target` is the grant's kind, and the action names it.
 */
export function recordGrantEvent(
  tx: Executor,
  ctx: OpContext,
  target: string,
  change: 'granted' | 'revoked',
  grant: { accountId: string; workspaceId: string; id: string },
  details: Record<string, unknown>,
): Promise<void> {
  return recordEvent(tx, ctx, { action: `${target}.${change}`, accountId: grant.accountId, workspaceId: grant.workspaceId, targetType: target, targetId: grant.id, details });
}

// A workspace keeps at least one grant of the Owner role (account Owners and Admins act as Owner
// anyway, but the workspace's own Owner would be gone without a word): see last-owner.ts.

type GrantMatch = { actorId: string } | { id: string; column: 'user_id' | 'bot_id' };

function grantQuery<Q extends { where: (...args: any[]) => Q }>(query: Q, workspaceId: string, match: GrantMatch): Q {
  const scoped = query.where('workspace_id', '=', workspaceId);
  return 'actorId' in match ? scoped.where('actor_id', '=', match.actorId) : scoped.where('id', '=', match.id).where(match.column, 'is not', null);
}

/**
 * Finds the grant a change is about and locks its row until the transaction ends (a no-op update:
 * a row lock on PostgreSQL, the write lock on SQLite), so its role cannot change meanwhile.
 *
 * Changing or removing an Owner grant must also hold the account lock, for the last-Owner rule: it
 * reads the workspace's other grants. Locks are taken in one order everywhere, the account before
 * any grant row, and the account only when the rule has something to check, so that changes to
 * other grants (a worker's service account granted Developer) never queue behind each other. The
 * grant is looked at once before locking to know which; if it became an Owner grant in between,
 * the change is refused as concurrent rather than taking the locks out of order.
 */
async function lockGrant(
  tx: Executor, accountId: string, workspaceId: string, match: GrantMatch, accountLocked: boolean,
): Promise<Result<{ id: string; user_id: string | null; bot_id: string | null; workspace_role_id: string } | undefined>> {
  if (!accountLocked) {
    const seen = await grantQuery(tx.selectFrom('workspace_access').select('workspace_role_id'), workspaceId, match).executeTakeFirst();
    if (seen?.workspace_role_id === WORKSPACE_ROLE_IDS.Owner) {
      await lockAccount(tx, accountId);
      accountLocked = true;
    }
  }
  const locked = await grantQuery(tx.updateTable('workspace_access').set((eb) => ({ id: eb.ref('id') })), workspaceId, match)
    .returning(['id', 'user_id', 'bot_id', 'workspace_role_id'])
    .executeTakeFirst();
  if (!accountLocked && locked?.workspace_role_id === WORKSPACE_ROLE_IDS.Owner) return fail('CONCURRENT_CHANGE');
  return ok(locked);
}

export function accessService(deps: Deps) {
  const { store } = deps;

  async function upsert(ctx: OpContext, kind: AccessKind, accountId: string, workspaceId: string, grants: GrantInput[]) {
    const spec = KIND[kind];
    return inTransaction(
      deps,
      async (tx) => {
        // A user's grant rests on their membership: without the lock, a grant committed while the
        // user is being removed survives the removal (and would return if they were re-added).
        // Several grants at once lock the account first too, so two such requests cannot each hold
        // a grant row the other one waits for.
        const accountLocked = kind === 'user' || grants.length > 1;
        if (accountLocked) await lockAccount(tx, accountId);
        const ids: string[] = [];
        for (const grant of grants) {
          const role = await findWorkspaceRole(tx, accountId, grant.workspaceRoleId);
          if (!role) return fail('UNKNOWN_WORKSPACE_ROLE', `No workspace role ${grant.workspaceRoleId} in this account`);
          const principal = await findPrincipal(tx, accountId, kind, grant.principalId);
          if (!principal.ok) return principal;
          const { actorId } = principal.value;
          const now = ctx.now.toISOString();
          const found = await lockGrant(tx, accountId, workspaceId, { actorId }, accountLocked);
          if (!found.ok) return found;
          const existing = found.value;
          let id: string;
          if (existing) {
            id = existing.id;
            if (role.id !== existing.workspace_role_id && (await wouldRemoveLastOwner(tx, workspaceId, existing))) return fail('LAST_WORKSPACE_OWNER');
            await tx
              .updateTable('workspace_access')
              .set({ workspace_role_id: role.id, updated: now })
              .where('id', '=', existing.id)
              .execute();
          } else {
            id = newId();
            await tx
              .insertInto('workspace_access')
              .values({
                id,
                workspace_id: workspaceId,
                actor_id: actorId,
                user_id: kind === 'user' ? grant.principalId : null,
                bot_id: kind === 'bot' ? grant.principalId : null,
                workspace_role_id: role.id,
                created: now,
                updated: now,
              })
              .execute();
          }
          ids.push(id);
          await recordGrantEvent(tx, ctx, spec.target, 'granted', { accountId, workspaceId, id }, {
            [spec.column]: grant.principalId,
            workspace_role_id: role.id,
            workspace_role_name: role.name,
            previous_workspace_role_id: existing?.workspace_role_id ?? null,
          });
        }
        const rows = kind === 'user' ? await readAccess(tx, 'user', workspaceId, ids) : await readAccess(tx, 'bot', workspaceId, ids);
        const byId = new Map<string, UserAccess | ServiceAccountAccess>(rows.map((r) => [r.id, r]));
        return ok(ids.map((id) => byId.get(id)!));
      },
      {
        // A concurrent upsert for the same actor won the insert, or the role was deleted meanwhile.
        onUniqueViolation: fail('CONCURRENT_CHANGE'),
        onForeignKeyViolation: fail('UNKNOWN_WORKSPACE_ROLE', 'The workspace role or principal was deleted meanwhile'),
      },
    );
  }

  async function remove(ctx: OpContext, kind: AccessKind, accountId: string, workspaceId: string, accessId: string): Promise<Result<null>> {
    const spec = KIND[kind];
    return inTransaction(deps, async (tx) => {
      // A user's grant: the account first, as for every change to a user's access (see upsert).
      if (kind === 'user') await lockAccount(tx, accountId);
      const found = await lockGrant(tx, accountId, workspaceId, { id: accessId, column: spec.column }, kind === 'user');
      if (!found.ok) return found;
      const existing = found.value;
      if (!existing) return fail('NOT_FOUND', 'Workspace access not found');
      if (await wouldRemoveLastOwner(tx, workspaceId, existing)) return fail('LAST_WORKSPACE_OWNER');
      await tx.deleteFrom('workspace_access').where('id', '=', accessId).execute();
      await recordGrantEvent(tx, ctx, spec.target, 'revoked', { accountId, workspaceId, id: accessId }, { [spec.column]: existing[spec.column], workspace_role_id: existing.workspace_role_id });
      return ok(null);
    });
  }

  return {
    upsertUserAccess: (ctx: OpContext, accountId: string, workspaceId: string, grants: GrantInput[]) =>
      upsert(ctx, 'user', accountId, workspaceId, grants) as Promise<Result<UserAccess[]>>,
    upsertBotAccess: (ctx: OpContext, accountId: string, workspaceId: string, grants: GrantInput[]) =>
      upsert(ctx, 'bot', accountId, workspaceId, grants) as Promise<Result<ServiceAccountAccess[]>>,
    filterUserAccess: (workspaceId: string, page: Page) => readAccess(store.db, 'user', workspaceId, null, page),
    filterServiceAccountAccess: (workspaceId: string, page: Page) => readAccess(store.db, 'bot', workspaceId, null, page),
    async getUserAccess(workspaceId: string, accessId: string): Promise<Result<UserAccess>> {
      const [row] = await readAccess(store.db, 'user', workspaceId, [accessId]);
      return row ? ok(row) : fail('NOT_FOUND', 'Workspace access not found');
    },
    async getServiceAccountAccess(workspaceId: string, accessId: string): Promise<Result<ServiceAccountAccess>> {
      const [row] = await readAccess(store.db, 'bot', workspaceId, [accessId]);
      return row ? ok(row) : fail('NOT_FOUND', 'Workspace access not found');
    },
    deleteUserAccess: (ctx: OpContext, accountId: string, workspaceId: string, accessId: string) =>
      remove(ctx, 'user', accountId, workspaceId, accessId),
    deleteBotAccess: (ctx: OpContext, accountId: string, workspaceId: string, accessId: string) =>
      remove(ctx, 'bot', accountId, workspaceId, accessId),
  };
}

export type AccessService = ReturnType<typeof accessService>;
