// What an Owner or Admin sends to set the account's key policy (PUT .../key_policy). Every field is
// optional: an absent one keeps its current value; null lifts that limit.
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from '../fields.js';

export const KeyPolicyFields = {
  max_key_lifetime_days: Nullable(Type.Integer({ minimum: 1, maximum: 36_500, description: 'The longest expiry a new or rotated service-account key may have, in days; null: no limit' })),
  allow_never_expire: Type.Boolean({ description: 'Whether a key may never expire (expiration null); default true' }),
  max_rotation_grace_seconds: Nullable(Type.Integer({ minimum: 0, maximum: 172_800, description: 'The longest old_key_expires_in_seconds a rotation may ask for; null: the built-in 48 hours' })),
  disable_keys_unused_days: Nullable(Type.Integer({ minimum: 1, maximum: 36_500, description: 'A service-account key unused for this many days is disabled (it expires then); null: never' })),
  leaked_key_action: Type.Union([Type.Literal('disable'), Type.Literal('flag')], {
    description: "What a leak report from a secret-scanning partner does to a found key: disable it immediately (the default), or flag it and leave it working",
  }),
};

export const KeyPolicyUpdate = Type.Object(
  {
    max_key_lifetime_days: Type.Optional(KeyPolicyFields.max_key_lifetime_days),
    allow_never_expire: Type.Optional(KeyPolicyFields.allow_never_expire),
    max_rotation_grace_seconds: Type.Optional(KeyPolicyFields.max_rotation_grace_seconds),
    disable_keys_unused_days: Type.Optional(KeyPolicyFields.disable_keys_unused_days),
    leaked_key_action: Type.Optional(KeyPolicyFields.leaked_key_action),
  },
  { additionalProperties: false },
);
export type KeyPolicyUpdate = Static<typeof KeyPolicyUpdate>;
