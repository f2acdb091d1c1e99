// `/api/accounts/{account_id}/webhooks` (Gatehouse's own extension, not in Prefect Cloud): the
// account's webhook endpoints for notices (docs/notices.md), their delivery log and a test send.
// Owners and Admins only (Prefect's `read:integrations` / `update:integrations`).
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { ok } from '../../errors.js';
import { EventType, WebhookCreate, WebhookUpdate } from '../../domain/notices/inputs.js';
import type { NoticeDelivery } from '../../domain/notices/delivery.js';
import { opContext, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { Nullable, Timestamp, Uuid } from '../schemas.js';

const Webhook = Type.Object({
  id: Uuid,
  account_id: Uuid,
  url: Type.String(),
  description: Nullable(Type.String()),
  enabled: Type.Boolean(),
  event_types: Type.Array(EventType),
  created: Timestamp,
  updated: Timestamp,
});

const WebhookWithSecret = Type.Object({
  ...Webhook.properties,
  secret: Type.String({ description: 'The signing secret (whsec_…): shown only in this answer; keep it where the receiver verifies signatures' }),
});

const Attempt = Type.Object({
  id: Uuid,
  delivery_id: Uuid,
  event_type: Type.String(),
  attempted_at: Timestamp,
  status_code: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  duration_ms: Type.Integer(),
  delivery_status: Type.String({ description: 'pending (a retry is due), delivered, failed (no more tries) or skipped' }),
});

const TestResult = Type.Object({
  delivery_id: Uuid,
  delivered: Type.Boolean(),
  status_code: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  duration_ms: Type.Integer(),
});

export function webhookRoutes({ services, clock }: RouteDeps, delivery: NoticeDelivery): RouteSpec[] {
  const { on, readOne, createOne, updateOne, removeOne } = routeShapes(clock, ['Webhooks']);
  const base = '/api/accounts/:account_id/webhooks';
  const one = `${base}/:webhook_id` as const;
  return [
    readOne(base, account('read:integrations'), "The account's webhook endpoints (never their signing secrets)", {
      response: Type.Array(Webhook),
      read: (p) => services.notices.list(p.account_id),
    }),
    createOne(base, account('update:integrations'), 'Add a webhook endpoint; the answer carries its signing secret, once', {
      body: WebhookCreate,
      response: WebhookWithSecret,
      noStore: true,
      create: (ctx, p, body) => services.notices.create(ctx, p.account_id, body),
    }),
    readOne(one, account('read:integrations'), 'One webhook endpoint', {
      response: Webhook,
      read: (p) => services.notices.get(p.account_id, p.webhook_id),
    }),
    updateOne(one, account('update:integrations'), 'Change a webhook endpoint (absent fields keep their value)', {
      body: WebhookUpdate,
      response: Webhook,
      update: (ctx, p, body) => services.notices.update(ctx, p.account_id, p.webhook_id, body),
    }),
    removeOne(one, account('update:integrations'), 'Remove a webhook endpoint, its pending deliveries and its log', (ctx, p) => services.notices.remove(ctx, p.account_id, p.webhook_id)),
    readOne(`${one}/attempts`, account('read:integrations'), "The endpoint's last delivery attempts (at most 50), newest first", {
      response: Type.Array(Attempt),
      read: (p) => services.notices.attempts(p.account_id, p.webhook_id),
    }),
    on('POST', `${one}/test`, account('update:integrations'), 'Send a webhook.test notice to the endpoint now and answer how it went (retried later like any other if it failed)', {
      response: { 200: TestResult },
      handler: async (req, reply) => {
        const queued = await services.notices.queueTest(opContext(req, clock), req.params.account_id, req.params.webhook_id);
        if (!queued.ok) return respond(req, reply, queued);
        const result = await delivery.deliverNow(queued.value.deliveryId);
        return respond(req, reply, ok(result ?? { delivery_id: queued.value.deliveryId, delivered: false, status_code: null, error: 'Another process is sending it', duration_ms: 0 }));
      },
    }),
  ];
}
