// Users: their own profile, and what the caller (a user or a service account) can reach, for the
// `/api/me/...` routes.
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import { parseJsonColumn } from '../../store/json-column.js';
import type { Deps } from '../deps.js';
import type { Actor, OpContext } from '../context.js';
import { changedColumns, recordEvent } from '../audit/service.js';
import { ACTS_AS_WORKSPACE_OWNER } from '../../authz/permissions.js';
import { SELF_HOSTED_PLAN } from '../plan.js';
import { normalizeEmail } from './create.js';
import { emailChangeService, recordEmailChange, type EmailChangeRequest } from './email-change.js';
import type { UsersTable } from '../../store/schema.js';
import type { UserUpdate } from './inputs.js';

/** A user as the API shows it: the row's profile columns as they are (each named; never the password hash), settings parsed. */
export interface User
  extends Pick<UsersTable, 'id' | 'created' | 'updated' | 'actor_id' | 'handle' | 'email' | 'first_name' | 'last_name' | 'location' | 'title' | 'image_location' | 'last_login'> {
  idp_user_id: string | null;
  personal_account_id: string | null;
  settings: Record<string, unknown>;
}

export type { UserUpdate };

/** One row of `GET /api/me/workspaces`: every field required, description never null. */
export interface MyWorkspace {
  account_id: string;
  account_name: string;
  account_handle: string;
  workspace_id: string;
  workspace_name: string;
  workspace_description: string;
  workspace_handle: string;
}

export interface MyAccount {
  account_membership_id: string;
  account_id: string;
  account_name: string;
  account_role_name: string;
  account_handle: string;
  account_plan_type: string;
  account_plan_tier: string;
  account_plan_features: string[];
  self_serve: boolean;
  annual_billing: boolean;
  annual_self_serve_enabled: boolean;
}

/**
 * A user as the API shows it. Each wire field is named, so a new column (like the password hash)
 * stays in the store until someone adds it here.
 */
export const toUser = (row: UsersTable): User => ({
  id: row.id,
  created: row.created,
  updated: row.updated,
  actor_id: row.actor_id,
  handle: row.handle,
  email: row.email,
  first_name: row.first_name,
  last_name: row.last_name,
  location: row.location,
  title: row.title,
  image_location: row.image_location,
  idp_user_id: null,
  personal_account_id: null,
  settings: parseJsonColumn<Record<string, unknown>>(row.settings, {}),
  last_login: row.last_login,
});

