// Who must sign in through an identity provider: a member of an account whose single sign-on
// settings turn passwords off (domain/sso/ writes them), unless their role there holds
// `bypass:sso` (only Owners do: the break-glass). Read here so that sessions need not import sso.
import { fail, type Failure } from '../../errors.js';
import type { Executor } from '../../store/store.js';
import { parseJsonColumn } from '../../store/json-column.js';

/**
 * Why this user may not sign in with a password, or null: an account they belong to has passwords
 * turned off and their role there does not hold `bypass:sso` (only Owners do, the break-glass).
 */
export async function passwordRefusal(db: Executor, userId: string): Promise<Failure | null> {
  const rows = await db
    .selectFrom('account_memberships as m')
    .innerJoin('account_sso_settings as s', 's.account_id', 'm.account_id')
    .innerJoin('accounts as a', 'a.id', 'm.account_id')
    .innerJoin('account_roles as r', 'r.id', 'm.account_role_id')
    .select(['a.handle', 'r.permissions'])
    .where('m.user_id', '=', userId)
    .where('s.passwords_disabled', '=', 1)
    .orderBy('a.handle')
    .execute();
  const bound = rows.find((row) => !parseJsonColumn<string[]>(row.permissions, []).includes('bypass:sso'));
  if (!bound) return null;
  return fail(
    'PASSWORD_SIGN_IN_DISABLED',
    `The account ${bound.handle} requires single sign-on: sign in with its identity provider (on the sign-in page, or at /api/auth/sso/discover?account=${encodeURIComponent(bound.handle)})`,
  );
}
