// What a caller sends to add or change a service account's trust rule, and to exchange a token.
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from '../fields.js';

/** How long an exchanged key lives by default, and at the most. */
export const DEFAULT_KEY_LIFETIME_SECONDS = 900;
export const MAX_KEY_LIFETIME_SECONDS = 3600;
export const MIN_KEY_LIFETIME_SECONDS = 60;

const ClaimValue = Type.Union([Type.String({ maxLength: 500 }), Type.Number(), Type.Boolean()]);

const ruleFields = {
  issuer: Type.String({ minLength: 1, maxLength: 500, description: "The tokens' `iss` claim, exactly (e.g. https://token.actions.githubusercontent.com)" }),
  audience: Type.String({ minLength: 1, maxLength: 255, description: 'A value the `aud` claim must hold' }),
  subject_pattern: Type.String({
    minLength: 1,
    maxLength: 500,
    pattern: '^[^\\u0000-\\u001f\\u007f]+$',
    description: 'The `sub` claim admitted: exact, or with `*` for any run of characters (e.g. repo:acme/flows:ref:refs/heads/main)',
  }),
  required_claims: Type.Record(Type.String({ minLength: 1, maxLength: 100 }), ClaimValue, {
    maxProperties: 20,
    description: 'Other claims that must have exactly these values (e.g. {"repository_owner": "acme"})',
  }),
  key_lifetime_seconds: Type.Integer({ minimum: MIN_KEY_LIFETIME_SECONDS, maximum: MAX_KEY_LIFETIME_SECONDS, description: 'How long an exchanged key works (60..3600, default 900)' }),
  description: Nullable(Type.String({ maxLength: 255 })),
};

export const TrustRuleCreate = Type.Object(
  {
    issuer: ruleFields.issuer,
    audience: ruleFields.audience,
    subject_pattern: ruleFields.subject_pattern,
    required_claims: Type.Optional(ruleFields.required_claims),
    key_lifetime_seconds: Type.Optional(ruleFields.key_lifetime_seconds),
    description: Type.Optional(ruleFields.description),
  },
  { additionalProperties: false },
);
export type TrustRuleCreate = Static<typeof TrustRuleCreate>;

export const TrustRuleUpdate = Type.Partial(Type.Object(ruleFields), { additionalProperties: false });
export type TrustRuleUpdate = Static<typeof TrustRuleUpdate>;

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const SUBJECT_TOKEN_TYPES = ['urn:ietf:params:oauth:token-type:jwt', 'urn:ietf:params:oauth:token-type:id_token'];
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** RFC 8693's token exchange request, as a form or as JSON; `audience` names the service account. */
export const TokenExchange = Type.Object(
  {
    grant_type: Type.String({ maxLength: 200 }),
    subject_token: Type.String({ maxLength: 20_000 }),
    subject_token_type: Type.String({ maxLength: 200 }),
    audience: Type.String({ maxLength: 200, description: "The service account's id" }),
    requested_token_type: Type.Optional(Type.String({ maxLength: 200 })),
    scope: Type.Optional(Type.String({ maxLength: 500 })),
    resource: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type TokenExchange = Static<typeof TokenExchange>;
