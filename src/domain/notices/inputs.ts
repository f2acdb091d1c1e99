// What an Owner or Admin sends to add or change a webhook endpoint (…/webhooks).
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from '../fields.js';
import { NOTICE_EVENT_TYPES } from '../audit/notice-events.js';

export const EventType = Type.Union(NOTICE_EVENT_TYPES.map((t) => Type.Literal(t)));

const fields = {
  url: Type.String({ minLength: 1, maxLength: 2000, description: 'Where to POST: an http:// or https:// URL without a user name or password' }),
  description: Nullable(Type.String({ maxLength: 500 })),
  enabled: Type.Boolean({ description: 'A disabled endpoint is sent nothing (default true)' }),
  event_types: Type.Array(EventType, { minItems: 1, uniqueItems: true, description: 'The notices to send it (default: all)' }),
};

export const WebhookCreate = Type.Object(
  {
    url: fields.url,
    description: Type.Optional(fields.description),
    enabled: Type.Optional(fields.enabled),
    event_types: Type.Optional(fields.event_types),
  },
  { additionalProperties: false },
);
export type WebhookCreate = Static<typeof WebhookCreate>;

export const WebhookUpdate = Type.Object(
  {
    url: Type.Optional(fields.url),
    description: Type.Optional(fields.description),
    enabled: Type.Optional(fields.enabled),
    event_types: Type.Optional(fields.event_types),
  },
  { additionalProperties: false },
);
export type WebhookUpdate = Static<typeof WebhookUpdate>;
