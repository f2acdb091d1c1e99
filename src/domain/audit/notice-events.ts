// The notices Gatehouse sends (issue 19, item 3; delivered by domain/notices/), and which audit events they announce: a notice is
// an audit event of one of these actions, so it is written (to the outbox) in the same transaction.
import type { AuditEntry } from './service.js';

export const NOTICE_EVENT_TYPES = [
  'api_key.expiring',
  'api_key.expired',
  'api_key.rotated',
  'api_key.grace_ended',
  'service_account.removed',
  'api_key.disabled_dormant',
  'api_key.leak_reported',
  'ip_allowlist.changed',
] as const;
export type NoticeEventType = (typeof NOTICE_EVENT_TYPES)[number];

/** What "Send test" sends: not subscribable, sent to one endpoint on demand. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** The audit actions written by the expiry scan (notices/expiry.ts), for time-based notices. */
export const EXPIRY_ACTIONS = {
  expiring: 'service_account.api_key_expiring',
  expired: 'service_account.api_key_expired',
  grace_ended: 'service_account.api_key_grace_ended',
} as const;

/** Audit actions that may be a notice; anything else costs recordEvent nothing more. */
const NOTICE_ACTIONS: ReadonlySet<string> = new Set([
  'service_account.api_key_rotated',
  'service_account.deleted',
  'service_account.api_key_disabled',
  'api_key.leak_reported',
  'ip_allowlist.updated',
  'account.updated',
  ...Object.values(EXPIRY_ACTIONS),
]);

/** The notice an audit event is, or null. */
export function noticeTypeOf(entry: Pick<AuditEntry, 'action' | 'details' | 'accountId'>): NoticeEventType | null {
  if (!entry.accountId || !NOTICE_ACTIONS.has(entry.action)) return null;
  const details = entry.details ?? {};
  switch (entry.action) {
    case 'service_account.api_key_rotated':
      return 'api_key.rotated';
    case 'service_account.deleted':
      return 'service_account.removed';
    case 'service_account.api_key_disabled':
      return details.reason === 'dormant' ? 'api_key.disabled_dormant' : null;
    case 'api_key.leak_reported':
      return 'api_key.leak_reported';
    case 'ip_allowlist.updated':
      return 'ip_allowlist.changed';
    case 'account.updated':
      // Only a change of the allowlist's enforcement (accounts/service.ts names it in the details).
      return details.enforce_ip_allowlist !== undefined ? 'ip_allowlist.changed' : null;
    case EXPIRY_ACTIONS.expiring:
      return 'api_key.expiring';
    case EXPIRY_ACTIONS.expired:
      return 'api_key.expired';
    case EXPIRY_ACTIONS.grace_ended:
      return 'api_key.grace_ended';
    default:
      return null;
  }
}

/** One sentence saying what happened, for the mail's subject and body. */
export function noticeSentence(type: string, data: { details?: Record<string, unknown> }): string {
  const d = data.details ?? {};
  const sa = typeof d.name === 'string' ? `service account "${d.name}"` : 'a service account';
  switch (type) {
    case 'api_key.expiring':
      return `The API key of ${sa} expires in ${d.days} day${d.days === 1 ? '' : 's'} (${d.expiration})`;
    case 'api_key.expired':
      return `The API key of ${sa} has expired`;
    case 'api_key.rotated':
      return `The API key of ${sa} was rotated`;
    case 'api_key.grace_ended':
      return `The rotation grace of the old API key of ${sa} has ended`;
    case 'service_account.removed':
      return `The ${sa} was removed`;
    case 'api_key.disabled_dormant':
      return `The API key of ${sa} was disabled: unused for ${d.disable_keys_unused_days} days`;
    case 'api_key.leak_reported':
      return `An API key of ${sa} was reported leaked${typeof d.url === 'string' ? ` at ${d.url}` : ''}${d.disabled ? ' and was disabled' : ''}`;
    case 'ip_allowlist.changed':
      return "The account's IP allowlist was changed";
    case TEST_EVENT_TYPE:
      return 'A test notice from Gatehouse';
    default:
      return `Gatehouse notice: ${type}`;
  }
}
