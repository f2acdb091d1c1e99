// Leak reports (issue 19 item 4): a secret-scanning partner reports tokens it found in public; each
// one that is a Gatehouse key this store holds is disabled at once or flagged, per its account's key
// policy (`leaked_key_action`), and audited as `api_key.leak_reported` (notices turn that into a
// webhook and mail). A string that fails the key checksum is answered without a store lookup.
import { hashKey, parseKey } from '../api-keys/key-format.js';
import { ok, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import type { Actor, OpContext } from '../context.js';
import { recordEvent } from '../audit/service.js';
import { readKeyPolicy, type LeakedKeyAction } from '../key-policies/service.js';
import type { FoundToken, TokenLabel } from './inputs.js';

/** Who acts on a reported key: the partner, known only by the public key that signed the report. */
export function partnerActor(signingKeyIdentifier: string): Actor {
  return { type: 'system', id: null, actorId: null, name: `secret-scanning partner (key ${signingKeyIdentifier.slice(0, 16)})`, accountId: null, apiKeyId: null };
}

/** What happened to one reported key (for the log; never the key). */
export interface LeakOutcome {
  api_key_id: string;
  disabled: boolean;
  /** False when the same report was already recorded and nothing changed (a replay). */
  recorded: boolean;
}

interface FoundKey {
  id: string;
  bot_id: string | null;
  user_id: string | null;
  expiration: string | null;
  leak_url: string | null;
  leak_source: string | null;
}

/**
 * The accounts a key belongs to and the action their policies ask for: a service account's one
 * account; for a user's key, every account the user is a member of, and `flag` only if all of
 * them ask for it (a user key reaches all of them, so the strictest policy wins; no account: disable).
 */
async function accountsAndAction(tx: Executor, key: FoundKey): Promise<{ accounts: { id: string; serviceAccountName?: string }[]; action: LeakedKeyAction }> {
  let accounts: { id: string; serviceAccountName?: string }[];
  if (key.bot_id) {
    const bot = await tx.selectFrom('bots').select(['account_id', 'name']).where('id', '=', key.bot_id).executeTakeFirst();
    accounts = bot ? [{ id: bot.account_id, serviceAccountName: bot.name }] : [];
  } else {
    const rows = await tx.selectFrom('account_memberships').select('account_id').where('user_id', '=', key.user_id).orderBy('account_id').execute();
    accounts = rows.map((r) => ({ id: r.account_id }));
  }
  let action: LeakedKeyAction = accounts.length ? 'flag' : 'disable';
  for (const account of accounts) if ((await readKeyPolicy(tx, account.id)).leaked_key_action === 'disable') action = 'disable';
  return { accounts, action };
}

export function leakReportService(deps: Deps) {
  /** Records one report of one key in its own transaction (every process's cache told when it disables). */
  async function act(ctx: OpContext, digest: string, found: FoundToken): Promise<LeakOutcome | null> {
    const outcome = await inTransaction(
      deps,
      async (tx): Promise<LeakOutcome | null> => {
        const key = await tx
          .selectFrom('api_keys')
          .select(['id', 'bot_id', 'user_id', 'expiration', 'leak_url', 'leak_source'])
          .where('key_hash', '=', digest)
          .executeTakeFirst();
        if (!key) return null;
        const stamp = ctx.now.toISOString();
        const live = key.expiration === null || key.expiration > stamp;
        const { accounts, action } = await accountsAndAction(tx, key);
        const disables = live && action === 'disable';
        // The same finding again (a partner's retry, or a replayed report) changes nothing.
        if (!disables && key.leak_url === found.url && key.leak_source === found.source) return { api_key_id: key.id, disabled: false, recorded: false };
        await tx
          .updateTable('api_keys')
          .set({ leak_reported_at: stamp, leak_url: found.url, leak_source: found.source, ...(disables ? { expiration: stamp } : {}) })
          .where('id', '=', key.id)
          .execute();
        const details = {
          api_key_id: key.id,
          url: found.url,
          source: found.source,
          token_type: found.type,
          disabled: disables,
          leaked_key_action: action,
          key_was_live: live,
          previous_expiration: key.expiration,
        };
        if (key.bot_id) {
          const account = accounts[0];
          await recordEvent(tx, ctx, {
            action: 'api_key.leak_reported',
            accountId: account?.id ?? null,
            targetType: 'service_account',
            targetId: key.bot_id,
            details: { ...details, name: account?.serviceAccountName ?? null },
          });
        } else {
          // A user's key reaches every account the user belongs to: each one's audit (and its notices) hears of it.
          for (const account of accounts.length ? accounts : [{ id: null }]) {
            await recordEvent(tx, ctx, { action: 'api_key.leak_reported', accountId: account.id, targetType: 'api_key', targetId: key.id, details: { ...details, user_id: key.user_id } });
          }
        }
        return { api_key_id: key.id, disabled: disables, recorded: true };
      },
      // Disabling must reach every process's cache before the answer (contract 4); a flag or a
      // replay invalidates too, which costs one stamp and keeps this one path simple.
    );
    return outcome as LeakOutcome | null;
  }

  return {
    /**
     * Labels every reported token and acts on each Gatehouse key found (each key once, whatever
     * the report repeats). Answers in the order of the report.
     */
    async report(ctx: OpContext, tokens: readonly FoundToken[]): Promise<Result<{ labels: TokenLabel[]; outcomes: LeakOutcome[] }>> {
      const seen = new Map<string, boolean>();
      const outcomes: LeakOutcome[] = [];
      const labels: TokenLabel[] = [];
      for (const found of tokens) {
        const digest = hashKey(found.token);
        let known = seen.get(digest);
        if (known === undefined) {
          // The checksum turns away anything that is not a Gatehouse key without touching the store.
          const outcome = parseKey(found.token) === null ? null : await act(ctx, digest, found);
          if (outcome) outcomes.push(outcome);
          seen.set(digest, (known = outcome !== null));
        }
        labels.push({ token_hash: digest, token_type: found.type, label: known ? 'true_positive' : 'false_positive' });
      }
      return ok({ labels, outcomes });
    },
  };
}

export type LeakReportService = ReturnType<typeof leakReportService>;
