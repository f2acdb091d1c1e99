// A new email counts only once its owner shows they receive mail there (pentest issue 14, finding 6):
// changing it records a pending email and a one-time code (its digest stored), mailed to the new
// address; the code coming back, within EMAIL_CHANGE_TTL_MS, makes it the user's email.
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import type { OpContext } from '../context.js';
import { recordEvent } from '../audit/service.js';
import { constantTimeEqual, digest, newSecret } from '../secrets.js';

/** Confirming an email another user took meanwhile: found by the check, or by the unique index in a race. */
const TAKEN_MEANWHILE = fail('USER_EMAIL_TAKEN', 'Another user has this email now, so it cannot become yours');

export const EMAIL_CHANGE_TTL_MS = 24 * 60 * 60 * 1000;

/** What the caller mails to `email`: the code exists only here and in that mail. */
export interface EmailChangeRequest {
  email: string;
  code: string;
  expiration: string;
}

export interface PendingEmail {
  pending_email: string | null;
  expiration: string | null;
}

/** Records (or replaces) the user's pending email; inside the caller's transaction. */
export async function recordEmailChange(tx: Executor, userId: string, email: string, now: Date): Promise<EmailChangeRequest> {
  const code = newSecret();
  const expiration = new Date(now.getTime() + EMAIL_CHANGE_TTL_MS).toISOString();
  await tx.deleteFrom('email_changes').where('user_id', '=', userId).execute();
  await tx
    .insertInto('email_changes')
    .values({ user_id: userId, email, code_hash: digest(code), expires_at: expiration, created: now.toISOString() })
    .execute();
  return { email, code, expiration };
}

/** The user's pending change when `code` is its code (compared as a digest, in constant time). */
async function pendingWithCode(tx: Executor, userId: string, code: string) {
  const row = await tx.selectFrom('email_changes').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return row && constantTimeEqual(row.code_hash, digest(code)) ? row : undefined;
}

/** Ends the user's pending change, confirmed or dropped, and records the event that says which. */
async function endEmailChange(tx: Executor, ctx: OpContext, userId: string, action: 'user.email_changed' | 'user.email_change_cancelled', details: Record<string, unknown>) {
  await tx.deleteFrom('email_changes').where('user_id', '=', userId).execute();
  await recordEvent(tx, ctx, { action, accountId: null, targetType: 'user', targetId: userId, details });
}

export function emailChangeService(deps: Deps) {
  const { store, clock } = deps;

  return {
    async pendingEmail(userId: string): Promise<Result<PendingEmail>> {
      const user = await store.db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
      if (!user) return fail('NOT_FOUND', 'User not found');
      const row = await store.db.selectFrom('email_changes').select(['email', 'expires_at']).where('user_id', '=', userId).executeTakeFirst();
      const live = row && row.expires_at > clock.now().toISOString();
      return ok({ pending_email: live ? row.email : null, expiration: live ? row.expires_at : null });
    },

    /** The code mailed to the pending email makes it the user's email, if no one else has it by now. */
    async confirmEmail(ctx: OpContext, userId: string, code: string): Promise<Result<{ email: string }>> {
      return inTransaction(
        deps,
        async (tx) => {
          const user = await tx.selectFrom('users').select(['id', 'email']).where('id', '=', userId).executeTakeFirst();
          if (!user) return fail('NOT_FOUND', 'User not found');
          const row = await pendingWithCode(tx, userId, code);
          if (!row) return fail('EMAIL_CODE_INVALID');
          if (row.expires_at <= ctx.now.toISOString()) return fail('EMAIL_CODE_EXPIRED');
          const clash = await tx.selectFrom('users').select('id').where('email', '=', row.email).where('id', '!=', userId).executeTakeFirst();
          if (clash) return TAKEN_MEANWHILE;
          await tx.updateTable('users').set({ email: row.email, updated: ctx.now.toISOString() }).where('id', '=', userId).execute();
          await endEmailChange(tx, ctx, userId, 'user.email_changed', { from: user.email, to: row.email });
          return ok({ email: row.email });
        },
        { onUniqueViolation: TAKEN_MEANWHILE },
      );
    },

    /** Drops the pending change that `code` belongs to (its mail could not be sent); a newer one stays. */
    async cancelEmailChange(ctx: OpContext, userId: string, code: string, reason: string): Promise<void> {
      await inTransaction(deps, async (tx) => {
        const row = await pendingWithCode(tx, userId, code);
        if (row) await endEmailChange(tx, ctx, userId, 'user.email_change_cancelled', { email: row.email, reason });
      });
    },
  };
}
