// Audit events: one per mutation, written by the service inside the mutation's own transaction.
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { parseJsonColumn } from '../../store/json-column.js';
import { newId, type OpContext, type Page } from '../context.js';
import type { AuditEventsTable, Database } from '../../store/schema.js';
import { enqueueNotices } from './outbox.js';

export interface AuditEntry {
  action: string;
  accountId: string | null;
  workspaceId?: string | null;
  targetType: string;
  targetId: string | null;
  /** Names and ids only: never a key, hash or other secret. */
  details?: Record<string, unknown>;
}

/** Writes the event, and (audit/outbox.ts) the webhook and mail deliveries of one that is a notice. */
export async function recordEvent(tx: Executor, ctx: OpContext, entry: AuditEntry): Promise<void> {
  const id = newId();
  const occurred = ctx.now.toISOString();
  await tx
    .insertInto('audit_events')
    .values({
      id,
      account_id: entry.accountId,
      workspace_id: entry.workspaceId ?? null,
      actor_id: ctx.actor.actorId,
      actor_type: ctx.actor.type,
      actor_name: ctx.actor.name,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      request_id: ctx.requestId,
      details: JSON.stringify(entry.details ?? {}),
      occurred,
    })
    .execute();
  await enqueueNotices(tx, entry, { eventId: id, occurred, actor: { type: ctx.actor.type, name: ctx.actor.name } });
}

/** An account's own row, named by its id: what insertRecorded, updateRecorded and deleteRecorded write. */
type AccountRow = { id: string; account_id: string | null };
type AccountRowTable = { [T in keyof Database]: Database[T] extends AccountRow ? T : never }[keyof Database];
/** The event of a write to such a row: its account and target id are the row's. */
type RowEvent = Omit<AuditEntry, 'accountId' | 'targetId'>;

// Kysely cannot type a query on a table chosen by a type parameter: the signatures check the row and
// changes against their table, and the casts to one table below only satisfy the query builder.

/** Inserts an account's new row and records its creation (the event is about the row). */
export async function insertRecorded<T extends AccountRowTable>(tx: Executor, ctx: OpContext, table: T, row: Database[T] & AccountRow, event: RowEvent): Promise<void> {
  await tx.insertInto(table as 'teams').values(row as Database['teams']).execute();
  await recordEvent(tx, ctx, { ...event, accountId: row.account_id, targetId: row.id });
}

/** Updates an account's row with `changes` and records the change (the event is about the row). */
export async function updateRecorded<T extends AccountRowTable>(tx: Executor, ctx: OpContext, table: T, row: AccountRow, changes: Partial<Database[T]>, event: RowEvent): Promise<void> {
  await tx.updateTable(table as 'teams').set(changes as Partial<Database['teams']>).where('id', '=', row.id).execute();
  await recordEvent(tx, ctx, { ...event, accountId: row.account_id, targetId: row.id });
}

/** Deletes an account's row (its children gone already) and records the deletion (the event is about the row). */
export async function deleteRecorded(tx: Executor, ctx: OpContext, table: AccountRowTable, row: AccountRow, event: RowEvent): Promise<void> {
  await tx.deleteFrom(table as 'teams').where('id', '=', row.id).execute();
  await recordEvent(tx, ctx, { ...event, accountId: row.account_id, targetId: row.id });
}

/** The columns an update sets besides its `updated` time: what its event lists as `changed`. */
export const changedColumns = (changes: object): string[] => Object.keys(changes).filter((k) => k !== 'updated');

export interface AuditFilter extends Page {
  actions?: readonly string[] | null;
  actorIds?: readonly string[] | null;
  after?: string | null;
  before?: string | null;
}

/** An audit event as the API shows it: the row's columns as they are (each named), `details` parsed. */
export interface AuditEvent
  extends Pick<AuditEventsTable, 'id' | 'occurred' | 'account_id' | 'workspace_id' | 'actor_id' | 'actor_type' | 'actor_name' | 'action' | 'target_type' | 'target_id' | 'request_id'> {
  details: Record<string, unknown>;
}

/** An audit event as the API shows it: each wire field named, so a new column stays off the wire. */
export const toEvent = (row: AuditEventsTable): AuditEvent => ({
  id: row.id,
  occurred: row.occurred,
  account_id: row.account_id,
  workspace_id: row.workspace_id,
  actor_id: row.actor_id,
  actor_type: row.actor_type,
  actor_name: row.actor_name,
  action: row.action,
  target_type: row.target_type,
  target_id: row.target_id,
  request_id: row.request_id,
  details: parseJsonColumn<Record<string, unknown>>(row.details, {}),
});

export function auditService(deps: Deps) {
  return {
    /** Newest first. Time bounds: `after` inclusive, `before` exclusive. */
    async filter(accountId: string, filter: AuditFilter): Promise<AuditEvent[]> {
      let query = deps.store.db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId);
      // `any_: []` matches nothing, as on every other filter route; null or absent is no filter.
      if (filter.actions) query = query.where('action', 'in', filter.actions.length ? filter.actions : ['']);
      if (filter.actorIds) query = query.where('actor_id', 'in', filter.actorIds.length ? filter.actorIds : ['']);
      if (filter.after) query = query.where('occurred', '>=', filter.after);
      if (filter.before) query = query.where('occurred', '<', filter.before);
      const rows = await query
        .orderBy('occurred', 'desc')
        .orderBy('id', 'desc')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute();
      return rows.map(toEvent);
    },
  };
}
