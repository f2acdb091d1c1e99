// Account key policies (issue 19, item 2): the limits an account's Owners and Admins set on its
// service-account keys, checked when a key is issued (create, rotate), listed against existing keys
// (never changed silently), and the dormancy rule that disables a key nobody has used for N days.
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { SYSTEM_ACTOR, type OpContext } from '../context.js';
import { recordEvent } from '../audit/service.js';
import type { AccountKeyPoliciesTable } from '../../store/schema.js';
import type { KeyPolicyUpdate } from './inputs.js';

const DAY_MS = 86_400_000;

export interface KeyPolicy {
  account_id: string;
  max_key_lifetime_days: number | null;
  allow_never_expire: boolean;
  max_rotation_grace_seconds: number | null;
  disable_keys_unused_days: number | null;
  /** What a leak report does to a found key of this account (domain/leak-reports). */
  leaked_key_action: LeakedKeyAction;
  /** When an Owner or Admin last set it; null: never set (no limits). */
  updated: string | null;
}

export type LeakedKeyAction = 'disable' | 'flag';

export type KeyPolicyRule = 'max_key_lifetime_days' | 'allow_never_expire' | 'disable_keys_unused_days';

/** An existing key that breaks the policy as it is now: shown, not changed (except by the dormancy rule). */
export interface KeyPolicyBreach {
  service_account_id: string;
  service_account_name: string;
  api_key_id: string;
  masked_key: string;
  created: string;
  expiration: string | null;
  /** Whether it is the service account's current key (false: an old key inside its rotation grace). */
  is_active: boolean;
  last_activity: string;
  rules: KeyPolicyRule[];
}

export interface DisabledKey {
  account_id: string;
  service_account_id: string;
  api_key_id: string;
  last_activity: string;
}

/**
 * When a key was last of use: its last authentication once last-use tracking records it
 * (`api_keys.last_used_at`, issue 19 item 1), else its creation. The dormancy rule reads activity
 * only through this function and the columns in ACTIVITY_COLUMNS.
 */
export function lastActivity(key: { created: string; last_used_at?: string | null }): string {
  return key.last_used_at ?? key.created;
}

function toPolicy(accountId: string, row: AccountKeyPoliciesTable | undefined): KeyPolicy {
  return {
    account_id: accountId,
    max_key_lifetime_days: row?.max_key_lifetime_days ?? null,
    allow_never_expire: row ? row.allow_never_expire === 1 : true,
    max_rotation_grace_seconds: row?.max_rotation_grace_seconds ?? null,
    disable_keys_unused_days: row?.disable_keys_unused_days ?? null,
    leaked_key_action: row?.leaked_key_action === 'flag' ? 'flag' : 'disable',
    updated: row?.updated ?? null,
  };
}

export async function readKeyPolicy(db: Executor, accountId: string): Promise<KeyPolicy> {
  const row = await db.selectFrom('account_key_policies').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  return toPolicy(accountId, row);
}

const minuteUtc = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The latest expiration the policy allows for a key issued at `now`, or null when it sets none. */
export function latestExpiration(policy: KeyPolicy, now: Date): Date | null {
  return policy.max_key_lifetime_days === null ? null : new Date(now.getTime() + policy.max_key_lifetime_days * DAY_MS);
}

/** Whether a key issued now with this expiration (null: never) keeps the policy. */
export function checkKeyExpiration(policy: KeyPolicy, expiration: string | null, now: Date): Result<null> {
  const latest = latestExpiration(policy, now);
  if (expiration === null) {
    if (policy.allow_never_expire && latest === null) return ok(null);
    const choose = latest ? `choose an expiration no later than ${minuteUtc(latest)}` : 'choose an expiration date';
    return fail('KEY_POLICY_VIOLATION', `This account's key policy does not allow keys that never expire; ${choose}`);
  }
  if (latest !== null && Date.parse(expiration) > latest.getTime()) {
    const days = policy.max_key_lifetime_days;
    return fail('KEY_POLICY_VIOLATION', `This account's key policy allows keys of at most ${days} day${days === 1 ? '' : 's'}; choose an expiration no later than ${minuteUtc(latest)}`);
  }
  return ok(null);
}

/** Whether a rotation's grace for the old key keeps the policy (null/absent: the old key goes now). */
export function checkRotationGrace(policy: KeyPolicy, grace: number | null | undefined): Result<null> {
  const max = policy.max_rotation_grace_seconds;
  if (grace === null || grace === undefined || max === null || grace <= max) return ok(null);
  return fail(
    'KEY_POLICY_VIOLATION',
    `This account's key policy allows a rotation grace of at most ${max} seconds; send old_key_expires_in_seconds from 0 to ${max}, or null to delete the old key now`,
  );
}

/** The rules an existing key breaks under `policy` at `now`. */
function breaches(policy: KeyPolicy, key: { created: string; expiration: string | null; last_used_at?: string | null }, now: Date): KeyPolicyRule[] {
  const rules: KeyPolicyRule[] = [];
  if (key.expiration === null && !policy.allow_never_expire) rules.push('allow_never_expire');
  if (policy.max_key_lifetime_days !== null) {
    const lifetime = (key.expiration === null ? Infinity : Date.parse(key.expiration)) - Date.parse(key.created);
    if (lifetime > policy.max_key_lifetime_days * DAY_MS) rules.push('max_key_lifetime_days');
  }
  if (isDormant(policy, key, now)) rules.push('disable_keys_unused_days');
  return rules;
}

function isDormant(policy: KeyPolicy, key: { created: string; last_used_at?: string | null }, now: Date): boolean {
  const days = policy.disable_keys_unused_days;
  return days !== null && Date.parse(lastActivity(key)) <= now.getTime() - days * DAY_MS;
}

