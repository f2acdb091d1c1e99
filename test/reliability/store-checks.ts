// What the crash suite checks in a store after a restart: the database's own integrity checks,
// the invariants every service account must meet whatever crashed when, and the audit trail.
import { expect } from 'vitest';
import { sql } from 'kysely';
import { STORE_KIND } from './support.js';
import type { Store } from '../../src/store/store.js';

export interface AuditRow {
  request_id: string | null;
  action: string;
  target_id: string | null;
  details: string;
}

export async function auditByRequest(db: Store, requestId: string): Promise<AuditRow[]> {
  return db.db.selectFrom('audit_events').select(['request_id', 'action', 'target_id', 'details']).where('request_id', '=', requestId).execute();
}

/**
 * What must hold in any store whatever crashed when, as long as nothing deleted a service
 * account's current key (these tests never do): the database's own checks, no orphans, one
 * membership and one current key per service account, every key traceable to the audit event that
 * issued it, and every acknowledged write present with exactly one audit event.
 */
export async function checkInvariants(db: Store, acknowledged: ReadonlyMap<string, string>): Promise<void> {
  if (STORE_KIND === 'sqlite') {
    const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db.db);
    expect(integrity.rows.map((r) => r.integrity_check)).toEqual(['ok']);
    const foreign = await sql`pragma foreign_key_check`.execute(db.db);
    expect(foreign.rows).toEqual([]);
  }
  const botRows = await db.db.selectFrom('bots').select(['id', 'actor_id']).execute();
  const botIds = new Set(botRows.map((b) => b.id));
  const keys = await db.db.selectFrom('api_keys').select(['id', 'bot_id', 'is_active']).where('bot_id', 'is not', null).execute();
  const memberships = await db.db.selectFrom('account_memberships').select(['bot_id']).where('bot_id', 'is not', null).execute();
  const access = await db.db.selectFrom('workspace_access').select(['bot_id']).where('bot_id', 'is not', null).execute();
  const events = await db.db
    .selectFrom('audit_events')
    .select(['request_id', 'action', 'target_id', 'details'])
    .where('target_type', '=', 'service_account')
    .execute();

  expect(keys.filter((k) => !botIds.has(k.bot_id!)), 'keys of a service account that does not exist').toEqual([]);
  expect(memberships.filter((m) => !botIds.has(m.bot_id!)), 'memberships of a missing service account').toEqual([]);
  expect(access.filter((a) => !botIds.has(a.bot_id!)), 'workspace access of a missing service account').toEqual([]);
  for (const bot of botRows) {
    expect(memberships.filter((m) => m.bot_id === bot.id).length, `memberships of ${bot.id}`).toBe(1);
    expect(keys.filter((k) => k.bot_id === bot.id && k.is_active === 1).length, `current keys of ${bot.id}`).toBe(1);
  }
  const issued = new Set<string>();
  const created = new Set<string>();
  for (const e of events) {
    if (e.action === 'service_account.created' || e.action === 'service_account.api_key_rotated') {
      issued.add(String(JSON.parse(e.details).api_key_id));
    }
    if (e.action === 'service_account.created') created.add(e.target_id!);
    if (e.action === 'service_account.deleted') expect(botIds.has(e.target_id!), `deleted service account ${e.target_id} is still there`).toBe(false);
  }
  expect(keys.filter((k) => !issued.has(k.id)), 'keys without the audit event that issued them').toEqual([]);
  expect(botRows.filter((b) => !created.has(b.id)), 'service accounts without their creation event').toEqual([]);

  const ids = [...acknowledged.keys()];
  const found = new Map<string, string[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.db.selectFrom('audit_events').select(['request_id', 'action']).where('request_id', 'in', ids.slice(i, i + 500)).execute();
    for (const row of rows) found.set(row.request_id!, [...(found.get(row.request_id!) ?? []), row.action]);
  }
  const missing = ids.filter((id) => (found.get(id) ?? []).length !== 1 || found.get(id)![0] !== acknowledged.get(id));
  expect(missing.map((id) => ({ id, expected: acknowledged.get(id), found: found.get(id) ?? [] })), 'acknowledged writes without exactly one audit event').toEqual([]);
}


async function keysOf(db: Store, botId: string) {
  return db.db.selectFrom('api_keys').select(['id', 'is_active', 'expiration']).where('bot_id', '=', botId).orderBy('id').execute();
}

/** Everything the store holds for one service account. */
export async function botState(db: Store, botId: string) {
  return {
    bot: await db.db.selectFrom('bots').select(['id', 'name']).where('id', '=', botId).executeTakeFirst(),
    keys: await keysOf(db, botId),
    access: await db.db.selectFrom('workspace_access').select(['id', 'workspace_role_id']).where('bot_id', '=', botId).execute(),
    membership: await db.db.selectFrom('account_memberships').select(['id']).where('bot_id', '=', botId).execute(),
  };
}
