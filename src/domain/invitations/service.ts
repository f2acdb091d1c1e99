// Invitations: an Owner or Admin invites an email with an account role; the invitation carries a
// one-time link (its code stored as a digest) that expires. Accepting creates the user, or adds
// the signed-in existing user, with that role.
import { fail, ok, type Result } from '../../errors.js';
import { ACCOUNT_ROLE_IDS } from '../../authz/permissions.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import { newId, type Actor, type OpContext, type Page } from '../context.js';
import { insertRecorded, recordEvent } from '../audit/service.js';
import { constantTimeEqual, digest, hashPassword, MIN_PASSWORD_LENGTH, newSecret } from '../secrets.js';
import { findOrCreateUser, normalizeEmail } from '../users/create.js';
import { lockAccount } from '../locks.js';
import { addMembership, findMemberByEmail, isAccountOwner } from '../memberships/service.js';
import { findAccountRole } from '../roles/service.js';
import { createSession, type ClientInfo, type NewSession } from '../sessions/service.js';
import type { InvitationsTable } from '../../store/schema.js';
import type { InvitationAcceptance, InvitationCreate } from './inputs.js';

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export type InvitationStatus = 'PENDING' | 'ACCEPTED' | 'REVOKED' | 'EXPIRED';

export interface Invitation {
  id: string;
  created: string;
  updated: string;
  email: string;
  account_id: string;
  account_role_id: string;
  account_role_name: string;
  status: InvitationStatus;
  expiration: string;
}

export interface InvitationPreview {
  id: string;
  email: string;
  account_name: string;
  account_role_name: string;
  expiration: string;
  status: InvitationStatus;
  user_exists: boolean;
}

/** An invitation row with its role's name, as `withRole()` selects it. */
type InvitationRow = Omit<Invitation, 'status'> & { status: InvitationsTable['status'] };

/**
 * An invitation as the API shows it: each wire field named, so the code's digest, the inviter or a
 * new column stays off the wire.
 */
export const invitationView = (row: Omit<InvitationRow, 'status'>, status: InvitationStatus): Invitation => ({
  id: row.id,
  created: row.created,
  updated: row.updated,
  email: row.email,
  account_id: row.account_id,
  account_role_id: row.account_role_id,
  account_role_name: row.account_role_name,
  status,
  expiration: row.expiration,
});

const statusAt = (row: Pick<InvitationsTable, 'status' | 'expiration'>, now: Date): InvitationStatus =>
  row.status === 'PENDING' && row.expiration <= now.toISOString() ? 'EXPIRED' : row.status;

