// What a caller sends to create, rename or rotate a service account: each schema validates the
// request, describes it in the API document and, as `Static`, types the service's input.
import { Type, type Static } from '@sinclair/typebox';
import { Name, Nullable, Timestamp, Uuid } from '../fields.js';

export const ServiceAccountCreate = Type.Object(
  {
    name: Name,
    api_key_expiration: Type.Optional(Nullable(Timestamp)),
    account_role_id: Type.Optional(Nullable(Uuid)),
  },
  { additionalProperties: false },
);
export type ServiceAccountCreate = Static<typeof ServiceAccountCreate>;

export const ServiceAccountUpdate = Type.Object(
  { name: Type.Optional(Name), account_role_id: Type.Optional(Nullable(Uuid)) },
  { additionalProperties: false },
);
export type ServiceAccountUpdate = Static<typeof ServiceAccountUpdate>;

export const KeyRotation = Type.Object(
  {
    api_key_expiration: Type.Optional(Nullable(Timestamp)),
    old_key_expires_in_seconds: Type.Optional(Nullable(Type.Integer({ description: '0..172800; null or absent deletes the old key now' }))),
  },
  { additionalProperties: false },
);
export type KeyRotation = Static<typeof KeyRotation>;
