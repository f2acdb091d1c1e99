// What a user sends to create one of their API keys; `Static` types the service's input.
import { Type, type Static } from '@sinclair/typebox';
import { Name, Nullable, Timestamp } from '../fields.js';

export const ApiKeyCreate = Type.Object(
  { name: Name, expiration: Type.Optional(Nullable(Timestamp)) },
  { additionalProperties: false },
);
export type ApiKeyCreate = Static<typeof ApiKeyCreate>;
