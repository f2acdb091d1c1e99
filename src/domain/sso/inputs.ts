// What an Owner or Admin sends to add or change an identity provider, the account's email domains
// and its SSO settings.
import { Type, type Static } from '@sinclair/typebox';

const providerFields = {
  display_name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description: 'Shown on the sign-in button ("Sign in with …")' }),
  issuer: Type.String({ minLength: 1, maxLength: 500, description: "The provider's issuer URL, exactly as its id tokens' `iss` says (https; http only on loopback)" }),
  client_id: Type.String({ minLength: 1, maxLength: 500, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description: 'The client id Gatehouse is registered under at the provider' }),
  client_secret: Type.String({ minLength: 1, maxLength: 2000, description: 'Write-only: sealed under the server key, never read back. Omit for a public client (PKCE only)' }),
  enabled: Type.Boolean({ description: 'Offered on the sign-in page and accepted at the callback' }),
};

export const SsoProviderCreate = Type.Object(
  {
    display_name: providerFields.display_name,
    issuer: providerFields.issuer,
    client_id: providerFields.client_id,
    client_secret: Type.Optional(providerFields.client_secret),
    enabled: Type.Optional(providerFields.enabled),
  },
  { additionalProperties: false },
);
export type SsoProviderCreate = Static<typeof SsoProviderCreate>;

export const SsoProviderUpdate = Type.Partial(
  Type.Object({ ...providerFields, client_secret: Type.Union([providerFields.client_secret, Type.Null()], { description: 'A new secret, or null to remove it' }) }),
  { additionalProperties: false },
);
export type SsoProviderUpdate = Static<typeof SsoProviderUpdate>;

/** A DNS name: dot-separated labels of letters, digits and inner hyphens, at least two labels. */
export const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** What Prefect's Terraform provider sends (`prefect_account.domain_names`). */
export const DomainNamesUpdate = Type.Object(
  { domain_names: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 100, description: 'The whole list: names not in it are removed' }) },
  { additionalProperties: false },
);
export type DomainNamesUpdate = Static<typeof DomainNamesUpdate>;

export const SsoSettingsUpdate = Type.Object(
  {
    default_account_role_id: Type.Optional(Type.String({ format: 'uuid', description: 'The account role people get when they join by SSO (not Owner)' })),
    passwords_disabled: Type.Optional(Type.Boolean({ description: "When true, the account's members sign in only through its identity providers (Owners may still use a password)" })),
  },
  { additionalProperties: false },
);
export type SsoSettingsUpdate = Static<typeof SsoSettingsUpdate>;

