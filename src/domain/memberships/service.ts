// Account memberships: users and service accounts alike are members. A service account is always
// a Member; an account always keeps an Owner; only an Owner hands out or takes away Owner.
import { fail, ok, type Failure, type Result } from '../../errors.js';
import { ACCOUNT_ROLE_IDS } from '../../authz/permissions.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { newId, type AnyOf, type OpContext, type Page } from '../context.js';
import { recordEvent, updateRecorded } from '../audit/service.js';
import { lockAccount } from '../locks.js';
import { removeFromAccountTeams } from '../teams/cleanup.js';
import { lastOwnerRefusal } from '../access/last-owner.js';
import { normalizeEmail } from '../users/create.js';
import { findAccountRole } from '../roles/service.js';

export interface AccountMembership {
  id: string;
  created: string;
  updated: string;
  account_id: string;
  actor_id: string;
  user_id: string | null;
  bot_id: string | null;
  handle: string;
  first_name: string;
  last_name: string;
  email: string | null;
  account_role_id: string;
  account_role_name: string;
  last_login: string | null;
  active: boolean;
}

export interface MembershipFilter extends Page {
  emails?: AnyOf;
  onlyUsers?: boolean;
  onlyBots?: boolean;
}

function baseQuery(tx: Executor, accountId: string) {
  return tx
    .selectFrom('account_memberships as m')
    .innerJoin('account_roles as r', 'r.id', 'm.account_role_id')
    .leftJoin('users as u', 'u.id', 'm.user_id')
    .leftJoin('bots as b', 'b.id', 'm.bot_id')
    .select([
      'm.id', 'm.created', 'm.updated', 'm.account_id', 'm.actor_id', 'm.user_id', 'm.bot_id', 'm.account_role_id',
      'r.name as account_role_name', 'u.handle as user_handle', 'u.first_name', 'u.last_name', 'u.email', 'u.last_login',
      'b.name as bot_name',
    ])
    .where('m.account_id', '=', accountId);
}

type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>['executeTakeFirstOrThrow']>>;

const toMembership = (r: Row): AccountMembership => ({
  id: r.id,
  created: r.created,
  updated: r.updated,
  account_id: r.account_id,
  actor_id: r.actor_id,
  user_id: r.user_id,
  bot_id: r.bot_id,
  handle: r.user_handle ?? r.bot_name ?? '',
  first_name: r.first_name ?? r.bot_name ?? '',
  last_name: r.last_name ?? '',
  email: r.email ?? null,
  account_role_id: r.account_role_id,
  account_role_name: r.account_role_name,
  last_login: r.last_login ?? null,
  active: true,
});

