// The transactional outbox: when recordEvent writes an audit event that is a notice, the deliveries
// (one per subscribed, enabled webhook endpoint, and one for the Owners' mail) are inserted in the
// same transaction, so a notice goes out exactly when its change commits. Any other audit event
// costs nothing here; a notice costs one query for the account's endpoints and one insert.
import type { Executor } from '../../store/store.js';
import type { NoticeDeliveriesTable } from '../../store/schema.js';
import { parseJsonColumn } from '../../store/json-column.js';
import { newId } from '../context.js';
import { noticeTypeOf } from './notice-events.js';
import type { AuditEntry } from './service.js';

export interface AuditedNotice {
  eventId: string;
  occurred: string;
  actor: { type: string; name: string };
}

/** The JSON body every receiver gets (Standard Webhooks: type, timestamp, data). */
export function noticePayload(type: string, occurred: string, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: occurred, data });
}

export function newDelivery(accountId: string, endpointId: string | null, type: string, payload: string, now: string): NoticeDeliveriesTable {
  return { id: newId(), account_id: accountId, endpoint_id: endpointId, event_type: type, payload, status: 'pending', attempts: 0, next_attempt_at: now, lease_until: null, lease_token: null, created: now, updated: now };
}

export async function enqueueNotices(tx: Executor, entry: AuditEntry, audited: AuditedNotice): Promise<void> {
  const type = noticeTypeOf(entry);
  if (!type || !entry.accountId) return;
  const accountId = entry.accountId;
  await markTimeNoticesDone(tx, entry, audited.occurred);
  const payload = noticePayload(type, audited.occurred, {
    account_id: accountId,
    event_id: audited.eventId,
    action: entry.action,
    actor: audited.actor,
    workspace_id: entry.workspaceId ?? null,
    target_type: entry.targetType,
    target_id: entry.targetId,
    details: entry.details ?? {},
  });
  const endpoints = await tx.selectFrom('webhook_endpoints').select(['id', 'event_types']).where('account_id', '=', accountId).where('enabled', '=', 1).execute();
  const rows = endpoints
    .filter((e) => parseJsonColumn<string[]>(e.event_types, []).includes(type))
    .map((e) => newDelivery(accountId, e.id, type, payload, audited.occurred));
  rows.push(newDelivery(accountId, null, type, payload, audited.occurred));
  await tx.insertInto('notice_deliveries').values(rows).execute();
}

/**
 * A key disabled now (dormancy, a leak) has "expired" already announced, and an old key rotated out
 * with no grace (0 s) has no grace to end: their time-based notices are marked sent.
 */
async function markTimeNoticesDone(tx: Executor, entry: AuditEntry, now: string): Promise<void> {
  const d = entry.details ?? {};
  const marks: { api_key_id: string; notice: string; created: string }[] = [];
  if ((entry.action === 'service_account.api_key_disabled' || (entry.action === 'api_key.leak_reported' && d.disabled === true)) && typeof d.api_key_id === 'string') {
    marks.push({ api_key_id: d.api_key_id, notice: 'expired', created: now });
  }
  if (entry.action === 'service_account.api_key_rotated' && d.old_key_expires_in_seconds === 0 && typeof d.old_api_key_id === 'string') {
    marks.push({ api_key_id: d.old_api_key_id, notice: 'grace_ended', created: now });
  }
  for (const mark of marks) {
    // The key may be gone already (a rotation without grace deletes it): nothing to mark then.
    const exists = await tx.selectFrom('api_keys').select('id').where('id', '=', mark.api_key_id).executeTakeFirst();
    if (exists) await tx.insertInto('api_key_notices').values(mark).onConflict((oc) => oc.doNothing()).execute();
  }
}
