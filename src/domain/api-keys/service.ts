// API keys: issuing them (the plaintext leaves only in the return value) and a user's own keys.
// A presented key is authenticated by the auth core (auth/core.ts).
import { generateKey, hashKey, maskKey, type KeyKind } from './key-format.js';
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { newId, type OpContext } from '../context.js';
import { recordEvent } from '../audit/service.js';
import type { ApiKeysTable } from '../../store/schema.js';
import type { ApiKeyCreate } from './inputs.js';

/** A key as reads show it: never the key, only its mask. */
export interface ApiKeyView {
  id: string;
  created: string;
  name: string;
  expiration: string | null;
  masked_key: string;
  /** The key's last use (auth/key-use.ts): null until first used. */
  last_used_at: string | null;
  /** The client address it was last used from (the socket's, or a trusted proxy's client). */
  last_used_from: string | null;
  /** The client's User-Agent then, bounded. */
  last_used_client: string | null;
  /** The workspace the request named, when it named one. */
  last_used_workspace_id: string | null;
  /** When a secret-scanning partner last reported this key found in public (domain/leak-reports); null: never. */
  leak_reported_at: string | null;
  /** The public URL it was found at (may be empty) and the source the partner named. */
  leak_url: string | null;
  leak_source: string | null;
}

/** A key as the one response that creates it shows it. */
export interface IssuedApiKey {
  id: string;
  created: string;
  name: string;
  expiration: string | null;
  key: string;
}

/** The columns a key's view reads. */
export const KEY_VIEW_COLUMNS = ['id', 'created', 'name', 'expiration', 'masked_key', 'last_used_at', 'last_used_from', 'last_used_client', 'last_used_workspace_id', 'leak_reported_at', 'leak_url', 'leak_source'] as const;

export const toKeyView = (row: Pick<ApiKeysTable, (typeof KEY_VIEW_COLUMNS)[number]>): ApiKeyView => ({
  id: row.id,
  created: row.created,
  name: row.name,
  expiration: row.expiration,
  masked_key: row.masked_key,
  last_used_at: row.last_used_at,
  last_used_from: row.last_used_from,
  last_used_client: row.last_used_client,
  last_used_workspace_id: row.last_used_workspace_id,
  leak_reported_at: row.leak_reported_at,
  leak_url: row.leak_url,
  leak_source: row.leak_source,
});

export interface KeyOwner {
  kind: KeyKind;
  actorId: string;
  userId?: string;
  serviceAccountId?: string;
}

/** Inserts a new key inside the caller's transaction and returns its plaintext once. */
export async function issueKey(
  tx: Executor,
  owner: KeyOwner,
  fields: { name: string; expiration: string | null; now: Date },
  /** A key exchanged for a workload's token (workload-identity/): not the service account's current key. */
  exchanged?: Pick<ApiKeysTable, 'exchanged_subject' | 'exchanged_issuer' | 'exchanged_rule_id'>,
): Promise<IssuedApiKey> {
  const key = generateKey(owner.kind);
  const row = {
    id: newId(),
    actor_id: owner.actorId,
    user_id: owner.userId ?? null,
    bot_id: owner.serviceAccountId ?? null,
    name: fields.name,
    key_hash: hashKey(key),
    masked_key: maskKey(key),
    expiration: fields.expiration,
    is_active: exchanged ? 2 : 1,
    created: fields.now.toISOString(),
    ...exchanged,
  };
  await tx.insertInto('api_keys').values(row).execute();
  return { id: row.id, created: row.created, name: row.name, expiration: row.expiration, key };
}

/** An expiration must lie in the future; null means the key never expires. */
export function checkExpiration(expiration: string | null | undefined, now: Date): Result<string | null> {
  if (expiration === null || expiration === undefined) return ok(null);
  const at = new Date(expiration);
  if (Number.isNaN(at.getTime())) return fail('VALIDATION_FAILED', 'expiration is not a valid RFC 3339 date-time');
  if (at.getTime() <= now.getTime()) return fail('EXPIRATION_IN_PAST');
  return ok(at.toISOString());
}

export function apiKeyService(deps: Deps) {
  const { store } = deps;

  return {
    async createUserKey(
      ctx: OpContext,
      userId: string,
      input: ApiKeyCreate,
    ): Promise<Result<IssuedApiKey>> {
      const expiration = checkExpiration(input.expiration, ctx.now);
      if (!expiration.ok) return expiration;
      const result = await inTransaction(deps, async (tx) => {
        const user = await tx.selectFrom('users').select(['id', 'actor_id']).where('id', '=', userId).executeTakeFirst();
        if (!user) return fail('NOT_FOUND', 'User not found');
        const issued = await issueKey(
          tx,
          { kind: 'user', actorId: user.actor_id, userId: user.id },
          { name: input.name, expiration: expiration.value, now: ctx.now },
        );
        await recordEvent(tx, ctx, {
          action: 'user_api_key.created',
          accountId: null,
          targetType: 'api_key',
          targetId: issued.id,
          details: { name: issued.name, expiration: issued.expiration },
        });
        return ok(issued);
      });
      return result;
    },

    async listUserKeys(userId: string, name?: string): Promise<ApiKeyView[]> {
      let query = store.db
        .selectFrom('api_keys')
        .select(KEY_VIEW_COLUMNS)
        .where('user_id', '=', userId);
      if (name) query = query.where('name', '=', name);
      const rows = await query.orderBy('created').orderBy('id').execute();
      return rows.map(toKeyView);
    },

    async getUserKey(userId: string, keyId: string): Promise<Result<ApiKeyView>> {
      const row = await store.db
        .selectFrom('api_keys')
        .select(KEY_VIEW_COLUMNS)
        .where('user_id', '=', userId)
        .where('id', '=', keyId)
        .executeTakeFirst();
      return row ? ok(toKeyView(row)) : fail('NOT_FOUND', 'API key not found');
    },

    async deleteUserKey(ctx: OpContext, userId: string, keyId: string): Promise<Result<null>> {
      const result = await inTransaction(deps, async (tx) => {
        const deleted = await tx
          .deleteFrom('api_keys')
          .where('user_id', '=', userId)
          .where('id', '=', keyId)
          .executeTakeFirst();
        if (Number(deleted.numDeletedRows) === 0) return fail('NOT_FOUND', 'API key not found');
        await recordEvent(tx, ctx, {
          action: 'user_api_key.deleted',
          accountId: null,
          targetType: 'api_key',
          targetId: keyId,
        });
        return ok(null);
      });
      return result;
    },
  };
}

export type ApiKeyService = ReturnType<typeof apiKeyService>;
