// The last use of every API key (auth/key-use.ts): when, from which client address, with which
// client (its User-Agent, bounded) and against which workspace. Written at most once a minute per
// key, never on a request's path; null until the key is first used.
import type { Kysely } from 'kysely';
import { addOptionalColumns } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await addOptionalColumns(db, 'api_keys', 'text', ['last_used_at', 'last_used_from', 'last_used_client', 'last_used_workspace_id']);
}
