// Account webhook endpoints (issue 19, item 3): added, changed and removed by Owners and Admins, each
// with a signing secret shown once (sealed under the server's secret key, never read back), and the
// delivery log of its last attempts. Delivery itself is notices/delivery.ts, off every request path.
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import type { WebhookEndpointsTable } from '../../store/schema.js';
import { parseJsonColumn } from '../../store/json-column.js';
import type { SecretKeyring } from '../../secret-key.js';
import { seal } from '../gateways/sealed.js';
import { newId, type OpContext } from '../context.js';
import { changedColumns, deleteRecorded, insertRecorded, recordEvent, updateRecorded } from '../audit/service.js';
import { NOTICE_EVENT_TYPES, TEST_EVENT_TYPE, type NoticeEventType } from '../audit/notice-events.js';
import { newWebhookSecret } from './signing.js';
import { newDelivery, noticePayload } from '../audit/outbox.js';
import type { WebhookCreate, WebhookUpdate } from './inputs.js';

export interface WebhookEndpoint {
  id: string;
  account_id: string;
  url: string;
  description: string | null;
  enabled: boolean;
  event_types: NoticeEventType[];
  created: string;
  updated: string;
}

export interface WebhookAttempt {
  id: string;
  delivery_id: string;
  event_type: string;
  attempted_at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  /** The delivery's state now: pending (a retry is due), delivered, failed (no more tries), skipped. */
  delivery_status: string;
}

/** How many attempts the log keeps per endpoint (older ones are pruned as new ones are written). */
export const ATTEMPTS_KEPT = 50;

export const sealContext = (endpointId: string) => `webhook:${endpointId}`;

const toEndpoint = (row: WebhookEndpointsTable): WebhookEndpoint => ({
  id: row.id,
  account_id: row.account_id,
  url: row.url,
  description: row.description,
  enabled: row.enabled === 1,
  event_types: parseJsonColumn<NoticeEventType[]>(row.event_types, []),
  created: row.created,
  updated: row.updated,
});

/** Only http(s), and no credentials in it (the URL is shown on reads; the signature authenticates us). */
export function checkWebhookUrl(url: string): Result<string> {
  const parsed = URL.parse(url);
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) {
    return fail('WEBHOOK_URL_INVALID', 'The webhook URL must be an http:// or https:// URL with a host, such as https://hooks.example.com/gatehouse');
  }
  if (parsed.username || parsed.password) {
    return fail('WEBHOOK_URL_INVALID', 'The webhook URL may not carry a user name or password (it is shown to every Owner and Admin): check the webhook-signature header instead');
  }
  return ok(parsed.toString());
}

const notFound = () => fail('NOT_FOUND', 'Webhook not found');