async function ownerCount(tx: Executor, accountId: string): Promise<number> {
  const row = await tx
    .selectFrom('account_memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('account_role_id', '=', ACCOUNT_ROLE_IDS.Owner)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Makes a user (`userId`) or a service account (`serviceAccountId`) a member of the account with
 * this account role, inside the caller's transaction (which records the event); the membership's id.
 */
export async function addMembership(
  tx: Executor,
  accountId: string,
  member: { actorId: string; userId?: string; serviceAccountId?: string },
  accountRoleId: string,
  now: Date,
): Promise<string> {
  const id = newId();
  const at = now.toISOString();
  await tx
    .insertInto('account_memberships')
    .values({ id, account_id: accountId, actor_id: member.actorId, user_id: member.userId ?? null, bot_id: member.serviceAccountId ?? null, account_role_id: accountRoleId, created: at, updated: at })
    .execute();
  return id;
}

/** The account's member with this (normalized) email, if any. */
export const findMemberByEmail = (tx: Executor, accountId: string, email: string) => baseQuery(tx, accountId).where('u.email', '=', email).executeTakeFirst();

/** Whether the actor is an Owner of the account: only an Owner hands out or takes away Owner. */
export async function isAccountOwner(tx: Executor, accountId: string, actorId: string | null): Promise<boolean> {
  if (!actorId) return false;
  const member = await tx
    .selectFrom('account_memberships')
    .select('account_role_id')
    .where('account_id', '=', accountId)
    .where('actor_id', '=', actorId)
    .executeTakeFirst();
  return member?.account_role_id === ACCOUNT_ROLE_IDS.Owner;
}

/** Is a member holding this account role the account's only Owner (so that demoting or removing them would leave it none)? */
export async function isLastAccountOwner(tx: Executor, accountId: string, accountRoleId: string): Promise<boolean> {
  return accountRoleId === ACCOUNT_ROLE_IDS.Owner && (await ownerCount(tx, accountId)) <= 1;
}

/**
 * Takes a member out of the account, and with them their access to its workspaces and their teams,
 * inside the caller's transaction: the one way a person leaves an account (the memberships service,
 * SCIM deprovisioning). The caller holds the account lock, has applied the account's last-Owner rule
 * and records the event. Refused, with nothing written, when one of the account's workspaces would
 * be left without an Owner; `who` names the person in that refusal.
 */
export async function removeMembership(tx: Executor, accountId: string, member: { id: string; actor_id: string }, who: string): Promise<Failure | null> {
  const orphans = await lastOwnerRefusal(tx, accountId, member.actor_id, who);
  if (orphans) return orphans;
  await tx
    .deleteFrom('workspace_access')
    .where('actor_id', '=', member.actor_id)
    .where('workspace_id', 'in', (eb) => eb.selectFrom('workspaces').select('id').where('account_id', '=', accountId))
    .execute();
  await removeFromAccountTeams(tx, accountId, member.actor_id);
  await tx.deleteFrom('account_memberships').where('id', '=', member.id).execute();
  return null;
}

export function membershipService(deps: Deps) {
  const { store } = deps;

  /** The rules every change of someone's role or membership must pass. */
  async function checkChange(tx: Executor, ctx: OpContext, accountId: string, membershipId: string, newRoleId: string | null) {
    await lockAccount(tx, accountId);
    const target = await baseQuery(tx, accountId).where('m.id', '=', membershipId).executeTakeFirst();
    if (!target) return fail('NOT_FOUND', 'Account membership not found');
    if (target.bot_id) {
      return newRoleId === null ? fail('SERVICE_ACCOUNT_MEMBERSHIP') : fail('SERVICE_ACCOUNT_ROLE_FIXED');
    }
    const touchesOwner = target.account_role_id === ACCOUNT_ROLE_IDS.Owner || newRoleId === ACCOUNT_ROLE_IDS.Owner;
    if (touchesOwner && target.account_role_id !== newRoleId) {
      if (!(await isAccountOwner(tx, accountId, ctx.actor.actorId))) return fail('OWNER_ONLY');
      if (await isLastAccountOwner(tx, accountId, target.account_role_id)) return fail('LAST_OWNER');
    }
    return ok(target);
  }

  return {
    async filter(accountId: string, filter: MembershipFilter): Promise<AccountMembership[]> {
      let query = baseQuery(store.db, accountId);
      if (filter.emails) query = query.where('u.email', 'in', filter.emails.length ? filter.emails.map(normalizeEmail) : ['']);
      if (filter.onlyUsers) query = query.where('m.user_id', 'is not', null);
      if (filter.onlyBots) query = query.where('m.bot_id', 'is not', null);
      const rows = await query.orderBy('m.created').orderBy('m.id').limit(filter.limit).offset(filter.offset).execute();
      return rows.map(toMembership);
    },

    async get(accountId: string, membershipId: string): Promise<Result<AccountMembership>> {
      const row = await baseQuery(store.db, accountId).where('m.id', '=', membershipId).executeTakeFirst();
      return row ? ok(toMembership(row)) : fail('NOT_FOUND', 'Account membership not found');
    },

    async changeRole(ctx: OpContext, accountId: string, membershipId: string, roleId: string): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        const role = await findAccountRole(tx, accountId, roleId);
        if (!role) return fail('UNKNOWN_ACCOUNT_ROLE');
        const checked = await checkChange(tx, ctx, accountId, membershipId, role.id);
        if (!checked.ok) return checked;
        const target = checked.value;
        await updateRecorded(tx, ctx, 'account_memberships', target, { account_role_id: role.id, updated: ctx.now.toISOString() }, {
          action: 'account_membership.role_changed',
          targetType: 'account_membership',
          details: { user_id: target.user_id, account_role_name: role.name, previous_account_role_name: target.account_role_name },
        });
        return ok(null);
      });
    },

    /** Removes a user from the account, and with it their access to the account's workspaces. */
    async remove(ctx: OpContext, accountId: string, membershipId: string): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        const checked = await checkChange(tx, ctx, accountId, membershipId, null);
        if (!checked.ok) return checked;
        const target = checked.value;
        const refused = await removeMembership(tx, accountId, target, target.email ?? 'This person');
        if (refused) return refused;
        await recordEvent(tx, ctx, {
          action: 'account_membership.removed',
          accountId,
          targetType: 'account_membership',
          targetId: membershipId,
          details: { user_id: target.user_id, account_role_name: target.account_role_name },
        });
        return ok(null);
      });
    },
  };
}

export type MembershipService = ReturnType<typeof membershipService>;
