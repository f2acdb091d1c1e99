// Who holds an API key, read from the store by the key's digest. Only the auth core (core.ts)
// calls this, through its cache.
import type { Executor } from '../store/store.js';
import type { Actor } from '../domain/context.js';
import type { KeyKind } from '../domain/api-keys/key-format.js';

export interface KeyHolder {
  kind: KeyKind;
  actor: Actor;
  /** Milliseconds since the epoch, or null for a key that never expires. */
  expiresAt: number | null;
}

/** The actor behind a key digest, with the key's expiration: one query (the key joined with its holder). */
export async function loadKeyHolder(db: Executor, digest: string): Promise<KeyHolder | null> {
  const row = await db
    .selectFrom('api_keys as k')
    .leftJoin('users as u', 'u.id', 'k.user_id')
    .leftJoin('bots as b', 'b.id', 'k.bot_id')
    .select([
      'k.id as key_id', 'k.expiration', 'u.id as user_id', 'u.actor_id as user_actor_id', 'u.handle',
      'b.id as bot_id', 'b.actor_id as bot_actor_id', 'b.name as bot_name', 'b.account_id',
    ])
    .where('k.key_hash', '=', digest)
    .executeTakeFirst();
  if (!row) return null;
  const expiresAt = row.expiration ? Date.parse(row.expiration) : null;
  if (row.user_id && row.user_actor_id && row.handle !== null) {
    return { kind: 'user', expiresAt, actor: { type: 'user', id: row.user_id, actorId: row.user_actor_id, name: row.handle, accountId: null, apiKeyId: row.key_id } };
  }
  if (row.bot_id && row.bot_actor_id && row.bot_name !== null) {
    return { kind: 'bot', expiresAt, actor: { type: 'bot', id: row.bot_id, actorId: row.bot_actor_id, name: row.bot_name, accountId: row.account_id, apiKeyId: row.key_id } };
  }
  return null;
}