/** A service account's keys that still authenticate (not expired), with what dormancy reads. */
function liveKeys(db: Executor, now: string) {
  return db
    .selectFrom('api_keys as k')
    .innerJoin('bots as b', 'b.id', 'k.bot_id')
    .select(['k.id', 'k.created', 'k.last_used_at', 'k.expiration', 'k.masked_key', 'k.is_active', 'b.id as bot_id', 'b.name as bot_name', 'b.account_id'])
    .where((eb) => eb.or([eb('k.expiration', 'is', null), eb('k.expiration', '>', now)]));
}

export function keyPolicyService(deps: Deps) {
  const { store, clock } = deps;

  return {
    get: async (accountId: string): Promise<Result<KeyPolicy>> => ok(await readKeyPolicy(store.db, accountId)),

    /**
     * Sets the fields given (absent ones keep their value) and records the change; existing keys are
     * left as they are. A policy changes no key and no grant, so nothing cached depends on it.
     */
    async set(ctx: OpContext, accountId: string, input: KeyPolicyUpdate): Promise<Result<KeyPolicy>> {
      return inTransaction(deps, async (tx) => {
        const before = await readKeyPolicy(tx, accountId);
        const row: AccountKeyPoliciesTable = {
          account_id: accountId,
          max_key_lifetime_days: input.max_key_lifetime_days !== undefined ? input.max_key_lifetime_days : before.max_key_lifetime_days,
          allow_never_expire: (input.allow_never_expire ?? before.allow_never_expire) ? 1 : 0,
          max_rotation_grace_seconds: input.max_rotation_grace_seconds !== undefined ? input.max_rotation_grace_seconds : before.max_rotation_grace_seconds,
          disable_keys_unused_days: input.disable_keys_unused_days !== undefined ? input.disable_keys_unused_days : before.disable_keys_unused_days,
          leaked_key_action: input.leaked_key_action ?? before.leaked_key_action,
          updated: ctx.now.toISOString(),
        };
        const { account_id: _a, ...values } = row;
        await tx.insertInto('account_key_policies').values(row).onConflict((oc) => oc.column('account_id').doUpdateSet(values)).execute();
        const after = toPolicy(accountId, row);
        const { updated: _u, account_id: _b, ...fields } = after;
        const { updated: _v, account_id: _c, ...previous } = before;
        await recordEvent(tx, ctx, { action: 'account.key_policy_updated', accountId, targetType: 'account', targetId: accountId, details: { ...fields, previous } });
        return ok(after);
      }, { invalidates: false, onForeignKeyViolation: fail('NOT_FOUND', 'Account not found') });
    },

    /** The account's live service-account keys that break its policy now, oldest first. */
    async breaches(accountId: string): Promise<Result<KeyPolicyBreach[]>> {
      const now = clock.now();
      const policy = await readKeyPolicy(store.db, accountId);
      const rows = await liveKeys(store.db, now.toISOString()).where('b.account_id', '=', accountId).orderBy('k.created').orderBy('k.id').execute();
      const found: KeyPolicyBreach[] = [];
      for (const r of rows) {
        const rules = breaches(policy, r, now);
        if (rules.length === 0) continue;
        found.push({
          service_account_id: r.bot_id,
          service_account_name: r.bot_name,
          api_key_id: r.id,
          masked_key: r.masked_key,
          created: r.created,
          expiration: r.expiration,
          is_active: r.is_active === 1,
          last_activity: lastActivity(r),
          rules,
        });
      }
      return ok(found);
    },

    /**
     * The dormancy rule: every live service-account key of an account with `disable_keys_unused_days`
     * whose last activity is that many days old expires now, each in its own transaction with its
     * audit event (and every process's cache told). Idempotent: an expired key is not live, so
     * several processes may run it at once and each key is disabled, and audited, once.
     */
    async disableDormantKeys(now: Date = clock.now()): Promise<DisabledKey[]> {
      const ctx: OpContext = { actor: SYSTEM_ACTOR, requestId: null, now };
      const stamp = now.toISOString();
      const policies = await store.db.selectFrom('account_key_policies').selectAll().where('disable_keys_unused_days', 'is not', null).execute();
      const disabled: DisabledKey[] = [];
      for (const row of policies) {
        const policy = toPolicy(row.account_id, row);
        const keys = await liveKeys(store.db, stamp).where('b.account_id', '=', row.account_id).execute();
        for (const key of keys.filter((k) => isDormant(policy, k, now))) {
          const done = await inTransaction(deps, async (tx) => {
            const changed = await tx
              .updateTable('api_keys')
              .set({ expiration: stamp })
              .where('id', '=', key.id)
              .where((eb) => eb.or([eb('expiration', 'is', null), eb('expiration', '>', stamp)]))
              .executeTakeFirst();
            if (Number(changed.numUpdatedRows) === 0) return false; // another process got there first
            await recordEvent(tx, ctx, {
              action: 'service_account.api_key_disabled',
              accountId: row.account_id,
              targetType: 'service_account',
              targetId: key.bot_id,
              details: {
                name: key.bot_name,
                api_key_id: key.id,
                reason: 'dormant',
                disable_keys_unused_days: policy.disable_keys_unused_days,
                last_activity: lastActivity(key),
                previous_expiration: key.expiration,
              },
            });
            return true;
          });
          // Its webhook and mail (issue 19 item 3) were queued with the audit event (domain/audit/outbox.ts).
          if (done === true) disabled.push({ account_id: row.account_id, service_account_id: key.bot_id, api_key_id: key.id, last_activity: lastActivity(key) });
        }
      }
      return disabled;
    },
  };
}

export type KeyPolicyService = ReturnType<typeof keyPolicyService>;
