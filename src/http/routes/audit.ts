// `/api/accounts/{account_id}/audit_events/filter`: who changed what, newest first.
import { Type } from '@sinclair/typebox';
import { sendError } from '../error-envelope.js';
import { account } from '../../authz/requirements.js';
import { anyOf, page, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { AnyOfStrings, filterBody, Nullable, Timestamp, Uuid } from '../schemas.js';

export const AuditEvent = Type.Object({
  id: Uuid,
  occurred: Timestamp,
  account_id: Nullable(Uuid),
  workspace_id: Nullable(Uuid),
  actor_id: Nullable(Uuid),
  actor_type: Type.String(),
  actor_name: Nullable(Type.String()),
  action: Type.String(),
  target_type: Type.String(),
  target_id: Nullable(Type.String()),
  request_id: Nullable(Type.String()),
  details: Type.Object({}, { additionalProperties: true }),
});

const FilterBody = filterBody({
  audit_events: Type.Optional(
    Nullable(
      Type.Object(
        {
          action: Type.Optional(Nullable(AnyOfStrings())),
          actor_id: Type.Optional(Nullable(AnyOfStrings(Uuid))),
          occurred: Type.Optional(
            Nullable(
              Type.Object(
                { after_: Type.Optional(Nullable(Timestamp)), before_: Type.Optional(Nullable(Timestamp)) },
                { additionalProperties: false },
              ),
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  ),
});

export function auditRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const { on } = routeShapes(clock, ['Audit']);
  return [
    on('POST', '/api/accounts/:account_id/audit_events/filter', account('read:audit_event'), 'Audit events, newest first; filter by action, actor and time (after_ inclusive, before_ exclusive)', {
      body: FilterBody,
      response: { 200: Type.Array(AuditEvent) },
      handler: async (req, reply) => {
        const occurred = req.body?.audit_events?.occurred;
        // RFC 3339 allows times JavaScript cannot hold (a leap second, a year past 275760).
        const bounds: Record<string, string | null> = {};
        for (const field of ['after_', 'before_'] as const) {
          const text = occurred?.[field];
          const time = text ? new Date(text) : null;
          if (time && Number.isNaN(time.getTime())) {
            return sendError(req, reply, 'VALIDATION_FAILED', [{ loc: ['body', 'audit_events', 'occurred', field], msg: 'is not a time that can be compared', type: 'format' }]);
          }
          bounds[field] = time ? time.toISOString() : null;
        }
        return services.audit.filter(req.params.account_id, {
          ...page(req.body),
          actions: anyOf(req.body, 'audit_events', 'action'),
          actorIds: anyOf(req.body, 'audit_events', 'actor_id'),
          after: bounds.after_,
          before: bounds.before_,
        });
      },
    }),
  ];
}
