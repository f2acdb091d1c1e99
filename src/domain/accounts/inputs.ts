// What a caller sends to update an account; `Static` types the service's input.
import { Type, type Static } from '@sinclair/typebox';
import { Handle, Name, Nullable } from '../fields.js';

const Text = Type.String({ maxLength: 2000 });

/** The settings a caller may change: in an account update, or alone (`PATCH …/settings`, Prefect's client). */
export const AccountSettingsUpdate = Type.Object(
  {
    allow_public_workspaces: Type.Optional(Type.Boolean()),
    ai_log_summaries: Type.Optional(Type.Boolean()),
    managed_execution: Type.Optional(Type.Boolean()),
    enforce_ip_allowlist: Type.Optional(Type.Boolean()),
    enforce_webhook_authentication: Type.Optional(Type.Boolean()),
    self_healing_enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Terraform sends every field: a null name or handle leaves it as it is. */
export const AccountUpdate = Type.Object(
  {
    name: Type.Optional(Nullable(Name)),
    handle: Type.Optional(Nullable(Handle)),
    location: Type.Optional(Nullable(Text)),
    link: Type.Optional(Nullable(Text)),
    image_location: Type.Optional(Nullable(Text)),
    billing_email: Type.Optional(Nullable(Text)),
    auth_expiration_seconds: Type.Optional(Nullable(Type.Integer({ minimum: 60, maximum: 31_536_000 }))),
    settings: Type.Optional(Nullable(AccountSettingsUpdate)),
  },
  { additionalProperties: false },
);
export type AccountUpdate = Static<typeof AccountUpdate>;