export function userService(deps: Deps) {
  const { store } = deps;

  return {
    async get(userId: string): Promise<Result<User>> {
      const row = await store.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
      return row ? ok(toUser(row)) : fail('NOT_FOUND', 'User not found');
    },

    /**
     * Applies a profile change. A new email does not take effect here: it is recorded as pending
     * and returned with its one-time code for the caller to mail (`canVerifyEmail` says whether it
     * can); without a way to mail it the whole change is refused. Sending the current email again
     * (as Terraform does with every field) is no change.
     */
    async update(
      ctx: OpContext,
      userId: string,
      input: UserUpdate,
      options: { canVerifyEmail: boolean },
    ): Promise<Result<{ emailChange: EmailChangeRequest | null }>> {
      if (input.email !== undefined) input = { ...input, email: normalizeEmail(input.email) };
      return inTransaction(
        deps,
        async (tx) => {
          const existing = await tx.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
          if (!existing) return fail('NOT_FOUND', 'User not found');
          const newEmail = input.email !== undefined && input.email !== existing.email ? input.email : null;
          if (newEmail !== null && !options.canVerifyEmail) return fail('EMAIL_VERIFICATION_UNAVAILABLE');
          for (const field of ['handle', 'email'] as const) {
            const value = input[field];
            if (value === undefined || value === existing[field]) continue;
            const clash = await tx.selectFrom('users').select('id').where(field, '=', value).executeTakeFirst();
            if (clash) return fail(field === 'handle' ? 'USER_HANDLE_TAKEN' : 'USER_EMAIL_TAKEN');
          }
          const changes: Partial<UsersTable> = { updated: ctx.now.toISOString() };
          for (const field of ['handle', 'first_name', 'last_name', 'location', 'title', 'image_location'] as const) {
            if (input[field] !== undefined) (changes as Record<string, unknown>)[field] = input[field];
          }
          if (input.settings !== undefined) changes.settings = JSON.stringify(input.settings ?? {});
          await tx.updateTable('users').set(changes).where('id', '=', userId).execute();
          const changed = changedColumns(changes);
          const emailChange = newEmail === null ? null : await recordEmailChange(tx, userId, newEmail, ctx.now);
          // One event for the request; the code never goes into it.
          await recordEvent(tx, ctx, {
            action: emailChange ? 'user.email_change_requested' : 'user.updated',
            accountId: null,
            targetType: 'user',
            targetId: userId,
            details: emailChange ? { changed, pending_email: emailChange.email, expiration: emailChange.expiration } : { changed },
          });
          return ok({ emailChange });
        },
        { onUniqueViolation: fail('USER_HANDLE_TAKEN', 'A user with this handle already exists') },
      );
    },

    ...emailChangeService(deps),

    /** `GET /api/me/`: the user's profile; a service account gets the same shape with its name. */
    async me(actor: Actor): Promise<Result<User>> {
      if (actor.type === 'user' && actor.id) return this.get(actor.id);
      const serviceAccount = await store.db.selectFrom('bots').selectAll().where('id', '=', actor.id ?? '').executeTakeFirst();
      if (!serviceAccount) return fail('NOT_FOUND');
      return ok({
        id: serviceAccount.id,
        created: serviceAccount.created,
        updated: serviceAccount.updated,
        actor_id: serviceAccount.actor_id,
        handle: serviceAccount.name,
        email: '',
        first_name: serviceAccount.name,
        last_name: '',
        location: null,
        title: null,
        image_location: null,
        idp_user_id: null,
        personal_account_id: null,
        settings: {},
        last_login: null,
      });
    },

    async myAccounts(actor: Actor): Promise<MyAccount[]> {
      const rows = await store.db
        .selectFrom('account_memberships as m')
        .innerJoin('accounts as a', 'a.id', 'm.account_id')
        .innerJoin('account_roles as r', 'r.id', 'm.account_role_id')
        .select(['m.id as account_membership_id', 'a.id as account_id', 'a.name as account_name', 'a.handle as account_handle', 'r.name as account_role_name'])
        .where('m.actor_id', '=', actor.actorId ?? '')
        .orderBy('a.name')
        .execute();
      return rows.map((r) => ({
        account_membership_id: r.account_membership_id,
        account_id: r.account_id,
        account_name: r.account_name,
        account_role_name: r.account_role_name,
        account_handle: r.account_handle,
        account_plan_type: SELF_HOSTED_PLAN.plan_type,
        account_plan_tier: SELF_HOSTED_PLAN.plan_tier,
        account_plan_features: [],
        self_serve: false,
        annual_billing: false,
        annual_self_serve_enabled: false,
      }));
    },

    /** Every workspace the actor can reach: by an access grant, or in an account it administers. */
    async myWorkspaces(actor: Actor): Promise<MyWorkspace[]> {
      const actorId = actor.actorId ?? '';
      const rows = await store.db
        .selectFrom('workspaces as w')
        .innerJoin('accounts as a', 'a.id', 'w.account_id')
        .innerJoin('account_memberships as m', (join) => join.onRef('m.account_id', '=', 'a.id').on('m.actor_id', '=', actorId))
        .innerJoin('account_roles as r', 'r.id', 'm.account_role_id')
        .leftJoin('workspace_access as x', (join) => join.onRef('x.workspace_id', '=', 'w.id').on('x.actor_id', '=', actorId))
        .select((eb) => [
          // Or through a team it is a member of (domain/teams).
          eb
            .exists(eb.selectFrom('team_access as ta').innerJoin('team_members as tm', 'tm.team_id', 'ta.team_id').select('ta.id').whereRef('ta.workspace_id', '=', 'w.id').where('tm.actor_id', '=', actorId))
            .as('via_team'),
        ])
        .select([
          'a.id as account_id', 'a.name as account_name', 'a.handle as account_handle', 'w.id as workspace_id',
          'w.name as workspace_name', 'w.description as workspace_description', 'w.handle as workspace_handle',
          'r.permissions', 'x.id as access_id',
        ])
        .orderBy('a.handle')
        .orderBy('w.handle')
        .execute();
      return rows
        .filter((r) => r.access_id !== null || Boolean(r.via_team) || parseJsonColumn<string[]>(r.permissions, []).includes(ACTS_AS_WORKSPACE_OWNER))
        .map((w) => ({
          account_id: w.account_id,
          account_name: w.account_name,
          account_handle: w.account_handle,
          workspace_id: w.workspace_id,
          workspace_name: w.workspace_name,
          workspace_description: w.workspace_description ?? '',
          workspace_handle: w.workspace_handle,
        }));
    },
  };
}

export type UserService = ReturnType<typeof userService>;
