// `gatehouse audit export` and `gatehouse audit prune`: the audit trail as JSON lines for a log
// pipeline, read in pages of PAGE rows by (occurred, id) so memory stays bounded however long the
// trail is, each page written before the next is read (the output's backpressure is waited for);
// and pruning events older than a retention the operator chooses.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import { toEvent } from '../domain/audit/service.js';
import { pruneAuditEvents } from '../domain/audit/retention.js';
import type { Database } from '../store/schema.js';
import { UsageError, type Flags } from './args.js';
import { withServices, type StoreFlags } from './services.js';

const PAGE = 1_000;

/** A time given on the command line: an ISO date or date-time, or a span back from now (`30d`, `12h`). */
export function parseSince(text: string, now: Date): string {
  const span = /^(\d+)([dhm])$/.exec(text);
  if (span) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[span[2] as 'd' | 'h' | 'm'];
    return new Date(now.getTime() - Number(span[1]) * unit).toISOString();
  }
  const at = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(at.getTime())) throw new UsageError(`"${text}" is not a time: use 2026-12-01, 2026-12-01T08:00:00Z or a span such as 30d, 12h`);
  return at.toISOString();
}

export interface ExportOptions {
  since?: string | null;
  until?: string | null;
  accountId?: string | null;
}

/** Writes every matching event as one JSON line, oldest first; answers how many. */
export async function exportAudit(db: Kysely<Database>, out: Writable, options: ExportOptions): Promise<number> {
  let after: { occurred: string; id: string } | null = null;
  let count = 0;
  for (;;) {
    let query = db.selectFrom('audit_events').selectAll();
    if (options.accountId) query = query.where('account_id', '=', options.accountId);
    if (options.since) query = query.where('occurred', '>=', options.since);
    if (options.until) query = query.where('occurred', '<', options.until);
    if (after) {
      const { occurred, id } = after;
      query = query.where((eb) => eb.or([eb('occurred', '>', occurred), eb.and([eb('occurred', '=', occurred), eb('id', '>', id)])]));
    }
    const rows = await query.orderBy('occurred').orderBy('id').limit(PAGE).execute();
    if (rows.length === 0) return count;
    const text = rows.map((row) => JSON.stringify(toEvent(row))).join('\n') + '\n';
    if (!out.write(text)) await once(out, 'drain');
    count += rows.length;
    const last = rows.at(-1)!;
    after = { occurred: last.occurred, id: last.id };
    if (rows.length < PAGE) return count;
  }
}

async function accountIdOf(db: Kysely<Database>, handle: string | undefined): Promise<string | null> {
  if (!handle) return null;
  const row = await db.selectFrom('accounts').select('id').where('handle', '=', handle).executeTakeFirst();
  if (!row) throw new UsageError(`there is no account with handle ${handle}`);
  return row.id;
}

export async function auditExportCommand(given: Flags): Promise<number> {
  const flags = given as StoreFlags & { since?: string; until?: string; account?: string; to?: string; format?: string };
  if (flags.format && flags.format !== 'jsonl') throw new UsageError(`--format ${flags.format} is not known; jsonl is the one format`);
  const now = new Date();
  const since = flags.since ? parseSince(flags.since, now) : null;
  const until = flags.until ? parseSince(flags.until, now) : null;
  const out: Writable = flags.to ? createWriteStream(flags.to, { flags: 'wx', mode: 0o600 }) : process.stdout;
  if (flags.to) await once(out, 'open').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(error.code === 'EEXIST' ? `${flags.to} exists; choose another file` : `cannot write ${flags.to}: ${error.message}`);
  });
  const count = await withServices(flags, async (_services, store) => exportAudit(store.db, out, { since, until, accountId: await accountIdOf(store.db, flags.account) }), { command: 'audit export' });
  if (flags.to) {
    out.end();
    await once(out, 'finish');
    console.error(`Wrote ${count} audit event${count === 1 ? '' : 's'} to ${flags.to}.`);
  }
  return 0;
}

export async function auditPruneCommand(given: Flags): Promise<number> {
  const flags = given as StoreFlags & { 'older-than'?: string; yes?: boolean };
  const span = flags['older-than'];
  if (!span || !/^\d+d$/.test(span) || Number(span.slice(0, -1)) < 1) throw new UsageError('say how old events must be to go, in days: --older-than 365d');
  const cutoff = parseSince(span, new Date());
  // In batches, as the retention setting prunes: no long lock on a large trail.
  const removed = await withServices(flags, async (_services, store) => pruneAuditEvents(store, cutoff), { command: 'audit prune' });
  console.log(`Removed ${removed} audit event${removed === 1 ? '' : 's'} older than ${cutoff} (export them first with gatehouse audit export --until ${cutoff.slice(0, 10)} if you keep them elsewhere).`);
  return 0;
}
