// `gatehouse webhook ls | add | set | rm | test | log`: the webhook endpoints of the profile's account
// (notices: docs/notices.md), through /api/accounts/{account_id}/webhooks. `add` prints the signing
// secret, the one time it is shown.
import { UsageError } from '../args.js';
import type { CommandInput } from '../commands.js';
import { NOTICE_EVENT_TYPES, type NoticeEventType } from '../../domain/audit/notice-events.js';
import { interactive, confirm } from './prompt.js';
import type { ConnectionFlags } from './flags.js';
import { printJson, printTable, say } from './output.js';
import { openSession, type Session } from './session.js';

const LIST = '/api/accounts/{account_id}/webhooks';
const ONE = '/api/accounts/{account_id}/webhooks/{webhook_id}';

interface Flags extends ConnectionFlags {
  url?: string;
  description?: string;
  events?: string;
  disabled?: boolean;
  enabled?: string;
  yes?: boolean;
}

function events(given: string | undefined): NoticeEventType[] | undefined {
  if (given === undefined) return undefined;
  const list = given.split(',').map((e) => e.trim()).filter(Boolean);
  const unknown = list.filter((e) => !(NOTICE_EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length || !list.length) throw new UsageError(`--events takes a comma-separated list of ${NOTICE_EVENT_TYPES.join(', ')}${unknown.length ? `; not: ${unknown.join(', ')}` : ''}`);
  return [...new Set(list)] as NoticeEventType[];
}

function yesNo(given: string | undefined): boolean | undefined {
  if (given === undefined) return undefined;
  if (given === 'yes' || given === 'no') return given === 'yes';
  throw new UsageError(`--enabled takes yes or no, not "${given}"`);
}

/** The endpoint named by id or by its exact URL. */
async function findWebhook(session: Session, ref: string) {
  const list = await session.api.get(LIST, { account_id: session.profile.account_id });
  const found = list.filter((w) => w.id === ref || w.url === ref);
  if (found.length === 1) return found[0]!;
  if (found.length > 1) throw new Error(`several webhooks of account ${session.profile.account_handle} have the URL ${ref}; name one by its id (\`gatehouse webhook ls\`)`);
  throw new Error(`no webhook "${ref}" in account ${session.profile.account_handle}; \`gatehouse webhook ls\` lists them`);
}

const ids = (session: Session, id: string) => ({ account_id: session.profile.account_id, webhook_id: id });

export async function webhookList({ flags }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const list = await session.api.get(LIST, { account_id: session.profile.account_id });
  if (flags.json) printJson(list);
  else if (!list.length) say(`Account ${session.profile.account_handle} has no webhooks.`);
  else printTable(['ID', 'URL', 'ENABLED', 'EVENTS', 'DESCRIPTION'], list.map((w) => [w.id, w.url, w.enabled ? 'yes' : 'no', w.event_types.length === NOTICE_EVENT_TYPES.length ? 'all' : w.event_types.join(','), w.description ?? '']));
  return 0;
}

export async function webhookAdd({ flags, args }: CommandInput): Promise<number> {
  const f = flags as Flags;
  const session = openSession(f);
  const created = await session.api.post(LIST, { account_id: session.profile.account_id }, {
    url: args[0]!,
    ...(f.description !== undefined ? { description: f.description } : {}),
    ...(f.disabled ? { enabled: false } : {}),
    ...(f.events !== undefined ? { event_types: events(f.events) } : {}),
  });
  if (f.json) printJson(created);
  else {
    console.log(`Added webhook ${created.id} for ${created.url}${created.enabled ? '' : ' (disabled)'}.`);
    console.log(`Signing secret (shown only now; keep it where the receiver checks the webhook-signature header):`);
    console.log(created.secret);
  }
  return 0;
}

export async function webhookSet({ flags, args }: CommandInput): Promise<number> {
  const f = flags as Flags;
  const body = {
    ...(f.url !== undefined ? { url: f.url } : {}),
    ...(f.description !== undefined ? { description: f.description === 'none' ? null : f.description } : {}),
    ...(f.enabled !== undefined ? { enabled: yesNo(f.enabled) } : {}),
    ...(f.events !== undefined ? { event_types: events(f.events) } : {}),
  };
  if (!Object.keys(body).length) throw new UsageError('nothing to change: give --url, --description, --enabled or --events');
  const session = openSession(f);
  const hook = await findWebhook(session, args[0]!);
  const updated = await session.api.patch(ONE, ids(session, hook.id), body);
  if (f.json) printJson(updated);
  else say(`Changed webhook ${updated.id}: ${updated.url}, ${updated.enabled ? 'enabled' : 'disabled'}, events ${updated.event_types.join(',')}.`);
  return 0;
}

export async function webhookRemove({ flags, args }: CommandInput): Promise<number> {
  const f = flags as Flags;
  if (!f.yes && !interactive()) throw new UsageError(`removing webhook "${args[0]}" drops its pending deliveries and its log; pass --yes to confirm`);
  const session = openSession(f);
  const hook = await findWebhook(session, args[0]!);
  if (!f.yes && !(await confirm(`Remove the webhook to ${hook.url}?`))) {
    say('Nothing removed.');
    return 1;
  }
  await session.api.delete(ONE, ids(session, hook.id));
  if (f.json) printJson({ removed: true, id: hook.id, url: hook.url });
  else console.log(`Removed webhook ${hook.id} (${hook.url}).`);
  return 0;
}

export async function webhookTest({ flags, args }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const hook = await findWebhook(session, args[0]!);
  const result = await session.api.post('/api/accounts/{account_id}/webhooks/{webhook_id}/test', ids(session, hook.id), undefined as never);
  if (flags.json) printJson(result);
  else if (result.delivered) console.log(`Delivered a webhook.test notice to ${hook.url}: HTTP ${result.status_code} in ${result.duration_ms} ms.`);
  else console.log(`Not delivered to ${hook.url}: ${result.error}. It is tried again later; \`gatehouse webhook log ${hook.id}\` shows each attempt.`);
  return result.delivered ? 0 : 1;
}

export async function webhookLog({ flags, args }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const hook = await findWebhook(session, args[0]!);
  const attempts = await session.api.get('/api/accounts/{account_id}/webhooks/{webhook_id}/attempts', ids(session, hook.id));
  if (flags.json) printJson(attempts);
  else if (!attempts.length) say(`No delivery attempts to ${hook.url} yet.`);
  else printTable(['WHEN', 'EVENT', 'RESULT', 'MS', 'DELIVERY'], attempts.map((a) => [a.attempted_at, a.event_type, a.error ?? `HTTP ${a.status_code}`, String(a.duration_ms), a.delivery_status]));
  return 0;
}