export function invitationService(deps: Deps, options: { sessionTtlSeconds: number }) {
  const { store, clock } = deps;

  const withRole = () =>
    store.db
      .selectFrom('invitations as i')
      .innerJoin('account_roles as r', 'r.id', 'i.account_role_id')
      .select(['i.id', 'i.created', 'i.updated', 'i.email', 'i.account_id', 'i.account_role_id', 'r.name as account_role_name', 'i.status', 'i.expiration']);

  const toInvitation = (row: InvitationRow): Invitation => invitationView(row, statusAt(row, clock.now()));

  /** The invitation when id and code match; the code is compared as a digest, in constant time. */
  async function findByCode(id: string, code: string) {
    const row = await store.db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || !constantTimeEqual(row.code_hash, digest(code))) return null;
    return row;
  }

  return {
    async create(ctx: OpContext, accountId: string, input: InvitationCreate): Promise<Result<Invitation & { code: string }>> {
      const email = normalizeEmail(input.email);
      return inTransaction(deps, async (tx) => {
        const role = await findAccountRole(tx, accountId, input.account_role_id);
        if (!role) return fail('UNKNOWN_ACCOUNT_ROLE');
        if (role.id === ACCOUNT_ROLE_IDS.Owner && !(await isAccountOwner(tx, accountId, ctx.actor.actorId))) return fail('OWNER_ONLY');
        if (await findMemberByEmail(tx, accountId, email)) return fail('ALREADY_MEMBER');
        const code = newSecret();
        const now = ctx.now.toISOString();
        const row: InvitationsTable = {
          id: newId(),
          account_id: accountId,
          email,
          account_role_id: role.id,
          code_hash: digest(code),
          status: 'PENDING',
          invited_by_actor_id: ctx.actor.actorId,
          expiration: new Date(ctx.now.getTime() + INVITATION_TTL_MS).toISOString(),
          created: now,
          updated: now,
        };
        await insertRecorded(tx, ctx, 'invitations', row, {
          action: 'invitation.created',
          targetType: 'invitation',
          details: { email, account_role_name: role.name },
        });
        return ok({ ...invitationView({ ...row, account_role_name: role.name }, 'PENDING'), code });
      });
    },

    async filter(accountId: string, page: Page): Promise<Invitation[]> {
      const rows = await withRole().where('i.account_id', '=', accountId).orderBy('i.created', 'desc').orderBy('i.id').limit(page.limit).offset(page.offset).execute();
      return rows.map(toInvitation);
    },

    async get(accountId: string, id: string): Promise<Result<Invitation>> {
      const row = await withRole().where('i.account_id', '=', accountId).where('i.id', '=', id).executeTakeFirst();
      return row ? ok(toInvitation(row)) : fail('NOT_FOUND', 'Invitation not found');
    },

    async revoke(ctx: OpContext, accountId: string, id: string): Promise<Result<Invitation>> {
      const result = await inTransaction(deps, async (tx) => {
        const row = await tx.selectFrom('invitations').select(['id', 'status', 'email']).where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
        if (!row) return fail('NOT_FOUND', 'Invitation not found');
        if (row.status !== 'PENDING') return fail('INVITATION_USED');
        await tx.updateTable('invitations').set({ status: 'REVOKED', updated: ctx.now.toISOString() }).where('id', '=', id).execute();
        await recordEvent(tx, ctx, { action: 'invitation.revoked', accountId, targetType: 'invitation', targetId: id, details: { email: row.email } });
        return ok(null);
      });
      if (!result.ok) return result;
      return this.get(accountId, id);
    },

    async preview(id: string, code: string): Promise<Result<InvitationPreview>> {
      const row = await findByCode(id, code);
      if (!row) return fail('NOT_FOUND', 'Invitation not found; check the link');
      const account = await store.db.selectFrom('accounts').select('name').where('id', '=', row.account_id).executeTakeFirst();
      const role = await store.db.selectFrom('account_roles').select('name').where('id', '=', row.account_role_id).executeTakeFirst();
      // users.email holds verified addresses only: a pending change (email_changes) never counts.
      const user = await store.db.selectFrom('users').select('id').where('email', '=', row.email).executeTakeFirst();
      return ok({
        id: row.id,
        email: row.email,
        account_name: account?.name ?? '',
        account_role_name: role?.name ?? '',
        expiration: row.expiration,
        status: statusAt(row, clock.now()),
        user_exists: Boolean(user),
      });
    },

    /**
     * Accepts once: a new user sets a password here; an existing user must be signed in as the
     * invited email. The membership, the status change and the session are one transaction.
     */
    async accept(
      id: string,
      code: string,
      input: InvitationAcceptance,
      caller: Actor | null,
      client: ClientInfo,
    ): Promise<Result<NewSession & { account_id: string }>> {
      const now = clock.now();
      const row = await findByCode(id, code);
      if (!row) return fail('NOT_FOUND', 'Invitation not found; check the link');
      const status = statusAt(row, now);
      if (status === 'EXPIRED') return fail('INVITATION_EXPIRED');
      if (status !== 'PENDING') return fail('INVITATION_USED');
      // Only a verified email (users.email) matches a user; a pending one never does (finding 6).
      const existing = await store.db.selectFrom('users').select(['id']).where('email', '=', row.email).executeTakeFirst();
      if (existing && !(caller?.type === 'user' && caller.id === existing.id)) return fail('SIGN_IN_FIRST');
      if (!existing && caller?.type === 'user' && caller.id) {
        const unverified = await store.db.selectFrom('email_changes').select('user_id').where('user_id', '=', caller.id).where('email', '=', row.email).executeTakeFirst();
        if (unverified) return fail('EMAIL_NOT_VERIFIED');
      }
      let passwordHash: string | null = null;
      if (!existing) {
        if (!input.password || input.password.length < MIN_PASSWORD_LENGTH) return fail('PASSWORD_TOO_SHORT');
        passwordHash = await hashPassword(input.password);
      }
      return inTransaction(
        deps,
        async (tx) => {
          await lockAccount(tx, row.account_id);
          // Claim the invitation first: of two concurrent accepts, one updates the row, the other none.
          const claimed = await tx
            .updateTable('invitations')
            .set({ status: 'ACCEPTED', updated: now.toISOString() })
            .where('id', '=', row.id)
            .where('status', '=', 'PENDING')
            .executeTakeFirst();
          if (Number(claimed.numUpdatedRows) === 0) return fail('INVITATION_USED');
          const user = await findOrCreateUser(tx, { email: row.email, now, passwordHash, firstName: input.first_name, lastName: input.last_name });
          // The user may have been created since the check above (another invitation accepted at
          // the same time): only that user, signed in, may accept for them.
          if (!user.created && !(caller?.type === 'user' && caller.id === user.id)) return fail('SIGN_IN_FIRST');
          const member = await tx.selectFrom('account_memberships').select('id').where('account_id', '=', row.account_id).where('actor_id', '=', user.actor_id).executeTakeFirst();
          if (!member) await addMembership(tx, row.account_id, { actorId: user.actor_id, userId: user.id }, row.account_role_id, now);
          const session = await createSession(tx, user.id, client, now, options.sessionTtlSeconds);
          const handle = await tx.selectFrom('users').select('handle').where('id', '=', user.id).executeTakeFirstOrThrow();
          await recordEvent(
            tx,
            { actor: { type: 'user', id: user.id, actorId: user.actor_id, name: handle.handle, accountId: null, apiKeyId: null }, requestId: null, now },
            { action: 'invitation.accepted', accountId: row.account_id, targetType: 'invitation', targetId: row.id, details: { email: row.email, user_created: user.created } },
          );
          return ok({ ...session, account_id: row.account_id });
        },
        // Two new users with one email (or one handle) at once: the loser may simply retry.
        { onUniqueViolation: fail('CONCURRENT_CHANGE') },
      );
    },
  };
}

export type InvitationService = ReturnType<typeof invitationService>;
