// First run in a browser: while no account exists, `gatehouse start` prints a one-time setup link;
// opening it lets a person create the first account and its Owner with a password.
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction, isFailure } from '../transaction.js';
import type { Deps } from '../deps.js';
import { SYSTEM_ACTOR } from '../context.js';
import { constantTimeEqual, digest, hashPassword, MIN_PASSWORD_LENGTH, newSecret } from '../secrets.js';
import { accountService } from '../accounts/service.js';
import { createSession, type ClientInfo, type NewSession } from '../sessions/service.js';
import type { SetupInput } from './inputs.js';

export const SETUP_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export type { SetupInput };

export function setupService(deps: Deps, options: { sessionTtlSeconds: number }) {
  const { store, clock } = deps;
  const accounts = accountService(deps);

  return {
    needed: () => accounts.isEmpty(),

    /** A new one-time token when the store has no account yet; null otherwise. */
    async issueToken(): Promise<string | null> {
      if (!(await accounts.isEmpty())) return null;
      const token = newSecret();
      const now = clock.now();
      await store.db
        .insertInto('setup_tokens')
        .values({ token_hash: digest(token), created: now.toISOString(), expires_at: new Date(now.getTime() + SETUP_TOKEN_TTL_MS).toISOString() })
        .execute();
      return token;
    },

    async complete(input: SetupInput, client: ClientInfo): Promise<Result<NewSession & { account_id: string }>> {
      if (!(await accounts.isEmpty())) return fail('SETUP_DONE');
      if (input.password.length < MIN_PASSWORD_LENGTH) return fail('PASSWORD_TOO_SHORT');
      const now = clock.now();
      const wanted = digest(input.token);
      const isValid = (t: { token_hash: string; expires_at: string }) => t.expires_at > now.toISOString() && constantTimeEqual(t.token_hash, wanted);
      // A cheap look first, so that a wrong token never costs a password hash.
      const tokens = await store.db.selectFrom('setup_tokens').selectAll().execute();
      if (!tokens.some(isValid)) return fail('SETUP_TOKEN_INVALID');
      const passwordHash = await hashPassword(input.password);
      // Claim: take every token at once, and keep them taken only if this one is among them. Of
      // concurrent setups (with this token or another valid one) exactly one gets to create.
      const claimed = await inTransaction(deps, async (tx) => {
        const taken = await tx.deleteFrom('setup_tokens').returningAll().execute();
        if (!taken.some(isValid)) return fail('SETUP_TOKEN_INVALID');
        return taken;
      });
      if (isFailure(claimed)) return claimed;
      const created = await accounts.bootstrap(
        { actor: SYSTEM_ACTOR, requestId: null, now },
        {
          accountName: input.account_name,
          accountHandle: input.account_handle,
          email: input.email,
          passwordHash,
          firstName: input.first_name,
          lastName: input.last_name,
          issueApiKey: false,
        },
      );
      if (!created.ok) {
        // Nothing was created: give the tokens back so that the person can correct and retry.
        await store.db.insertInto('setup_tokens').values(claimed).execute();
        return created;
      }
      return inTransaction(deps, async (tx) => {
        const session = await createSession(tx, created.value.user_id, client, now, options.sessionTtlSeconds);
        return ok({ ...session, account_id: created.value.account_id });
      });
    },
  };
}

export type SetupService = ReturnType<typeof setupService>;
