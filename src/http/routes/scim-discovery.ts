// SCIM's discovery documents (RFC 7644 §4): what this service provider supports, its resource types
// and their schemas. Served to the account's SCIM token like every other SCIM endpoint.
import { Type } from '@sinclair/typebox';
import { SCIM } from '../../authz/requirements.js';
import { SCHEMA } from '../../domain/scim/resources.js';
import type { RouteDeps, RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { accountOnly, ListResponse, listResponse, MAX_COUNT, SCIM_BASE, SCIM_ERRORS, sendScim, TAGS } from './scim-wire.js';

const attribute = (name: string, type: string, extra: Record<string, unknown> = {}) => ({
  name,
  type,
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
});

/** A schema as the /Schemas list serves it (RFC 7643 §7); its `meta` is added there. */
const schema = (id: string, name: string, description: string, attributes: object[]) => ({ schemas: [SCHEMA.schema], id, name, description, attributes });

const USER_SCHEMA = schema(SCHEMA.user, 'User', 'A person of the account: userName is their sign-in email', [
  attribute('userName', 'string', { required: true, uniqueness: 'server' }),
  attribute('externalId', 'string', { caseExact: true }),
  attribute('name', 'complex', { subAttributes: [attribute('givenName', 'string'), attribute('familyName', 'string'), attribute('formatted', 'string', { mutability: 'readOnly' })] }),
  attribute('displayName', 'string'),
  attribute('emails', 'complex', { multiValued: true, subAttributes: [attribute('value', 'string'), attribute('type', 'string'), attribute('primary', 'boolean')] }),
  attribute('active', 'boolean'),
]);

const GROUP_SCHEMA = schema(SCHEMA.group, 'Group', 'A team of the account: its members are people of the account', [
  attribute('displayName', 'string', { required: true, uniqueness: 'server' }),
  attribute('externalId', 'string', { caseExact: true }),
  attribute('members', 'complex', { multiValued: true, subAttributes: [attribute('value', 'string', { caseExact: true }), attribute('display', 'string', { mutability: 'readOnly' })] }),
]);

export function discoveryRoutes({ clock, publicUrl }: RouteDeps): RouteSpec[] {
  const { on } = routeShapes(clock, TAGS);
  const base = (accountId: string) => `${publicUrl.base()}/api/accounts/${accountId}/scim/v2`;
  return [
    on('GET', `${SCIM_BASE}/ServiceProviderConfig`, SCIM, 'SCIM: what this service provider supports (PATCH and filters yes; bulk, sorting, ETags and password changes no)', {
      params: accountOnly,
      response: { 200: Type.Object({ schemas: Type.Array(Type.String()) }, { additionalProperties: true }), ...SCIM_ERRORS },
      handler: async (req, reply) =>
        sendScim(reply, 200, {
          schemas: [SCHEMA.serviceProviderConfig],
          patch: { supported: true },
          bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
          filter: { supported: true, maxResults: MAX_COUNT },
          changePassword: { supported: false },
          sort: { supported: false },
          etag: { supported: false },
          authenticationSchemes: [
            { type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: "The account's SCIM token, created on its SCIM page: Authorization: Bearer scim_…", primary: true },
          ],
          meta: { resourceType: 'ServiceProviderConfig', location: `${base(req.params.account_id)}/ServiceProviderConfig` },
        }),
    }),
    on('GET', `${SCIM_BASE}/ResourceTypes`, SCIM, 'SCIM: the resource types served (User, Group)', {
      params: accountOnly,
      response: { 200: ListResponse, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const at = base(req.params.account_id);
        const types = [
          { schemas: [SCHEMA.resourceType], id: 'User', name: 'User', endpoint: '/Users', schema: SCHEMA.user, meta: { resourceType: 'ResourceType', location: `${at}/ResourceTypes/User` } },
          { schemas: [SCHEMA.resourceType], id: 'Group', name: 'Group', endpoint: '/Groups', schema: SCHEMA.group, meta: { resourceType: 'ResourceType', location: `${at}/ResourceTypes/Group` } },
        ];
        return sendScim(reply, 200, listResponse(types.length, 1, types));
      },
    }),
    on('GET', `${SCIM_BASE}/Schemas`, SCIM, 'SCIM: the schemas of User and Group, with the attributes this server keeps', {
      params: accountOnly,
      response: { 200: ListResponse, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const at = base(req.params.account_id);
        const schemas = [USER_SCHEMA, GROUP_SCHEMA].map((s) => ({ ...s, meta: { resourceType: 'Schema', location: `${at}/Schemas/${s.id}` } }));
        return sendScim(reply, 200, listResponse(schemas.length, 1, schemas));
      },
    }),
  ];
}