async function findEndpoint(db: Executor, accountId: string, id: string) {
  return db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export function noticeService(deps: Deps, ring: SecretKeyring) {
  const { store } = deps;
  // Endpoints are not authentication data: nothing cached depends on them.
  const quiet = { invalidates: false, onForeignKeyViolation: fail('NOT_FOUND', 'Account not found') } as const;

  return {
    async list(accountId: string): Promise<Result<WebhookEndpoint[]>> {
      const rows = await store.db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).orderBy('created').orderBy('id').execute();
      return ok(rows.map(toEndpoint));
    },

    async get(accountId: string, id: string): Promise<Result<WebhookEndpoint>> {
      const row = await findEndpoint(store.db, accountId, id);
      return row ? ok(toEndpoint(row)) : notFound();
    },

    /** The new endpoint with its signing secret: the only answer that ever carries it. */
    async create(ctx: OpContext, accountId: string, input: WebhookCreate): Promise<Result<WebhookEndpoint & { secret: string }>> {
      const url = checkWebhookUrl(input.url);
      if (!url.ok) return url;
      return inTransaction(deps, async (tx) => {
        const id = newId();
        const secret = newWebhookSecret();
        const now = ctx.now.toISOString();
        const row: WebhookEndpointsTable = {
          id,
          account_id: accountId,
          url: url.value,
          description: input.description ?? null,
          enabled: input.enabled === false ? 0 : 1,
          event_types: JSON.stringify(input.event_types ?? NOTICE_EVENT_TYPES),
          secret_sealed: seal(ring.current, secret, sealContext(id)),
          created: now,
          updated: now,
        };
        const endpoint = toEndpoint(row);
        await insertRecorded(tx, ctx, 'webhook_endpoints', row, { action: 'webhook.created', targetType: 'webhook', details: { url: endpoint.url, event_types: endpoint.event_types, enabled: endpoint.enabled } });
        return ok({ ...endpoint, secret });
      }, quiet);
    },

    async update(ctx: OpContext, accountId: string, id: string, input: WebhookUpdate): Promise<Result<WebhookEndpoint>> {
      let url: string | undefined;
      if (input.url !== undefined) {
        const checked = checkWebhookUrl(input.url);
        if (!checked.ok) return checked;
        url = checked.value;
      }
      return inTransaction(deps, async (tx) => {
        const existing = await findEndpoint(tx, accountId, id);
        if (!existing) return notFound();
        const changes: Partial<WebhookEndpointsTable> = { updated: ctx.now.toISOString() };
        if (url !== undefined) changes.url = url;
        if (input.description !== undefined) changes.description = input.description;
        if (input.enabled !== undefined) changes.enabled = input.enabled ? 1 : 0;
        if (input.event_types !== undefined) changes.event_types = JSON.stringify(input.event_types);
        const after = toEndpoint({ ...existing, ...changes });
        await updateRecorded(tx, ctx, 'webhook_endpoints', existing, changes, {
          action: 'webhook.updated',
          targetType: 'webhook',
          details: { changed: changedColumns(changes), url: after.url, event_types: after.event_types, enabled: after.enabled },
        });
        return ok(after);
      }, quiet);
    },

    /** Removes the endpoint, its pending deliveries and its log. */
    async remove(ctx: OpContext, accountId: string, id: string): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        const existing = await findEndpoint(tx, accountId, id);
        if (!existing) return notFound();
        await tx.deleteFrom('notice_attempts').where('endpoint_id', '=', id).execute();
        await tx.deleteFrom('notice_deliveries').where('endpoint_id', '=', id).execute();
        await deleteRecorded(tx, ctx, 'webhook_endpoints', existing, { action: 'webhook.deleted', targetType: 'webhook', details: { url: existing.url } });
        return ok(null);
      }, quiet);
    },

    /** The endpoint's last attempts, newest first. */
    async attempts(accountId: string, id: string): Promise<Result<WebhookAttempt[]>> {
      const endpoint = await findEndpoint(store.db, accountId, id);
      if (!endpoint) return notFound();
      const rows = await store.db
        .selectFrom('notice_attempts as a')
        .innerJoin('notice_deliveries as d', 'd.id', 'a.delivery_id')
        .select(['a.id', 'a.delivery_id', 'd.event_type', 'a.attempted_at', 'a.status_code', 'a.error', 'a.duration_ms', 'd.status as delivery_status'])
        .where('a.endpoint_id', '=', id)
        .orderBy('a.attempted_at', 'desc')
        .orderBy('a.id', 'desc')
        .limit(ATTEMPTS_KEPT)
        .execute();
      return ok(rows.map((r) => ({ ...r, duration_ms: Number(r.duration_ms), status_code: r.status_code === null ? null : Number(r.status_code) })));
    },

    /** Queues a `webhook.test` delivery to the endpoint (enabled or not); the caller delivers it now. */
    async queueTest(ctx: OpContext, accountId: string, id: string): Promise<Result<{ deliveryId: string }>> {
      return inTransaction(deps, async (tx) => {
        const existing = await findEndpoint(tx, accountId, id);
        if (!existing) return notFound();
        const now = ctx.now.toISOString();
        const payload = noticePayload(TEST_EVENT_TYPE, now, { account_id: accountId, webhook_id: id, actor: { type: ctx.actor.type, name: ctx.actor.name } });
        const delivery = newDelivery(accountId, id, TEST_EVENT_TYPE, payload, now);
        await tx.insertInto('notice_deliveries').values(delivery).execute();
        await recordEvent(tx, ctx, { action: 'webhook.test_sent', accountId, targetType: 'webhook', targetId: id, details: { url: existing.url, delivery_id: delivery.id } });
        return ok({ deliveryId: delivery.id });
      }, quiet);
    },
  };
}

export type NoticeService = ReturnType<typeof noticeService>;
