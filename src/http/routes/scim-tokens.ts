// An account's SCIM bearer tokens (`/api/accounts/{account_id}/scim_tokens`): created by an Owner
// or Admin and shown once, listed masked with their last use, revoked at once.
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { respond, opContext, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { Nullable, Timestamp, Uuid } from '../schemas.js';

const ScimToken = Type.Object({
  id: Uuid,
  name: Type.String(),
  created: Timestamp,
  created_by: Type.String({ description: 'Who created it' }),
  masked_token: Type.String({ description: 'The first characters of the token, never enough to use it' }),
  last_used_at: Nullable(Type.String({ format: 'date-time', description: 'Its last SCIM request (written at most once a minute); null if never' })),
  last_used_from: Nullable(Type.String({ description: 'The address of that request' })),
});

const IssuedScimToken = Type.Composite([ScimToken, Type.Object({ token: Type.String({ description: 'Shown once: in this response and never again. The identity provider sends it as `Authorization: Bearer scim_…`' }) })]);

const ScimTokenCreate = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'What the token is for, e.g. the identity provider: "Okta"' }) },
  { additionalProperties: false },
);

export function scimTokenRoutes({ services, clock, publicUrl }: RouteDeps): RouteSpec[] {
  const { on, readOne, removeOne } = routeShapes(clock, ['SCIM']);
  const base = '/api/accounts/:account_id/scim_tokens';
  return [
    readOne(base, account('read:sso'), "The account's SCIM tokens (masked), with each one's last use, and the base URL to give the identity provider", {
      response: Type.Object({ base_url: Type.String({ description: "The SCIM base URL of this account: the identity provider's 'SCIM connector base URL' / 'Tenant URL'" }), tokens: Type.Array(ScimToken) }),
      read: async (p) => ({ ok: true, value: { base_url: `${publicUrl.base()}/api/accounts/${p.account_id}/scim/v2`, tokens: await services.scimTokens.list(p.account_id) } }),
    }),
    on('POST', base, account('administrate:sso'), 'Create a SCIM token for an identity provider; the token is in this answer only', {
      body: ScimTokenCreate,
      response: { 201: IssuedScimToken },
      noStore: true,
      handler: async (req, reply) => respond(req, reply, await services.scimTokens.create(opContext(req, clock), req.params.account_id, req.body), 201),
    }),
    removeOne(`${base}/:scim_token_id`, account('administrate:sso'), 'Revoke a SCIM token: the identity provider holding it is refused from the moment this returns', (ctx, p) =>
      services.scimTokens.revoke(ctx, p.account_id, p.scim_token_id),
    ),
  ];
}
