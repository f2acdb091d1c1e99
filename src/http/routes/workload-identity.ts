// Keyless workload identity: a service account's trust rules
// (`/api/accounts/{account_id}/bots/{bot_id}/trust_rules`), the keys exchanged under them, and the
// RFC 8693 token endpoint a workload calls with the OIDC token it already has (`POST /api/oauth/token`).
import { Type } from '@sinclair/typebox';
import { account, PUBLIC } from '../../authz/requirements.js';
import { TokenExchange, TrustRuleCreate, TrustRuleUpdate } from '../../domain/workload-identity/inputs.js';
import { errorBody } from '../error-envelope.js';
import type { RouteDeps, RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { ApiKeyMasked, Nullable, Timestamp, Uuid } from '../schemas.js';
import { ERRORS } from '../../errors.js';

const ClaimValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

export const TrustRule = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  account_id: Uuid,
  bot_id: Uuid,
  issuer: Type.String(),
  audience: Type.String(),
  subject_pattern: Type.String(),
  required_claims: Type.Record(Type.String(), ClaimValue),
  key_lifetime_seconds: Type.Integer(),
  description: Nullable(Type.String()),
});

const ExchangedKey = Type.Composite([
  ApiKeyMasked,
  Type.Object({
    subject: Type.String({ description: "The token's `sub`" }),
    issuer: Type.String(),
    trust_rule_id: Nullable(Uuid),
  }),
]);

const ExchangeAnswer = Type.Object({
  access_token: Type.String({ description: 'A pnb_ key of the service account: use it as PREFECT_API_KEY' }),
  issued_token_type: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the key stops working' }),
  expiration: Timestamp,
  api_key_id: Uuid,
  account_id: Uuid,
  bot_id: Uuid,
});

/** RFC 6749's error name for a catalog code, sent beside Gatehouse's own fields. */
const OAUTH_ERROR: Partial<Record<keyof typeof ERRORS, string>> = {
  TOKEN_EXCHANGE_INVALID_REQUEST: 'invalid_request',
  TOKEN_EXCHANGE_REFUSED: 'invalid_grant',
  VALIDATION_FAILED: 'invalid_request',
  IP_NOT_ALLOWED: 'access_denied',
};

export function workloadIdentityRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const { on, createOne, readOne, updateOne, removeOne } = routeShapes(clock, ['Workload identity']);
  const base = '/api/accounts/:account_id/bots/:bot_id/trust_rules';
  const identity = services.workloadIdentity;
  return [
    readOne(`${base}/`, account('read:bot'), "The service account's trust rules: which OIDC tokens may be exchanged for a short-lived key of it", {
      response: Type.Array(TrustRule),
      read: (p) => identity.list(p.account_id, p.bot_id),
    }),
    createOne(`${base}/`, account('update:bot'), 'Add a trust rule (issuer, audience, subject pattern, required claims, key lifetime)', {
      body: TrustRuleCreate,
      response: TrustRule,
      create: (ctx, p, body) => identity.create(ctx, p.account_id, p.bot_id, body),
    }),
    updateOne(`${base}/:rule_id`, account('update:bot'), 'Change a trust rule; keys exchanged under it stop working when what it admits changes', {
      body: TrustRuleUpdate,
      update: (ctx, p, body) => identity.update(ctx, p.account_id, p.bot_id, p.rule_id, body),
    }),
    removeOne(`${base}/:rule_id`, account('update:bot'), 'Delete a trust rule; the keys exchanged under it stop working at once', (ctx, p) =>
      identity.remove(ctx, p.account_id, p.bot_id, p.rule_id),
    ),
    readOne('/api/accounts/:account_id/bots/:bot_id/exchanged_keys', account('read:bot'), 'Keys exchanged for workload tokens that still work (masked), with the subject of each', {
      response: Type.Array(ExchangedKey),
      read: (p) => identity.exchangedKeys(p.account_id, p.bot_id, clock.now()),
    }),
    on('POST', '/api/oauth/token', PUBLIC, "RFC 8693 token exchange: a workload's OIDC token for a short-lived key of the service account named by `audience`", {
      body: TokenExchange,
      formBody: true,
      noStore: true,
      // RFC 6749's error fields are on the exchange's own refusals; a body the parser or schema refuses gets the plain envelope.
      response: { 200: ExchangeAnswer, 400: Type.Object({ error: Type.Optional(Type.String()), error_description: Type.Optional(Type.String()), code: Type.String(), detail: Type.Unknown(), request_id: Type.String() }) },
      handler: async (req, reply) => {
        const result = await identity.exchange(req.body, { address: req.ip, requestId: String(req.id), now: clock.now() });
        if (result.ok) return reply.code(200).send(result.value);
        const body = errorBody(req, result.code, result.detail);
        const error = OAUTH_ERROR[result.code] ?? 'invalid_request';
        return reply
          .code(ERRORS[result.code].status as 400)
          .send({ error, error_description: typeof body.detail === 'string' ? body.detail : ERRORS[result.code].message, ...body });
      },
    }),
  ];
}
